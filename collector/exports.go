package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// Export is a unit of a file-based source that is read whole: one file,
// or the files a manifest lists for one billing period.
type Export struct {
	// Key names the export stably across runs: a path, an s3:// URI of a
	// file or of a billing period's folder.
	Key string
	// Version is a cheap fingerprint that changes whenever the content
	// may have (a manifest's assembly id, an ETag, size and mtime). An
	// unchanged version of a closed month is not read again.
	Version string
	// Files and Size (bytes as stored) feed the progress line.
	Files int
	Size  int64
	// Read streams the export's line items into rows and returns a hash
	// of the bytes it read. Errors name the file, line and column.
	Read func(ctx context.Context, rows *Rows) (contentHash string, err error)
}

// ExportRef is one entry of a partition's export id: an export key and
// the version that was read.
type ExportRef struct {
	Key     string
	Version string
}

// EncodeExportID joins refs, sorted, as "key@version" lines.
func EncodeExportID(refs []ExportRef) string {
	lines := make([]string, 0, len(refs))
	for _, r := range refs {
		lines = append(lines, clean(r.Key)+"@"+strings.ReplaceAll(clean(r.Version), "@", "_"))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// DecodeExportID splits an export id written by EncodeExportID.
func DecodeExportID(id string) []ExportRef {
	if id == "" {
		return nil
	}
	var out []ExportRef
	for _, line := range strings.Split(id, "\n") {
		i := strings.LastIndexByte(line, '@')
		if i < 0 {
			continue
		}
		out = append(out, ExportRef{Key: line[:i], Version: line[i+1:]})
	}
	return out
}

func clean(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// pkey is a partition within one source.
type pkey struct {
	account string
	period  costgate.Month
}

func (k pkey) partition() costgate.Partition {
	return costgate.Partition{BillingAccountID: k.account, BillingPeriod: k.period}
}

func monthBefore(a, b costgate.Month) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	return a.Month < b.Month
}

func (k pkey) less(o pkey) bool {
	if k.account != o.account {
		return k.account < o.account
	}
	if k.period.Year != o.period.Year {
		return k.period.Year < o.period.Year
	}
	return k.period.Month < o.period.Month
}

type exportRun struct {
	e       *Export
	version string
	read    bool
	err     error
	hash    string
	parts   map[pkey]*bucket
	spill   *Spill // rows of parts written to disk, if any
}

// bucket collects one partition's rows: batches handed over whole, and
// a chunk filled row by row (appending to one growing slice of 800-byte
// line items would copy every row several times over).
type bucket struct {
	batches []Batch
	cur     []costgate.LineItem
	n       int
}

// Batch is rows of one partition, held in whatever form their decoder
// keeps them, that turn into line items when the partition is written.
type Batch interface {
	Len() int
	// AppendTo appends the rows to dst as line items.
	AppendTo(dst []costgate.LineItem) []costgate.LineItem
}

// RowBatch is a Batch that also gives its rows one at a time. A
// partition whose batches are all RowBatches (compact FOCUS batches, and
// the line-item chunks Rows.Add fills, as the CUR reader does) is written through
// Sink.ReplaceSource: the store reads the rows from the batches while it
// builds, and no []LineItem of the whole partition is made. A partition
// of a single line-item chunk is handed over as it is.
type RowBatch interface {
	Batch
	// LineItem sets every field of *li to row i; it is safe for
	// concurrent use once the batch is complete.
	LineItem(i int, li *costgate.LineItem)
	// MapKeys lists the keys of the rows' Tags and Extensions.
	MapKeys() (tags, extensions []string)
}

// CodedRowBatch is a RowBatch that can also give its rows coded
// (costgate.CodedLineItemSource): compact FOCUS batches, whose strings
// are ids into their decoder's table and whose times and amounts are
// integers already. A partition of such batches only is handed to the
// store as a coded source.
type CodedRowBatch interface {
	RowBatch
	CodedRow(i int, r *costgate.CodedRow) (table []string)
}

// rowBatchSource is the rows of several RowBatches as one
// costgate.LineItemSource.
type rowBatchSource struct {
	batches []RowBatch
	starts  []int // starts[k] is the index of batches[k]'s first row
	n       int
}

// rowBatches returns the buckets' rows as a source, or false when a
// batch cannot give its rows one at a time.
func rowBatches(buckets []*bucket) (*rowBatchSource, bool) {
	src := &rowBatchSource{}
	for _, b := range buckets {
		b.flush()
		for _, batch := range b.batches {
			rb, ok := batch.(RowBatch)
			if !ok {
				return nil, false
			}
			if rb.Len() == 0 {
				continue
			}
			src.batches = append(src.batches, rb)
			src.starts = append(src.starts, src.n)
			src.n += rb.Len()
		}
	}
	return src, true
}

func (s *rowBatchSource) Len() int { return s.n }

// batch returns the index of the batch that holds row i.
func (s *rowBatchSource) batch(i int) int {
	return sort.Search(len(s.starts), func(k int) bool { return s.starts[k] > i }) - 1
}

func (s *rowBatchSource) LineItem(i int, li *costgate.LineItem) {
	k := s.batch(i)
	s.batches[k].LineItem(i-s.starts[k], li)
}

// source is s as the store should read it: coded when every batch can
// give its rows coded.
func (s *rowBatchSource) source() costgate.LineItemSource {
	for _, b := range s.batches {
		if _, ok := b.(CodedRowBatch); !ok {
			return s
		}
	}
	return codedRowBatchSource{s}
}

// codedRowBatchSource is a rowBatchSource of CodedRowBatches.
type codedRowBatchSource struct{ *rowBatchSource }

func (s codedRowBatchSource) CodedRow(i int, r *costgate.CodedRow) []string {
	k := s.batch(i)
	return s.batches[k].(CodedRowBatch).CodedRow(i-s.starts[k], r)
}

func (s *rowBatchSource) MapKeys() (tags, extensions []string) {
	for _, b := range s.batches {
		t, x := b.MapKeys()
		tags = append(tags, t...)
		extensions = append(extensions, x...)
	}
	return tags, extensions
}

// lineBatch is a Batch of line items.
type lineBatch []costgate.LineItem

func (b lineBatch) Len() int { return len(b) }

func (b lineBatch) AppendTo(dst []costgate.LineItem) []costgate.LineItem { return append(dst, b...) }

func (b lineBatch) LineItem(i int, li *costgate.LineItem) { *li = b[i] }

func (b lineBatch) MapKeys() (tags, extensions []string) {
	return costgate.LineItemSlice(b).MapKeys()
}

const maxChunk = 1 << 14

// chunkPool recycles full-size chunks between exports and partitions:
// fresh memory costs a page fault per 4 KiB, more than the copy itself.
type chunkPool struct {
	mu   sync.Mutex
	free [][]costgate.LineItem
}

func (p *chunkPool) get(size int) []costgate.LineItem {
	if size == maxChunk {
		p.mu.Lock()
		defer p.mu.Unlock()
		if n := len(p.free); n > 0 {
			c := p.free[n-1]
			p.free = p.free[:n-1]
			return c[:0]
		}
	}
	return make([]costgate.LineItem, 0, size)
}

func (p *chunkPool) put(c []costgate.LineItem) {
	if cap(c) != maxChunk {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, c)
}

func (b *bucket) add(pool *chunkPool, li *costgate.LineItem) {
	if b.cur != nil && len(b.cur) == cap(b.cur) {
		b.batches = append(b.batches, lineBatch(b.cur))
		b.cur = nil
	}
	if b.cur == nil {
		b.cur = pool.get(min(maxChunk, max(256, b.n)))
	}
	b.cur = append(b.cur, *li)
	b.n++
}

func (b *bucket) flush() {
	if len(b.cur) > 0 {
		b.batches = append(b.batches, lineBatch(b.cur))
	}
	b.cur = nil
}

// single returns the rows without a copy when the bucket holds exactly
// one batch of line items.
func (b *bucket) single() ([]costgate.LineItem, bool) {
	b.flush()
	if len(b.batches) == 1 {
		if lb, ok := b.batches[0].(lineBatch); ok {
			return lb, true
		}
	}
	return nil, false
}

// appendTo appends the rows to dst and gives the chunks back.
func (b *bucket) appendTo(pool *chunkPool, dst []costgate.LineItem) []costgate.LineItem {
	b.flush()
	for i, batch := range b.batches {
		dst = batch.AppendTo(dst)
		if lb, ok := batch.(lineBatch); ok {
			pool.put(lb)
		}
		b.batches[i] = nil
	}
	b.batches = nil
	return dst
}

// LoadExports brings the source's partitions up to date with exports.
//
// An export is read when it is new, when its version differs from the one
// its partitions were loaded from, or when it feeds the open month (the
// month of sink.Now()). Every partition that a read export feeds, now or
// before, is rebuilt from all the exports that feed it (they are read
// too) and replaced in one commit; a partition no export feeds any more is
// replaced by an empty one. A read error fails exactly the partitions of
// the failing export's group: the store keeps them as they were. schema
// versions the mapping: changing it makes every export count as changed.
func LoadExports(ctx context.Context, sink Sink, schema string, exports []Export) error {
	log := sink.Logger()
	runs := make(map[string]*exportRun, len(exports))
	order := make([]string, 0, len(exports))
	for i := range exports {
		e := &exports[i]
		if _, dup := runs[e.Key]; dup {
			return fmt.Errorf("export %s listed twice", e.Key)
		}
		runs[e.Key] = &exportRun{e: e, version: schema + ":" + e.Version}
		order = append(order, e.Key)
	}
	sort.Strings(order)

	// What the store says each partition was built from.
	oldContrib := map[pkey]map[string]string{}
	oldParts := map[string][]pkey{}
	known := map[pkey]bool{}
	for _, l := range sink.Known() {
		pk := pkey{l.Partition.BillingAccountID, l.Partition.BillingPeriod}
		known[pk] = true
		for _, ref := range DecodeExportID(l.ExportID) {
			if oldContrib[pk] == nil {
				oldContrib[pk] = map[string]string{}
			}
			oldContrib[pk][ref.Key] = ref.Version
			oldParts[ref.Key] = append(oldParts[ref.Key], pk)
		}
	}

	pool := &chunkPool{}
	mem, warning := newBudget()
	if warning != "" {
		log.Warn(warning)
	}
	defer func() {
		// Spilled rows are released once their partitions are written
		// (or the run failed).
		for _, r := range runs {
			if r.spill != nil {
				if err := r.spill.close(); err != nil {
					log.Warn("close spill file", "export", r.e.Key, "err", err)
				}
			}
		}
	}()
	open := costgate.MonthOf(sink.Now())
	want := map[string]bool{}
	for _, key := range order {
		r := runs[key]
		parts := oldParts[key]
		changed := len(parts) == 0
		for _, pk := range parts {
			if oldContrib[pk][key] != r.version || !monthBefore(pk.period, open) {
				changed = true
			}
		}
		if changed {
			want[key] = true
		} else {
			log.Debug("export unchanged", "export", key)
		}
	}

	// Read, then pull in every export that shares a partition with what
	// was read, until nothing more is needed.
	for {
		var batch []*exportRun
		for _, key := range order {
			if want[key] && !runs[key].read {
				batch = append(batch, runs[key])
			}
		}
		if len(batch) == 0 {
			break
		}
		readExports(ctx, sink, pool, mem, batch)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, r := range batch {
			for _, pk := range partsOf(r, oldParts) {
				for key := range oldContrib[pk] {
					if _, listed := runs[key]; listed && !want[key] {
						want[key] = true
						log.Debug("export read again: it shares a partition with a changed export", "export", key, "partition", pk.partition().String())
					}
				}
			}
		}
	}

	// Partitions to rebuild, and who feeds each.
	feeders := map[pkey][]*exportRun{}
	for _, key := range order {
		r := runs[key]
		if !r.read {
			continue
		}
		for _, pk := range partsOf(r, oldParts) {
			feeders[pk] = append(feeders[pk], r)
		}
	}
	affected := make([]pkey, 0, len(feeders))
	for pk := range feeders {
		affected = append(affected, pk)
	}
	sort.Slice(affected, func(i, j int) bool { return affected[i].less(affected[j]) })

	// Failed exports poison their partitions.
	poisoned := map[*exportRun][]costgate.Partition{}
	bad := map[pkey]bool{}
	for _, pk := range affected {
		for _, r := range feeders[pk] {
			if r.err != nil {
				poisoned[r] = append(poisoned[r], pk.partition())
				bad[pk] = true
			}
		}
	}
	for _, key := range order {
		if r := runs[key]; r.err != nil {
			sink.Fail(r.err, poisoned[r]...)
		}
	}

	var unchanged []costgate.Partition
	for pk := range known {
		if _, ok := feeders[pk]; !ok {
			unchanged = append(unchanged, pk.partition())
		}
	}
	sort.Slice(unchanged, func(i, j int) bool {
		return pkey{unchanged[i].BillingAccountID, unchanged[i].BillingPeriod}.less(pkey{unchanged[j].BillingAccountID, unchanged[j].BillingPeriod})
	})
	sink.Unchanged(unchanged...)

	type job struct {
		pk      pkey
		refs    []ExportRef
		hash    string
		buckets []*bucket
		n       int
	}
	var jobs []job
	for _, pk := range affected {
		if bad[pk] {
			continue
		}
		j := job{pk: pk}
		h := sha256.New()
		fmt.Fprintf(h, "%s\n", schema)
		for _, r := range feeders[pk] {
			b := r.parts[pk]
			if b == nil || b.n == 0 {
				continue
			}
			j.refs = append(j.refs, ExportRef{Key: r.e.Key, Version: r.version})
			fmt.Fprintf(h, "%s\x00%s\n", r.e.Key, r.hash)
			j.buckets = append(j.buckets, b)
			j.n += b.n
			delete(r.parts, pk)
		}
		if j.n == 0 && !known[pk] {
			continue
		}
		j.hash = hex.EncodeToString(h.Sum(nil))
		jobs = append(jobs, j)
	}

	// Three partitions at a time: while two build (the store runs
	// GOMAXPROCS builds at once, store.Options.Builds, or one of a
	// million rows or more alone, store.Options.BuildRows), a third's
	// segment is written or synced to disk, or its rows are copied
	// together. Each
	// worker's buffer serves its partitions in turn: Replace does not
	// keep the rows, and memory already touched is cheaper than fresh.
	// Largest first: the last partitions to build are small ones, which
	// fill the CPUs while the big segments before them are synced.
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].n > jobs[b].n })
	sink.Progress().PlanPartitions(len(jobs))
	next := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < min(replaceWorkers, len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []costgate.LineItem
			for j := range next {
				one, single := singleOf(j.buckets) // one batch of line items: no copy
				if src, ok := rowBatches(j.buckets); ok && j.n > 0 && !single {
					// The store reads the batches where they are: no
					// copy of the partition's rows into one slice.
					_ = sink.ReplaceSource(ctx, j.pk.partition(), src.source(), EncodeExportID(j.refs), j.hash)
					for _, rb := range src.batches {
						if lb, ok := rb.(lineBatch); ok {
							pool.put(lb)
						}
					}
					for _, b := range j.buckets {
						b.batches = nil
					}
					sink.Progress().PartitionDone()
					continue
				}
				var rows []costgate.LineItem
				if single {
					rows = one
				} else if j.n > 0 {
					if cap(buf) < j.n {
						buf = make([]costgate.LineItem, 0, j.n)
					}
					rows = buf[:0]
					for _, b := range j.buckets {
						rows = b.appendTo(pool, rows)
					}
				}
				_ = sink.Replace(ctx, j.pk.partition(), rows, EncodeExportID(j.refs), j.hash)
				sink.Progress().PartitionDone()
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// replaceWorkers is how many partitions LoadExports replaces at once:
// two build while the third's segment is synced. Collect of 10M FOCUS
// rows (12 partitions), build phase in alternated runs: two at a time,
// each holding its CPU through its fsync, 9.64, 8.15, 8.04 s; three with
// the store's build slots, 9.30, 7.13, 7.07 s.
const replaceWorkers = 3

func singleOf(bs []*bucket) ([]costgate.LineItem, bool) {
	if len(bs) != 1 {
		return nil, false
	}
	return bs[0].single()
}

// partsOf lists the partitions r feeds now or fed before, sorted.
func partsOf(r *exportRun, oldParts map[string][]pkey) []pkey {
	seen := map[pkey]bool{}
	var out []pkey
	for _, pk := range oldParts[r.e.Key] {
		if !seen[pk] {
			seen[pk] = true
			out = append(out, pk)
		}
	}
	for pk := range r.parts {
		if !seen[pk] {
			seen[pk] = true
			out = append(out, pk)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

// readExports reads the batch, GOMAXPROCS exports at a time.
func readExports(ctx context.Context, sink Sink, pool *chunkPool, mem *budget, batch []*exportRun) {
	prog := sink.Progress()
	for _, r := range batch {
		prog.Plan(r.e.Files, r.e.Size)
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, r := range batch {
		r.read = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			readExport(ctx, sink, pool, mem, r)
		}()
	}
	wg.Wait()
}

func readExport(ctx context.Context, sink Sink, pool *chunkPool, mem *budget, r *exportRun) {
	log := sink.Logger()
	log.Info("read export", "export", r.e.Key, "files", r.e.Files, "bytes", r.e.Size)
	start := time.Now()
	r.parts = map[pkey]*bucket{}
	rows := &Rows{pool: pool, parts: r.parts, budget: mem, dir: spillDir(sink)}
	hash, err := r.e.Read(ctx, rows)
	r.spill = rows.spill
	if err == nil && r.spill != nil {
		if err = r.spill.seal(); err == nil {
			log.Info("export spilled rows to disk", "export", r.e.Key, "bytes", r.spill.size)
		}
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), r.e.Key+": ") { // a one-file export's key is the file's path
			err = fmt.Errorf("export %s: %w", r.e.Key, err)
		}
		r.err = err
		return
	}
	r.hash = hash
	// The end of the read phase: bench/ingest splits collect's time here.
	log.Info("export read", "export", r.e.Key, "partitions", len(r.parts), "elapsed", time.Since(start).Round(time.Millisecond))
}

// spillDir is where the sink wants spill files (see Options.SpillDir).
func spillDir(sink Sink) string {
	if sd, ok := sink.(interface{ SpillDir() string }); ok {
		return sd.SpillDir()
	}
	return ""
}

// Rows receives the line items of one export, filing them by partition.
// It is not safe for concurrent use: parallel decoders hand it batches
// in order. Hold and Spill are the exceptions: decoders call them as they
// pack batches.
type Rows struct {
	pool    *chunkPool
	parts   map[pkey]*bucket
	lastKey pkey
	last    *bucket
	fn      func(*costgate.LineItem) error
	budget  *budget    // nil: hold everything
	spillMu sync.Mutex // guards spill's creation
	spill   *Spill
	dir     string // where the spill file goes
}

// Hold reports whether a batch of n bytes of pointer-free rows may stay
// in memory; when it may not, the decoder writes it to Spill instead.
func (w *Rows) Hold(n int64) bool {
	return w.budget == nil || w.budget.take(n)
}

// Spill returns the export's spill file, creating it on first use.
func (w *Rows) Spill() (*Spill, error) {
	w.spillMu.Lock()
	defer w.spillMu.Unlock()
	if w.spill == nil {
		sp, err := newSpill(w.dir)
		if err != nil {
			return nil, err
		}
		w.spill = sp
	}
	return w.spill, nil
}

// NewRows returns Rows that pass every line item to fn, for tests and
// tools that read an export outside LoadExports.
func NewRows(fn func(*costgate.LineItem) error) *Rows {
	return &Rows{pool: &chunkPool{}, fn: fn}
}

func check(li *costgate.LineItem) error {
	switch {
	case li.BillingAccountID == "":
		return errors.New("BillingAccountId is empty")
	case li.BillingPeriodStart.IsZero():
		return errors.New("BillingPeriodStart is empty")
	case li.ChargePeriodStart.IsZero():
		return errors.New("ChargePeriodStart is empty")
	}
	return nil
}

func (w *Rows) bucketOf(li *costgate.LineItem) *bucket {
	k := pkey{li.BillingAccountID, costgate.MonthOf(li.BillingPeriodStart)}
	if w.last == nil || k != w.lastKey {
		b := w.parts[k]
		if b == nil {
			b = &bucket{}
			w.parts[k] = b
		}
		w.last, w.lastKey = b, k
	}
	return w.last
}

// Add files a copy of li.
func (w *Rows) Add(li *costgate.LineItem) error {
	if err := check(li); err != nil {
		return err
	}
	if w.fn != nil {
		return w.fn(li)
	}
	w.bucketOf(li).add(w.pool, li)
	return nil
}

// Batch returns an empty slice with room for n rows to decode a batch
// into, for AddBatch. It is safe for concurrent use.
func (w *Rows) Batch(n int) []costgate.LineItem {
	if n >= maxChunk {
		return w.pool.get(maxChunk)
	}
	return make([]costgate.LineItem, 0, max(n, 1))
}

// AddPartitionBatch files a batch whose rows all belong to the partition
// of account and period; the batch then belongs to Rows.
func (w *Rows) AddPartitionBatch(account string, period costgate.Month, batch Batch) error {
	if batch.Len() == 0 {
		return nil
	}
	if account == "" {
		return errors.New("BillingAccountId is empty")
	}
	if w.fn != nil {
		var tmp []costgate.LineItem
		for _, li := range batch.AppendTo(tmp) {
			if err := w.fn(&li); err != nil {
				return err
			}
		}
		return nil
	}
	k := pkey{account, period}
	b := w.parts[k]
	if b == nil {
		b = &bucket{}
		w.parts[k] = b
	}
	b.flush()
	b.batches = append(b.batches, batch)
	b.n += batch.Len()
	return nil
}

// SplitByPartition groups a batch by partition, keeping file order
// within each group: a batch of one partition comes back as it is,
// otherwise the groups are exact-sized copies and rows may be reused.
// Parallel decoders call it so that AddBatch need not copy.
func SplitByPartition(rows []costgate.LineItem) [][]costgate.LineItem {
	if len(rows) == 0 {
		return nil
	}
	k0 := pkey{rows[0].BillingAccountID, costgate.MonthOf(rows[0].BillingPeriodStart)}
	mixed := false
	for i := 1; i < len(rows); i++ {
		if rows[i].BillingAccountID != k0.account || costgate.MonthOf(rows[i].BillingPeriodStart) != k0.period {
			mixed = true
			break
		}
	}
	if !mixed {
		return [][]costgate.LineItem{rows}
	}
	count := map[pkey]int{}
	var order []pkey
	for i := range rows {
		k := pkey{rows[i].BillingAccountID, costgate.MonthOf(rows[i].BillingPeriodStart)}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	groups := make(map[pkey][]costgate.LineItem, len(order))
	for _, k := range order {
		groups[k] = make([]costgate.LineItem, 0, count[k])
	}
	for i := range rows {
		k := pkey{rows[i].BillingAccountID, costgate.MonthOf(rows[i].BillingPeriodStart)}
		groups[k] = append(groups[k], rows[i])
	}
	out := make([][]costgate.LineItem, 0, len(order))
	for _, k := range order {
		out = append(out, groups[k])
	}
	return out
}

// AddBatch files a batch; the rows slice then belongs to Rows (a batch
// of one partition is kept as it is, without a copy).
func (w *Rows) AddBatch(rows []costgate.LineItem) error {
	if len(rows) == 0 {
		w.pool.put(rows)
		return nil
	}
	same := true
	for i := range rows {
		if err := check(&rows[i]); err != nil {
			return err
		}
		if i > 0 && (rows[i].BillingAccountID != rows[0].BillingAccountID || costgate.MonthOf(rows[i].BillingPeriodStart) != costgate.MonthOf(rows[0].BillingPeriodStart)) {
			same = false
		}
	}
	if w.fn != nil {
		for i := range rows {
			if err := w.fn(&rows[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if same {
		b := w.bucketOf(&rows[0])
		b.flush()
		b.batches = append(b.batches, lineBatch(rows))
		b.n += len(rows)
		return nil
	}
	for i := range rows {
		w.bucketOf(&rows[i]).add(w.pool, &rows[i])
	}
	clear(rows)
	w.pool.put(rows[:0])
	return nil
}
