package store

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/costgate/costgate"
)

// Snapshot pins one generation of the store: every query on it reads the
// same segments, whatever commits meanwhile. Close it when done; segments
// replaced since are deleted after the last snapshot that holds them.
type Snapshot struct {
	st   *Store
	v    *version
	once sync.Once
}

// Snapshot pins the current generation.
func (s *Store) Snapshot() (*Snapshot, error) {
	v, err := s.acquire()
	if err != nil {
		return nil, err
	}
	return &Snapshot{st: s, v: v}, nil
}

// Generation returns the pinned generation number.
func (sn *Snapshot) Generation() uint64 { return sn.v.gen }

// Close releases the snapshot; it is safe to call twice.
func (sn *Snapshot) Close() error {
	var err error
	sn.once.Do(func() { err = sn.st.release(sn.v) })
	return err
}

// Query runs q on the current generation; see Snapshot.Query.
func (s *Store) Query(ctx context.Context, q Query) (*Result, error) {
	sn, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	return sn.Query(ctx, q)
}

// Query sums q's measures over the line items that pass its filters,
// grouped, ordered and limited. Sums are exact.
func (sn *Snapshot) Query(ctx context.Context, q Query) (*Result, error) {
	res, err := sn.run(ctx, lineItemTable, q)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return res, nil
}

// QueryInventory counts inventory resources; see Store.QueryInventory.
func (sn *Snapshot) QueryInventory(ctx context.Context, q Query) (*Result, error) {
	res, err := sn.run(ctx, inventoryTable, q)
	if err != nil {
		return nil, fmt.Errorf("query inventory: %w", err)
	}
	return res, nil
}

// segments returns the handles of table t that may hold rows passing the
// filters; a segment that could not be opened is an error only when the
// query needs it.
func (sn *Snapshot) segments(t *table, filters []Filter) ([]*segment, error) {
	var out []*segment
	for _, h := range sn.v.segs {
		if h.entry.Table != t.kind.String() || pruned(&h.entry, t, filters) {
			continue
		}
		if h.err != nil {
			return nil, h.err
		}
		out = append(out, h.seg)
	}
	return out, nil
}

// safely runs fn on a segment, turning a panic (a malformed block that
// slipped past the checks, or a fault reading a file truncated under its
// mapping) into an error naming the segment.
func safely(seg *segment, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = fmt.Errorf("segment %s: %w: %v", seg.file, ErrCorrupt, r)
		}
	}()
	return fn()
}

// forSegments runs fn for every segment on up to Parallelism goroutines;
// worker is the goroutine's index, for per-worker state.
func (sn *Snapshot) forSegments(ctx context.Context, segs []*segment, fn func(worker int, seg *segment) error) error {
	workers := min(sn.st.opts.Parallelism, len(segs))
	errs := make([]error, len(segs))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(segs) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
				errs[i] = safely(segs[i], func() error { return fn(w, segs[i]) })
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// totals returns a segment's stored total of a measure column.
func (s *segment) total(name string) (costgate.Sum, bool) {
	for _, t := range s.f.totals {
		if t.name == name {
			return costgate.SumFromParts(int64(t.sum[0]), t.sum[1]), true
		}
	}
	return costgate.Sum{}, false
}
