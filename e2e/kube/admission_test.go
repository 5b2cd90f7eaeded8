//go:build e2e

package kube

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// namespace is where the judged Deployments go; the shipped
// namespaceSelector judges it (it is not a control-plane namespace).
const namespace = "team-e2e"

// shippedWebhook is the ValidatingWebhookConfiguration users apply.
const shippedWebhook = "../../docs/kubernetes/validating-webhook.yaml"

// configYAML is costgate.yaml for the test: admission over TLS on a free
// loopback port, team and cost-center required, and a 50 USD monthly limit
// lowered to a warning so that one Deployment draws a warning.
const configYAML = `server:
  listen: 127.0.0.1:0
  tls:
    cert: %q
    key: %q
  watch: false
decision_log:
  dsn: %q
kubernetes:
  currency: USD
  required_labels: [team, cost-center]
  max_monthly_cost: "50"
  prices:
    cpu_hour: "0.0316"
    memory_gib_hour: "0.0042"
rules:
  kubernetes.max_monthly_cost:
    severity: warn
`

// The finding messages of policies/kubernetes, as the admission reply
// carries them (without the leading address).
func missingLabel(key string) string {
	return fmt.Sprintf("missing required label %q (add it to metadata.labels)", key)
}

func templateLacks(key string) string {
	return fmt.Sprintf("pod template lacks required label %q (add it to the template's metadata.labels)", key)
}

var teamLabels = map[string]string{"team": "payments", "cost-center": "cc-1234"}

