package webhooks

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestShippedWebhookConfiguration keeps docs/kubernetes/validating-webhook.yaml
// in step with the handler: the path, the safety settings and a rule for
// every judged kind.
func TestShippedWebhookConfiguration(t *testing.T) {
	var cfg struct {
		Kind     string
		Webhooks []struct {
			AdmissionReviewVersions []string `json:"admissionReviewVersions"`
			ClientConfig            struct {
				Service struct{ Path string }
			} `json:"clientConfig"`
			Rules []struct {
				APIGroups  []string `json:"apiGroups"`
				Operations []string
				Resources  []string
			}
			NamespaceSelector map[string]any `json:"namespaceSelector"`
			FailurePolicy     string         `json:"failurePolicy"`
			TimeoutSeconds    int            `json:"timeoutSeconds"`
			SideEffects       string         `json:"sideEffects"`
		}
	}
	if err := yaml.Unmarshal(readFile(t, "../docs/kubernetes/validating-webhook.yaml"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != "ValidatingWebhookConfiguration" || len(cfg.Webhooks) != 1 {
		t.Fatalf("kind %s, %d webhooks", cfg.Kind, len(cfg.Webhooks))
	}
	w := cfg.Webhooks[0]
	if w.ClientConfig.Service.Path != "/v1/admission" || w.SideEffects != "None" || w.FailurePolicy == "" ||
		w.TimeoutSeconds < 1 || w.TimeoutSeconds > 10 || len(w.NamespaceSelector) == 0 || w.AdmissionReviewVersions[0] != "v1" {
		t.Fatalf("webhook settings: %+v", w)
	}
	covered := map[string]bool{}
	for _, r := range w.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				covered[g+"/"+res] = true
			}
		}
	}
	for _, k := range SupportedKinds() {
		group, kind, ok := strings.Cut(k, "/")
		if !ok {
			group, kind = "", k
		}
		res := strings.ToLower(kind) + "s"
		if !covered[group+"/"+res] {
			t.Errorf("no rule sends %s (%s/%s)", k, group, res)
		}
	}
}
