package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/costgate/costgate"
)

// Errors.
var (
	ErrClosed   = errors.New("store closed")
	ErrReadOnly = errors.New("store opened read-only")
	ErrLocked   = errors.New("store is locked by another process")
)

// Options tune a Store. The zero value is a writable store with fsync.
type Options struct {
	// ReadOnly opens without the writer lock: no Replace, no cleanup of
	// files a crash left behind. Another process may write meanwhile.
	ReadOnly bool
	// Parallelism bounds the goroutines a build or a query uses
	// (0: GOMAXPROCS).
	Parallelism int
	// Builds bounds the segment builds that run at once (0:
	// GOMAXPROCS). A build is CPU and memory: a Replace holds one of
	// these slots from its build until its segment is written, and
	// waits for the disk (fsync, manifest commit) without it, so callers
	// that replace one partition more than Builds at a time (collect)
	// keep the CPUs busy while a finished segment is synced.
	Builds int
	// BuildRows bounds the rows of the builds that run at once (0:
	// 1,000,000; see defaultBuildRows). Partitions build side by side
	// only while their rows fit; a partition of BuildRows rows or more
	// builds alone, and gives its slot up as soon as it is built, so
	// that the next build overlaps its write.
	BuildRows int
	// NoSync skips fsync. Only for tests and benchmarks: a crash may then
	// lose or tear committed data.
	NoSync bool
	// MaxBitmapValues: a dimension with more distinct values in one
	// segment keeps no bitmaps there (0: 65536).
	MaxBitmapValues int
	// Logger receives notices (orphans removed, corrupt segments); nil is
	// slog.Default().
	Logger *slog.Logger
	// HotBytes bounds the anonymous memory the store copies scanned
	// column blocks into (see hot.go): 0 is 1 GiB, or an eighth of the
	// machine's memory when that is less; negative copies nothing.
	HotBytes int64
}

// Store is an open cost store directory. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	hot  *hotBudget
	// slots bounds the builds running at once (Options.Builds) and
	// buildRows their rows (Options.BuildRows): a replace holds one slot
	// and its rows from its build to its segment's last write and gives
	// them up before the fsync (a build that took every row before the
	// write: buildSlot).
	slots     chan struct{}
	buildRows *semaphore.Weighted
	// runIndexUses counts the segments a query summed from their run
	// index (groupRunIndex); tests check a query took that path.
	runIndexUses atomic.Uint64

	mu       sync.Mutex // guards cur, closed, live, lock
	cur      *version
	closed   bool
	live     int      // versions not yet released
	lock     *os.File // writer lock, held until the last version is released
	commitMu sync.Mutex
	nextFile uint64 // guarded by mu

	dicts sync.Map // column name -> *globalDict
	// bufs keeps segment builds' large buffers for the next build.
	bufs *bufCache
}

// version is one generation: the manifest and its open segments. Readers
// hold a reference; the last one out closes segments that left the store
// and deletes their files.
type version struct {
	gen  uint64
	m    *manifest
	segs []*segHandle // aligned with m.Segments
	refs int          // guarded by Store.mu
}

// segHandle is a segment shared by the versions that list it.
type segHandle struct {
	entry segmentEntry
	seg   *segment
	err   error // why the segment could not be opened
	refs  int   // versions listing it; guarded by Store.mu
	// obsolete is set when a commit drops the segment from the manifest;
	// its file is deleted once no version lists it. Guarded by Store.mu.
	obsolete bool
}

