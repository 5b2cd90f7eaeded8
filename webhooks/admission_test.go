package webhooks

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"sigs.k8s.io/yaml"

	"github.com/costgate/costgate/gate"
)

// review wraps a request-only fixture in an AdmissionReview v1 envelope,
// or returns a full review as it is; edit may change the request.
func review(tb testing.TB, name string, edit func(req map[string]any)) []byte {
	tb.Helper()
	b := readFile(tb, repoFile("admission", name))
	if strings.HasSuffix(name, ".yaml") {
		var err error
		if b, err = yaml.YAMLToJSON(b); err != nil {
			tb.Fatal(err)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	if _, ok := m["request"]; !ok {
		m = map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": m}
	}
	if edit != nil {
		edit(m["request"].(map[string]any))
	}
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

type reply struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Response   admissionResponse `json:"response"`
}

func setLabels(req map[string]any, labels map[string]any) {
	obj := req["object"].(map[string]any)
	meta := obj["metadata"].(map[string]any)
	meta["labels"] = labels
	if spec, ok := obj["spec"].(map[string]any); ok {
		if tpl, ok := spec["template"].(map[string]any); ok {
			tpl["metadata"] = map[string]any{"labels": labels}
		}
	}
}

func setRequests(req map[string]any, replicas int, cpu, memory string) {
	spec := req["object"].(map[string]any)["spec"].(map[string]any)
	spec["replicas"] = replicas
	c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	c["resources"] = map[string]any{"requests": map[string]any{"cpu": cpu, "memory": memory}}
}

var okLabels = map[string]any{"team": "web", "cost-center": "cc-100", "app": "nginx"}

func TestAdmissionSamples(t *testing.T) {
	s := newTestServer(t, nil)
	tests := map[string]struct {
		file      string
		edit      func(map[string]any)
		uid       string
		allowed   bool
		code      int32
		inMessage []string
		logged    bool
	}{
		"deployment without labels is denied": {file: "ar_v1_deployment_create.json", uid: "12345-67890-abcdef", code: 403,
			inMessage: []string{"costgate denied Deployment default/nginx", `missing required label "team"`, "pod template"}, logged: true},
		"deployment with labels is admitted": {file: "ar_v1_deployment_create.json", uid: "12345-67890-abcdef", allowed: true, logged: true,
			edit: func(r map[string]any) { setLabels(r, okLabels) }},
		"deployment over the cost limit": {file: "ar_v1_deployment_create.json", uid: "12345-67890-abcdef", code: 403, logged: true,
			inMessage: []string{"kubernetes.max_monthly_cost", "1168.00 USD a month"},
			// 16 replicas × (2 vCPU × 0.04 + 4 GiB × 0.005) × 730 h = 16 × 0.10 × 730
			edit: func(r map[string]any) { setLabels(r, okLabels); setRequests(r, 16, "2", "4Gi") }},
		"pod without labels": {file: "ar_v1_pod_create_privileged.json", code: 403, inMessage: []string{"Pod default/nginx"}, logged: true},
		"pod flexvolume (no namespace in request)": {file: "ar_v1_pod_create_flexvolume.json", uid: "705ab4f5-6393-11e8-b7cc-42010a800002", code: 403,
			inMessage: []string{"Pod flexvolume-test"}, logged: true},
		"update from a real cluster":  {file: "request_only_deployment_update.json", code: 403, logged: true},
		"delete is allowed untouched": {file: "request_only_deployment_delete.json", allowed: true},
		"pod delete is allowed":       {file: "request_only_pod_delete.json", allowed: true},
		"namespace is not judged":     {file: "request_only_namespace_create_labels.json", uid: "1299d386-525b-4032-98ae-1949f69f9cfc", allowed: true},
		"requests above limits, zero replicas": {file: "request_only_deployment_with_resource_requests.json", uid: "31403b86-f972-423e-8adb-c4bd79dc15cc",
			code: 403, inMessage: []string{"missing required label"}, logged: true},
		"v1beta1 minimal update (YAML)": {file: "ar_v1beta1_pod_update_minimal.yaml", code: 403, inMessage: []string{"Pod opa-allowed", `"team"`}, logged: true},
		"dry run is judged but not logged": {file: "ar_v1_deployment_create.json", uid: "12345-67890-abcdef", code: 403,
			edit: func(r map[string]any) { r["dryRun"] = true }},
		"service that is not a load balancer": {file: "ar_v1_deployment_create.json", uid: "svc", allowed: true,
			edit: func(r map[string]any) {
				r["uid"] = "svc"
				r["kind"] = map[string]any{"group": "", "version": "v1", "kind": "Service"}
				r["object"] = map[string]any{"metadata": map[string]any{"name": "web"}, "spec": map[string]any{"type": "ClusterIP"}}
			}},
		"load balancer service is priced": {file: "ar_v1_deployment_create.json", uid: "lb", allowed: true, logged: true,
			edit: func(r map[string]any) {
				r["uid"] = "lb"
				r["kind"] = map[string]any{"group": "", "version": "v1", "kind": "Service"}
				r["object"] = map[string]any{"metadata": map[string]any{"name": "web", "labels": okLabels}, "spec": map[string]any{"type": "LoadBalancer"}}
			}},
		"unknown kind": {file: "ar_v1_deployment_create.json", uid: "x", allowed: true,
			edit: func(r map[string]any) {
				r["uid"] = "x"
				r["kind"] = map[string]any{"group": "example.com", "version": "v1", "kind": "Widget"}
			}},
		"scale subresource": {file: "ar_v1_deployment_create.json", uid: "12345-67890-abcdef", allowed: true,
			edit: func(r map[string]any) { r["subResource"] = "scale" }},
		"bad quantity": {file: "ar_v1_deployment_create.json", uid: "12345-67890-abcdef", code: 400, inMessage: []string{"cannot judge", "cpu"},
			edit: func(r map[string]any) { setLabels(r, okLabels); setRequests(r, 1, "two", "1Gi") }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(s.log.all())
			r := s.do(t, "POST", "/v1/admission", review(t, tc.file, tc.edit), map[string]string{"Content-Type": "application/json"})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var rep reply
			r.json(t, &rep)
			if rep.Kind != "AdmissionReview" || !strings.HasPrefix(rep.APIVersion, "admission.k8s.io/") {
				t.Fatalf("envelope %s %s", rep.APIVersion, rep.Kind)
			}
			resp := rep.Response
			if tc.uid != "" && resp.UID != tc.uid {
				t.Fatalf("uid %q, want %q", resp.UID, tc.uid)
			}
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed %v: %s", resp.Allowed, r.body)
			}
			if !tc.allowed {
				if resp.Status == nil || resp.Status.Code != tc.code {
					t.Fatalf("status %+v, want code %d", resp.Status, tc.code)
				}
				for _, m := range tc.inMessage {
					if !strings.Contains(resp.Status.Message, m) {
						t.Errorf("message %q lacks %q", resp.Status.Message, m)
					}
				}
			}
			for _, w := range resp.Warnings {
				if len(w) > maxWarningLen || !utf8.ValidString(w) || strings.ContainsAny(w, "\n\r") {
					t.Errorf("warning %q: longer than %d or not one line", w, maxWarningLen)
				}
			}
			if got := len(s.log.all()) - before; (got == 1) != tc.logged {
				t.Fatalf("%d decisions logged; want logged=%v", got, tc.logged)
			}
		})
	}
	// Plan policies find nothing in admission inputs: every logged
	// admission finding comes from a kubernetes.* rule.
	for _, rec := range s.log.all() {
		for _, f := range rec.Findings {
			if !strings.HasPrefix(f.RuleID, "kubernetes.") {
				t.Errorf("plan rule %s fired on an admission input: %s", f.RuleID, f.Message)
			}
		}
	}
}

