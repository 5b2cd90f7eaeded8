package webhooks

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/costgate/costgate/internal/plangen"
)

func benchServer(b *testing.B) *Server {
	b.Helper()
	srv, err := New(Options{
		Policies: StaticPolicies(&Snapshot{Engine: testEngine(b, testConfig()), Kubernetes: testKubernetes()}),
		Tokens:   []Secret{testToken},
		Logger:   testLogger(b),
	})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkCheck100 is one POST /v1/check of a 100-resource plan, in
// process (no network).
func BenchmarkCheck100(b *testing.B) {
	srv := benchServer(b)
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: 100, Seed: 1, UntaggedPercent: 10}); err != nil {
		b.Fatal(err)
	}
	plan := buf.Bytes()
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/check", bytes.NewReader(plan))
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkAdmission is one POST /v1/admission of a Deployment.
func BenchmarkAdmission(b *testing.B) {
	srv := benchServer(b)
	body := review(b, "ar_v1_deployment_create.json", func(r map[string]any) { setLabels(r, okLabels) })
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/admission", bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
