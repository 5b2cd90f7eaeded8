package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/costgate/costgate"
)

// TestStringFieldsOrder: a coded row's ids are read as the store's
// string columns in order, so the two lists must be the same.
func TestStringFieldsOrder(t *testing.T) {
	if len(costgate.StringFields) != len(lineItemStrings) {
		t.Fatalf("%d StringFields, %d store string columns", len(costgate.StringFields), len(lineItemStrings))
	}
	for k, f := range lineItemStrings {
		if costgate.StringFields[k] != f.name {
			t.Errorf("StringFields[%d] is %s, the store's column %d is %s", k, costgate.StringFields[k], k, f.name)
		}
	}
}

// TestCodedRowFieldsOrder: a coded row's times and amounts are read as
// the store's int and money columns in order.
func TestCodedRowFieldsOrder(t *testing.T) {
	if len(costgate.TimeFields) != len(lineItemTimes) || len(costgate.AmountFields) != len(lineItemNums) {
		t.Fatalf("%d TimeFields and %d AmountFields; the store has %d and %d", len(costgate.TimeFields), len(costgate.AmountFields), len(lineItemTimes), len(lineItemNums))
	}
	for k, f := range lineItemTimes {
		if costgate.TimeFields[k] != f.name {
			t.Errorf("TimeFields[%d] is %s, the store's time column %d is %s", k, costgate.TimeFields[k], k, f.name)
		}
	}
	for k, f := range lineItemNums {
		if costgate.AmountFields[k] != f.name {
			t.Errorf("AmountFields[%d] is %s, the store's number column %d is %s", k, costgate.AmountFields[k], k, f.name)
		}
	}
	if costgate.TimeFields[timeChargeStart] != "ChargePeriodStart" || costgate.TimeFields[timeBillingStart] != "BillingPeriodStart" {
		t.Error("timeChargeStart or timeBillingStart names the wrong field")
	}
}

// TestCodedRowChecks: a coded row is checked as a line item is, with the
// row named, and the partition keeps what it had.
func TestCodedRowChecks(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(13)
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)[:40]
	s := openTest(t, t.TempDir())
	defer s.Close()
	if _, err := s.Replace(ctx, p, rows[:10], "old", "old"); err != nil {
		t.Fatal(err)
	}
	start := p.BillingPeriod.Start().UnixNano()
	for _, c := range []struct {
		name string
		bad  func(r *costgate.CodedRow, table []string)
		want string
	}{
		{"another account", func(r *costgate.CodedRow, table []string) { r.IDs[acctField] = r.IDs[fieldIndex("ServiceName")] }, "BillingAccountId"},
		{"no account", func(r *costgate.CodedRow, table []string) { r.IDs[acctField] = 0 }, "BillingAccountId \"\""},
		{"no charge period", func(r *costgate.CodedRow, table []string) { r.Times[timeChargeStart] = costgate.NullTime }, "ChargePeriodStart is required"},
		{"period before", func(r *costgate.CodedRow, table []string) { r.Times[timeBillingStart] = start - 1 }, "not in the partition's billing period"},
		{"no period", func(r *costgate.CodedRow, table []string) { r.Times[timeBillingStart] = costgate.NullTime }, "BillingPeriodStart 0001-01-01T00:00:00Z"},
		{"time too early", func(r *costgate.CodedRow, table []string) { r.Times[1] = math.MinInt64 + 1 }, "ChargePeriodEnd 1677-09-21"},
		{"bad extension", func(r *costgate.CodedRow, table []string) { r.Extensions = map[string]string{"y": "1"} }, `extension column "y"`},
	} {
		src := badRow{newCodedSource(rows), 5, c.bad}
		_, err := s.ReplaceSource(ctx, p, src, "new", "new")
		if err == nil || !strings.Contains(err.Error(), "row 5") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want row 5 and %q", c.name, err, c.want)
		}
	}
	got, err := s.LineItems(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(got, rows[:10]); d != "" {
		t.Fatalf("the partition changed: %s", d)
	}
}

// badRow spoils one row of a coded source.
type badRow struct {
	*codedSource
	row int
	bad func(r *costgate.CodedRow, table []string)
}

func (b badRow) MapKeys() (tags, exts []string) {
	tags, exts = b.codedSource.MapKeys()
	return tags, append(exts, "y")
}

func (b badRow) CodedRow(i int, r *costgate.CodedRow) []string {
	table := b.codedSource.CodedRow(i, r)
	if i == b.row {
		b.bad(r, table)
	}
	return table
}

func fieldIndex(name string) int { return slices.Index(costgate.StringFields[:], name) }

// TestCodedSourceSameRows: a partition written through a coded source
// reads back as the rows, and answers queries as the same rows written
// from a slice do.
func TestCodedSourceSameRows(t *testing.T) {
	rows := smallConfig(7).generate(smallConfig(7).partitions()[0], 0)
	t.Run("two tables", func(t *testing.T) { codedSameRows(t, rows, newCodedSource(rows)) })
	t.Run("one table", func(t *testing.T) { codedSameRows(t, rows, newOneTableSource(rows)) })
}

