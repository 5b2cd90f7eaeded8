package store

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/rowdiff"
)

// model is the naive reference: every partition's rows in memory, every
// query answered by looking at every row.
type model struct {
	parts map[string][]costgate.LineItem
}

func (m *model) rows() []costgate.LineItem {
	keys := make([]string, 0, len(m.parts))
	for k := range m.parts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []costgate.LineItem
	for _, k := range keys {
		out = append(out, m.parts[k]...)
	}
	return out
}

// value returns a row's value of a column and whether it is non-null.
func modelValue(li *costgate.LineItem, col string) (string, bool) {
	switch {
	case col == colDay:
		return li.ChargePeriodStart.UTC().Format(time.DateOnly), true
	case col == colMonth:
		return costgate.MonthOf(li.ChargePeriodStart).String(), true
	case strings.HasPrefix(col, tagPrefix):
		v, ok := li.Tags[strings.TrimPrefix(col, tagPrefix)]
		return v, ok
	case strings.HasPrefix(col, extPrefix):
		v, ok := li.Extensions[col]
		return v, ok
	}
	v := lineItemStringByName[col].get(li)
	return v, v != ""
}

func modelMeasure(li *costgate.LineItem, m Measure) int64 {
	return lineItemNumByName[string(m)].get(li)
}

func modelPass(li *costgate.LineItem, f *Filter) bool {
	var ok bool
	switch f.Op {
	case costgate.FilterIn:
		v, present := modelValue(li, f.Column)
		plain := lineItemStringByName[f.Column] != nil
		ok = (present || plain) && slices.Contains(f.Values, v)
	case costgate.FilterTagPresent:
		_, ok = modelValue(li, f.Column)
	case costgate.FilterTimeRange:
		t := li.ChargePeriodStart
		ok = (f.From.IsZero() || !t.Before(f.From)) && (f.To.IsZero() || t.Before(f.To))
	case costgate.FilterCostRange:
		v := modelMeasure(li, f.Measure)
		ok = (!f.HasMin || v >= int64(f.Min)) && (!f.HasMax || v < int64(f.Max))
	}
	return ok != f.Negate
}

