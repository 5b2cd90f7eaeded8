package store

import (
	"math/bits"
	"sync"
	"time"
	"unsafe"

	"github.com/costgate/costgate"
)

// bufCache keeps the large buffers of segment builds (row-sized columns,
// sort keys, serialized blocks) for the next build. A fresh buffer costs
// more than its size suggests: the allocator zeroes it, the kernel faults
// its pages in one at a time (about 15 µs a 4 KiB page on the machines
// measured), and the collector runs more often. Builds of many partitions
// in a row (a collect, a backfill) reuse warm buffers instead.
//
// Buffers are kept by power-of-two size class, up to limit bytes in all;
// a buffer that would go over is left to the garbage collector. The Store
// holds one, emptied on Close and when no build has given a buffer back
// for bufIdle (a long-running serve holds nothing between collects). A nil
// *bufCache allocates and keeps nothing.
type bufCache struct {
	mu    sync.Mutex
	free  [64][][]byte // by class: cap is 1<<class bytes
	held  int64
	limit int64
	idle  *time.Timer // empties the cache after bufIdle without a put
	// hints: per string column, the number of distinct values a chunk of
	// the last build coded (a size for the next build's maps).
	hints map[string]int
}

// dictHint returns the size hint for a chunk dictionary of column name.
func (s *bufCache) dictHint(name string) int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hints[name]
}

func (s *bufCache) setDictHint(name string, n int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hints == nil {
		s.hints = map[string]int{}
	}
	if len(s.hints) < 1024 || s.hints[name] != 0 { // tag columns are many only in odd data
		s.hints[name] = n
	}
}

// minBufClass: smaller buffers come from the allocator, whose small
// size classes are cheap.
const minBufClass = 16 // 64 KiB

func newBufCache(limit int64) *bufCache { return &bufCache{limit: limit} }

// buildBufBytes bounds a writable store's bufCache: 1 GiB, or a 16th of
// the memory available (costgate.MemLimit) if that is less. A build of 170,000 rows uses
// about 60 MiB, one of 830,000 FOCUS rows (a month of an account in a
// 10M-row export) about 365 MiB, and collect builds two at a time.
func buildBufBytes() int64 {
	limit := int64(1 << 30)
	if mt := costgate.MemLimit(); mt > 0 {
		limit = min(limit, mt/16)
	}
	return limit
}

// bytes returns n bytes, zeroed if zero is set; otherwise their contents
// are undefined. The caller writes every byte it reads.
func (s *bufCache) bytes(n int, zero bool) []byte {
	c := bits.Len(uint(n - 1))
	if s == nil || n <= 0 || c < minBufClass {
		return make([]byte, n)
	}
	s.mu.Lock()
	var b []byte
	if k := len(s.free[c]); k > 0 {
		b = s.free[c][k-1]
		s.free[c][k-1] = nil
		s.free[c] = s.free[c][:k-1]
		s.held -= int64(cap(b))
	}
	s.mu.Unlock()
	if b == nil {
		// 64-bit words back it, so that uint32 and int64 views of it are
		// aligned.
		w := make([]uint64, (1<<c)/8)
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 1<<c)[:n]
	}
	b = b[:n]
	if zero {
		clear(b)
	}
	return b
}

// put keeps b (from bytes, u32s or i64s, by any view of it) for reuse.
// The caller no longer uses it.
func (s *bufCache) put(b []byte) {
	c := bits.Len(uint(cap(b) - 1))
	if s == nil || cap(b) == 0 || cap(b) != 1<<c || c < minBufClass {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held+int64(cap(b)) > s.limit {
		return
	}
	s.free[c] = append(s.free[c], b[:0])
	s.held += int64(cap(b))
	if s.idle == nil {
		s.idle = time.AfterFunc(bufIdle, s.reset)
	} else {
		s.idle.Reset(bufIdle)
	}
}

// bufIdle is how long kept buffers outlive the last build.
var bufIdle = 30 * time.Second

// reset drops every kept buffer.
func (s *bufCache) reset() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free = [64][][]byte{}
	s.held = 0
	if s.idle != nil {
		s.idle.Stop()
	}
}

func (s *bufCache) u32s(n int, zero bool) []uint32 {
	b := s.bytes(4*n, zero)
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/4)[:n]
}

func (s *bufCache) i64s(n int, zero bool) []int64 {
	b := s.bytes(8*n, zero)
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/8)[:n]
}

func (s *bufCache) u64s(n int, zero bool) []uint64 {
	b := s.bytes(8*n, zero)
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/8)[:n]
}

func (s *bufCache) putU32s(v []uint32) {
	s.put(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*cap(v)))
}

func (s *bufCache) putI64s(v []int64) {
	s.put(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*cap(v)))
}

func (s *bufCache) putU64s(v []uint64) {
	s.put(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*cap(v)))
}
