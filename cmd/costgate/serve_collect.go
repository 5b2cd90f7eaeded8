package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/costgate/costgate/reports"
)

// collectScheduler is serve's side of collect.schedule: at each fire time
// it runs the configured sources into the store exactly as `costgate
// collect` does, one run at a time, and after a run that changed the
// store has serve read the new data.
type collectScheduler struct {
	sched *reports.Schedule
	log   *slog.Logger
	now   func() time.Time
	// run is one collect run (collectSources on the config serve started
	// with).
	run func(ctx context.Context) (*collectResult, error)
	// refresh makes serve see the store's new generation: the /v1/cost
	// handle and data.costgate.spend.
	refresh func(ctx context.Context)

	runs        *prometheus.CounterVec // result: ok, error
	lastSuccess prometheus.Gauge

	running atomic.Bool
	wg      sync.WaitGroup

	mu       sync.Mutex // guards last, lastOK
	last     *collectRunStatus
	lastOK   time.Time
	runCount int
}

// collectRunStatus is the last run as /readyz shows it.
type collectRunStatus struct {
	Scheduled  time.Time `json:"scheduled"`
	Started    time.Time `json:"started"`
	Seconds    float64   `json:"seconds"`
	Result     string    `json:"result"` // ok or error
	Error      string    `json:"error,omitempty"`
	Changed    bool      `json:"changed"`
	Generation uint64    `json:"generation"`
}

func newCollectScheduler(sched *reports.Schedule, logger *slog.Logger, now func() time.Time,
	run func(context.Context) (*collectResult, error), refresh func(context.Context)) *collectScheduler {
	c := &collectScheduler{
		sched: sched, log: logger.With("component", "collect.schedule"), now: now, run: run, refresh: refresh,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costgate_collect_runs_total", Help: "Scheduled collect runs (collect.schedule) by result (ok, error: a source or the store failed).",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "costgate_collect_last_success_timestamp_seconds", Help: "When the last scheduled collect run without errors finished (Unix time; 0: none since serve started).",
		}),
	}
	// Series exist from the start, at zero, so alerts see them.
	c.runs.WithLabelValues("ok")
	c.runs.WithLabelValues("error")
	return c
}

// Collectors are the scheduler's metrics, for serve's /metrics registry.
func (c *collectScheduler) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.runs, c.lastSuccess}
}

// Loop starts a run at every time fires delivers until ctx ends or fires
// closes. A fire while a run is still going is skipped and logged.
func (c *collectScheduler) Loop(ctx context.Context, fires <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case at, ok := <-fires:
			if !ok {
				return
			}
			c.fire(ctx, at)
		}
	}
}

func (c *collectScheduler) fire(ctx context.Context, at time.Time) {
	if !c.running.CompareAndSwap(false, true) {
		c.log.Warn("collect run skipped: the previous run is still going", "scheduled", at)
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.running.Store(false)
		c.runOnce(ctx, at)
	}()
}

// Wait waits for the run in progress, if any.
func (c *collectScheduler) Wait() { c.wg.Wait() }

func (c *collectScheduler) runOnce(ctx context.Context, at time.Time) {
	started, t0 := c.now(), time.Now()
	c.log.Info("collect run started", "scheduled", at)
	res, err := c.runSafely(ctx)
	if res != nil {
		for _, s := range res.Summaries {
			c.log.Info("collect source summary", "source", s.Source, "type", s.Type, "loaded", s.Loaded, "unchanged", s.Unchanged,
				"failed", s.Failed, "rows", s.Rows, "resources", s.Resources, "files", s.Files, "bytes", s.Bytes,
				"elapsed", s.Elapsed.Round(time.Millisecond), "errors", len(s.Errors))
			for _, e := range s.Errors {
				c.log.Error("collect source error", "source", s.Source, "err", e)
			}
		}
		if res.Err != nil {
			sourceErr := fmt.Errorf("%d errors; the partitions they concern were left as they were", res.Errors())
			if res.Errors() == 0 { // interrupted before a source ran
				sourceErr = res.Err
			}
			err = errors.Join(sourceErr, err)
		}
		if res.Changed() && ctx.Err() == nil { // not while shutting down
			c.refresh(ctx)
		}
	}
	st := &collectRunStatus{Scheduled: at, Started: started, Seconds: time.Since(t0).Seconds(), Result: "ok"}
	if res != nil {
		st.Changed, st.Generation = res.Changed(), res.Info.Generation
	}
	if err != nil {
		st.Result, st.Error = "error", err.Error()
	}
	finished := c.now()
	c.mu.Lock()
	c.last = st
	c.runCount++
	if err == nil {
		c.lastOK = finished
	}
	c.mu.Unlock()
	if err == nil {
		c.lastSuccess.Set(float64(finished.Unix()))
	}
	if err != nil {
		c.log.Error("collect run failed; the server keeps serving the data it has", "err", err,
			"changed", st.Changed, "generation", st.Generation, "elapsed", time.Since(t0).Round(time.Millisecond))
	} else {
		c.log.Info("collect run finished", "changed", st.Changed, "generation", st.Generation, "elapsed", time.Since(t0).Round(time.Millisecond))
	}
	c.runs.WithLabelValues(st.Result).Inc() // last: the run is over when it counts
}

// runSafely turns a panic in a collector into the run's error: a failing
// run never takes the server down.
func (c *collectScheduler) runSafely(ctx context.Context) (res *collectResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("collect run panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("collect panicked: %v", v)
		}
	}()
	return c.run(ctx)
}

// Status is the "collect" entry of /readyz.
func (c *collectScheduler) Status() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]any{
		"schedule": c.sched.Spec, "timezone": c.sched.Loc.String(), "next": c.sched.Next(c.now()),
		"running": c.running.Load(), "runs": c.runCount, "last_run": c.last,
	}
	if !c.lastOK.IsZero() {
		out["last_success"] = c.lastOK
	}
	return out
}

// cronFires delivers each fire time of s, in order and never the same one
// twice, until ctx ends. now and sleep default to the real clock.
func cronFires(ctx context.Context, s *reports.Schedule, now func() time.Time, sleep func(context.Context, time.Duration) error) <-chan time.Time {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	out := make(chan time.Time)
	go func() {
		var last time.Time
		for {
			t := now()
			if t.Before(last) {
				t = last
			}
			next := s.Next(t)
			if err := sleep(ctx, next.Sub(t)); err != nil {
				return
			}
			select {
			case out <- next:
			case <-ctx.Done():
				return
			}
			last = next
		}
	}()
	return out
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