func (m *model) query(q Query) *Result {
	if len(q.Measures) == 0 {
		q.Measures = []Measure{EffectiveCost}
	}
	type grp struct {
		keys  []string
		count int64
		sums  []costgate.Sum
	}
	groups := map[string]*grp{}
	for _, li := range m.rows() {
		pass := true
		for i := range q.Filters {
			if !modelPass(&li, &q.Filters[i]) {
				pass = false
				break
			}
		}
		if !pass {
			continue
		}
		keys := make([]string, len(q.GroupBy))
		for i, g := range q.GroupBy {
			keys[i], _ = modelValue(&li, g)
		}
		k := strings.Join(keys, "\x00")
		g := groups[k]
		if g == nil {
			g = &grp{keys: keys, sums: make([]costgate.Sum, len(q.Measures))}
			groups[k] = g
		}
		g.count++
		for i, ms := range q.Measures {
			if ms != Count {
				g.sums[i].Add(costgate.Money(modelMeasure(&li, ms)))
			}
		}
	}
	if len(q.GroupBy) == 0 && len(groups) == 0 {
		groups[""] = &grp{sums: make([]costgate.Sum, len(q.Measures))}
	}
	var rows []Row
	for _, g := range groups {
		for i, ms := range q.Measures {
			if ms == Count {
				g.sums[i] = costgate.SumUnits(g.count)
			}
		}
		rows = append(rows, Row{Keys: g.keys, Values: g.sums, Count: g.count})
	}
	slices.SortFunc(rows, func(a, b Row) int {
		for _, o := range q.OrderBy {
			var c int
			if i := slices.Index(q.GroupBy, o.By); i >= 0 {
				c = strings.Compare(a.Keys[i], b.Keys[i])
			} else {
				i := slices.Index(q.Measures, Measure(o.By))
				if q.Measures[i] == Count {
					c = cmp.Compare(a.Count, b.Count)
				} else {
					c = a.Values[i].Cmp(b.Values[i])
				}
			}
			if o.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return slices.Compare(a.Keys, b.Keys)
	})
	if q.Limit > 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	return &Result{GroupBy: q.GroupBy, Measures: q.Measures, Rows: rows}
}

// randomQuery draws a query of any shape over the model's data.
func randomQuery(rng *rand.Rand, rows []costgate.LineItem) Query {
	pick := func(col string) string {
		if len(rows) == 0 || rng.IntN(8) == 0 {
			return "no-such-value"
		}
		v, _ := modelValue(&rows[rng.IntN(len(rows))], col)
		return v
	}
	dims := []string{"ServiceName", "RegionId", "ResourceId", "SkuId", "ChargeCategory", "BillingAccountId",
		"ResourceType", "ProviderName", "ServiceCategory", "tag:team", "tag:env", "tag:nope", "x_UsageType", colDay, colMonth}
	measures := []Measure{EffectiveCost, BilledCost, ListCost, ContractedCost, ConsumedQuantity, PricingQuantity, Count}
	var q Query
	for i := rng.IntN(3); i >= 0; i-- {
		q.Measures = append(q.Measures, measures[rng.IntN(len(measures))])
	}
	q.Measures = slices.Compact(q.Measures)
	for i := rng.IntN(4); i > 0; i-- {
		var f Filter
		switch rng.IntN(7) {
		case 0, 1:
			c := dims[rng.IntN(len(dims))]
			f = Eq(c, pick(c))
		case 2:
			c := dims[rng.IntN(len(dims))]
			f = In(c, pick(c), pick(c), pick(c))
		case 3:
			f = TagPresent([]string{"team", "env", "nope"}[rng.IntN(3)])
		case 4:
			base := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
			from := base.Add(time.Duration(rng.IntN(61*24)) * time.Hour)
			to := from.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
			switch rng.IntN(4) {
			case 0:
				from = time.Time{}
			case 1:
				to = time.Time{}
			}
			f = TimeRange(from, to)
		default:
			m := []Measure{EffectiveCost, BilledCost, ListCost, ConsumedQuantity}[rng.IntN(4)]
			lo := costgate.Money(rng.Int64N(2*costgate.NanosPerUnit) - costgate.NanosPerUnit/2)
			if len(rows) > 0 && rng.IntN(2) == 0 {
				// A bound equal to a stored value: the edges count.
				lo = costgate.Money(modelMeasure(&rows[rng.IntN(len(rows))], m))
			}
			hi := lo + costgate.Money(rng.Int64N(3*costgate.NanosPerUnit))
			switch rng.IntN(3) {
			case 0:
				f = CostRange(m, lo, hi)
			case 1:
				f = CostAtLeast(m, lo)
			default:
				f = CostBelow(m, hi)
			}
		}
		if rng.IntN(4) == 0 {
			f = Not(f)
		}
		q.Filters = append(q.Filters, f)
	}
	for i := rng.IntN(3); i > 0; i-- {
		q.GroupBy = append(q.GroupBy, dims[rng.IntN(len(dims))])
	}
	q.GroupBy = slices.Compact(q.GroupBy)
	if duplicate(q.GroupBy) != "" {
		q.GroupBy = q.GroupBy[:1]
	}
	if rng.IntN(2) == 0 && len(q.Measures) > 0 {
		q.OrderBy = append(q.OrderBy, Order{By: string(q.Measures[rng.IntN(len(q.Measures))]), Desc: rng.IntN(3) > 0})
	}
	if rng.IntN(3) == 0 && len(q.GroupBy) > 0 {
		q.OrderBy = append(q.OrderBy, Order{By: q.GroupBy[rng.IntN(len(q.GroupBy))], Desc: rng.IntN(2) == 0})
	}
	if rng.IntN(3) == 0 {
		q.Limit = 1 + rng.IntN(10)
	}
	return q
}

func sameResult(a, b *Result) string {
	if len(a.Rows) != len(b.Rows) {
		return fmt.Sprintf("%d rows, want %d", len(a.Rows), len(b.Rows))
	}
	for i := range a.Rows {
		x, y := a.Rows[i], b.Rows[i]
		if !slices.Equal(x.Keys, y.Keys) || !slices.Equal(x.Values, y.Values) || x.Count != y.Count {
			return fmt.Sprintf("row %d: got %v %v n=%d, want %v %v n=%d", i, x.Keys, x.Values, x.Count, y.Keys, y.Values, y.Count)
		}
	}
	return ""
}

// mutate adds the rough edges real exports have: null columns, tags with
// empty values, extension columns.
func mutate(rng *rand.Rand, rows []costgate.LineItem) {
	for i := range rows {
		switch rng.IntN(40) {
		case 0:
			rows[i].ServiceName = ""
		case 1:
			rows[i].Tags = map[string]string{"team": ""}
		case 2:
			rows[i].RegionID = ""
		}
	}
}

func TestQueriesAgainstModel(t *testing.T) {
	seeds := 8
	queries := 120
	if testing.Short() {
		seeds, queries = 3, 60
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			cfg := smallConfig(uint64(seed))
			cfg.RowsPer = 200 + rng.IntN(3000)
			cfg.Hourly = seed%2 == 0
			cfg.Accounts = 1 + rng.IntN(3)
			dir := t.TempDir()
			opts := Options{NoSync: true, Parallelism: 1 + rng.IntN(3)}
			if seed%3 == 0 {
				opts.MaxBitmapValues = 5 // most columns without bitmaps: scan paths
			}
			s, err := Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.Close() }()
			m := &model{parts: map[string][]costgate.LineItem{}}
			version := 0
			nonEmpty, total := 0, 0
			defer func() {
				// The random queries must mostly select something, or
				// they prove little.
				if total > 0 && nonEmpty*3 < total {
					t.Errorf("only %d of %d queries matched rows", nonEmpty, total)
				}
			}()
			check := func(phase string) {
				t.Helper()
				rows := m.rows()
				for i := 0; i < queries; i++ {
					q := randomQuery(rng, rows)
					got, err := s.Query(ctx, q)
					if err != nil {
						t.Fatalf("%s: query %+v: %v", phase, q, err)
					}
					if diff := sameResult(got, m.query(q)); diff != "" {
						t.Fatalf("%s: query %+v: %s", phase, q, diff)
					}
					total++
					if len(got.Rows) > 0 && got.Rows[0].Count > 0 {
						nonEmpty++
					}
				}
				for _, p := range cfg.partitions() {
					got, err := s.LineItems(ctx, p)
					if err != nil {
						t.Fatal(err)
					}
					if d := diffRows(got, m.parts[p.String()]); d != "" {
						t.Fatalf("%s: line items of %s: %s", phase, p, d)
					}
				}
			}
			for round := 0; round < 3; round++ {
				for _, p := range cfg.partitions() {
					if round > 0 && rng.IntN(2) == 0 {
						continue
					}
					version++
					rows := cfg.generate(p, version)
					rows = rows[:rng.IntN(len(rows)+1)]
					mutate(rng, rows)
					// Partitions are written from a slice, through a row
					// source, or through a coded row source: every query
					// shape reads all three kinds.
					replace := s.Replace
					switch version % 3 {
					case 1:
						replace = func(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, id, hash string) (bool, error) {
							return s.ReplaceSource(ctx, p, opaqueSource{rows}, id, hash)
						}
					case 2:
						replace = func(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, id, hash string) (bool, error) {
							return s.ReplaceSource(ctx, p, newCodedSource(rows), id, hash)
						}
					}
					if _, err := replace(ctx, p, rows, fmt.Sprint(version), fmt.Sprint(version)); err != nil {
						t.Fatal(err)
					}
					m.parts[p.String()] = rows
				}
				check(fmt.Sprintf("round %d", round))
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if s, err = Open(dir, opts); err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("round %d reopened", round))
			}
		})
	}
}

