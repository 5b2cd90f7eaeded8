package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// memStore is a naive model of the store: partitions replaced whole,
// the same content hash a no-op.
type memStore struct {
	mu    sync.Mutex
	parts map[costgate.Partition]memPart
	inv   map[string][]costgate.Resource
	gen   int
	// viaSource counts partitions written through ReplaceSource.
	viaSource int
}

type memPart struct {
	rows           []costgate.LineItem
	exportID, hash string
}

func newMemStore() *memStore {
	return &memStore{parts: map[costgate.Partition]memPart{}, inv: map[string][]costgate.Resource{}}
}

// Begin returns a transaction that applies its replaces at Commit.
func (m *memStore) Begin() Txn { return &memTxn{m: m, staged: map[costgate.Partition]memPart{}} }

type memTxn struct {
	m      *memStore
	mu     sync.Mutex
	staged map[costgate.Partition]memPart
}

func (t *memTxn) Replace(_ context.Context, p costgate.Partition, rows []costgate.LineItem, exportID, hash string) (bool, error) {
	t.m.mu.Lock()
	old, ok := t.m.parts[p]
	t.m.mu.Unlock()
	if ok && old.hash == hash && hash != "" {
		return false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.staged[p] = memPart{rows: append([]costgate.LineItem(nil), rows...), exportID: exportID, hash: hash}
	return true, nil
}

func (t *memTxn) ReplaceSource(ctx context.Context, p costgate.Partition, src costgate.LineItemSource, exportID, hash string) (bool, error) {
	t.m.mu.Lock()
	t.m.viaSource++
	t.m.mu.Unlock()
	rows := make([]costgate.LineItem, src.Len())
	for i := range rows {
		src.LineItem(i, &rows[i])
	}
	return t.Replace(ctx, p, rows, exportID, hash)
}

func (t *memTxn) Commit(context.Context) (int, error) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	for p, v := range t.staged {
		t.m.parts[p] = v
	}
	if len(t.staged) > 0 {
		t.m.gen++
	}
	n := len(t.staged)
	t.staged = nil
	return n, nil
}

func (t *memTxn) Abort() { t.staged = nil }

func (m *memStore) ReplaceInventory(_ context.Context, source string, rs []costgate.Resource, _, _ string) (bool, error) {
	m.inv[source] = rs
	m.gen++
	return true, nil
}

func (m *memStore) Loaded(source string) []Loaded {
	var out []Loaded
	for p, v := range m.parts {
		if p.Source == source {
			out = append(out, Loaded{Partition: p, ExportID: v.exportID, ContentHash: v.hash, Rows: uint64(len(v.rows))})
		}
	}
	return out
}

func (m *memStore) Inventory(_ context.Context, source string) ([]costgate.Resource, error) {
	return m.inv[source], nil
}

