package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costgate/costgate/internal/plangen"
	"github.com/costgate/costgate/webhooks"
)

// BenchmarkServeCheck100 is one POST /v1/check of a 100-resource plan
// (the plan bench/serve posts) in process, through the handler serve
// builds: policies and the price estimator loaded by serve's
// snapshotLoader from a config with required tags, so the request parses,
// prices, evaluates and renders as in `costgate serve` (decision log
// off). webhooks' BenchmarkCheck100 leaves pricing out.
func BenchmarkServeCheck100(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "store"), 0o755); err != nil { // an empty store: list prices
		b.Fatal(err)
	}
	cfg := writeFile(b, dir, "costgate.yaml", "tags:\n  required: [team, cost-center]\nstore: "+filepath.Join(dir, "store")+"\n")
	var plan bytes.Buffer
	if err := plangen.Write(&plan, plangen.Options{Resources: 100, Seed: 1, UntaggedPercent: 10}); err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, configPath: cfg, logLevel: "error"}
	costs := openServeStore(filepath.Join(dir, "store"), true, quiet)
	defer costs.Close()
	policies, err := webhooks.NewPolicies(context.Background(), snapshotLoader(a, &serveParams{}, costs, quiet), quiet)
	if err != nil {
		b.Fatal(err)
	}
	const token = "bench-token-0123456789abcdef"
	srv, err := webhooks.New(webhooks.Options{Policies: policies, Tokens: []webhooks.Secret{webhooks.Secret(token)}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	body := plan.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/check", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"monthly_after"`) {
			b.Fatalf("status %d: %.300s", w.Code, w.Body)
		}
	}
}
