package store

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// TestRunIndex checks that queries grouped and filtered by day, month,
// account and service are summed from the segments' run totals, with the
// same answers as the naive model, and that every other shape (a time
// range that cuts a day, a finer key, a cost filter, a filter that
// selects runs here and there) falls back to the rows.
func TestRunIndex(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(3)
	cfg.Hourly = true // hour charge periods: a range can cut a day's runs
	s := openTest(t, t.TempDir())
	defer s.Close()
	m := &model{parts: map[string][]costgate.LineItem{}}
	for _, p := range cfg.partitions() {
		rows := cfg.generate(p, 0)
		if _, err := s.Replace(ctx, p, rows, "1", "1"); err != nil {
			t.Fatal(err)
		}
		m.parts[p.String()] = rows
	}
	sn, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range sn.v.segs {
		if seg := h.seg; seg.f.kind == tableLineItems && seg.f.runs.runs == 0 {
			t.Fatalf("segment %s has no run index", seg.file)
		}
	}
	sn.Close()
	day := func(d int) time.Time { return time.Date(2026, time.September, d, 0, 0, 0, 0, time.UTC) }
	all := []Measure{EffectiveCost, BilledCost, ListCost, ContractedCost, ConsumedQuantity, PricingQuantity, Count}
	service := m.rows()[0].ServiceName
	for _, c := range []struct {
		name string
		q    Query
		runs bool
	}{
		{"daily by service, a week", Query{Filters: []Filter{TimeRange(day(5), day(12))}, GroupBy: []string{colDay, "ServiceName"}, Measures: all}, true},
		{"by service", Query{GroupBy: []string{"ServiceName"}}, true},
		{"by month and service", Query{GroupBy: []string{colMonth, "ServiceName"}, Measures: all}, true},
		{"by service in a month", Query{Filters: []Filter{Eq(colMonth, "2026-10")}, GroupBy: []string{"ServiceName"}, Measures: []Measure{Count}}, true},
		{"by day from a day on", Query{Filters: []Filter{TimeRange(day(20), time.Time{})}, GroupBy: []string{colDay}}, true},
		{"by service, days in a list", Query{Filters: []Filter{In(colDay, "2026-09-03", "2026-09-04")}, GroupBy: []string{"ServiceName", "BillingAccountId"}}, true},
		{"a range that cuts a day", Query{Filters: []Filter{TimeRange(day(5).Add(5*time.Hour), day(12))}, GroupBy: []string{colDay, "ServiceName"}}, false},
		{"by region", Query{GroupBy: []string{"RegionId"}}, false},
		{"by service and team", Query{GroupBy: []string{"ServiceName", "tag:team"}}, false},
		{"a cost filter", Query{Filters: []Filter{CostAtLeast(EffectiveCost, 1)}, GroupBy: []string{"ServiceName"}}, false},
		{"one service, by day", Query{Filters: []Filter{Eq("ServiceName", service)}, GroupBy: []string{colDay}}, false},
	} {
		before := s.runIndexUses.Load()
		got, err := s.Query(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if diff := sameResult(got, m.query(c.q)); diff != "" {
			t.Fatalf("%s: %s", c.name, diff)
		}
		if len(got.Rows) == 0 {
			t.Fatalf("%s: no rows; the case proves nothing", c.name)
		}
		if used := s.runIndexUses.Load() > before; used != c.runs {
			t.Errorf("%s: run index used %v, want %v", c.name, used, c.runs)
		}
	}
}

// TestRunIndexOverflow: a run whose total does not fit an int64 leaves
// that measure without run totals, and queries stay exact.
func TestRunIndexOverflow(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(4)
	cfg.Accounts = 1
	s := openTest(t, t.TempDir())
	defer s.Close()
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	// Every row of the first day and service: huge BilledCost.
	first := rows[0]
	n := 0
	for i := range rows {
		if rows[i].ChargePeriodStart.Equal(first.ChargePeriodStart) && rows[i].ServiceName == first.ServiceName {
			rows[i].BilledCost = costgate.Money(math.MaxInt64 / 2)
			n++
		}
	}
	if n < 3 {
		t.Fatalf("%d rows in the first run; want a run that overflows", n)
	}
	if _, err := s.Replace(ctx, p, rows, "1", "1"); err != nil {
		t.Fatal(err)
	}
	m := &model{parts: map[string][]costgate.LineItem{p.String(): rows}}
	for _, c := range []struct {
		q    Query
		runs bool
	}{
		{Query{GroupBy: []string{colDay, "ServiceName"}, Measures: []Measure{BilledCost}}, false},
		{Query{GroupBy: []string{colDay, "ServiceName"}, Measures: []Measure{EffectiveCost, Count}}, true},
	} {
		before := s.runIndexUses.Load()
		got, err := s.Query(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := sameResult(got, m.query(c.q)); diff != "" {
			t.Fatalf("%v: %s", c.q.Measures, diff)
		}
		if used := s.runIndexUses.Load() > before; used != c.runs {
			t.Errorf("%v: run index used %v, want %v", c.q.Measures, used, c.runs)
		}
	}
}

// TestFormatVersion1 reads a segment written before the run index
// (format version 1: no run section in the footer).
func TestFormatVersion1(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(5)
	dir := t.TempDir()
	s := openTest(t, dir)
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	if _, err := s.Replace(ctx, p, rows, "1", "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(files) != 1 {
		t.Fatalf("%d segment files, want 1", len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	seg, err := parseSegment("v2.seg", data, false)
	if err != nil {
		t.Fatal(err)
	}
	if seg.f.runs.runs == 0 {
		t.Fatal("the version 2 segment has no run index")
	}
	// Rewrite it as version 1: the same blocks, the footer without its
	// run section.
	body := seg.f.encode(1)
	v1 := append([]byte{}, data[:seg.dataEnd]...)
	binary.LittleEndian.PutUint32(v1[8:], 1)
	v1 = append(v1, body...)
	var tr [trailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], seg.dataEnd)
	binary.LittleEndian.PutUint64(tr[8:], uint64(len(body)))
	binary.LittleEndian.PutUint32(tr[16:], crc32c(body))
	binary.LittleEndian.PutUint32(tr[20:], 1)
	copy(tr[24:], trailerMagic)
	v1 = append(v1, tr[:]...)
	old, err := parseSegment("v1.seg", v1, false)
	if err != nil {
		t.Fatalf("version 1 segment: %v", err)
	}
	if rd, err := old.runs(); rd != nil || err != nil {
		t.Fatalf("version 1 segment: runs %v, %v; want none", rd, err)
	}
	got, err := readLineItems(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(got, rows); d != "" {
		t.Fatalf("version 1 segment: %s", d)
	}
	// A version from the future is refused with the versions it knows.
	binary.LittleEndian.PutUint32(v1[8:], formatVersion+1)
	if _, err := parseSegment("v3.seg", v1, false); err == nil {
		t.Fatal("a segment of an unknown format version was read")
	}
}

// TestVerifyRuns: verify checks the run index against the rows, and
// finds a run total that does not match them.
func TestVerifyRuns(t *testing.T) {
	cfg := smallConfig(6)
	p := cfg.partitions()[0]
	data := segmentBytes(t, cfg.generate(p, 0))
	seg, err := parseSegment("ok.seg", data, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := seg.verify(); err != nil {
		t.Fatalf("verify: %v", err)
	}
	ri := seg.f.runs
	if ri.runs == 0 || len(ri.sums) == 0 {
		t.Fatal("no run index")
	}
	// One run total off by one nano-unit (checksums skipped, as if the
	// index had been written wrong).
	bad := append([]byte{}, data...)
	off := ri.sums[0].data.off + 8*uint64(ri.runs/2)
	binary.LittleEndian.PutUint64(bad[off:], binary.LittleEndian.Uint64(bad[off:])+1)
	seg, err = parseSegment("bad.seg", bad, true)
	if err != nil {
		t.Fatal(err)
	}
	err = seg.verify()
	if err == nil || !strings.Contains(err.Error(), "runs/"+ri.sums[0].name) {
		t.Fatalf("verify of a wrong run total: %v", err)
	}
}

// TestRunEnds: an index is kept only with at most a run per maxRunShare
// rows, however few the rows.
func TestRunEnds(t *testing.T) {
	ident := func(n int) []uint32 {
		p := make([]uint32, n)
		for i := range p {
			p[i] = uint32(i)
		}
		return p
	}
	key := func(codes ...uint32) []*dictCol { return []*dictCol{{name: "k", codes: codes}} }
	for _, c := range []struct {
		codes []uint32
		want  []uint32
	}{
		{[]uint32{1}, nil},
		{[]uint32{1, 1, 1, 1, 1, 1, 1, 1}, []uint32{8}},
		{[]uint32{1, 1, 1, 1, 2, 2, 2, 2}, nil},
		{[]uint32{1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2}, []uint32{8, 16}},
		{nil, nil},
	} {
		if got := runEnds(key(c.codes...), ident(len(c.codes))); !slices.Equal(got, c.want) {
			t.Errorf("runEnds(%v) = %v, want %v", c.codes, got, c.want)
		}
	}
}
