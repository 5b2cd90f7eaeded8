package webhooks

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"time"
)

// DefaultQueueTimeout is how long a request waits for an evaluation slot
// before it is refused with 503.
const DefaultQueueTimeout = 10 * time.Second

// errBusy is returned when no evaluation slot freed in time.
var errBusy = errors.New("busy")

// limiter bounds the evaluations running at once. Parsing a plan and
// evaluating policies are CPU-bound: running more of them than there are
// cores only makes every request slower and holds every request's plan in
// memory at once. Requests over the limit wait in arrival order (a
// channel's blocked senders are served first come, first served), so a
// burst queues instead of spreading latency over everyone, and memory is
// bounded by the limit instead of by the number of clients.
type limiter struct {
	slots   chan struct{}
	timeout time.Duration
	setting string // the configuration key that sizes it, for the 503
}

func newLimiter(max int, timeout time.Duration, setting string) *limiter {
	if max <= 0 {
		max = 2 * runtime.GOMAXPROCS(0)
	}
	if timeout <= 0 {
		timeout = DefaultQueueTimeout
	}
	return &limiter{slots: make(chan struct{}, max), timeout: timeout, setting: setting}
}

// acquire takes a slot, waiting at most the queue timeout or until ctx
// ends; release gives it back.
func (l *limiter) acquire(ctx context.Context, m *metrics) (release func(), err error) {
	return l.wait(ctx, m, l.timeout)
}

// acquireUntil takes a slot, waiting until ctx ends (no queue timeout).
func (l *limiter) acquireUntil(ctx context.Context, m *metrics) (release func(), err error) {
	return l.wait(ctx, m, 0)
}

// wait takes a slot; timeout 0 waits as long as ctx allows.
func (l *limiter) wait(ctx context.Context, m *metrics, timeout time.Duration) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	default:
	}
	m.evalWaiting.Inc()
	defer m.evalWaiting.Dec()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	case <-expired:
		m.evalRefused.Inc()
		return nil, errBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *limiter) release() { <-l.slots }

// busy answers a request that found no slot: 503 with Retry-After, which
// CI clients and the API server's webhook client retry or treat per the
// webhook's failurePolicy.
func (l *limiter) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(l.timeout/time.Second)/4)))
	writeError(w, http.StatusServiceUnavailable, "costgate is busy: every evaluation slot ("+strconv.Itoa(cap(l.slots))+
		") stayed taken for "+l.timeout.String()+"; retry, or raise "+l.setting+" if the cores allow")
}