// TestAdmission registers costgate with a real kube-apiserver through the
// shipped ValidatingWebhookConfiguration and creates Deployments through
// the API server, as kubectl would.
func TestAdmission(t *testing.T) {
	start := time.Now()
	assets := assetsDir(t)
	bin := costgateBinary(t)
	dir := t.TempDir()
	caPEM, certFile, keyFile := servingCert(t, dir)
	config := filepath.Join(dir, "costgate.yaml")
	writeFile(t, config, fmt.Appendf(nil, configYAML, certFile, keyFile, filepath.Join(dir, "decisions.db")))

	restCfg := startAPIServer(t, assets)
	dc, err := discovery.NewDiscoveryClientForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	// The binary is built without the release ldflags, so gitVersion
	// reads v0.0.0-master; the emulated version is what it behaves as.
	t.Logf("kube-apiserver gitVersion %s, emulating %s.%s, %s", v.GitVersion, v.EmulationMajor, v.EmulationMinor, v.GoVersion)
	if want := strings.TrimPrefix(kubeVersion, "v"); !strings.HasPrefix(want, v.EmulationMajor+"."+v.EmulationMinor+".") {
		t.Fatalf("kube-apiserver emulates %s.%s, want %s", v.EmulationMajor, v.EmulationMinor, kubeVersion)
	}
	cg := startCostgate(t, bin, dir, config, caPEM)
	t.Logf("costgate serving admission on %s", cg.URL)

	warnings := &warningRecorder{}
	restCfg.WarningHandlerWithContext = warnings
	c, err := client.New(restCfg, client.Options{})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	ctx := t.Context()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatalf("create namespace %s: %v", namespace, err)
	}

	shipped := readShippedWebhook(t)
	// The file as shipped (a Service clientConfig, empty caBundle) is
	// valid for this API server.
	if err := c.Create(ctx, shipped.DeepCopy(), client.DryRunAll); err != nil {
		t.Fatalf("dry-run create of %s as shipped: %v", shippedWebhook, err)
	}
	vwc := shipped.DeepCopy()
	url := cg.URL + "/v1/admission"
	vwc.Webhooks[0].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM}
	if err := c.Create(ctx, vwc); err != nil {
		t.Fatalf("create ValidatingWebhookConfiguration: %v", err)
	}
	webhook := vwc.Webhooks[0].Name
	waitForWebhook(t, c, webhook)
	warnings.take()
	t.Logf("webhook %s active %s after start", webhook, time.Since(start).Round(time.Millisecond))

	// denied is the error the client sees for a costgate denial of
	// object ("Deployment namespace/name").
	denied := func(object string, findings ...string) string {
		return fmt.Sprintf("admission webhook %q denied the request: costgate denied %s: %s",
			webhook, object, strings.Join(findings, "; "))
	}

	t.Run("without required labels: denied with costgate's message", func(t *testing.T) {
		d := deployment(namespace, "no-labels", nil, 1, "100m", "128Mi")
		err := c.Create(ctx, d)
		wantDenied(t, err, denied("Deployment team-e2e/no-labels",
			missingLabel("cost-center"), missingLabel("team"), templateLacks("cost-center"), templateLacks("team")))
		wantNotFound(t, c, d)
		wantWarnings(t, warnings.take())
		recs := cg.decisionsFor(t, "Deployment/team-e2e/no-labels")
		if len(recs) != 1 || recs[0].Decision != "deny" || len(recs[0].Findings) != 4 {
			t.Fatalf("decision log: %+v, want one deny with 4 findings", recs)
		}
		for _, f := range recs[0].Findings {
			if f.RuleID != "kubernetes.required_labels" || f.Severity != "deny" {
				t.Errorf("finding %+v, want kubernetes.required_labels deny", f)
			}
		}
	})

	t.Run("with required labels: admitted and stored", func(t *testing.T) {
		d := deployment(namespace, "labeled", teamLabels, 1, "100m", "128Mi")
		if err := c.Create(ctx, d); err != nil {
			t.Fatalf("create: %v", err)
		}
		wantWarnings(t, warnings.take())
		got := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			t.Fatalf("get after create: %v", err)
		}
		if !maps.Equal(got.Labels, teamLabels) || got.Spec.Template.Labels["team"] != "payments" {
			t.Errorf("stored labels %v, template %v", got.Labels, got.Spec.Template.Labels)
		}
		recs := cg.decisionsFor(t, "Deployment/team-e2e/labeled")
		if len(recs) != 1 || recs[0].Decision != "allow" || len(recs[0].Findings) != 0 || recs[0].Context["team"] != "payments" {
			t.Fatalf("decision log: %+v, want one allow for team payments", recs)
		}
	})

	t.Run("warnings reach the client and the object is created", func(t *testing.T) {
		// 3 replicas × (1 vCPU × 0.0316 + 1 GiB × 0.0042) × 730 h = 78.402
		d := deployment(namespace, "expensive", teamLabels, 3, "1", "1Gi")
		if err := c.Create(ctx, d); err != nil {
			t.Fatalf("create: %v", err)
		}
		wantWarnings(t, warnings.take(),
			"requests cost 78.40 USD a month, over the 50.00 USD limit (kubernetes.max_monthly_cost)")
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), &appsv1.Deployment{}); err != nil {
			t.Fatalf("get after create: %v", err)
		}
		recs := cg.decisionsFor(t, "Deployment/team-e2e/expensive")
		if len(recs) != 1 || recs[0].Decision != "warn" || len(recs[0].Findings) != 1 || recs[0].Findings[0].RuleID != "kubernetes.max_monthly_cost" {
			t.Fatalf("decision log: %+v, want one warn from kubernetes.max_monthly_cost", recs)
		}
	})

	t.Run("dry run: denied the same, nothing written", func(t *testing.T) {
		d := deployment(namespace, "dry-run", nil, 1, "100m", "128Mi")
		err := c.Create(ctx, d, client.DryRunAll)
		wantDenied(t, err, denied("Deployment team-e2e/dry-run",
			missingLabel("cost-center"), missingLabel("team"), templateLacks("cost-center"), templateLacks("team")))
		wantNotFound(t, c, d)
		if recs := cg.decisionsFor(t, "Deployment/team-e2e/dry-run"); len(recs) != 0 {
			t.Fatalf("decision log holds %d records of a dry run: %+v", len(recs), recs)
		}
		// A dry run costgate admits is not stored either.
		ok := deployment(namespace, "dry-run-ok", teamLabels, 1, "100m", "128Mi")
		if err := c.Create(ctx, ok, client.DryRunAll); err != nil {
			t.Fatalf("dry-run create with labels: %v", err)
		}
		wantNotFound(t, c, ok)
		if recs := cg.decisionsFor(t, "Deployment/team-e2e/dry-run-ok"); len(recs) != 0 {
			t.Fatalf("decision log holds %d records of a dry run: %+v", len(recs), recs)
		}
	})

	t.Run("update dropping a label: denied, object unchanged", func(t *testing.T) {
		cur := &appsv1.Deployment{}
		key := client.ObjectKey{Namespace: namespace, Name: "labeled"}
		if err := c.Get(ctx, key, cur); err != nil {
			t.Fatalf("get: %v", err)
		}
		upd := cur.DeepCopy()
		delete(upd.Spec.Template.Labels, "team")
		err := c.Update(ctx, upd)
		wantDenied(t, err, denied("Deployment team-e2e/labeled", templateLacks("team")))
		after := &appsv1.Deployment{}
		if err := c.Get(ctx, key, after); err != nil {
			t.Fatalf("get after update: %v", err)
		}
		if after.ResourceVersion != cur.ResourceVersion || after.Spec.Template.Labels["team"] != "payments" {
			t.Errorf("stored object changed: resourceVersion %s → %s, template labels %v",
				cur.ResourceVersion, after.ResourceVersion, after.Spec.Template.Labels)
		}
		recs := cg.decisionsFor(t, "Deployment/team-e2e/labeled")
		if len(recs) != 2 || recs[0].Decision != "deny" || recs[0].Context["operation"] != "UPDATE" {
			t.Fatalf("decision log: %+v, want the UPDATE deny newest of two", recs)
		}
	})

	t.Run("control-plane namespace: not sent to costgate", func(t *testing.T) {
		waitForNamespace(t, c, "kube-system") // the API server creates it shortly after start
		d := deployment("kube-system", "no-labels", nil, 1, "100m", "128Mi")
		if err := c.Create(ctx, d); err != nil {
			t.Fatalf("create in kube-system (left out by the shipped namespaceSelector): %v", err)
		}
		if recs := cg.decisionsFor(t, "Deployment/kube-system/no-labels"); len(recs) != 0 {
			t.Fatalf("costgate judged a kube-system object: %+v", recs)
		}
	})
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

