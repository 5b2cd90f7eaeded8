package collector

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/costgate/costgate"
)

// Decoded rows wait in memory until every export feeding their partitions
// has been read. A decoder whose rows are pointer-free (compact FOCUS
// rows) asks Rows.Hold before keeping a batch; past the run's budget it
// writes the batch to the export's spill file instead: an unlinked file
// in the store's directory (Options.SpillDir; a tmpfs /tmp would keep it
// in memory), mapped read-only once the export is read. The page cache
// then holds the rows, and the kernel can write them out and drop them
// under memory pressure, which it cannot do with the heap.

// SpillEnv overrides the budget: MiB of decoded rows one collect run keeps
// in memory before it spills (0: spill every batch). The default is
// 256 MiB, or a quarter of the memory available (the machine's, or the
// container's cgroup limit when lower) when that is less: heap
// is faulted in fresh, and a spilled batch is written from a reused
// buffer. 10M FOCUS rows (packed batches, two alternated rounds): 1024
// MiB 21.4-21.5 s, 256 MiB 20.3-20.8 s, 0 21.9-23.2 s; 128 and 512 MiB
// no better than 256 in the next rounds.
const SpillEnv = "COSTGATE_SPILL_MIB"

// budget counts the bytes of decoded rows held in memory by one
// LoadExports call, across its exports.
type budget struct {
	limit int64
	held  atomic.Int64
}

// newBudget reads SpillEnv; a value that is not a whole number of MiB
// keeps the default and comes back as a warning to log.
func newBudget() (b *budget, warning string) {
	b = &budget{limit: defaultSpillBytes()}
	if v, ok := os.LookupEnv(SpillEnv); ok {
		mib, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || mib < 0 || mib > 1<<40 {
			return b, fmt.Sprintf("%s=%q is not a number of MiB (e.g. 2048, or 0 to spill everything); using %d", SpillEnv, v, b.limit>>20)
		}
		b.limit = mib << 20
	}
	return b, ""
}

// take reserves n bytes, or reports that they are over the limit.
func (b *budget) take(n int64) bool {
	if b.held.Add(n) <= b.limit {
		return true
	}
	b.held.Add(-n)
	return false
}

// defaultSpillBytes is 256 MiB, or a quarter of costgate.MemLimit when
// that is less.
func defaultSpillBytes() int64 { return costgate.ShareOfMemory(256<<20, 4) }

// Spill is one export's spill file. Write appends while the export is
// read (decoders write batches as they pack them); once the export is
// read the file is mapped and Bytes returns views of it until the rows
// are written to the store.
type Spill struct {
	f    *os.File
	dir  string
	size int64
	mu   sync.Mutex
	data []byte // the mapping, after seal
}

// newSpill creates a spill file in dir ("": the system's temporary
// directory).
func newSpill(dir string) (*Spill, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "costgate-spill-*")
	if err != nil {
		return nil, spillError(dir, err)
	}
	// Unlinked at once: the space returns when the file is closed, even
	// if the process is killed.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spill decoded rows to %s: %w", dir, err)
	}
	return &Spill{f: f, dir: dir}, nil
}

func spillError(dir string, err error) error {
	return fmt.Errorf("spill decoded rows to %s: %w (free space there, or raise %s to keep more rows in memory)", dir, err, SpillEnv)
}

// Write appends b and returns its offset; it is safe for concurrent use.
// len(b) must be a multiple of 8 so that every batch stays aligned for
// 64-bit fields.
func (s *Spill) Write(b []byte) (int64, error) {
	if len(b)%8 != 0 {
		return 0, fmt.Errorf("spill: %d bytes is not a multiple of 8", len(b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	off := s.size
	if _, err := s.f.Write(b); err != nil {
		return 0, spillError(s.dir, err)
	}
	s.size += int64(len(b))
	return off, nil
}

// seal maps what was written.
func (s *Spill) seal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data != nil || s.size == 0 {
		return nil
	}
	data, err := mapFile(s.f, s.size)
	if err != nil {
		return fmt.Errorf("map the spill file: %w", err)
	}
	s.data = data
	return nil
}

// Bytes returns n bytes written at off. It is valid once the export is
// read (LoadExports seals every spill file before writing partitions).
func (s *Spill) Bytes(off, n int64) []byte {
	return s.data[off : off+n : off+n]
}

// close unmaps and closes the file, freeing its space.
func (s *Spill) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := unmapFile(s.data)
	s.data = nil
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
