package webhooks

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// With every evaluation slot taken, /v1/check waits its turn, answers
// 503 with Retry-After once the queue timeout passes, and judges as
// usual when a slot frees; /v1/admission has slots of its own, so plans
// never hold it back, and behaves the same when those are taken (the API
// server then applies the webhook's failurePolicy).
func TestEvaluationLimit(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		o.MaxConcurrent = 1
		o.MaxConcurrentAdmissions = 1
		o.QueueTimeout = 150 * time.Millisecond
	})
	plan := readFile(t, repoFile("plans", testPlan))
	review := readFile(t, repoFile("admission", "ar_v1_deployment_create.json"))

	release, err := s.limit.acquire(context.Background(), s.metrics)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := s.do(t, "POST", "/v1/check", plan, authHeader())
	if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "max_concurrent_evaluations") {
		t.Fatalf("check with no slot: %d %v %s", r.status, r.header, r.body)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("refused after %s, before the queue timeout", waited)
	}
	start = time.Now()
	if r := s.do(t, "POST", "/v1/admission", review, nil); r.status != 200 || !strings.Contains(string(r.body), `"allowed"`) {
		t.Fatalf("admission while every plan slot is taken: %d %s", r.status, r.body)
	}
	if waited := time.Since(start); waited >= 150*time.Millisecond {
		t.Errorf("admission waited %s behind the plans' slot", waited)
	}
	releaseAdmit, err := s.admitLimit.acquire(context.Background(), s.metrics)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "POST", "/v1/admission", review, nil); r.status != 503 || !strings.Contains(string(r.body), "max_concurrent_admissions") {
		t.Fatalf("admission with no admission slot: %d %s", r.status, r.body)
	}
	releaseAdmit()
	if n := metricValue(t, s.metrics.evalRefused); n != 2 {
		t.Errorf("costgate_evaluations_refused_total = %v, want 2", n)
	}
	if n := len(s.log.all()); n != 1 {
		t.Errorf("%d decisions logged, want 1: the admission review judged (refused requests log none)", n)
	}

	// A request that arrives while the slot is held waits, and is judged
	// once it frees.
	var wg sync.WaitGroup
	var waiting response
	wg.Add(1)
	go func() {
		defer wg.Done()
		waiting = s.do(t, "POST", "/v1/check", plan, authHeader())
	}()
	deadline := time.Now().Add(5 * time.Second)
	for metricValue(t, s.metrics.evalWaiting) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the request never queued")
		}
		time.Sleep(5 * time.Millisecond)
	}
	release()
	wg.Wait()
	if waiting.status != 200 {
		t.Fatalf("queued check after the slot freed: %d %s", waiting.status, waiting.body)
	}
	if r := s.do(t, "POST", "/v1/admission", review, nil); r.status != 200 {
		t.Fatalf("admission with a free slot: %d %s", r.status, r.body)
	}
	if n := metricValue(t, s.metrics.evalWaiting); n != 0 {
		t.Errorf("costgate_evaluations_waiting = %v after the queue drained", n)
	}
}

// metricValue reads a counter or gauge.
func metricValue(tb testing.TB, c prometheus.Metric) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
