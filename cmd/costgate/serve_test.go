package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/store"
)

const serveToken = "serve-test-token-0123456789"

// writeTestCert writes a self-signed certificate for 127.0.0.1 and
// returns a pool that trusts it.
func writeTestCert(tb testing.TB, dir string) (cert, key string, pool *x509.CertPool) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "costgate-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert = writeFile(tb, dir, "tls.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	key = writeFile(tb, dir, "tls.key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return cert, key, pool
}

type runningServer struct {
	addr   string
	client *http.Client
	cancel context.CancelFunc
	done   chan error
}

// startServe runs `costgate serve` in-process on a loopback port.
func startServe(tb testing.TB, configPath string, pool *x509.CertPool, extra ...string) *runningServer {
	tb.Helper()
	p := &serveParams{regoVersion: "v1"}
	for i := 0; i+1 < len(extra); i += 2 {
		switch extra[i] {
		case "--data":
			p.dataFiles = append(p.dataFiles, extra[i+1])
		case "--policy":
			p.policyPaths = append(p.policyPaths, extra[i+1])
		}
	}
	return startServeParams(tb, configPath, pool, p)
}

// startServeParams runs serve with p (its onListen is set here).
func startServeParams(tb testing.TB, configPath string, pool *x509.CertPool, p *serveParams) *runningServer {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, configPath: configPath, logLevel: "error"}
	p.onListen = func(addr string) { addrc <- addr }
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, a, p) }()
	rs := &runningServer{cancel: cancel, done: done}
	select {
	case rs.addr = <-addrc:
	case err := <-done:
		cancel()
		tb.Fatalf("serve exited: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		tb.Fatal("serve did not start")
	}
	rs.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	tb.Cleanup(func() { rs.stop(tb) })
	return rs
}

