package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"

	"github.com/costgate/costgate"
)

// defaultGCHeadroomMiB is serve's garbage-collector headroom: the heap
// may grow this far beyond the live heap before a collection, when that
// is more than server.gc_percent allows.
//
// serve's live heap is small (16-25 MiB under bench/serve's load: the
// policies, the price catalog, the requests in flight) and every request
// drops what it allocated (about 0.9 MB for a 100-resource check), so at
// GOGC 400 alone the heap goal was 40-110 MiB and the collector ran
// every 40-60 ms. Each cycle starts and ends with a stop of the world,
// and with one Go processor more than the cores (server.io_procs) some
// processor's thread is often off the CPU when it is asked to stop:
// gctrace showed stops of 1.5-5 ms in the admission run, and every
// request in flight waited them out. Those stalls made the admission
// p99. With the goal at the live heap plus 256 MiB the collector runs
// 3-6 times less often: GOGC off with a 320 MiB limit (the same goal),
// four interleaved rounds against GOGC 400 (bench/serve -costgate-b):
// /v1/check 1.13x throughput, p99 0.92x; /v1/admission 1.16x, p99 0.79x.
const defaultGCHeadroomMiB = 256

// maxTunedGCPercent caps the percent the tuner sets (a live heap of a few
// MiB would otherwise ask for tens of thousands).
const maxTunedGCPercent = 100_000

// tunedGCPercent is the GOGC that puts the heap goal at live+headroom,
// or base when base allows more: goal = live × (1 + percent/100). A live
// heap under 1 MiB counts as 1 MiB.
func tunedGCPercent(live, headroom int64, base int) int {
	live = max(live, 1<<20)
	p := headroom * 100 / live
	if p > maxTunedGCPercent {
		p = maxTunedGCPercent
	}
	return max(base, int(p))
}

// gcHeadroom bounds the configured headroom by a quarter of the memory
// the process may use (costgate.MemLimit: the container's limit when it
// has one), so a small container keeps room for everything else.
func gcHeadroom(configured int64) int64 {
	if m := costgate.MemLimit(); m > 0 {
		return min(configured, m/4)
	}
	return configured
}

// gcTuner keeps the garbage collector's goal at least headroom bytes
// above the live heap: after every collection it reads the live heap the
// collection found (runtime/metrics /gc/heap/live:bytes) and sets the
// GC percent to max(base, headroom/live). With a large live heap (a big
// plan in flight) base rules, so the heap never grows past
// max(live × (1 + base/100), live + headroom). The same technique as
// Uber's GOGC tuner; Go has no minimum-heap setting of its own. A memory
// limit (server.memory_limit_mib, GOMEMLIMIT) still caps the goal.
//
// The tuner runs from a cleanup attached to a sentinel object: the
// cleanup runs once the collector has found the sentinel unreachable,
// i.e. after each cycle, and re-arms itself with a new sentinel.
type gcTuner struct {
	base     int
	headroom int64
	logger   *slog.Logger

	mu      sync.Mutex // guards percent, live and sample
	percent int
	live    int64
	sample  []metrics.Sample
	stopped atomic.Bool
	tuned   atomic.Int64 // collections seen (tests and the debug log)
}

// gcSentinel is what the tuner's cleanup hangs on: a pointer and more
// than 16 bytes, so it is never packed into a tiny-allocator block with
// other objects (whose cleanups could then wait for them).
type gcSentinel struct {
	_ *byte
	_ [16]byte
}

// activeTuner is the process's tuner: GOGC is process-wide, so starting
// one stops the one before (tests run serve more than once).
var activeTuner atomic.Pointer[gcTuner]

// startGCTuner sets the GC percent to base and starts tuning.
func startGCTuner(base int, headroom int64, logger *slog.Logger) *gcTuner {
	t := &gcTuner{base: base, headroom: headroom, logger: logger, percent: base,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	if old := activeTuner.Swap(t); old != nil {
		old.stop()
	}
	debug.SetGCPercent(base)
	t.arm()
	return t
}

// stop ends the tuning; the last percent set stays.
func (t *gcTuner) stop() { t.stopped.Store(true) }

// state is the last percent set and the live heap it was set for.
func (t *gcTuner) state() (percent int, live int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent, t.live
}

func (t *gcTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), (*gcTuner).collected, t)
}

// collected runs after a collection: set the percent for the next one.
func (t *gcTuner) collected() {
	if t.stopped.Load() {
		return
	}
	t.mu.Lock()
	metrics.Read(t.sample)
	live := int64(0)
	if s := t.sample[0]; s.Value.Kind() == metrics.KindUint64 {
		live = int64(s.Value.Uint64())
	}
	p := tunedGCPercent(live, t.headroom, t.base)
	t.live = live
	if p != t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
	t.mu.Unlock()
	if n := t.tuned.Add(1); n == 1 || n%1000 == 0 {
		t.logger.Debug("garbage collector tuned", "live_mib", live>>20, "gc_percent", p, "collections", n)
	}
	t.arm()
}
