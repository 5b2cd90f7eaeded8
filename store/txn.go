package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/costgate/costgate"
)

// ErrTxnDone is returned by a Txn used after Commit or Abort.
var ErrTxnDone = errors.New("transaction already committed or aborted")

// Txn groups replaces into one commit. Each Replace builds and writes
// its partition's segment when it is called (concurrently, like
// Store.Replace, under the same build slots); Commit then publishes them
// all in one manifest write, so that readers see every partition of the
// transaction change at once or none of them, and a crash at any point
// leaves all of them old or all new. Abort, or a failed Commit, removes
// what was written.
//
// collect uses one per source and run: a bill restated across accounts
// and months is replaced as a whole, and a run that fails part way (a
// full disk, an I/O error) changes nothing.
type Txn struct {
	s      *Store
	mu     sync.Mutex
	staged map[string]*staged // by segment key; the last replace wins
	order  []string
	done   bool
}

// Begin starts a transaction.
func (s *Store) Begin() *Txn {
	return &Txn{s: s, staged: map[string]*staged{}}
}

// Replace is Store.Replace within t: changed reports that p's content
// differs from what the store holds, and will be replaced by Commit.
func (t *Txn) Replace(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, exportID, contentHash string) (changed bool, err error) {
	if err := checkLineItems(p, rows); err != nil {
		return false, fmt.Errorf("replace %s: %w", p, err)
	}
	return t.stage(ctx, p, exportID, contentHash, len(rows), func() *tableSpec { return lineItemSpec(rows) })
}

// ReplaceSource is Store.ReplaceSource within t.
func (t *Txn) ReplaceSource(ctx context.Context, p costgate.Partition, src costgate.LineItemSource, exportID, contentHash string) (changed bool, err error) {
	if err := checkPartition(p); err != nil {
		return false, fmt.Errorf("replace %s: %w", p, err)
	}
	return t.stage(ctx, p, exportID, contentHash, src.Len(), func() *tableSpec { return lineItemSourceSpec(p, src) })
}

func (t *Txn) stage(ctx context.Context, p costgate.Partition, exportID, contentHash string, rows int, spec func() *tableSpec) (bool, error) {
	t.mu.Lock()
	done := t.done
	t.mu.Unlock()
	if done {
		return false, fmt.Errorf("replace %s: %w", p, ErrTxnDone)
	}
	st, err := t.s.stage(ctx, lineItemEntry(p, exportID, contentHash), rows, spec)
	if err != nil {
		return false, fmt.Errorf("replace %s: %w", p, t.s.diskHint(err))
	}
	if st == nil {
		return false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		st.discard()
		return false, fmt.Errorf("replace %s: %w", p, ErrTxnDone)
	}
	k := st.e.key()
	if prev := t.staged[k]; prev != nil {
		prev.discard()
	} else {
		t.order = append(t.order, k)
	}
	t.staged[k] = st
	return true, nil
}

// Commit publishes every partition replaced in t in one manifest write
// and returns how many changed (a partition whose content the store came
// to hold meanwhile does not count). On error with n == 0 nothing
// changed; with n > 0 the manifest was renamed but the directory sync
// failed: committed, maybe not durable.
func (t *Txn) Commit(ctx context.Context) (int, error) {
	segs, err := t.finish()
	if err != nil {
		return 0, err
	}
	n, err := t.s.commit(ctx, segs)
	if err != nil {
		return n, fmt.Errorf("commit %d partitions: %w", len(segs), t.s.diskHint(err))
	}
	return n, nil
}

// Abort removes what t wrote; the store is as it was. Aborting a
// committed or aborted transaction does nothing.
func (t *Txn) Abort() {
	segs, err := t.finish()
	if err != nil {
		return
	}
	for _, st := range segs {
		st.discard()
	}
}

// finish ends t and hands over its staged segments in replace order.
func (t *Txn) finish() ([]*staged, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxnDone
	}
	t.done = true
	segs := make([]*staged, 0, len(t.order))
	for _, k := range t.order {
		segs = append(segs, t.staged[k])
	}
	t.staged, t.order = nil, nil
	return segs, nil
}