func TestAdmissionAuditMode(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		k := testKubernetes()
		k.Audit = true
		o.Policies = StaticPolicies(&Snapshot{Engine: testEngine(t, testConfig()), Kubernetes: k})
	})
	r := s.do(t, "POST", "/v1/admission", review(t, "ar_v1_deployment_create.json", nil), nil)
	var rep reply
	r.json(t, &rep)
	if !rep.Response.Allowed || rep.Response.Status != nil {
		t.Fatalf("audit mode denied: %s", r.body)
	}
	if len(rep.Response.Warnings) == 0 || !strings.HasPrefix(rep.Response.Warnings[0], "[audit] would deny: ") {
		t.Fatalf("warnings %q", rep.Response.Warnings)
	}
	for _, w := range rep.Response.Warnings {
		if len(w) > maxWarningLen {
			t.Errorf("warning of %d bytes: %q", len(w), w)
		}
	}
	if recs := s.log.all(); len(recs) != 1 || recs[0].Decision != "deny" {
		t.Fatalf("audit decisions are logged as they are: %+v", recs)
	}
}

func TestAdmissionWarnSeverity(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		eng := testEngineWithSeverity(t, "kubernetes.required_labels", "warn")
		o.Policies = StaticPolicies(&Snapshot{Engine: eng, Kubernetes: testKubernetes()})
	})
	r := s.do(t, "POST", "/v1/admission", review(t, "ar_v1_deployment_create.json", nil), nil)
	var rep reply
	r.json(t, &rep)
	if !rep.Response.Allowed || len(rep.Response.Warnings) != 4 {
		t.Fatalf("want allowed with 4 warnings: %s", r.body)
	}
}