func (rs *runningServer) stop(tb testing.TB) {
	if rs.cancel == nil {
		return
	}
	rs.cancel()
	rs.cancel = nil
	select {
	case err := <-rs.done:
		if err != nil {
			tb.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		tb.Error("serve did not shut down")
	}
}

func (rs *runningServer) call(tb testing.TB, method, path string, body []byte, token string) (int, []byte) {
	tb.Helper()
	req, _ := http.NewRequest(method, "https://"+rs.addr+path, strings.NewReader(string(body)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := rs.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func findingSet(fs []costgate.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"|"+f.Address+"|"+f.Message)
	}
	sort.Strings(out)
	return out
}

func serveConfig(tb testing.TB, dir string, extra string) (string, *x509.CertPool) {
	cert, key, pool := writeTestCert(tb, dir)
	cfg := writeFile(tb, dir, "costgate.yaml", `tags:
  required: [team]
cost:
  expensive_resource: 5
server:
  listen: 127.0.0.1:0
  tls: {cert: `+cert+`, key: `+key+`}
  tokens: [`+serveToken+`]
  runtasks:
    hmac_key: run-task-hmac-key-0123456789
decision_log:
  dsn: `+filepath.Join(dir, "decisions.db")+`
kubernetes:
  required_labels: [team]
  max_monthly_cost: 100
  prices:
    cpu_hour: "0.04"
    memory_gib_hour: 0.005
`+extra)
	return cfg, pool
}

// TestServeEndToEnd runs the real command over HTTPS: the CLI and
// /v1/check agree, admission answers, decisions are logged and queried,
// and the server shuts down cleanly.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg, pool := serveConfig(t, dir, "")
	rs := startServe(t, cfg, pool)

	code, out, errOut := runCLI(t, "", "check", "--config", cfg, "--format", "json", plan("aws_instance_lambda_s3.json"))
	if code != 1 {
		t.Fatalf("check exit %d: %s", code, errOut)
	}
	var cli costgate.Decision
	if err := json.Unmarshal([]byte(out), &cli); err != nil {
		t.Fatal(err)
	}
	status, body := rs.call(t, "POST", "/v1/check?team=web", []byte(mustRead(t, plan("aws_instance_lambda_s3.json"))), serveToken)
	if status != 200 {
		t.Fatalf("check %d: %s", status, body)
	}
	var api costgate.Decision
	if err := json.Unmarshal(body, &api); err != nil {
		t.Fatal(err)
	}
	if strings.Join(findingSet(api.Findings), "\n") != strings.Join(findingSet(cli.Findings), "\n") || api.Decision != cli.Decision {
		t.Fatalf("CLI and /v1/check differ:\n%v\n%v", findingSet(cli.Findings), findingSet(api.Findings))
	}
	// The plan is priced on both surfaces: the cost rule fires in both.
	if !strings.Contains(strings.Join(findingSet(api.Findings), "\n"), "cost.expensive_resource") || api.Cost == nil {
		t.Fatalf("/v1/check did not price the plan: %+v", api)
	}
	if status, _ := rs.call(t, "POST", "/v1/check", []byte("{}"), "wrong-token"); status != 401 {
		t.Fatalf("wrong token: %d", status)
	}
	review := mustRead(t, filepath.Join("..", "..", "testdata", "admission", "ar_v1_deployment_create.json"))
	status, body = rs.call(t, "POST", "/v1/admission", []byte(review), "")
	if status != 200 || !strings.Contains(string(body), `"allowed":false`) || !strings.Contains(string(body), `"uid":"12345-67890-abcdef"`) {
		t.Fatalf("admission %d: %s", status, body)
	}
	status, body = rs.call(t, "GET", "/readyz", nil, "")
	if status != 200 || !strings.Contains(string(body), "decision_log") {
		t.Fatalf("readyz %d: %s", status, body)
	}
	status, body = rs.call(t, "GET", "/v1/decisions?surface=api", nil, serveToken)
	if status != 200 || !strings.Contains(string(body), `"team":"web"`) {
		t.Fatalf("decisions %d: %s", status, body)
	}
	rs.stop(t)

	// The log outlives the server: costgate decisions reads it.
	code, out, errOut = runCLI(t, "", "decisions", "--config", cfg, "--format", "json")
	if code != 0 {
		t.Fatalf("decisions exit %d: %s", code, errOut)
	}
	var got struct {
		Decisions []struct {
			Surface, Decision string
			PriceSnapshot     string `json:"price_snapshot"`
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Decisions) != 2 || got.Decisions[0].Surface != "admission" || got.Decisions[1].Surface != "api" || got.Decisions[1].PriceSnapshot == "" {
		t.Fatalf("logged decisions %+v", got.Decisions)
	}
	code, out, _ = runCLI(t, "", "decisions", "--config", cfg, "--surface", "admission", "--decision", "deny")
	if code != 0 || !strings.Contains(out, "admission") || !strings.Contains(out, "kubernetes.required_labels") || strings.Contains(out, "\tapi\t") {
		t.Fatalf("decisions table (%d):\n%s", code, out)
	}
}

// TestServeReloadOnSIGHUP: with watching off, SIGHUP reloads a changed
// data file; a broken policy is rejected while the old set serves.
func TestServeReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	cfg, pool := serveConfig(t, dir, "server_placeholder: x\n")
	// server.watch: false, so only SIGHUP reloads.
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(strings.Replace(string(b), "server_placeholder: x\n", "", 1), "server:\n", "server:\n  watch: false\n", 1)), 0o644)
	data := writeFile(t, dir, "data.yaml", "tags:\n  required: [owner]\n")
	policyDir := filepath.Join(dir, "policy")
	writeFile(t, policyDir, "extra.rego", "package costgate.extra\n\nwarn contains \"extra\" if input.resources\n")
	rs := startServe(t, cfg, pool, "--data", data, "--policy", policyDir)
	revision := func() string {
		_, body := rs.call(t, "GET", "/readyz", nil, "")
		var r struct {
			Status         string `json:"status"`
			PolicyRevision string `json:"policy_revision"`
		}
		json.Unmarshal(body, &r)
		return r.Status + " " + r.PolicyRevision
	}
	first := revision()
	if !strings.HasPrefix(first, "ready ") {
		t.Fatalf("readyz: %s", first)
	}
	writeFile(t, dir, "data.yaml", "tags:\n  required: [owner, env]\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for revision() == first {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	second := revision()
	writeFile(t, policyDir, "extra.rego", "package costgate.extra\n\nwarn contains x if {\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	for !strings.HasPrefix(revision(), "not ready") {
		if time.Now().After(deadline) {
			t.Fatal("broken policy not reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := revision(); got != "not ready "+strings.TrimPrefix(second, "ready ") {
		t.Fatalf("after a broken reload: %s, want the old revision %s", got, second)
	}
	status, body := rs.call(t, "POST", "/v1/check", []byte(mustRead(t, plan("aws_instance_lambda_s3.json"))), serveToken)
	if status != 200 || !strings.Contains(string(body), `tag \"env\"`) {
		t.Fatalf("old set not serving: %d %s", status, body)
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		yaml string
		msg  string
	}{
		"bad listen":               {"server: {listen: nope}", "server.listen"},
		"public without tokens":    {"server: {listen: '0.0.0.0:8080'}", "server.tokens: required"},
		"short token":              {"server: {tokens: [short]}", "server.tokens[0]"},
		"half tls":                 {"server: {tls: {cert: x.pem}}", "server.tls"},
		"missing cert":             {"server: {tls: {cert: /nope.pem, key: /nope.key}}", "server.tls.cert"},
		"bad timeout":              {"server: {read_timeout: soon}", "server.read_timeout"},
		"bad queue timeout":        {"server: {queue_timeout: later}", "server.queue_timeout"},
		"negative concurrency":     {"server: {max_concurrent_evaluations: -1}", "server.max_concurrent_evaluations"},
		"short hmac":               {"server: {runtasks: {hmac_key: abc}}", "server.runtasks.hmac_key"},
		"tiny gc percent":          {"server: {gc_percent: 10}", "server.gc_percent"},
		"gc off without limit":     {"server: {gc_percent: -1}", "needs server.memory_limit_mib"},
		"negative memory limit":    {"server: {memory_limit_mib: -5}", "server.memory_limit_mib"},
		"negative gc headroom":     {"server: {gc_headroom_mib: -1}", "server.gc_headroom_mib"},
		"negative receive buffer":  {"server: {receive_buffer_kib: -1}", "server.receive_buffer_kib"},
		"negative admission slots": {"server: {max_concurrent_admissions: -1}", "server.max_concurrent_admissions"},
		"negative io procs":        {"server: {io_procs: -1}", "server.io_procs"},
		"too many io procs":        {"server: {io_procs: 1000}", "server.io_procs"},
		"bad price":                {"kubernetes: {prices: {cpu_hour: cheap}}", "kubernetes.prices.cpu_hour"},
		"negative budget":          {"kubernetes: {namespace_budgets: {a: -5}}", "kubernetes.namespace_budgets.a"},
		"bad currency":             {"kubernetes: {currency: dollars}", "kubernetes.currency"},
		"unknown key":              {"server: {lisen: x}", "unknown"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := writeFile(t, dir, name+".yaml", tc.yaml+"\n")
			code, _, errOut := runCLI(t, "", "serve", "--config", cfg)
			if code != 2 || !strings.Contains(errOut, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want 2 with %q", code, errOut, tc.msg)
			}
		})
	}
}

// TestApplyGC: serve sets the collector's target and memory limit from
// server:, and leaves them to GOGC / GOMEMLIMIT when those are set.
func TestApplyGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	cfg := &loadedConfig{}
	cfg.Server.MemoryLimitMiB = 512
	s, err := validateServerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.gcPercent != defaultGCPercent || s.memoryLimit != 512<<20 {
		t.Fatalf("settings gc %d limit %d", s.gcPercent, s.memoryLimit)
	}
	if s.gcHeadroom != defaultGCHeadroomMiB<<20 {
		t.Fatalf("headroom %d", s.gcHeadroom)
	}
	logger := slog.New(slog.DiscardHandler)
	debug.SetGCPercent(100)
	applyGC(s, logger)() // the tuner, stopped before its first collection
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("memory limit %d, want %d", got, 512<<20)
	}
	// In a container without server.memory_limit_mib: 90% of its limit.
	defer func(f func() int64) { containerMemLimit = f }(containerMemLimit)
	containerMemLimit = func() int64 { return 2 << 30 }
	s.memoryLimit = 0
	applyGC(s, logger)()
	if got, want := debug.SetMemoryLimit(-1), int64(2<<30)/10*9; got != want {
		t.Errorf("in a 2 GiB container, memory limit %d, want %d", got, want)
	}
	containerMemLimit = func() int64 { return 0 }
	debug.SetMemoryLimit(math.MaxInt64)
	applyGC(s, logger)()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("outside a container, memory limit %d, want none", got)
	}
	s.memoryLimit = 512 << 20
	containerMemLimit = func() int64 { return 2 << 30 }
	applyGC(s, logger)()
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("memory_limit_mib in a container: limit %d, want the configured %d", got, 512<<20)
	}
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	applyGC(s, logger)()
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("with GOGC=150 set, GC percent %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("with GOMEMLIMIT set, memory limit %d", got)
	}
}

