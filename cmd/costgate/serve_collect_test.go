package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

// logBuffer collects serve's log lines; serve writes from several
// goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureLogs sends the default logger (serve's) to a buffer for the
// test.
func captureLogs(tb testing.TB) *logBuffer {
	tb.Helper()
	buf := &logBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	tb.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

// metric reads one sample from /metrics (0 when absent).
func (rs *runningServer) metric(tb testing.TB, series string) float64 {
	tb.Helper()
	status, body := rs.call(tb, "GET", "/metrics", nil, "")
	if status != 200 {
		tb.Fatalf("metrics %d", status)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

const (
	collectOK    = `costgate_collect_runs_total{result="ok"}`
	collectError = `costgate_collect_runs_total{result="error"}`
	collectLast  = `costgate_collect_last_success_timestamp_seconds`
)

// fireCollect starts a scheduled run and waits until the runs counter
// shows it finished.
func (rs *runningServer) fireCollect(tb testing.TB, fires chan<- time.Time, at time.Time) {
	tb.Helper()
	before := rs.metric(tb, collectOK) + rs.metric(tb, collectError)
	select {
	case fires <- at:
	case <-time.After(30 * time.Second):
		tb.Fatal("the collect schedule does not take fire times")
	}
	deadline := time.Now().Add(60 * time.Second)
	for rs.metric(tb, collectOK)+rs.metric(tb, collectError) == before {
		if time.Now().After(deadline) {
			tb.Fatal("collect run did not finish")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// storeTotals queries the store on its own: BilledCost over every line
// item, and September 2024's EffectiveCost by billing account (what
// data.costgate.spend calls last_month on 15 October).
func storeTotals(tb testing.TB, dir string) (generation uint64, billed costgate.Sum, rows int64, september map[string]costgate.Sum) {
	tb.Helper()
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	res, err := st.Query(ctx, store.Query{Measures: []store.Measure{store.BilledCost}})
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Rows) == 1 {
		billed, rows = res.Rows[0].Values[0], res.Rows[0].Count
	}
	res, err = st.Query(ctx, store.Query{
		Measures: []store.Measure{store.EffectiveCost},
		Filters:  []store.Filter{store.TimeRange(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))},
		GroupBy:  []string{"BillingAccountId"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	september = map[string]costgate.Sum{}
	for _, r := range res.Rows {
		september[r.Keys[0]] = r.Values[0]
	}
	return st.Info().Generation, billed, rows, september
}

// servedCost is GET /v1/cost?measure=BilledCost: the total and the rows
// it counts.
func (rs *runningServer) servedCost(tb testing.TB) (total string, count int64) {
	tb.Helper()
	status, body := rs.call(tb, "GET", "/v1/cost?measure=BilledCost", nil, serveToken)
	if status != 200 {
		tb.Fatalf("/v1/cost %d: %s", status, body)
	}
	var out struct {
		Rows []struct {
			Values []string `json:"values"`
			Count  int64    `json:"count"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		tb.Fatal(err)
	}
	if len(out.Rows) == 0 || out.Rows[0].Count == 0 {
		return "", 0
	}
	return out.Rows[0].Values[0], out.Rows[0].Count
}

// servedSpend runs a plan through /v1/check; the test policy echoes
// data.costgate.spend.accounts[*].last_month as "spend ACCOUNT N".
func (rs *runningServer) servedSpend(tb testing.TB) map[string]*big.Rat {
	tb.Helper()
	status, body := rs.call(tb, "POST", "/v1/check", []byte(mustRead(tb, plan("aws_instance_lambda_s3.json"))), serveToken)
	if status != 200 {
		tb.Fatalf("/v1/check %d: %s", status, body)
	}
	var d costgate.Decision
	if err := json.Unmarshal(body, &d); err != nil {
		tb.Fatal(err)
	}
	out := map[string]*big.Rat{}
	for _, f := range d.Findings {
		var account, amount string
		if _, err := fmt.Sscanf(f.Message, "spend %s %s", &account, &amount); err != nil {
			continue
		}
		r, ok := new(big.Rat).SetString(amount)
		if !ok {
			tb.Fatalf("finding %q: not a number", f.Message)
		}
		out[account] = r
	}
	return out
}

func sumRat(tb testing.TB, s costgate.Sum) *big.Rat {
	tb.Helper()
	r, ok := new(big.Rat).SetString(s.String())
	if !ok {
		tb.Fatalf("sum %s", s)
	}
	return r
}

// readyCollect is the "collect" entry of /readyz.
func (rs *runningServer) readyCollect(tb testing.TB) (int, collectRunStatus, map[string]any) {
	tb.Helper()
	status, body := rs.call(tb, "GET", "/readyz", nil, "")
	var out struct {
		Collect struct {
			LastRun collectRunStatus `json:"last_run"`
		} `json:"collect"`
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		tb.Fatal(err)
	}
	json.Unmarshal(body, &raw)
	c, _ := raw["collect"].(map[string]any)
	return status, out.Collect.LastRun, c
}

// TestServeCollectSchedule runs serve with collect.schedule on an empty
// store: a run fills it from the FOCUS sample and serve's /v1/cost and
// data.costgate.spend see the rows at once; a second run writes nothing;
// a failing source is logged and counted while the server keeps serving.
func TestServeCollectSchedule(t *testing.T) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store") // does not exist yet
	raw := mustRead(t, billing("focus", "focus_1.0_sample_1000_rows.csv"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(raw))
	zw.Close()
	truncated := writeFile(t, dir, filepath.Join("broken", "focus.csv.gz"), string(gz.Bytes()[:gz.Len()/2]))
	policyDir := filepath.Join(dir, "policy")
	writeFile(t, policyDir, "spend.rego", `package costgate.spendecho

warn contains sprintf("spend %s %v", [account, s.last_month]) if {
	some account, s in data.costgate.spend.accounts
}
`)
	collectYAML := `store: ` + storeDir + `
sources:
  - {name: focus-sample, type: focus, path: ` + billing("focus", "focus_1.0_sample_1000_rows.csv") + `}
  - {name: broken, type: focus, path: ` + truncated + `}
collect:
  schedule: {cron: "0 */6 * * *", timezone: UTC}
`
	cfg, pool := serveConfig(t, dir, collectYAML+"  sources: [focus-sample]\n")
	// Month-to-date runs to 15 October 2024: last_month is the sample's
	// September.
	now := time.Date(2024, 10, 15, 12, 0, 0, 0, time.UTC)
	logs := captureLogs(t)
	fires := make(chan time.Time)
	rs := startServeParams(t, cfg, pool, &serveParams{regoVersion: "v1", policyPaths: []string{policyDir},
		now: func() time.Time { return now }, collectFires: fires})

	if total, count := rs.servedCost(t); count != 0 {
		t.Fatalf("empty store serves %s over %d rows", total, count)
	}
	if spend := rs.servedSpend(t); len(spend) != 0 {
		t.Fatalf("spend before any run: %v", spend)
	}
	if ok, failed, last := rs.metric(t, collectOK), rs.metric(t, collectError), rs.metric(t, collectLast); ok != 0 || failed != 0 || last != 0 {
		t.Fatalf("metrics before any run: ok %v, error %v, last success %v", ok, failed, last)
	}

	// First run: the sample's rows land in the store and serve sees them
	// without waiting for the hourly refresh.
	rs.fireCollect(t, fires, now)
	gen, billed, rows, september := storeTotals(t, storeDir)
	if rows != 1000 || billed.Format(2) != "20.52" {
		t.Fatalf("store after the run: %d rows, BilledCost %s", rows, billed)
	}
	if total, count := rs.servedCost(t); total != billed.String() || count != rows {
		t.Fatalf("/v1/cost serves %s over %d rows; the store holds %s over %d", total, count, billed, rows)
	}
	spend := rs.servedSpend(t)
	if len(spend) != len(september) || len(spend) == 0 {
		t.Fatalf("spend accounts %v, store has %v", spend, september)
	}
	for account, want := range september {
		if got, ok := spend[account]; !ok || got.Cmp(sumRat(t, want)) != 0 {
			t.Errorf("spend %s last_month %v, store %s", account, got, want)
		}
	}
	status, last, _ := rs.readyCollect(t)
	if status != 200 || last.Result != "ok" || !last.Changed || last.Generation != gen {
		t.Fatalf("readyz %d, last run %+v (store generation %d)", status, last, gen)
	}

	// Second run of unchanged data: nothing written.
	rs.fireCollect(t, fires, now.Add(6*time.Hour))
	if g, b, _, _ := storeTotals(t, storeDir); g != gen || b != billed {
		t.Fatalf("an unchanged run moved the store from generation %d to %d", gen, g)
	}
	if _, last, _ := rs.readyCollect(t); last.Result != "ok" || last.Changed {
		t.Fatalf("second run %+v", last)
	}
	if ok, last := rs.metric(t, collectOK), rs.metric(t, collectLast); ok != 2 || last != float64(now.Unix()) {
		t.Fatalf("metrics: ok %v, last success %v (want 2, %d)", ok, last, now.Unix())
	}
	out := logs.String()
	for _, want := range []string{
		`msg="collect source summary" component=collect.schedule source=focus-sample type=focus loaded=4 unchanged=0`,
		`msg="collect source summary" component=collect.schedule source=focus-sample type=focus loaded=0 unchanged=4`,
		`msg="collect run finished" component=collect.schedule changed=false`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "source=broken") {
		t.Errorf("collect.sources: [focus-sample] ran broken too:\n%s", out)
	}
	rs.stop(t)

	// Every source now: broken fails, is logged and counted, and the
	// server keeps serving what it has.
	writeFile(t, dir, "costgate.yaml", strings.Replace(mustRead(t, cfg), "  sources: [focus-sample]\n", "", 1))
	fires = make(chan time.Time)
	rs = startServeParams(t, cfg, pool, &serveParams{regoVersion: "v1", policyPaths: []string{policyDir},
		now: func() time.Time { return now }, collectFires: fires})
	rs.fireCollect(t, fires, now.Add(12*time.Hour))
	if ok, failed, lastOK := rs.metric(t, collectOK), rs.metric(t, collectError), rs.metric(t, collectLast); ok != 0 || failed != 1 || lastOK != 0 {
		t.Fatalf("metrics after a failed run: ok %v, error %v, last success %v", ok, failed, lastOK)
	}
	out = logs.String()
	for _, want := range []string{
		`msg="collect source summary" component=collect.schedule source=broken type=focus`,
		`msg="collect source error" component=collect.schedule source=broken err=`,
		"truncated gzip stream",
		truncated,
		`msg="collect run failed; the server keeps serving the data it has"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	status, last, info := rs.readyCollect(t)
	if status != 200 || last.Result != "error" || !strings.Contains(last.Error, "1 errors") || info["last_success"] != nil || info["schedule"] != "0 */6 * * *" {
		t.Fatalf("readyz %d: collect %v", status, info)
	}
	if g, _, _, _ := storeTotals(t, storeDir); g != gen {
		t.Fatalf("the failed run moved the store from generation %d to %d", gen, g)
	}
	if total, count := rs.servedCost(t); total != billed.String() || count != rows {
		t.Fatalf("after the failed run /v1/cost serves %s over %d rows", total, count)
	}
	if spend := rs.servedSpend(t); len(spend) != len(september) {
		t.Fatalf("after the failed run spend is %v", spend)
	}
	if status, _ := rs.call(t, "GET", "/healthz", nil, ""); status != 200 {
		t.Fatalf("healthz %d", status)
	}
}

// TestServeCollectSkipsOverlap: a fire time that comes while a run is
// still going is skipped and logged, never run beside it.
func TestServeCollectSkipsOverlap(t *testing.T) {
	logs := captureLogs(t)
	sched, err := reports.ParseSchedule("0 */6 * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var mu sync.Mutex
	running, most, calls := 0, 0, 0
	run := func(ctx context.Context) (*collectResult, error) {
		mu.Lock()
		running++
		calls++
		most = max(most, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return &collectResult{}, nil
	}
	refreshed := 0
	c := newCollectScheduler(sched, slog.Default(), time.Now, run, func(context.Context) { refreshed++ })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fires := make(chan time.Time)
	go c.Loop(ctx, fires)
	t0 := time.Date(2024, 10, 15, 0, 0, 0, 0, time.UTC)
	fires <- t0
	for !c.running.Load() {
		time.Sleep(time.Millisecond)
	}
	fires <- t0.Add(6 * time.Hour)
	fires <- t0.Add(12 * time.Hour)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(logs.String(), "collect run skipped: the previous run is still going") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("skips not logged:\n%s", logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	c.Wait()
	// The next fire after the run runs again.
	fires <- t0.Add(18 * time.Hour)
	for {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.Wait()
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || most != 1 || refreshed != 0 {
		t.Fatalf("%d runs, %d at once, %d refreshes; want 2, 1, 0", calls, most, refreshed)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "costgate_collect_runs_total" {
				counted[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if counted["ok"] != 2 || counted["error"] != 0 {
		t.Fatalf("runs counted %v, want ok 2, error 0", counted)
	}
}

// TestServeCollectCronFires: outside tests the runs fire at the cron
// schedule's times, in its zone, each once.
func TestServeCollectCronFires(t *testing.T) {
	sched, err := reports.ParseSchedule("0 */6 * * *", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin := sched.Loc
	now := time.Date(2024, 10, 15, 1, 30, 0, 0, berlin)
	var mu sync.Mutex
	var slept []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fires := cronFires(ctx, sched, func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		return nil
	})
	var got []time.Time
	for range 3 {
		got = append(got, (<-fires).In(berlin))
	}
	want := []time.Time{
		time.Date(2024, 10, 15, 6, 0, 0, 0, berlin),
		time.Date(2024, 10, 15, 12, 0, 0, 0, berlin),
		time.Date(2024, 10, 15, 18, 0, 0, 0, berlin),
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("fire %d at %v, want %v", i, got[i], want[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if slept[0] != 4*time.Hour+30*time.Minute || slept[1] != 6*time.Hour {
		t.Fatalf("slept %v", slept[:2])
	}
}

func TestServeCollectConfigErrors(t *testing.T) {
	dir := t.TempDir()
	src := "sources:\n  - {name: a, type: focus, path: " + billing("focus", "focus_1.0_sample_1000_rows.csv") + "}\n  - {name: b, type: tfstate, path: " + tfstatePath() + "}\n"
	tests := map[string]struct {
		yaml string
		msg  string
	}{
		"bad cron":         {src + "collect: {schedule: {cron: 'every hour'}}", `collect.schedule.cron: cron "every hour"`},
		"bad zone":         {src + "collect: {schedule: {cron: '0 * * * *', timezone: Mars/Olympus}}", "collect.schedule.timezone"},
		"zone alone":       {src + "collect: {schedule: {timezone: UTC}}", "collect.schedule.cron: required with schedule.timezone"},
		"sources alone":    {src + "collect: {sources: [a]}", "collect.sources: only used with schedule.cron"},
		"unknown source":   {src + "collect: {schedule: {cron: '0 * * * *'}, sources: [a, c]}", `collect.sources[1]: "c" is not a configured source: use one of a, b`},
		"duplicate source": {src + "collect: {schedule: {cron: '0 * * * *'}, sources: [b, b]}", `collect.sources[1]: "b" is also collect.sources[0]`},
		"empty source":     {src + "collect: {schedule: {cron: '0 * * * *'}, sources: ['']}", "collect.sources[0]: empty name"},
		"no sources":       {"collect: {schedule: {cron: '0 * * * *'}, sources: [a]}", `collect.sources[0]: "a": no sources: are configured`},
		"bad source entry": {"sources:\n  - {name: a, type: csv, path: x}\ncollect: {schedule: {cron: '0 * * * *'}}", "sources[0].type: unknown type"},
		"unknown key":      {src + "collect: {schedule: {cron: '0 * * * *', tz: UTC}}", `unknown key "tz"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".yaml", tc.yaml+"\n")
			code, _, errOut := runCLI(t, "", "serve", "--config", cfg)
			if code != 2 || !strings.Contains(errOut, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want 2 with %q", code, errOut, tc.msg)
			}
		})
	}
	// The production path takes the cron schedule.
	cfg := writeFile(t, dir, "ok.yaml", src+"collect: {schedule: {cron: '0 */6 * * *', timezone: Europe/Berlin}, sources: [b]}\n")
	lc, err := loadConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := validateCollectConfig(lc, sourceRegistry())
	if err != nil || set == nil || set.schedule.Spec != "0 */6 * * *" || set.schedule.Loc.String() != "Europe/Berlin" || strings.Join(set.sources, ",") != "b" {
		t.Fatalf("settings %+v, %v", set, err)
	}
}