// oneTableSource is a coded source with one string table for all rows,
// which holds every value twice: rows alternate between the two ids. Rows
// name their Tags maps by TagsID, one map by an id too large to be
// cached by id.
type oneTableSource struct {
	*codedSource
	table []string
}

func newOneTableSource(rows []costgate.LineItem) *oneTableSource {
	o := &oneTableSource{codedSource: &codedSource{rows: rows}, table: []string{""}}
	ids := map[string]uint32{}
	tagsIDs := map[unsafe.Pointer]uint32{}
	for i := range rows {
		row := make([]uint32, len(costgate.StringFields))
		for k, f := range lineItemStrings {
			v := f.get(&rows[i])
			if v == "" {
				continue
			}
			id, ok := ids[v]
			if !ok {
				id = uint32(len(o.table))
				ids[v] = id
				o.table = append(o.table, v, strings.Clone(v))
			}
			row[k] = id + uint32(i%2)
		}
		cr := codedRowOf(&rows[i], row)
		if m := rows[i].Tags; m != nil {
			if tagsIDs[mapIdentity(m)] == 0 {
				tagsIDs[mapIdentity(m)] = uint32(len(tagsIDs) + 1)
				if len(tagsIDs) == 3 {
					tagsIDs[mapIdentity(m)] = maxTagsID + 7
				}
			}
			cr.TagsID = tagsIDs[mapIdentity(m)]
		}
		o.coded = append(o.coded, cr)
	}
	return o
}

func (o *oneTableSource) CodedRow(i int, r *costgate.CodedRow) []string {
	*r = o.coded[i]
	return o.table
}

// codedSameRows checks that src, rows as a coded source, reads back as
// rows and answers queries as rows given as line items do.
func codedSameRows(t *testing.T, rows []costgate.LineItem, src costgate.CodedLineItemSource) {
	ctx := context.Background()
	parts := smallConfig(7).partitions()
	s := openTest(t, t.TempDir())
	defer s.Close()
	if _, err := s.ReplaceSource(ctx, parts[0], src, "1", "1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.LineItems(ctx, parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(got, rows); d != "" {
		t.Fatal(d)
	}
	plain := openTest(t, t.TempDir())
	defer plain.Close()
	if _, err := plain.Replace(ctx, parts[0], rows, "1", "1"); err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"ResourceId", "ServiceName", "tag:team", "SkuPriceId", "ChargeDescription"} {
		q := Query{GroupBy: []string{by}, Measures: []Measure{EffectiveCost, Count}}
		a, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := plain.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Rows) < 2 {
			t.Fatalf("by %s: %d groups; the comparison proves little", by, len(a.Rows))
		}
		if d := sameResult(a, b); d != "" {
			t.Errorf("by %s: coded and slice partitions differ: %s", by, d)
		}
		// A filter finds a value by its one code in the sorted dictionary:
		// a value coded twice would lose rows here.
		for _, r := range b.Rows[:min(5, len(b.Rows))] {
			f := Query{Filters: []Filter{Eq(by, r.Keys[0])}, Measures: []Measure{Count}}
			if by == "tag:team" && r.Keys[0] == "" {
				f.Filters = []Filter{TagAbsent("team")}
			}
			got, err := s.Query(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			n := int64(0)
			if len(got.Rows) > 0 {
				n = got.Rows[0].Count
			}
			if n != r.Count {
				t.Errorf("%s = %q: %d rows, want %d", by, r.Keys[0], n, r.Count)
			}
		}
	}
}

// badCodes gives every row an id past the end of its table.
type badCodes struct{ *codedSource }

func (b badCodes) CodedRow(i int, r *costgate.CodedRow) []string {
	table := b.codedSource.CodedRow(i, r)
	if i == 3 {
		r.IDs[16] = uint32(len(table)) + 5
	}
	return table
}