// diffRows compares two sets of line items regardless of order.
func diffRows(got, want []costgate.LineItem) string { return rowdiff.Diff(got, want) }

// opaqueSource is a LineItemSource that is not a slice the store could
// recognise.
type opaqueSource struct{ rows []costgate.LineItem }

func (o opaqueSource) Len() int                              { return len(o.rows) }
func (o opaqueSource) LineItem(i int, li *costgate.LineItem) { *li = o.rows[i] }
func (o opaqueSource) MapKeys() (tags, exts []string) {
	return costgate.LineItemSlice(o.rows).MapKeys()
}

// codedSource is a CodedLineItemSource over rows: their strings are ids
// into two tables, rows alternating between them, and the second is a
// longer view of the first's array for half its rows, as a decoder's
// growing table would be. The first table's rows name their Tags maps by
// TagsID, the second's do not.
type codedSource struct {
	rows   []costgate.LineItem
	coded  []costgate.CodedRow
	tables [][]string // per row
}

// codedRowOf is li as a CodedRow, with ids for its strings; written out
// field by field here rather than taken from the store's own tables.
func codedRowOf(li *costgate.LineItem, ids []uint32) costgate.CodedRow {
	nanos := func(t time.Time) int64 {
		if t.IsZero() {
			return costgate.NullTime
		}
		return t.UnixNano()
	}
	r := costgate.CodedRow{
		Times: [...]int64{nanos(li.ChargePeriodStart), nanos(li.ChargePeriodEnd), nanos(li.BillingPeriodStart), nanos(li.BillingPeriodEnd)},
		Amounts: [...]int64{int64(li.EffectiveCost), int64(li.BilledCost), int64(li.ListCost), int64(li.ContractedCost),
			int64(li.ListUnitPrice), int64(li.ContractedUnitPrice),
			int64(li.ConsumedQuantity), int64(li.PricingQuantity), int64(li.CommitmentDiscountQuantity)},
		Tags: li.Tags, Extensions: li.Extensions,
	}
	copy(r.IDs[:], ids)
	return r
}