// Open opens (creating it unless opts.ReadOnly) the store in dir. A
// writable open takes the directory's lock and removes files a crashed
// writer left behind. A segment that fails its checks does not fail Open:
// queries that need it report the error, the rest keep working.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if opts.MaxBitmapValues <= 0 {
		opts.MaxBitmapValues = 1 << 16
	}
	if opts.Builds <= 0 {
		opts.Builds = runtime.GOMAXPROCS(0)
	}
	if opts.BuildRows <= 0 {
		opts.BuildRows = defaultBuildRows
	}
	if opts.HotBytes == 0 {
		opts.HotBytes = defaultHotBytes()
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger, hot: &hotBudget{limit: opts.HotBytes},
		slots: make(chan struct{}, opts.Builds), buildRows: semaphore.NewWeighted(int64(opts.BuildRows))}
	if !opts.ReadOnly {
		s.bufs = newBufCache(buildBufBytes())
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "store", "dir", dir)
	if opts.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		lock, err := lockDir(filepath.Join(dir, lockName))
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
		s.lock = lock
	}
	var v *version
	var err error
	for attempt := 0; ; attempt++ {
		// A read-only open can race with a writer deleting segments of
		// an older manifest: read the manifest again.
		v, err = s.load()
		if err == nil || !opts.ReadOnly || attempt == 3 || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		s.unlock()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if !opts.ReadOnly {
		if err := s.removeOrphans(v.m); err != nil {
			v.closeAll()
			s.unlock()
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
	}
	v.refs = 1
	s.cur, s.live = v, 1
	return s, nil
}

// load reads the manifest and opens its segments.
func (s *Store) load() (*version, error) {
	m, err := readManifest(s.dir)
	if err != nil {
		return nil, err
	}
	v := &version{gen: m.Generation, m: m}
	s.nextFile = m.NextFile
	for _, e := range m.Segments {
		h := &segHandle{entry: e, refs: 1}
		h.seg, h.err = openSegment(filepath.Join(s.dir, e.File), e.Size, e.FooterCRC, s.hot)
		if h.err != nil {
			if s.opts.ReadOnly && errors.Is(h.err, fs.ErrNotExist) {
				v.closeAll()
				return nil, h.err
			}
			s.log.Warn("segment unreadable", "file", e.File, "err", h.err)
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(e.File, ".seg"), 10, 64); err == nil && n >= s.nextFile {
			s.nextFile = n + 1
		}
		v.segs = append(v.segs, h)
	}
	return v, nil
}

func (v *version) closeAll() {
	for _, h := range v.segs {
		if h.seg != nil {
			h.seg.close()
		}
	}
}

// removeOrphans deletes segment and temp files the manifest does not name.
func (s *Store) removeOrphans(m *manifest) error {
	live := map[string]bool{}
	for _, e := range m.Segments {
		live[e.File] = true
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list directory: %w", err)
	}
	removed := 0
	for _, de := range ents {
		name := de.Name()
		orphan := name == manifestTmp || (segmentFileRE.MatchString(name) && !live[name])
		if !orphan || de.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove orphan: %w", err)
		}
		s.log.Info("removed orphan file", "file", name)
		removed++
	}
	if removed > 0 && !s.opts.NoSync {
		return syncDir(s.dir)
	}
	return nil
}

// Close releases the store. Snapshots still open keep their segments
// until they are closed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	v := s.cur
	s.cur = nil
	s.mu.Unlock()
	s.bufs.reset()
	return s.release(v)
}

func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// acquire pins the current version.
func (s *Store) acquire() (*version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.cur.refs++
	return s.cur, nil
}