// readShippedWebhook reads docs/kubernetes/validating-webhook.yaml
// strictly and checks the settings docs/serve.md promises.
func readShippedWebhook(tb testing.TB) *admissionregistrationv1.ValidatingWebhookConfiguration {
	tb.Helper()
	b, err := os.ReadFile(shippedWebhook)
	if err != nil {
		tb.Fatal(err)
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict(b, vwc); err != nil {
		tb.Fatalf("%s: %v", shippedWebhook, err)
	}
	if len(vwc.Webhooks) != 1 {
		tb.Fatalf("%s: %d webhooks, want 1", shippedWebhook, len(vwc.Webhooks))
	}
	w := vwc.Webhooks[0]
	if w.FailurePolicy == nil || *w.FailurePolicy != admissionregistrationv1.Fail ||
		w.SideEffects == nil || *w.SideEffects != admissionregistrationv1.SideEffectClassNone ||
		w.TimeoutSeconds == nil || *w.TimeoutSeconds != 5 ||
		w.ClientConfig.Service == nil || w.ClientConfig.Service.Path == nil || *w.ClientConfig.Service.Path != "/v1/admission" {
		tb.Fatalf("%s: settings differ from docs/serve.md: %+v", shippedWebhook, w)
	}
	return vwc
}

// waitForWebhook waits until the API server sends Deployments to costgate:
// it picks up a new ValidatingWebhookConfiguration asynchronously. The
// probes are dry runs, which costgate does not record.
func waitForWebhook(tb testing.TB, c client.Client, name string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := c.Create(tb.Context(), deployment(namespace, "webhook-probe", nil, 1, "100m", "128Mi"), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), fmt.Sprintf("admission webhook %q denied the request: costgate denied", name)) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("webhook %s not called within a minute; last create: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitForNamespace(tb testing.TB, c client.Client, name string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := c.Get(tb.Context(), client.ObjectKey{Name: name}, &corev1.Namespace{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("namespace %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deployment is a Deployment with labels on the object and its pod
// template (which also carries app=name for the selector).
func deployment(ns, name string, labels map[string]string, replicas int32, cpu, memory string) *appsv1.Deployment {
	podLabels := map[string]string{"app": name}
	maps.Copy(podLabels, labels)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: maps.Clone(labels)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.example.com/app:1.0",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse(cpu),
						corev1.ResourceMemory: resource.MustParse(memory),
					}},
				}}},
			},
		},
	}
}

// wantDenied checks err is the API server's 403 carrying costgate's
// message exactly.
func wantDenied(tb testing.TB, err error, message string) {
	tb.Helper()
	var status apierrors.APIStatus
	if err == nil || !errors.As(err, &status) {
		tb.Fatalf("got %v, want denied: %s", err, message)
	}
	s := status.Status()
	if s.Code != http.StatusForbidden || !apierrors.IsForbidden(err) {
		tb.Errorf("status code %d (forbidden %v), want 403", s.Code, apierrors.IsForbidden(err))
	}
	if s.Message != message {
		tb.Errorf("message:\n got %s\nwant %s", s.Message, message)
	}
}

func wantNotFound(tb testing.TB, c client.Client, obj client.Object) {
	tb.Helper()
	err := c.Get(tb.Context(), client.ObjectKeyFromObject(obj), &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		tb.Errorf("get %s/%s: %v, want not found (nothing written)", obj.GetNamespace(), obj.GetName(), err)
	}
}

func wantWarnings(tb testing.TB, got []string, want ...string) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
}