func newCodedSource(rows []costgate.LineItem) *codedSource {
	c := &codedSource{rows: rows}
	a, b := []string{""}, []string{""}
	aIDs, bIDs := map[string]uint32{}, map[string]uint32{}
	id := func(table *[]string, ids map[string]uint32, v string) uint32 {
		if v == "" {
			return 0
		}
		if x, ok := ids[v]; ok {
			return x
		}
		ids[v] = uint32(len(*table))
		*table = append(*table, v)
		return ids[v]
	}
	lens := make([]int, len(rows))
	tagsIDs := map[unsafe.Pointer]uint32{} // table a's rows name their Tags by id
	for i := range rows {
		table, ids := &a, aIDs
		if i%2 == 1 {
			table, ids = &b, bIDs
		}
		row := make([]uint32, len(costgate.StringFields))
		for k, f := range lineItemStrings {
			row[k] = id(table, ids, f.get(&rows[i]))
		}
		cr := codedRowOf(&rows[i], row)
		if m := rows[i].Tags; m != nil && i%2 == 0 {
			if tagsIDs[mapIdentity(m)] == 0 {
				tagsIDs[mapIdentity(m)] = uint32(len(tagsIDs) + 1)
			}
			cr.TagsID = tagsIDs[mapIdentity(m)]
		}
		c.coded = append(c.coded, cr)
		lens[i] = len(*table)
	}
	for i := range rows {
		t := a
		if i%2 == 1 {
			t = b
		}
		// Odd rows see b only as long as it was when they were cut.
		c.tables = append(c.tables, t[:max(lens[i], 1):max(lens[i], 1)])
		if i%2 == 0 {
			c.tables[i] = a
		}
	}
	return c
}

func (c *codedSource) Len() int                              { return len(c.rows) }
func (c *codedSource) LineItem(i int, li *costgate.LineItem) { *li = c.rows[i] }
func (c *codedSource) MapKeys() (tags, exts []string) {
	return costgate.LineItemSlice(c.rows).MapKeys()
}

func (c *codedSource) CodedRow(i int, r *costgate.CodedRow) []string {
	*r = c.coded[i]
	return c.tables[i]
}