// release drops a reference to v; segments no version lists any more are
// unmapped and, in a writable store, deleted.
func (s *Store) release(v *version) error {
	s.mu.Lock()
	v.refs--
	if v.refs > 0 {
		s.mu.Unlock()
		return nil
	}
	var dead []*segHandle
	for _, h := range v.segs {
		h.refs--
		if h.refs == 0 {
			dead = append(dead, h)
		}
	}
	s.live--
	last := s.closed && s.live == 0
	s.mu.Unlock()

	var errs []error
	for _, h := range dead {
		if h.seg != nil {
			if err := h.seg.close(); err != nil {
				errs = append(errs, fmt.Errorf("unmap %s: %w", h.entry.File, err))
			}
		}
		// Only segments a commit dropped are deleted: a closing store's
		// segments are still named by the manifest.
		if !s.opts.ReadOnly && h.obsolete {
			if err := os.Remove(filepath.Join(s.dir, h.entry.File)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove replaced segment: %w", err))
			}
		}
	}
	if last {
		s.mu.Lock()
		s.unlock()
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Replace swaps the line items of partition p for rows in one commit.
// Rows must belong to p (BillingAccountId, BillingPeriodStart in the
// period). If contentHash is non-empty and equals the hash recorded for
// p, nothing is written and changed is false.
func (s *Store) Replace(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, exportID, contentHash string) (changed bool, err error) {
	if err := checkLineItems(p, rows); err != nil {
		return false, fmt.Errorf("replace %s: %w", p, err)
	}
	return s.replaceLineItems(ctx, p, exportID, contentHash, len(rows), func() *tableSpec { return lineItemSpec(rows) })
}

// replaceLineItems commits the segment spec builds as partition p.
func (s *Store) replaceLineItems(ctx context.Context, p costgate.Partition, exportID, contentHash string, rows int, spec func() *tableSpec) (bool, error) {
	changed, err := s.replace(ctx, lineItemEntry(p, exportID, contentHash), rows, spec)
	if err != nil {
		return false, fmt.Errorf("replace %s: %w", p, s.diskHint(err))
	}
	return changed, nil
}

// lineItemEntry is the manifest entry of partition p, before its segment
// is written.
func lineItemEntry(p costgate.Partition, exportID, contentHash string) segmentEntry {
	return segmentEntry{
		Table:            tableLineItems.String(),
		Source:           p.Source,
		BillingAccountID: p.BillingAccountID,
		BillingPeriod:    p.BillingPeriod.String(),
		ExportID:         exportID,
		ContentHash:      contentHash,
	}
}

// diskHint adds the fix to an error from a full disk or an exhausted
// quota. The replace that hit it removed what it had written.
func (s *Store) diskHint(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w (the disk holding the store %s is full: free space there, or move the store with --store or the config's store: key, and run again)", err, s.dir)
	}
	return err
}

// ReplaceSource is Replace with the rows read one at a time from src:
// the segment is built without a []LineItem of the whole partition. Each
// row is checked as Replace checks them; the first bad row (lowest index)
// fails the replace before anything is written.
func (s *Store) ReplaceSource(ctx context.Context, p costgate.Partition, src costgate.LineItemSource, exportID, contentHash string) (changed bool, err error) {
	if err := checkPartition(p); err != nil {
		return false, fmt.Errorf("replace %s: %w", p, err)
	}
	return s.replaceLineItems(ctx, p, exportID, contentHash, src.Len(), func() *tableSpec { return lineItemSourceSpec(p, src) })
}

// ReplaceInventory swaps the inventory a source reported, like Replace.
func (s *Store) ReplaceInventory(ctx context.Context, source string, resources []costgate.Resource, exportID, contentHash string) (changed bool, err error) {
	if source == "" {
		return false, errors.New("replace inventory: source is required")
	}
	if err := checkResources(resources); err != nil {
		return false, fmt.Errorf("replace inventory %s: %w", source, err)
	}
	e := segmentEntry{
		Table:       tableInventory.String(),
		Source:      source,
		ExportID:    exportID,
		ContentHash: contentHash,
	}
	changed, err = s.replace(ctx, e, len(resources), func() *tableSpec { return inventorySpec(source, resources) })
	if err != nil {
		return false, fmt.Errorf("replace inventory %s: %w", source, s.diskHint(err))
	}
	return changed, nil
}

func (s *Store) sameContent(e *segmentEntry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	if e.ContentHash == "" {
		return false, nil
	}
	for i := range s.cur.m.Segments {
		c := &s.cur.m.Segments[i]
		if c.key() == e.key() && c.ContentHash == e.ContentHash && s.cur.segs[i].err == nil {
			return true, nil
		}
	}
	return false, nil
}

func (s *Store) replace(ctx context.Context, e segmentEntry, rows int, spec func() *tableSpec) (bool, error) {
	st, err := s.stage(ctx, e, rows, spec)
	if st == nil || err != nil {
		return false, err
	}
	n, err := s.commit(ctx, []*staged{st})
	return n > 0, err
}

// staged is a segment written, synced and open, not yet in the manifest.
type staged struct {
	e    segmentEntry
	seg  *segment
	path string
}

// discard closes and removes a segment that will not be committed.
func (st *staged) discard() {
	st.seg.close()
	os.Remove(st.path)
}

// stage builds e's segment and writes it: all of a replace but its
// commit. It returns nil when the store already holds the content (the
// same content hash).
func (s *Store) stage(ctx context.Context, e segmentEntry, rows int, spec func() *tableSpec) (*staged, error) {
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	if same, err := s.sameContent(&e); same || err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	releaseSlot, alone, err := s.buildSlot(ctx, rows)
	if err != nil {
		return nil, err
	}
	defer releaseSlot()
	hook("build-start")
	sp := spec()
	sp.maxBitmapValues = s.opts.MaxBitmapValues
	sp.workers = s.opts.Parallelism
	sp.bufs = s.bufs
	t, err := build(sp)
	if err != nil {
		return nil, fmt.Errorf("build segment: %w", err)
	}
	t.f.source, t.f.account, t.f.period = e.Source, e.BillingAccountID, e.BillingPeriod
	t.f.exportID, t.f.contentHash = e.ExportID, e.ContentHash
	if err := ctx.Err(); err != nil {
		t.release()
		return nil, err
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		t.release()
		return nil, ErrClosed
	}
	num := s.nextFile
	s.nextFile++
	s.mu.Unlock()
	e.File = segmentFileName(num)
	path := filepath.Join(s.dir, e.File)
	if alone {
		// The write is one core copying into the page cache: the next
		// build runs meanwhile (buildSlot).
		releaseSlot()
	}
	hook("write-start")
	pending, err := writeSegment(path, t, !s.opts.NoSync)
	t.release()
	// The rest waits on the disk, not the CPU: the next build may start.
	hook("build-done")
	releaseSlot()
	if err == nil {
		hook("segment-unsynced")
		err = pending.sync(s.opts.NoSync)
	}
	if err != nil {
		return nil, err
	}
	hook("segment-written")
	e.Size, e.FooterCRC, e.Rows = int64(pending.size), pending.footerCRC, t.f.rows
	e.MinTime, e.MaxTime = t.f.minTime, t.f.maxTime
	seg, err := openSegment(path, e.Size, pending.footerCRC, s.hot)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("reopen new segment: %w", err)
	}
	return &staged{e: e, seg: seg, path: path}, nil
}

// commit publishes staged segments in one manifest write: readers see
// all of them at once or none. Those whose content the store holds by
// now are discarded (n counts the others). commit owns every element:
// whatever it does not commit, it discards.
func (s *Store) commit(ctx context.Context, segs []*staged) (n int, err error) {
	committed := false
	defer func() {
		if !committed {
			for _, st := range segs {
				st.discard()
			}
		}
	}()
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	var fresh, held []*staged
	for _, st := range segs {
		same, err := s.sameContent(&st.e)
		if err != nil {
			return 0, err
		}
		if same {
			held = append(held, st)
		} else {
			fresh = append(fresh, st)
		}
	}
	for _, st := range held {
		st.discard()
	}
	segs = fresh
	if len(segs) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	old := s.cur
	nm := &manifest{Version: manifestVersion, Generation: old.gen + 1, NextFile: s.nextFile}
	nv := &version{gen: nm.Generation, m: nm, refs: 1} // the store's reference
	replaced := map[string]bool{}
	for _, st := range segs {
		replaced[st.e.key()] = true
	}
	for i, c := range old.m.Segments {
		if replaced[c.key()] {
			continue
		}
		nm.Segments = append(nm.Segments, c)
		nv.segs = append(nv.segs, old.segs[i])
	}
	for _, st := range segs {
		nm.Segments = append(nm.Segments, st.e)
		nv.segs = append(nv.segs, &segHandle{entry: st.e, seg: st.seg})
	}
	sort.SliceStable(nm.Segments, func(i, j int) bool { return nm.Segments[i].key() < nm.Segments[j].key() })
	sortHandles(nv.segs)
	s.mu.Unlock()

	werr := writeManifest(s.dir, nm, s.opts.NoSync)
	if werr != nil {
		// The rename may have happened before the error (a failed
		// directory sync): only the manifest on disk can tell.
		if m, err := readManifest(s.dir); err != nil || m.Generation != nm.Generation {
			return 0, werr
		}
		werr = fmt.Errorf("generation %d committed but may not be durable: %w", nm.Generation, werr)
	}
	committed = true
	s.mu.Lock()
	kept := map[*segHandle]bool{}
	for _, h := range nv.segs {
		h.refs++
		kept[h] = true
	}
	for _, h := range old.segs {
		if !kept[h] {
			h.obsolete = true
		}
	}
	s.cur = nv
	s.live++
	s.mu.Unlock()
	hook("committed")
	if err := s.release(old); err != nil {
		s.log.Warn("release old generation", "err", err)
	}
	return len(segs), werr
}

// defaultBuildRows is Options.BuildRows' default. Measured on 2 cores
// (session 11): a collect of 10M FOCUS rows, whose six big partitions
// have 1.4 million rows each, spent 0.8 s less in its build phase (median
// of five alternated runs) and 0.6 GB less memory building them one at a
// time, each write overlapping the next build, than two at a time: a big
// build already keeps both cores busy, and a second one doubles the
// memory it faults in fresh. bench/store's partitions of 125,000 rows
// build faster two at a time (one alone leaves a core idle in its serial
// steps).
const defaultBuildRows = 1_000_000

// buildSlot waits for one of the store's build slots (Options.Builds)
// and for rows (at most Options.BuildRows) of the build budget, and
// returns the function that gives both back (safe to call more than
// once). alone reports that the build took the whole row budget: no
// other build runs until it gives the slot up, which replace does once
// the segment is built, before writing it.
func (s *Store) buildSlot(ctx context.Context, rows int) (release func(), alone bool, err error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	w := min(int64(max(rows, 1)), int64(s.opts.BuildRows))
	if err := s.buildRows.Acquire(ctx, w); err != nil {
		<-s.slots
		return nil, false, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.buildRows.Release(w)
			<-s.slots
		})
	}, w == int64(s.opts.BuildRows), nil
}

