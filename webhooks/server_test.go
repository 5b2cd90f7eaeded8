package webhooks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

func TestDecisionsEndpoint(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "POST", "/v1/check?team=payments", readFile(t, repoFile("plans", testPlan)), authHeader())
	s.do(t, "POST", "/v1/admission", review(t, "ar_v1_deployment_create.json", nil), nil)
	tests := map[string]struct {
		query  string
		status int
		count  int
	}{
		"all":           {"", 200, 2},
		"by surface":    {"?surface=admission", 200, 1},
		"by team":       {"?team=payments", 200, 1},
		"by decision":   {"?decision=allow", 200, 0},
		"since":         {"?since=24h", 200, 2},
		"bad since":     {"?since=yesterday", 400, 0},
		"bad surface":   {"?surface=ftp", 400, 0},
		"unknown":       {"?colour=red", 400, 0},
		"resources":     {"?resources=true", 200, 2},
		"bad resources": {"?resources=maybe", 400, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.do(t, "GET", "/v1/decisions"+tc.query, nil, authHeader())
			if r.status != tc.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if tc.status != 200 {
				return
			}
			var body struct{ Decisions []DecisionRecord }
			r.json(t, &body)
			if len(body.Decisions) != tc.count {
				t.Fatalf("%d decisions, want %d", len(body.Decisions), tc.count)
			}
		})
	}
	if r := s.do(t, "GET", "/v1/decisions", nil, nil); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
}

// fakeCost is a CostReader that records the query.
type fakeCost struct {
	got   costgate.CostQuery
	panic bool
}

func (f *fakeCost) Query(_ context.Context, q costgate.CostQuery) (*costgate.CostResult, error) {
	if f.panic {
		panic("store exploded")
	}
	f.got = q
	if len(q.GroupBy) > 0 && q.GroupBy[0] == "nope" {
		return nil, errors.New(`unknown column "nope"`)
	}
	return &costgate.CostResult{
		GroupBy: q.GroupBy, Measures: q.Measures, Generation: 7,
		Rows: []costgate.CostRow{{Keys: []string{"AmazonEC2"}, Values: []costgate.Sum{costgate.SumOf(costgate.MustMoney("1234.000000001"))}, Count: 3}},
	}, nil
}