// TestCodedSourceBadID: an id outside its table fails the replace with
// the row named, and the partition keeps what it had.
func TestCodedSourceBadID(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(8)
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	s := openTest(t, t.TempDir())
	defer s.Close()
	if _, err := s.Replace(ctx, p, rows[:10], "old", "old"); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReplaceSource(ctx, p, badCodes{newCodedSource(rows)}, "new", "new")
	if err == nil || !strings.Contains(err.Error(), "row 3") || !strings.Contains(err.Error(), "outside its table") {
		t.Fatalf("replace with a bad id: %v", err)
	}
	got, err := s.LineItems(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(got, rows[:10]); d != "" {
		t.Fatalf("the partition changed: %s", d)
	}
}

// TestSharedTagMaps: rows that share Tags maps (the store codes a shared
// map once per chunk of rows) read back with their own tags, over several
// chunks, and a shared map with a key missing from MapKeys fails the
// replace at the first row that uses it.
func TestSharedTagMaps(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(9)
	cfg.RowsPer = 20_000 // several extraction chunks
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	maps := []map[string]string{
		{"team": "a", "env": "prod"}, {"team": "b"}, {"env": "dev"}, {"team": "a", "env": "prod", "owner": "x"},
	}
	want := map[string]int64{} // team value ("" untagged) -> rows
	for i := range rows {
		switch k := i % 7; {
		case k < len(maps):
			rows[i].Tags = maps[k]
		case k == 4:
			rows[i].Tags = map[string]string{"team": fmt.Sprint("own-", i%13)} // a map of its own
		default:
			rows[i].Tags = nil
		}
		want[rows[i].Tags["team"]]++
	}
	s := openTest(t, t.TempDir())
	defer s.Close()
	replaceAndCheckTeams(t, s, p, rows, want)

	// A shared map whose key MapKeys leaves out: the lowest row using it
	// (row 3, then every 7th row) is named, and nothing is written.
	src := missingKeys{costgate.LineItemSlice(rows), "owner"}
	_, err := s.ReplaceSource(ctx, p, src, "2", "2")
	if err == nil || !strings.Contains(err.Error(), "row 3:") {
		t.Fatalf("replace with a tag key missing from MapKeys: %v", err)
	}
	if got, err := s.LineItems(ctx, p); err != nil || diffRows(got, rows) != "" {
		t.Fatalf("the partition changed after a failed replace (%v)", err)
	}
}

// missingKeys is a source whose MapKeys leaves one tag key out.
type missingKeys struct {
	costgate.LineItemSlice
	drop string
}

func (m missingKeys) MapKeys() (tags, extensions []string) {
	tags, extensions = m.LineItemSlice.MapKeys()
	return slices.DeleteFunc(tags, func(k string) bool { return k == m.drop }), extensions
}

// TestUnsharedTagMaps: rows that each bring a Tags map of their own (the
// store's cache of maps fills part way through a chunk) keep their tags.
func TestUnsharedTagMaps(t *testing.T) {
	defer func(n int) { maxTagMaps = n }(maxTagMaps)
	maxTagMaps = 1000
	cfg := smallConfig(10)
	cfg.RowsPer = 30_000
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	want := map[string]int64{}
	for i := range rows {
		rows[i].Tags = map[string]string{"team": fmt.Sprint("t", i%37)}
		if i%5 == 0 {
			rows[i].Tags["env"] = "prod"
		}
		want[rows[i].Tags["team"]]++
	}
	s := openTest(t, t.TempDir())
	defer s.Close()
	replaceAndCheckTeams(t, s, p, rows, want)
}

// replaceAndCheckTeams writes rows through a row source and checks that
// they read back as they are and that each team tag value has the rows
// want gives it.
func replaceAndCheckTeams(t *testing.T, s *Store, p costgate.Partition, rows []costgate.LineItem, want map[string]int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.ReplaceSource(ctx, p, costgate.LineItemSlice(rows), "1", "1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.LineItems(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(got, rows); d != "" {
		t.Fatal(d)
	}
	res, err := s.Query(ctx, Query{GroupBy: []string{"tag:team"}, Measures: []Measure{Count}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d team groups, want %d", len(res.Rows), len(want))
	}
	for _, r := range res.Rows {
		if r.Count != want[r.Keys[0]] {
			t.Errorf("team %q: %d rows, want %d", r.Keys[0], r.Count, want[r.Keys[0]])
		}
	}
}

// TestMapOffsets: the cache of Tags maps finds every map put in it at
// its offset, through the table's growth, and no map it was not given.
func TestMapOffsets(t *testing.T) {
	m := newMapOffsets()
	var maps []map[string]string
	for i := range 5000 {
		maps = append(maps, map[string]string{"team": fmt.Sprint(i)})
	}
	for i, mp := range maps[:4000] {
		if _, ok := m.get(mapIdentity(mp)); ok {
			t.Fatalf("map %d found before it was put", i)
		}
		m.put(mapIdentity(mp), uint32(3*i))
		// Everything put so far is still there, whatever the table grew to.
		if i%500 == 0 || i < 10 {
			for k := 0; k <= i; k++ {
				if off, ok := m.get(mapIdentity(maps[k])); !ok || off != uint32(3*k) {
					t.Fatalf("after %d puts, map %d: offset %d, %v; want %d", i+1, k, off, ok, 3*k)
				}
			}
		}
	}
	for i, mp := range maps[4000:] {
		if _, ok := m.get(mapIdentity(mp)); ok {
			t.Errorf("map %d found, never put", 4000+i)
		}
	}
	if m.n != 4000 || 2*m.n > len(m.slots) {
		t.Errorf("%d entries in %d slots, want 4000 at most half full", m.n, len(m.slots))
	}
}