func sortHandles(hs []*segHandle) {
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].entry.key() < hs[j].entry.key() })
}

// PartitionInfo describes one live partition.
type PartitionInfo struct {
	Table       string             `json:"table"` // "lineitems" or "inventory"
	Partition   costgate.Partition `json:"partition"`
	File        string             `json:"file"`
	Rows        uint64             `json:"rows"`
	Bytes       int64              `json:"bytes"`
	ExportID    string             `json:"export_id,omitempty"`
	ContentHash string             `json:"content_hash,omitempty"`
	// MinCharge and MaxCharge bound ChargePeriodStart (zero if unknown).
	MinCharge time.Time `json:"min_charge"`
	MaxCharge time.Time `json:"max_charge"`
	// Runs is the number of runs in the segment's run index (day x
	// account x service totals); 0: the segment has none (inventory, a
	// format 1 segment, or too many runs for one to pay).
	Runs uint32 `json:"runs"`
	// Err is set when the segment failed its checks.
	Err string `json:"error,omitempty"`
}

// Partitions lists the live partitions of both tables.
func (s *Store) Partitions() []PartitionInfo {
	v, err := s.acquire()
	if err != nil {
		return nil
	}
	defer s.release(v)
	out := make([]PartitionInfo, 0, len(v.segs))
	for _, h := range v.segs {
		e := h.entry
		pi := PartitionInfo{
			Table: e.Table, File: e.File, Rows: e.Rows, Bytes: e.Size,
			ExportID: e.ExportID, ContentHash: e.ContentHash,
			MinCharge: nanosTime(e.MinTime), MaxCharge: nanosTime(e.MaxTime),
		}
		pi.Partition.Source, pi.Partition.BillingAccountID = e.Source, e.BillingAccountID
		if e.BillingPeriod != "" {
			pi.Partition.BillingPeriod, _ = costgate.ParseMonth(e.BillingPeriod)
		}
		if h.err != nil {
			pi.Err = h.err.Error()
		} else if h.seg != nil {
			pi.Runs = h.seg.f.runs.runs
		}
		out = append(out, pi)
	}
	return out
}

// Info summarises the store.
type Info struct {
	Dir        string          `json:"dir"`
	Generation uint64          `json:"generation"`
	Segments   int             `json:"segments"`
	Rows       uint64          `json:"rows"`
	Resources  uint64          `json:"resources"`
	Bytes      int64           `json:"bytes"`
	Partitions []PartitionInfo `json:"partitions"`
}

// Info returns the store's generation, partitions and sizes.
func (s *Store) Info() Info {
	in := Info{Dir: s.dir, Partitions: s.Partitions()}
	s.mu.Lock()
	if s.cur != nil {
		in.Generation = s.cur.gen
	}
	s.mu.Unlock()
	for _, p := range in.Partitions {
		in.Segments++
		in.Bytes += p.Bytes
		if p.Table == tableInventory.String() {
			in.Resources += p.Rows
		} else {
			in.Rows += p.Rows
		}
	}
	return in
}

// Verify checks every block of every live segment against its checksum
// and returns all the problems found.
func (s *Store) Verify(ctx context.Context) error {
	v, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release(v)
	var errs []error
	for _, h := range v.segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.err != nil {
			errs = append(errs, h.err)
			continue
		}
		if err := safely(h.seg, h.seg.verify); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