func TestCostEndpoint(t *testing.T) {
	fc := &fakeCost{}
	s := newTestServer(t, func(o *Options) { o.CostReader = fc })
	r := s.do(t, "GET", "/v1/cost?group_by=ServiceName&month=2026-10&filter=tag:team=payments,search&filter=!ServiceName=AWSSupport&order_by=-EffectiveCost&limit=5", nil, authHeader())
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"values":["1234.000000001"]`) {
		t.Fatalf("money not exact: %s", r.body)
	}
	q := fc.got
	if len(q.Filters) != 3 || q.Limit != 5 || q.Measures[0] != costgate.MeasureEffectiveCost || !q.OrderBy[0].Desc {
		t.Fatalf("query %+v", q)
	}
	if f := q.Filters[2]; f.Op != costgate.FilterTimeRange || !f.From.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("time filter %+v", f)
	}
	if !q.Filters[1].Negate || q.Filters[0].Column != "tag:team" || len(q.Filters[0].Values) != 2 {
		t.Fatalf("filters %+v", q.Filters)
	}
	for query, want := range map[string]int{"?measure=Nope": 400, "?filter=x": 400, "?group_by=nope": 400, "?limit=-1": 400, "?month=10-2026": 400} {
		if r := s.do(t, "GET", "/v1/cost"+query, nil, authHeader()); r.status != want {
			t.Errorf("%s: %d, want %d (%s)", query, r.status, want, r.body)
		}
	}
	s2 := newTestServer(t, nil)
	if r := s2.do(t, "GET", "/v1/cost", nil, authHeader()); r.status != http.StatusNotImplemented {
		t.Fatalf("no store: %d", r.status)
	}
}

func TestPanicRecovery(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.CostReader = &fakeCost{panic: true} })
	r := s.do(t, "GET", "/v1/cost", nil, authHeader())
	if r.status != 500 || !strings.Contains(string(r.body), "internal error") {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if r := s.do(t, "GET", "/healthz", nil, nil); r.status != 200 {
		t.Fatal("server died after a panic")
	}
	m := s.do(t, "GET", "/metrics", nil, nil)
	if !strings.Contains(string(m.body), "costgate_http_panics_total 1") {
		t.Fatal("panic not counted")
	}
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), authHeader())
	s.do(t, "POST", "/v1/admission", review(t, "ar_v1_deployment_create.json", func(r map[string]any) { setLabels(r, okLabels) }), nil)
	r := s.do(t, "GET", "/metrics", nil, nil)
	body := string(r.body)
	for _, want := range []string{
		`costgate_decisions_total{outcome="deny",surface="api"} 1`,
		`costgate_decisions_total{outcome="allow",surface="admission"} 1`,
		`costgate_evaluation_duration_seconds_bucket{surface="api",le=`,
		`costgate_runtask_callback_failures_total`,
		`costgate_http_requests_total{code="200",handler="check"} 1`,
		`costgate_http_request_duration_seconds_count{handler="check"} 1`,
		`costgate_http_request_duration_seconds_count{handler="admission"} 1`,
		`costgate_cost_query_duration_seconds`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestReloadRejectsBrokenPolicy: a broken policy is rejected and reported
// by /readyz while the old set keeps serving; a fixed one is taken.
func TestReloadRejectsBrokenPolicy(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "extra.rego")
	good := "package costgate.extra\n\ndeny contains \"extra rule\" if input.resources\n"
	if err := os.WriteFile(policy, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	var loads atomic.Int32
	load := func(ctx context.Context) (*Snapshot, error) {
		loads.Add(1)
		eng, err := gate.New(ctx, gate.Options{PolicyPaths: []string{dir}, Config: testConfig()})
		if err != nil {
			return nil, err
		}
		return &Snapshot{Engine: eng, Kubernetes: testKubernetes()}, nil
	}
	pol, err := NewPolicies(context.Background(), load, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, func(o *Options) { o.Policies = pol })
	rev := pol.Current().Engine.Revision()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); pol.Watch(ctx, []string{dir}, 20*time.Millisecond) }()
	time.Sleep(100 * time.Millisecond) // let the watcher start

	if err := os.WriteFile(policy, []byte("package costgate.extra\n\ndeny contains x if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return pol.Err() != nil })
	r := s.do(t, "GET", "/readyz", nil, nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "extra.rego") {
		t.Fatalf("readyz %d: %s", r.status, r.body)
	}
	if pol.Current().Engine.Revision() != rev {
		t.Fatal("broken policy replaced the serving set")
	}
	c := s.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), authHeader())
	if c.status != 200 || !strings.Contains(string(c.body), "extra rule") {
		t.Fatalf("old set not serving: %d %s", c.status, c.body)
	}

	fixed := "package costgate.extra\n\nwarn contains \"fixed rule\" if input.resources\n"
	if err := os.WriteFile(policy, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return pol.Err() == nil && pol.Current().Engine.Revision() != rev })
	if r := s.do(t, "GET", "/readyz", nil, nil); r.status != 200 {
		t.Fatalf("readyz after fix %d: %s", r.status, r.body)
	}
	c = s.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), authHeader())
	if !strings.Contains(string(c.body), "fixed rule") {
		t.Fatalf("new set not serving: %s", c.body)
	}
	m := s.do(t, "GET", "/metrics", nil, nil)
	if !strings.Contains(string(m.body), `costgate_policy_reloads_total{result="rejected"}`) {
		t.Fatal("rejected reload not counted")
	}
	cancel()
	<-watchDone
}

func TestReadyzChecks(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		o.ReadyChecks = []ReadyCheck{{Name: "decision_log", Check: func(context.Context) error { return errors.New("database is down") }}}
	})
	r := s.do(t, "GET", "/readyz", nil, nil)
	if r.status != 503 || !strings.Contains(string(r.body), "database is down") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestReadyzInfo: informational entries appear in the body and never
// decide readiness.
func TestReadyzInfo(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		o.ReadyInfo = []ReadyInfo{
			{Name: "collect", Value: func() any { return map[string]string{"result": "error"} }},
			{Name: "status", Value: func() any { return "taken" }},
		}
	})
	r := s.do(t, "GET", "/readyz", nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"collect":{"result":"error"}`) || !strings.Contains(string(r.body), `"status":"ready"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestDecisionLogFailureDoesNotFailRequests(t *testing.T) {
	s := newTestServer(t, nil)
	s.log.err = errors.New("disk full")
	r := s.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), authHeader())
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	m := s.do(t, "GET", "/metrics", nil, nil)
	if !strings.Contains(string(m.body), "costgate_decision_log_errors_total 1") {
		t.Fatal("log error not counted")
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 named cn.
func writeCert(tb testing.TB, certFile, keyFile, cn string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		tb.Fatal(err)
	}
}

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCert(t, cert, key, "first")
	cr, err := NewCertReloader(cert, key, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	cr.CheckInterval = 0
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cr.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go hs.Serve(ln)
	defer hs.Close()
	served := func() string {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := served(); cn != "first" {
		t.Fatalf("served %s", cn)
	}
	time.Sleep(10 * time.Millisecond) // a new modification time
	writeCert(t, cert, key, "second")
	if cn := served(); cn != "second" {
		t.Fatalf("after rotation served %s", cn)
	}
	os.WriteFile(cert, []byte("garbage"), 0o600)
	if cn := served(); cn != "second" {
		t.Fatalf("a broken certificate replaced the good one: %s", cn)
	}
	if _, err := NewCertReloader(filepath.Join(dir, "nope"), key, nil); err == nil {
		t.Fatal("missing file: no error")
	}
}