func TestAdmissionRejects(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.MaxBodyBytes = 32 << 10 })
	tests := map[string]struct {
		body   string
		status int
		msg    string
	}{
		"malformed JSON":   {`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {`, 400, "AdmissionReview"},
		"wrong type":       {`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 7}}`, 400, "uid"},
		"no request":       {`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}`, 400, "request"},
		"wrong apiVersion": {`{"apiVersion": "v1", "kind": "AdmissionReview", "request": {}}`, 400, "apiVersion"},
		"not JSON":         {`<xml/>`, 400, "AdmissionReview"},
		"not an object":    {`["AdmissionReview"]`, 400, "AdmissionReview: expected an object, got array"},
		"dryRun as text":   {`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "dryRun": "yes"}}`, 400, "request.dryRun: expected a boolean"},
		"kind not object":  {`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "kind": "Pod"}}`, 400, "request.kind: expected an object"},
		"resource field":   {`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "resource": {"group": 1}}}`, 400, "request.resource.group"},
		"oversized":        {`{"apiVersion": "admission.k8s.io/v1", "x": "` + strings.Repeat("a", 40<<10) + `"}`, 413, "limit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.do(t, "POST", "/v1/admission", []byte(tc.body), nil)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.msg) {
				t.Fatalf("status %d body %s; want %d with %q", r.status, r.body, tc.status, tc.msg)
			}
		})
	}
}

func TestOneLineWarning(t *testing.T) {
	w := oneLineWarning("line one\nline two\x00 " + strings.Repeat("é", 200))
	if len(w) > maxWarningLen || strings.Contains(w, "\n") || !utf8.ValidString(w) || !strings.HasSuffix(w, "…") {
		t.Fatalf("%q (%d bytes)", w, len(w))
	}
}

// TestAdmissionQuerySameFindings: admission requests are judged by the
// packages that can read input.kubernetes; with the embedded library,
// every admission sample (with and without the required labels) gets the
// same findings as from every package.
func TestAdmissionQuerySameFindings(t *testing.T) {
	files, err := filepath.Glob(repoFile("admission", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	yamls, _ := filepath.Glob(repoFile("admission", "*.yaml"))
	files = append(files, yamls...)
	eng := testEngine(t, testConfig())
	compared, withFindings := 0, 0
	for _, f := range files {
		for _, labels := range []map[string]any{nil, okLabels} {
			body := review(t, filepath.Base(f), func(r map[string]any) {
				if labels != nil {
					if obj, ok := r["object"].(map[string]any); ok && obj["metadata"] != nil {
						setLabels(r, labels)
					}
				}
			})
			ar, err := parseReview(body)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			in, _, err := admissionInput(ar.Request, testKubernetes())
			if err != nil || in == nil {
				continue // not judged (a delete, a bad object): no evaluation
			}
			findings := func(admission bool) string {
				d, err := eng.EvaluateValue(t.Context(), in, gate.EvalMeta{Name: f, Admission: admission})
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				b, _ := json.Marshal(d.Findings)
				return string(b)
			}
			all, adm := findings(false), findings(true)
			if all != adm {
				t.Errorf("%s: admission query findings\n%s\nwant (every package)\n%s", f, adm, all)
			}
			compared++
			if all != "[]" {
				withFindings++
			}
		}
	}
	if compared < 6 || withFindings < 3 {
		t.Fatalf("compared %d inputs, %d with findings: the samples no longer cover the query", compared, withFindings)
	}
}

// TestParseReviewSamples: the review read from its Rego value holds what
// encoding/json reads from the same bytes, on every admission sample:
// the request's fields, its objects, and request.object's bytes as sent
// (whose digest the decision records).
func TestParseReviewSamples(t *testing.T) {
	files, _ := filepath.Glob(repoFile("admission", "*.json"))
	yamls, _ := filepath.Glob(repoFile("admission", "*.yaml"))
	files = append(files, yamls...)
	if len(files) < 10 {
		t.Fatalf("only %d samples", len(files))
	}
	for _, f := range files {
		body := review(t, filepath.Base(f), nil)
		got, err := parseReview(body)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var want struct {
			APIVersion string `json:"apiVersion"`
			Request    struct {
				UID, Name, Namespace, Operation, SubResource string
				Kind                                         struct{ Group, Version, Kind string }
				Resource                                     struct{ Group, Version, Resource string }
				DryRun                                       *bool
				Object, OldObject, UserInfo                  json.RawMessage
			}
		}
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		r, w := got.Request, want.Request
		if got.APIVersion != want.APIVersion || r.UID != w.UID || r.Name != w.Name || r.Namespace != w.Namespace ||
			r.Operation != w.Operation || r.SubResource != w.SubResource ||
			r.Kind != groupVersionKind(w.Kind) || r.Resource != groupVersionResource(w.Resource) ||
			(r.DryRun == nil) != (w.DryRun == nil) || r.DryRun != nil && *r.DryRun != *w.DryRun {
			t.Errorf("%s: read %+v\nwant %+v", f, *r, w)
		}
		if string(r.ObjectJSON) != string(bytes.TrimSpace(w.Object)) || string(w.Object) == "null" && r.ObjectJSON == nil {
			t.Errorf("%s: object bytes %.60q, want %.60q", f, r.ObjectJSON, w.Object)
		}
		for name, pair := range map[string]struct {
			v   ast.Value
			raw json.RawMessage
		}{"object": {r.Object, w.Object}, "oldObject": {r.OldObject, w.OldObject}, "userInfo": {r.UserInfo, w.UserInfo}} {
			want, err := gate.JSONValue(pair.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := orNull(pair.v); got.Compare(want) != 0 {
				t.Errorf("%s: %s differs:\n%v\nwant\n%v", f, name, got, want)
			}
		}
	}
}