// TestApplyProcs: serve runs server.io_procs processors beyond the cores
// and one evaluation slot per core; with io_procs 0, or GOMAXPROCS set in
// the environment, GOMAXPROCS stays; a configured slot count is kept.
func TestApplyProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	unsetenv(t, "GOMAXPROCS")
	logger := slog.New(slog.DiscardHandler)
	settings := func(yaml string) *serverSettings {
		t.Helper()
		cfg, err := loadConfig(writeFile(t, t.TempDir(), "c.yaml", yaml+"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := validateServerConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const cores = 3
	tests := []struct {
		yaml               string
		env                bool
		procs, slot, admit int
	}{
		{"server: {}", false, cores + 1, cores, cores},
		{"server: {io_procs: 2}", false, cores + 2, cores, cores},
		{"server: {io_procs: 0}", false, cores, 2 * cores, 2 * cores},
		{"server: {max_concurrent_evaluations: 7}", false, cores + 1, 7, cores},
		{"server: {max_concurrent_admissions: 5}", false, cores + 1, cores, 5},
		{"server: {}", true, cores, cores * 2, cores * 2},
	}
	for _, tc := range tests {
		runtime.GOMAXPROCS(cores)
		if tc.env {
			t.Setenv("GOMAXPROCS", "3")
		}
		s := settings(tc.yaml)
		applyProcs(s, logger)
		if got := runtime.GOMAXPROCS(0); got != tc.procs || s.maxConcurrent != tc.slot || s.maxAdmissions != tc.admit {
			t.Errorf("%s (GOMAXPROCS set: %v): GOMAXPROCS %d, slots %d, admission slots %d; want %d, %d, %d",
				tc.yaml, tc.env, got, s.maxConcurrent, s.maxAdmissions, tc.procs, tc.slot, tc.admit)
		}
	}
}

func TestSecretsStayOutOfPolicies(t *testing.T) {
	data := map[string]any{"server": map[string]any{"tokens": []any{"x"}}, "decision_log": map[string]any{"dsn": "postgres://u:p@h/db"}, "tags": map[string]any{}}
	got := policyData(data)
	if _, ok := got["server"]; ok {
		t.Fatal("server section reached the policies")
	}
	if _, ok := got["decision_log"]; ok {
		t.Fatal("decision_log section reached the policies")
	}
	if _, ok := data["server"]; !ok {
		t.Fatal("policyData changed its argument")
	}
}

func TestCheckLogFlagHelper(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "costgate.yaml", "decision_log: {dsn: "+filepath.Join(dir, "d.db")+"}\n")
	a := &app{configPath: cfg, stdout: io.Discard, stderr: io.Discard}
	d := &costgate.Decision{Decision: costgate.OutcomeWarn, Findings: []costgate.Finding{{RuleID: "tags.required", Severity: costgate.SeverityWarn, Message: "m"}}, InputSHA256: "abc"}
	if err := logCheckDecision(context.Background(), a, false, nil, d, nil); err != nil {
		t.Fatal(err)
	}
	in := &gate.Input{Context: map[string]string{"team": "payments"}, Estimate: &costgate.PlanEstimate{PriceSnapshot: "snap@sha256:1"}}
	if err := logCheckDecision(context.Background(), a, true, in, d, nil); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "decisions", "--config", cfg, "--team", "payments", "--rule", "tags.required")
	if code != 0 || !strings.Contains(out, "cli") || !strings.Contains(out, "warn") || !strings.Contains(out, "payments") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, out, _ := runCLI(t, "", "decisions", "--config", cfg, "--format", "json"); !strings.Contains(out, `"price_snapshot": "snap@sha256:1"`) {
		t.Fatalf("price snapshot not logged:\n%s", out)
	}
	for _, args := range [][]string{{"--format", "yaml"}, {"--since", "later"}, {"--decision", "maybe"}, {"--surface", "ftp"}} {
		if code, _, _ := runCLI(t, "", append([]string{"decisions", "--config", cfg}, args...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestServePricesFromStore: serve prices plans against its store as
// `costgate check` does (EC2 billed at 70% of list calibrates the
// estimate), with one estimator per policy snapshot rather than one per
// request; a store that appears later is picked up by the next reload.
func TestServePricesFromStore(t *testing.T) {
	dir := t.TempDir()
	planPath, err := filepath.Abs(plan("aws_instance_volume_attachment_before_apply.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(mustRead(t, planPath))
	// No store: key, so serve and check both use ./.costgate.
	t.Chdir(dir)
	cfg, pool := serveConfig(t, dir, "")
	monthlyAfter := func(rs *runningServer) string {
		t.Helper()
		status, out := rs.call(t, "POST", "/v1/check", body, serveToken)
		if status != 200 {
			t.Fatalf("check %d: %s", status, out)
		}
		var d costgate.Decision
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatal(err)
		}
		if d.Cost == nil {
			t.Fatalf("/v1/check did not price the plan: %s", out)
		}
		return d.Cost.MonthlyAfter.String()
	}

	// No store yet: list prices, as check gives them.
	rs := startServe(t, cfg, pool)
	if got := monthlyAfter(rs); got != "17.834" {
		t.Fatalf("without a store /v1/check prices %s, want list 17.834", got)
	}

	writeCalibrationStore(t, filepath.Join(dir, defaultStoreDir), time.Now().UTC())
	code, out, errOut := runCLI(t, "", "check", "--config", cfg, "--format", "json", planPath)
	if code > 1 {
		t.Fatalf("check exit %d: %s", code, errOut)
	}
	var cli costgate.Decision
	if err := json.Unmarshal([]byte(out), &cli); err != nil {
		t.Fatal(err)
	}
	if cli.Cost == nil || cli.Cost.MonthlyAfter.String() != "12.4838" {
		t.Fatalf("check prices %+v, want 70%% of 17.834", cli.Cost)
	}
	// The snapshot in service was made before the store existed; a reload
	// (SIGHUP, a file change, a collect run) prices against it.
	if got := monthlyAfter(rs); got != "17.834" {
		t.Fatalf("before a reload /v1/check prices %s", got)
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for monthlyAfter(rs) == "17.834" {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reprice against the new store")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := monthlyAfter(rs); got != cli.Cost.MonthlyAfter.String() {
		t.Fatalf("after a reload /v1/check prices %s, check %s", got, cli.Cost.MonthlyAfter)
	}
	rs.stop(t)

	// Started with the store in place, serve prices calibrated at once;
	// the snapshot's one estimator serves concurrent requests alike (the
	// race detector watches its history cache).
	rs = startServe(t, cfg, pool)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			// No t.Fatal off the test goroutine: record, check below.
			req, _ := http.NewRequest("POST", "https://"+rs.addr+"/v1/check", strings.NewReader(string(body)))
			req.Header.Set("Authorization", "Bearer "+serveToken)
			resp, err := rs.client.Do(req)
			if err != nil {
				got[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var d costgate.Decision
			if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.Cost == nil {
				got[i] = fmt.Sprintf("status %d, decode %v", resp.StatusCode, err)
				return
			}
			got[i] = d.Cost.MonthlyAfter.String()
		})
	}
	wg.Wait()
	for i, g := range got {
		if g != "12.4838" {
			t.Fatalf("request %d: /v1/check prices %s, want 12.4838", i, g)
		}
	}
	rs.stop(t)
}

// writeCalibrationStore fills dir with ten days of EC2 billed at 70% of
// list before now, one partition per month they fall in.
func writeCalibrationStore(tb testing.TB, dir string, now time.Time) {
	tb.Helper()
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	today := now.Truncate(24 * time.Hour)
	byMonth := map[costgate.Month][]costgate.LineItem{}
	for d := 1; d <= 10; d++ {
		day := today.AddDate(0, 0, -d)
		m := costgate.MonthOf(day)
		byMonth[m] = append(byMonth[m], costgate.LineItem{ChargePeriodStart: day, ChargePeriodEnd: day.Add(24 * time.Hour),
			BillingPeriodStart: m.Start(), BillingPeriodEnd: m.End(),
			BillingAccountID: "123456789012", ProviderName: "AWS", ServiceName: "Amazon Elastic Compute Cloud", ResourceID: "i-1",
			ChargeCategory: "Usage", BillingCurrency: "USD", ListCost: costgate.MustMoney("10"), EffectiveCost: costgate.MustMoney("7")})
	}
	for m, rows := range byMonth {
		if _, err := st.Replace(context.Background(), costgate.Partition{Source: "test", BillingAccountID: "123456789012", BillingPeriod: m}, rows, "e", ""); err != nil {
			tb.Fatal(err)
		}
	}
}
