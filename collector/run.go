package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// Options tune Run.
type Options struct {
	// Logger receives structured progress and errors; nil is
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock (month boundaries, last seen); nil is time.Now.
	Now func() time.Time
	// Status, when set, gets a progress line redrawn while each source
	// runs (files, rows, bytes, rows/s, ETA). Give it a terminal only.
	Status io.Writer
	// SpillDir is where decoded rows over the memory budget are written
	// while an export is read (see SpillEnv); "" is the system's
	// temporary directory. costgate collect uses the store's directory.
	SpillDir string
}

// Summary is what one source did in a run.
type Summary struct {
	Source string `json:"source"`
	Type   string `json:"type"`
	// Partitions loaded (changed), found unchanged, and failed.
	Loaded    int `json:"loaded"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	// Rows loaded into changed partitions.
	Rows int64 `json:"rows"`
	// Resources written to the inventory (0 when unchanged).
	Resources int           `json:"resources"`
	Files     int64         `json:"files"`
	Bytes     int64         `json:"bytes"`
	RowsRead  int64         `json:"rows_read"`
	Elapsed   time.Duration `json:"elapsed"`
	Errors    []error       `json:"-"`
}

// Err joins the summary's errors.
func (s *Summary) Err() error { return errors.Join(s.Errors...) }

// String renders the summary on one line.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %d partitions loaded, %d unchanged", s.Source, s.Type, s.Loaded, s.Unchanged)
	if s.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", s.Failed)
	}
	fmt.Fprintf(&b, "; %s rows", humanCount(s.Rows))
	if s.Resources > 0 {
		fmt.Fprintf(&b, ", %d resources", s.Resources)
	}
	fmt.Fprintf(&b, "; read %d files, %s, %s rows", s.Files, humanBytes(s.Bytes), humanCount(s.RowsRead))
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(&b, " in %s", s.Elapsed.Round(time.Millisecond))
	if secs > 0 && s.RowsRead > 0 {
		fmt.Fprintf(&b, " (%s rows/s)", humanCount(int64(float64(s.RowsRead)/secs)))
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, "; %d errors", len(s.Errors))
	}
	return b.String()
}

// Run collects every source into st, one after the other, and returns a
// summary per source. The error joins every source's errors: a failed
// partition does not stop the others, nor a failed source the next one.
func Run(ctx context.Context, st Store, sources []Source, opts Options) ([]Summary, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var status *statusLine
	if opts.Status != nil {
		status = newStatusLine(opts.Status, opts.Now)
	}
	var sums []Summary
	var errs []error
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		sum := runOne(ctx, st, src, opts, status)
		sums = append(sums, sum)
		errs = append(errs, sum.Errors...)
	}
	return sums, errors.Join(errs...)
}

func runOne(ctx context.Context, st Store, src Source, opts Options, status *statusLine) Summary {
	log := opts.Logger.With("component", "collector", "source", src.Name(), "type", src.Type())
	s := &sink{st: st, txn: st.Begin(), name: src.Name(), log: log, now: opts.Now, prog: &Progress{}, spillDir: opts.SpillDir}
	s.sum.Source, s.sum.Type = src.Name(), src.Type()
	start := time.Now()
	if status != nil {
		status.begin(src.Name(), s.prog)
	}
	log.Info("collect start")
	err := src.Collect(ctx, s)
	if status != nil {
		status.end()
	}
	if err != nil {
		s.Fail(err)
	}
	s.publish(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.prog.Counts()
	s.sum.Files, s.sum.Bytes, s.sum.RowsRead = c.Files, c.Bytes, c.Rows
	s.sum.Elapsed = time.Since(start)
	log.Info("collect done", "loaded", s.sum.Loaded, "unchanged", s.sum.Unchanged, "failed", s.sum.Failed,
		"rows", s.sum.Rows, "files", c.Files, "bytes", c.Bytes, "elapsed", s.sum.Elapsed)
	return s.sum
}

// sink is the Sink of one source in one run.
type sink struct {
	st   Store
	txn  Txn // the run's line items, published by publish
	name string
	log  *slog.Logger
	now  func() time.Time
	prog *Progress
	// spillDir is Options.SpillDir.
	spillDir string

	knownOnce sync.Once
	known     []Loaded

	mu  sync.Mutex
	sum Summary
	// failed partitions are not counted twice.
	failed map[costgate.Partition]bool
	// staged are the partitions replaced in txn; writeErr is the first
	// replace that failed in the store, which keeps txn from committing.
	staged   []stagedPart
	writeErr error
}

// stagedPart is a partition replaced in the run's transaction.
type stagedPart struct {
	p        costgate.Partition
	rows     int
	exportID string
}

func (s *sink) Known() []Loaded {
	s.knownOnce.Do(func() { s.known = s.st.Loaded(s.name) })
	return s.known
}

func (s *sink) Progress() *Progress  { return s.prog }
func (s *sink) SpillDir() string     { return s.spillDir }
func (s *sink) Now() time.Time       { return s.now() }
func (s *sink) Logger() *slog.Logger { return s.log }

func (s *sink) Replace(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, exportID, contentHash string) error {
	return s.replace(p, len(rows), exportID, func(p costgate.Partition) (bool, error) {
		return s.txn.Replace(ctx, p, rows, exportID, contentHash)
	})
}

func (s *sink) ReplaceSource(ctx context.Context, p costgate.Partition, src costgate.LineItemSource, exportID, contentHash string) error {
	return s.replace(p, src.Len(), exportID, func(p costgate.Partition) (bool, error) {
		return s.txn.ReplaceSource(ctx, p, src, exportID, contentHash)
	})
}

func (s *sink) replace(p costgate.Partition, rows int, exportID string, write func(costgate.Partition) (bool, error)) error {
	if p.Source == "" {
		p.Source = s.name
	}
	if p.Source != s.name {
		err := fmt.Errorf("partition %s: source must be %q", p, s.name)
		s.Fail(err, p)
		return err
	}
	changed, err := write(p)
	if err != nil {
		// A row the store refuses fails its partition alone; any other
		// failure in the store (a full disk) keeps the run unpublished.
		if _, rowErr := errors.AsType[*costgate.RowError](err); !rowErr {
			s.mu.Lock()
			if s.writeErr == nil {
				s.writeErr = err
			}
			s.mu.Unlock()
		}
		s.Fail(err, p)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if changed {
		s.staged = append(s.staged, stagedPart{p: p, rows: rows, exportID: exportID})
		s.log.Debug("partition written", "partition", p.String(), "rows", rows)
	} else {
		s.sum.Unchanged++
		s.log.Debug("partition unchanged", "partition", p.String())
	}
	return nil
}

// publish ends the run's transaction: its partitions are committed in one
// generation, unless a replace failed in the store or the run was
// cancelled, and then none of them is (each is counted as failed, with
// the reason).
func (s *sink) publish(ctx context.Context) {
	s.mu.Lock()
	staged, writeErr := s.staged, s.writeErr
	s.staged = nil
	s.mu.Unlock()
	err := writeErr
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		s.txn.Abort()
		if len(staged) > 0 {
			s.Fail(fmt.Errorf("%d partitions written but not published, so that the run changes all of them or none (%w)", len(staged), err), stagedPartitions(staged)...)
		}
		return
	}
	n, err := s.txn.Commit(ctx)
	if err != nil && n == 0 {
		s.Fail(err, stagedPartitions(staged)...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		// Committed, but the directory sync failed: the partitions are
		// loaded and the run still reports the error.
		s.sum.Errors = append(s.sum.Errors, fmt.Errorf("%s: %w", s.name, err))
		s.log.Error("partitions loaded, but their commit may not be durable", "err", err)
	}
	s.sum.Loaded += n
	s.sum.Unchanged += len(staged) - n // their content arrived meanwhile
	for _, sp := range staged {
		s.sum.Rows += int64(sp.rows)
		s.log.Info("partition loaded", "partition", sp.p.String(), "rows", sp.rows, "export", firstLine(sp.exportID))
	}
}

func stagedPartitions(staged []stagedPart) []costgate.Partition {
	ps := make([]costgate.Partition, len(staged))
	for i, sp := range staged {
		ps[i] = sp.p
	}
	return ps
}

func (s *sink) Unchanged(ps ...costgate.Partition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sum.Unchanged += len(ps)
	for _, p := range ps {
		s.log.Debug("partition unchanged", "partition", p.String())
	}
}

func (s *sink) Fail(err error, ps ...costgate.Partition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = map[costgate.Partition]bool{}
	}
	n := 0
	for _, p := range ps {
		if p.Source == "" {
			p.Source = s.name
		}
		if !s.failed[p] {
			s.failed[p] = true
			n++
		}
	}
	s.sum.Failed += n
	s.sum.Errors = append(s.sum.Errors, fmt.Errorf("%s: %w", s.name, err))
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.BillingAccountID+"/"+p.BillingPeriod.String())
	}
	sort.Strings(names)
	s.log.Error("collect failed; partitions left as they were", "err", err, "partitions", strings.Join(names, ","))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