// total sums BilledCost per account/month as "A/2024-09=3".
func (m *memStore) total() string {
	var out []string
	for p, v := range m.parts {
		var s costgate.Sum
		for _, li := range v.rows {
			s.Add(li.BilledCost)
		}
		out = append(out, fmt.Sprintf("%s/%s=%s", p.BillingAccountID, p.BillingPeriod, s.String()))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// file is an in-memory export: rows as "account month cost".
type file struct {
	version string
	rows    []string
	err     error
	reads   *int
}

type fakeSource struct {
	files map[string]*file
}

func (f *fakeSource) Name() string { return "fake" }
func (f *fakeSource) Type() string { return "fake" }
func (f *fakeSource) Collect(ctx context.Context, sink Sink) error {
	var exports []Export
	for key, fl := range f.files {
		exports = append(exports, Export{Key: key, Version: fl.version, Files: 1, Size: 10,
			Read: func(ctx context.Context, rows *Rows) (string, error) {
				*fl.reads++
				h := sha256.New()
				for _, r := range fl.rows {
					var acct, month, cost string
					fmt.Sscan(r, &acct, &month, &cost)
					m, _ := costgate.ParseMonth(month)
					li := costgate.LineItem{BillingAccountID: acct, BillingPeriodStart: m.Start(), ChargePeriodStart: m.Start(), BilledCost: costgate.MustMoney(cost)}
					if err := rows.Add(&li); err != nil {
						return "", err
					}
					io.WriteString(h, r+"\n")
				}
				if fl.err != nil {
					return "", fl.err
				}
				return hex.EncodeToString(h.Sum(nil)), nil
			}})
	}
	return LoadExports(ctx, sink, "fake/1", exports)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestLoadExports(t *testing.T) {
	st := newMemStore()
	reads := map[string]*int{"a": new(int), "b": new(int), "c": new(int)}
	src := &fakeSource{files: map[string]*file{
		// a and b both feed X/2024-08: a partition fed by two files.
		"a": {version: "1", rows: []string{"X 2024-08 1", "Y 2024-08 2"}, reads: reads["a"]},
		"b": {version: "1", rows: []string{"X 2024-08 10"}, reads: reads["b"]},
		"c": {version: "1", rows: []string{"Z 2024-07 5"}, reads: reads["c"]},
	}}
	now := time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC)
	run := func() Summary {
		t.Helper()
		sums, _ := Run(context.Background(), st, []Source{src}, Options{Logger: quiet(), Now: func() time.Time { return now }})
		return sums[0]
	}
	reset := func() {
		for _, r := range reads {
			*r = 0
		}
	}
	readsOf := func() string { return fmt.Sprintf("a%d b%d c%d", *reads["a"], *reads["b"], *reads["c"]) }

	s := run()
	if got := st.total(); got != "X/2024-08=11 Y/2024-08=2 Z/2024-07=5" || s.Loaded != 3 {
		t.Fatalf("first run: %s (%s)", got, s.String())
	}

	reset()
	s = run()
	if readsOf() != "a0 b0 c0" || s.Unchanged != 3 || s.Loaded != 0 {
		t.Fatalf("unchanged run read %s (%s)", readsOf(), s.String())
	}

	// b changes: X is rebuilt from a and b both; Y (only a) is rewritten
	// with the same content; c is not read.
	reset()
	src.files["b"].version, src.files["b"].rows = "2", []string{"X 2024-08 20"}
	s = run()
	if got := st.total(); got != "X/2024-08=21 Y/2024-08=2 Z/2024-07=5" {
		t.Fatalf("after b changed: %s", got)
	}
	if readsOf() != "a1 b1 c0" {
		t.Fatalf("reads %s", readsOf())
	}
	if ex := st.parts[costgate.Partition{Source: "fake", BillingAccountID: "X", BillingPeriod: costgate.Month{Year: 2024, Month: 8}}].exportID; ex != "a@fake/1:1\nb@fake/1:2" {
		t.Fatalf("export id %q", ex)
	}

	// b fails: X (fed by a and b) and everything b fed stay as they were;
	// Z still loads its restatement.
	reset()
	before := st.total()
	src.files["b"].version, src.files["b"].rows, src.files["b"].err = "3", []string{"X 2024-08 99"}, errors.New("b.csv: line 2: column BilledCost: bad")
	src.files["c"].version, src.files["c"].rows = "2", []string{"Z 2024-07 6"}
	s = run()
	want := strings.Replace(before, "Z/2024-07=5", "Z/2024-07=6", 1)
	if got := st.total(); got != want {
		t.Fatalf("after b failed: %s, want %s", got, want)
	}
	if s.Failed != 1 || len(s.Errors) != 1 || !strings.Contains(s.Errors[0].Error(), "export b: b.csv: line 2") {
		t.Fatalf("summary %s, errors %v", s.String(), s.Errors)
	}

	// The open month (October) is read on every run.
	reset()
	src.files["b"].err = nil
	src.files["d"] = &file{version: "1", rows: []string{"X 2024-10 1"}, reads: new(int)}
	run()
	r1 := *src.files["d"].reads
	s = run()
	if r1 != 1 || *src.files["d"].reads != 2 || s.Loaded != 0 {
		t.Fatalf("open month read %d then %d times; %s", r1, *src.files["d"].reads, s.String())
	}
}

func TestExportID(t *testing.T) {
	refs := []ExportRef{{Key: "s3://b/k@weird", Version: "v1"}, {Key: "a.csv", Version: "x@y"}}
	id := EncodeExportID(refs)
	if id != "a.csv@x_y\ns3://b/k@weird@v1" {
		t.Fatalf("%q", id)
	}
	got := DecodeExportID(id)
	if len(got) != 2 || got[1].Key != "s3://b/k@weird" || got[1].Version != "v1" || got[0].Version != "x_y" {
		t.Fatalf("%+v", got)
	}
}

func TestMergeInventory(t *testing.T) {
	d1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 5)
	prev := []costgate.Resource{
		{Provider: "AWS", AccountID: "1", ID: "kept", FirstSeen: d1, LastSeen: d1},
		{Provider: "AWS", AccountID: "1", ID: "gone", FirstSeen: d1, LastSeen: d1},
		{Provider: "AWS", AccountID: "1", ID: "old", FirstSeen: d1.AddDate(-1, 0, 0), LastSeen: d1.AddDate(0, -6, 0)},
	}
	now := []costgate.Resource{
		{Provider: "AWS", AccountID: "1", ID: "kept", Tags: map[string]string{"team": "a"}},
		{Provider: "AWS", AccountID: "1", ID: "new"},
		{Provider: "AWS", AccountID: "1", ID: "new"}, // reported twice
	}
	out := MergeInventory("src", prev, now, d2)
	got := map[string]string{}
	for _, r := range out {
		got[r.ID] = r.FirstSeen.Format("01-02") + ".." + r.LastSeen.Format("01-02") + " " + r.Source
	}
	want := map[string]string{"kept": "01-01..01-06 src", "new": "01-06..01-06 src", "gone": "01-01..01-01 "}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestFormatStatus(t *testing.T) {
	got := formatStatus("aws-cur", Counts{Files: 3, FilesTotal: 12, Bytes: 100 << 20, BytesTotal: 400 << 20, Rows: 1_200_000}, 10*time.Second)
	want := "aws-cur: 3/12 files, 1.2M rows, 100.0 MiB/400.0 MiB, 120k rows/s, ETA 30s"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	got = formatStatus("f", Counts{Files: 1, FilesTotal: 1, Bytes: 5 << 20, BytesTotal: 5 << 20, Rows: 50_000, Parts: 3, PartsTotal: 12}, 2*time.Second)
	if want := "f: 1/1 files, 50k rows, 5.0 MiB/5.0 MiB, 25k rows/s, 3/12 partitions written"; got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	r.Register("focus", Factory{Check: RequireLocation, New: func(s Spec, _ Env) (Source, error) { return &fakeSource{}, nil }})
	if err := r.Check(Spec{Type: "nope"}); err == nil || !strings.Contains(err.Error(), `type: unknown source type "nope" (known: [focus])`) {
		t.Fatalf("%v", err)
	}
	var fe *FieldError
	if err := r.Check(Spec{Type: "focus"}); !errors.As(err, &fe) || fe.Field != "path" {
		t.Fatalf("%v", err)
	}
	if _, err := r.New(Spec{Type: "focus", Path: "x"}, Env{}); err != nil {
		t.Fatal(err)
	}
}

// batchSource hands its rows over in batches, the way parallel decoders
// do: a mixed batch split by partition, and a batch of one partition.
type batchSource struct{}

func (batchSource) Name() string { return "batch" }
func (batchSource) Type() string { return "fake" }
func (batchSource) Collect(ctx context.Context, sink Sink) error {
	li := func(acct, month, cost string) costgate.LineItem {
		m, _ := costgate.ParseMonth(month)
		return costgate.LineItem{BillingAccountID: acct, BillingPeriodStart: m.Start(), ChargePeriodStart: m.Start(), BilledCost: costgate.MustMoney(cost)}
	}
	return LoadExports(ctx, sink, "batch/1", []Export{{Key: "k", Version: "1", Read: func(ctx context.Context, rows *Rows) (string, error) {
		mixed := []costgate.LineItem{li("A", "2024-01", "1"), li("B", "2024-01", "2"), li("A", "2024-01", "3"), li("A", "2024-02", "4")}
		groups := SplitByPartition(mixed)
		if len(groups) != 3 || len(groups[0]) != 2 || groups[0][1].BilledCost != costgate.MustMoney("3") {
			return "", fmt.Errorf("groups %v", groups)
		}
		for _, g := range groups {
			if err := rows.AddBatch(g); err != nil {
				return "", err
			}
		}
		if err := rows.AddBatch([]costgate.LineItem{li("B", "2024-01", "5"), li("C", "2024-01", "6")}); err != nil {
			return "", err
		}
		one := lineBatch{li("C", "2024-01", "7")}
		if err := rows.AddPartitionBatch("C", costgate.Month{Year: 2024, Month: 1}, one); err != nil {
			return "", err
		}
		if err := rows.Add(&costgate.LineItem{BillingAccountID: "A"}); err == nil {
			return "", errors.New("a row without BillingPeriodStart was taken")
		}
		return "h", nil
	}}})
}

func TestBatches(t *testing.T) {
	st := newMemStore()
	if _, err := Run(context.Background(), st, []Source{batchSource{}}, Options{Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
	if got := st.total(); got != "A/2024-01=4 A/2024-02=4 B/2024-01=7 C/2024-01=13" {
		t.Fatalf("totals %s", got)
	}
}

// chunkSource adds rows one by one, as the CUR and Parquet readers do:
// partition A gets more rows than one line-item chunk holds (so it is
// written through the row source over several chunks), B a handful (one
// chunk, handed over as it is).
type chunkSource struct{ n int }

func (chunkSource) Name() string { return "chunks" }
func (chunkSource) Type() string { return "fake" }
func (c chunkSource) Collect(ctx context.Context, sink Sink) error {
	m, _ := costgate.ParseMonth("2024-03")
	return LoadExports(ctx, sink, "chunks/1", []Export{{Key: "k", Version: "1", Read: func(ctx context.Context, rows *Rows) (string, error) {
		for i := range c.n {
			acct := "A"
			if i%5000 == 0 {
				acct = "B"
			}
			li := costgate.LineItem{BillingAccountID: acct, BillingPeriodStart: m.Start(), ChargePeriodStart: m.Start(),
				ResourceID: fmt.Sprint("r-", i), BilledCost: costgate.Money(i), Tags: map[string]string{fmt.Sprint("k", i%3): "v"}}
			if err := rows.Add(&li); err != nil {
				return "", err
			}
		}
		return "h", nil
	}}})
}

func TestChunksThroughRowSource(t *testing.T) {
	const n = 3*maxChunk + 17
	st := newMemStore()
	if _, err := Run(context.Background(), st, []Source{chunkSource{n: n}}, Options{Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
	if st.viaSource != 1 {
		t.Errorf("%d partitions written through the row source, want 1 (A)", st.viaSource)
	}
	seen := 0
	once := make([]bool, n)
	for p, part := range st.parts {
		for _, li := range part.rows {
			var i int
			if _, err := fmt.Sscanf(li.ResourceID, "r-%d", &i); err != nil {
				t.Fatal(err)
			}
			if once[i] {
				t.Fatalf("row %d stored twice", i)
			}
			once[i] = true
			if li.BilledCost != costgate.Money(i) || li.BillingAccountID != p.BillingAccountID || li.Tags[fmt.Sprint("k", i%3)] != "v" {
				t.Fatalf("%s: row %s came back as %+v", p, li.ResourceID, li)
			}
			seen++
		}
	}
	if seen != n {
		t.Errorf("%d rows stored, want %d", seen, n)
	}
}

// commitErrStore's transactions commit, then report err (as a store
// whose directory sync failed after the manifest rename does), or fail
// every replace with err when failReplace is set.
type commitErrStore struct {
	*memStore
	err         error
	failReplace bool
	rowErr      bool // Y's replace refuses a row instead
}

func (s commitErrStore) Begin() Txn {
	return commitErrTxn{Txn: s.memStore.Begin(), s: s}
}

type commitErrTxn struct {
	Txn
	s commitErrStore
}

func (t commitErrTxn) Replace(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, exportID, hash string) (bool, error) {
	if t.s.failReplace && p.BillingAccountID == "Y" {
		return false, t.s.err
	}
	if t.s.rowErr && p.BillingAccountID == "Y" {
		return false, fmt.Errorf("replace %s: %w", p, &costgate.RowError{Row: 1, Err: errors.New("row 1: ChargePeriodStart is required")})
	}
	return t.Txn.Replace(ctx, p, rows, exportID, hash)
}

func (t commitErrTxn) Commit(ctx context.Context) (int, error) {
	n, _ := t.Txn.Commit(ctx)
	return n, t.s.err
}

// TestRunPublishesOnce: a run's partitions are published together. A
// replace that fails in the store keeps the others from being published
// (each counted failed, with the reason), a row the store refuses fails
// only its partition, and a commit that reports an error after
// committing counts its partitions loaded and reports the error.
func TestRunPublishesOnce(t *testing.T) {
	src := &fakeSource{files: map[string]*file{
		"a": {version: "1", rows: []string{"X 2024-08 1", "Y 2024-08 2", "Z 2024-07 5"}, reads: new(int)},
	}}
	opts := Options{Logger: quiet(), Now: func() time.Time { return time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC) }}

	st := commitErrStore{memStore: newMemStore(), err: errors.New("disk on fire"), failReplace: true}
	sums, err := Run(context.Background(), st, []Source{src}, opts)
	if s := sums[0]; err == nil || s.Loaded != 0 || s.Failed != 3 || st.total() != "" {
		t.Fatalf("a failed replace: %s, store %q, err %v; want nothing published, 3 failed", s.String(), st.total(), err)
	}
	if !strings.Contains(err.Error(), "2 partitions written but not published") {
		t.Errorf("error %v does not say why the others were not published", err)
	}

	// A row the store refuses fails its partition alone.
	st = commitErrStore{memStore: newMemStore(), rowErr: true}
	sums, err = Run(context.Background(), st, []Source{src}, opts)
	if s := sums[0]; err == nil || s.Loaded != 2 || s.Failed != 1 || st.total() != "X/2024-08=1 Z/2024-07=5" {
		t.Fatalf("a refused row: %s, store %q, err %v; want Y failed and the other two published", s.String(), st.total(), err)
	}

	st = commitErrStore{memStore: newMemStore(), err: errors.New("sync directory: input/output error")}
	sums, err = Run(context.Background(), st, []Source{src}, opts)
	if s := sums[0]; err == nil || s.Loaded != 3 || s.Failed != 0 || st.total() != "X/2024-08=1 Y/2024-08=2 Z/2024-07=5" {
		t.Fatalf("a commit with an error after it: %s, store %q, err %v; want 3 loaded and the error", s.String(), st.total(), err)
	}
}
