package store

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/costgate/costgate"
)

// Column blocks that queries scan (codes, money and int columns: a few
// megabytes each) are copied out of the mapped segment file into
// anonymous memory the first time they are used, asking the kernel for
// huge pages. Mapped file pages are 4 KiB, and a scan over them misses
// the TLB on every page once other work has run on the core: at 10M rows,
// interleaved with DuckDB and plain scans, Q5 went from 4.5 to 2.1 ms and
// Q7 from 3.1 to 2.0 ms with the copies. The copies are anonymous memory
// the kernel cannot reclaim, so a store copies at most Options.HotBytes;
// later blocks are read from the mapping as before.

// hotMin is the smallest block worth copying.
const hotMin = 64 << 10

// hotChunk is the size of the arena's mappings: a few huge pages.
const hotChunk = 4 << 20

// hotBudget bounds the bytes a store copies, across its segments.
type hotBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *hotBudget) take(n int64) bool {
	if b == nil || b.limit <= 0 {
		return false
	}
	if b.used.Add(n) <= b.limit {
		return true
	}
	b.used.Add(-n)
	return false
}

func (b *hotBudget) give(n int64) {
	if b != nil {
		b.used.Add(-n)
	}
}

// defaultHotBytes is 1 GiB, or an eighth of costgate.MemLimit when that
// is less.
func defaultHotBytes() int64 { return costgate.ShareOfMemory(1<<30, 8) }

// arena hands out 8-byte-aligned pieces of anonymous memory for one
// segment's copied blocks; it is freed with the segment.
type arena struct {
	budget *hotBudget
	mu     sync.Mutex
	chunks [][]byte
	rest   []byte // unused end of the last chunk
	taken  int64
	// byOff holds the copies by the offset of their block: columns that
	// share a block (see segWriter.block) share its copy.
	byOff map[uint64][]byte
}

// copyOf returns a copy of b, the segment's block at offset off, in the
// arena, and whether it was made by this call (false: an earlier call
// made it); nil when the store's budget or the system has no room for it.
func (a *arena) copyOf(off uint64, b []byte) (h []byte, fresh bool) {
	n := (len(b) + 7) &^ 7
	a.mu.Lock()
	defer a.mu.Unlock()
	if h, ok := a.byOff[off]; ok && len(h) == len(b) {
		return h, false
	}
	if len(a.rest) < n {
		size := max(hotChunk, (n+hotChunk-1)/hotChunk*hotChunk)
		if !a.budget.take(int64(size)) {
			return nil, false
		}
		c, err := anonMap(size)
		if err != nil {
			a.budget.give(int64(size))
			return nil, false
		}
		a.taken += int64(size)
		a.chunks = append(a.chunks, c)
		a.rest = c
	}
	h = a.rest[:len(b):len(b)]
	a.rest = a.rest[n:]
	copy(h, b)
	if a.byOff == nil {
		a.byOff = map[uint64][]byte{}
	}
	a.byOff[off] = h
	return h, true
}

func (a *arena) free() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.chunks {
		anonUnmap(c)
	}
	a.chunks, a.rest, a.byOff = nil, nil, nil
	a.budget.give(a.taken)
	a.taken = 0
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
