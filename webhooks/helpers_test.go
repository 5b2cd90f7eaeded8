package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

const (
	testToken   = "test-api-token-0123456789"
	testHMACKey = "run-task-hmac-key-0123456789"
)

var testNow = time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)

func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func money(s string) *costgate.Money {
	m := costgate.MustMoney(s)
	return &m
}

// testConfig is data.costgate.config for the tests: tag and label rules,
// a cost limit and a namespace budget.
func testConfig() map[string]any {
	return map[string]any{
		"tags": map[string]any{"required": []any{"team"}},
		"kubernetes": map[string]any{
			"required_labels":   []any{"team", "cost-center"},
			"max_monthly_cost":  "1000",
			"namespace_budgets": map[string]any{"default": "5000"},
		},
	}
}

func testKubernetes() KubernetesOptions {
	return KubernetesOptions{
		Currency: "USD",
		Prices: KubernetesPrices{
			CPUHour: money("0.04"), MemoryGiBHour: money("0.005"), GPUHour: money("2.5"), LoadBalancerHour: money("0.025"),
			StorageGiBMonth: map[string]costgate.Money{"gp3": costgate.MustMoney("0.08"), "*": costgate.MustMoney("0.1")},
		},
		DaemonSetNodes: 3,
	}
}

func testEngine(tb testing.TB, config map[string]any) *gate.Engine {
	tb.Helper()
	eng, err := gate.New(context.Background(), gate.Options{Config: config, Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// memLog is an in-memory DecisionLog.
type memLog struct {
	mu   sync.Mutex
	recs []DecisionRecord
	err  error
}

func (m *memLog) Append(_ context.Context, r DecisionRecord) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	r.ID = int64(len(m.recs) + 1)
	m.recs = append(m.recs, r)
	return r.ID, nil
}

func (m *memLog) Query(_ context.Context, f DecisionFilter) ([]DecisionRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DecisionRecord
	for i := len(m.recs) - 1; i >= 0; i-- {
		r := m.recs[i]
		if (f.Surface == "" || r.Surface == f.Surface) && (f.Decision == "" || r.Decision == f.Decision) && (f.Team == "" || r.Team == f.Team) {
			if !f.Resources {
				r.Resources = nil // as the decision log reads them: only when asked
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memLog) all() []DecisionRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]DecisionRecord(nil), m.recs...)
}

// testServer is a costgate server on a loopback HTTPS port.
type testServer struct {
	*Server
	ts     *httptest.Server
	log    *memLog
	client *http.Client
}

func newTestServer(tb testing.TB, mutate func(*Options)) *testServer {
	tb.Helper()
	log := &memLog{}
	opts := Options{
		Policies:    StaticPolicies(&Snapshot{Engine: testEngine(tb, testConfig()), Kubernetes: testKubernetes()}),
		Tokens:      []Secret{testToken},
		RunTask:     RunTaskOptions{HMACKey: testHMACKey, RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, ProgressInterval: time.Hour, Deadline: 20 * time.Second},
		DecisionLog: log,
		Now:         func() time.Time { return testNow },
		Logger:      testLogger(tb),
	}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	tb.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	client := ts.Client()
	client.Timeout = 30 * time.Second
	return &testServer{Server: srv, ts: ts, log: log, client: client}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

func (s *testServer) do(tb testing.TB, method, path string, body []byte, header map[string]string) response {
	tb.Helper()
	req, err := http.NewRequest(method, s.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func authHeader() map[string]string { return map[string]string{"Authorization": "Bearer " + testToken} }

// findingKeys summarises findings for comparison.
func findingKeys(fs []costgate.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"|"+f.Address+"|"+string(f.Severity)+"|"+f.Message)
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// testLogger discards logs unless the test runs with -v.
func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testEngineWithSeverity(tb testing.TB, rule, sev string) *gate.Engine {
	tb.Helper()
	s, err := costgate.ParseSeverity(sev)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := gate.New(context.Background(), gate.Options{Config: testConfig(), Severities: map[string]costgate.Severity{rule: s}, Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}
