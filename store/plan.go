package store

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/costgate/costgate"
)

// Filter evaluation inside one segment. A selection is a bitmap of row
// ids; nil means every row. Bitmap filters (indexed dimensions, tags,
// days, BSI cost ranges) run first; filters that must scan a column then
// only look at the rows still selected.

// pruned reports whether the manifest entry alone proves that no row of
// the segment passes the filters.
func pruned(e *segmentEntry, t *table, filters []Filter) bool {
	if e.Rows == 0 {
		return true
	}
	minT, maxT := e.MinTime, e.MaxTime
	for i := range filters {
		f := &filters[i]
		if f.Negate {
			continue
		}
		switch {
		case f.Op == costgate.FilterIn && t.kind == tableLineItems && f.Column == "BillingAccountId":
			if !slices.Contains(f.Values, e.BillingAccountID) {
				return true
			}
		case f.Op == costgate.FilterIn && (f.Column == colMonth || f.Column == colDay) && minT != nullInt:
			if !anyBucketIn(f.Values, f.Column, minT, maxT) {
				return true
			}
		case f.Op == costgate.FilterTimeRange && minT != nullInt:
			if (!f.To.IsZero() && minT >= timeNanos(f.To)) || (!f.From.IsZero() && maxT < timeNanos(f.From)) {
				return true
			}
		}
	}
	return false
}

// anyBucketIn reports whether any of the day or month values may hold a
// time in [minT, maxT].
func anyBucketIn(values []string, unit string, minT, maxT int64) bool {
	for _, v := range values {
		var start, end time.Time
		if unit == colMonth {
			m, err := costgate.ParseMonth(v)
			if err != nil {
				continue
			}
			start, end = m.Start(), m.End()
		} else {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				continue
			}
			start, end = d, d.AddDate(0, 0, 1)
		}
		if start.UnixNano() <= maxT && end.UnixNano() > minT {
			return true
		}
	}
	return false
}

// segEval evaluates a query's filters in one segment.
type segEval struct {
	seg *segment
	t   *table
	n   uint32
}

func (ev *segEval) all() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, uint64(ev.n))
	return bm
}

// filterRank orders filters: bitmap work first, column scans last.
func (ev *segEval) filterRank(f *Filter) int {
	switch f.Op {
	case costgate.FilterIn, costgate.FilterTagPresent:
		if c := ev.seg.col(f.Column); c == nil || c.indexed() {
			return 0
		}
		return 2
	case costgate.FilterTimeRange:
		return 1
	case costgate.FilterCostRange:
		if c := ev.seg.col(string(f.Measure)); c != nil && c.meta.flags&flagBSI != 0 {
			return 1
		}
		return 2
	}
	return 3
}

// selection returns the rows passing every filter (nil: all rows) and
// whether none does.
func (ev *segEval) selection(filters []Filter) (sel *roaring.Bitmap, none bool, err error) {
	sel, _, none, err = ev.selectionDeferred(filters, false)
	return sel, none, err
}

// costPred is a cost range checked row by row while a query aggregates,
// instead of first scanning the column into a bitmap.
type costPred struct {
	vals   []int64
	lo, hi int64 // inclusive
}

// filter keeps the rows whose value is in range, in place.
func (p *costPred) filter(rows []uint32) []uint32 {
	out := rows[:0]
	v, lo, hi := p.vals, p.lo, p.hi
	for _, r := range rows {
		if x := v[r]; x >= lo && x <= hi {
			out = append(out, r)
		}
	}
	return out
}

// scan appends the rows of [from, to) whose value is in range to out.
// Branch-free: whether a row passes is data, not a jump to predict (cost
// filters pass rows at random).
func (p *costPred) scan(out []uint32, from, to uint32) []uint32 {
	lo, hi := p.lo, p.hi
	vals := p.vals[from:to]
	out = out[:len(vals)]
	n := 0
	for j, x := range vals {
		out[n] = from + uint32(j)
		n += b2i(x >= lo && x <= hi)
	}
	return out[:n]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// selectionDeferred is selection that, with deferCost, leaves a cost
// range filter that would scan its column (the last filter evaluated,
// not negated) to the aggregation as a row predicate: the rows are read
// once instead of scanned into a bitmap and read again.
func (ev *segEval) selectionDeferred(filters []Filter, deferCost bool) (sel *roaring.Bitmap, pred *costPred, none bool, err error) {
	order := make([]int, len(filters))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return ev.filterRank(&filters[a]) - ev.filterRank(&filters[b]) })
	for k, i := range order {
		if deferCost && k == len(order)-1 {
			if pred, err = ev.costPredicate(&filters[i], sel); err != nil || pred != nil {
				return sel, pred, false, err
			}
		}
		sel, err = ev.filter(&filters[i], sel)
		if err != nil {
			return nil, nil, false, err
		}
		if sel != nil {
			switch sel.GetCardinality() {
			case 0:
				return sel, nil, true, nil
			case uint64(ev.n):
				sel = nil // every row: stored totals apply again
			}
		}
	}
	return sel, nil, false, nil
}

// costPredicate returns f as a row predicate when costRange would scan
// the column for it (no bit-sliced shortcut for a sparse cand), else nil.
func (ev *segEval) costPredicate(f *Filter, cand *roaring.Bitmap) (*costPred, error) {
	if f.Op != costgate.FilterCostRange || f.Negate {
		return nil, nil
	}
	c := ev.seg.col(string(f.Measure))
	if c == nil || (f.HasMax && f.Max == math.MinInt64) {
		return nil, nil
	}
	if cand != nil && cand.GetCardinality()*4 < uint64(ev.n) && c.meta.flags&flagBSI != 0 {
		return nil, nil
	}
	vals, err := c.money()
	if err != nil {
		return nil, err
	}
	p := &costPred{vals: vals, lo: math.MinInt64, hi: math.MaxInt64}
	if f.HasMin {
		p.lo = int64(f.Min)
	}
	if f.HasMax {
		p.hi = int64(f.Max) - 1
	}
	return p, nil
}

// filter returns the rows of cand (nil: all) that pass f.
func (ev *segEval) filter(f *Filter, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	var match *roaring.Bitmap // rows passing f before negation; nil = all
	complement := false       // match holds the rows failing f instead
	var err error
	switch f.Op {
	case costgate.FilterIn:
		match, err = ev.in(f, cand)
	case costgate.FilterTagPresent:
		match, complement, err = ev.tagPresent(f, cand)
	case costgate.FilterTimeRange:
		match, err = ev.timeRange(f, cand)
	case costgate.FilterCostRange:
		match, err = ev.costRange(f, cand)
	}
	if err != nil {
		return nil, err
	}
	keep := f.Negate == complement // keep the rows in match, else drop them
	switch {
	case match == nil && keep:
		return cand, nil
	case match == nil:
		return roaring.New(), nil
	case keep && cand == nil:
		return match, nil
	case keep:
		return roaring.And(cand, match), nil
	case cand == nil:
		return roaring.AndNot(ev.all(), match), nil
	}
	return roaring.AndNot(cand, match), nil
}

// in evaluates column ∈ values. A missing column is all null; null
// matches "" for FOCUS columns and nothing for tag and x_ columns.
func (ev *segEval) in(f *Filter, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	nullMatches := ev.t.strs[f.Column] && slices.Contains(f.Values, "")
	c := ev.seg.col(f.Column)
	if c == nil {
		if nullMatches {
			return nil, nil
		}
		return roaring.New(), nil
	}
	d, err := c.dict()
	if err != nil {
		return nil, err
	}
	var codes []uint32
	if nullMatches {
		codes = append(codes, 0)
	}
	for _, v := range f.Values {
		if code, ok := d.lookup(v); ok {
			codes = append(codes, code)
		}
	}
	return ev.codesMatch(c, codes, cand)
}

// codesMatch returns the rows whose code is one of codes.
func (ev *segEval) codesMatch(c *segCol, codes []uint32, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	if len(codes) == 0 {
		return roaring.New(), nil
	}
	if c.indexed() {
		bms := make([]*roaring.Bitmap, 0, len(codes))
		for _, code := range codes {
			bm, err := c.bitmap(code)
			if err != nil {
				return nil, err
			}
			bms = append(bms, bm)
		}
		if len(bms) == 1 {
			return bms[0], nil
		}
		return roaring.FastOr(bms...), nil
	}
	match := make([]bool, c.meta.dictLen+1)
	for _, code := range codes {
		match[code] = true
	}
	cv, err := c.codes()
	if err != nil {
		return nil, err
	}
	return scanRows(ev.n, cand, func(r uint32) bool { return match[cv.at(r)] }), nil
}

// tagPresent returns the rows carrying the tag, or (complement true) the
// rows without it, whichever the index holds.
func (ev *segEval) tagPresent(f *Filter, cand *roaring.Bitmap) (*roaring.Bitmap, bool, error) {
	c := ev.seg.col(f.Column)
	if c == nil {
		return roaring.New(), false, nil
	}
	if c.indexed() {
		absent, err := c.bitmap(0)
		return absent, true, err
	}
	cv, err := c.codes()
	if err != nil {
		return nil, false, err
	}
	return scanRows(ev.n, cand, func(r uint32) bool { return cv.at(r) != 0 }), false, nil
}

// timeRange uses the day bitmaps for whole days inside the range and
// scans ChargePeriodStart only in the days the bounds cut.
func (ev *segEval) timeRange(f *Filter, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = timeNanos(f.From)
	}
	if !f.To.IsZero() {
		to = timeNanos(f.To)
	}
	days := ev.seg.col(colDay)
	if days == nil || !days.indexed() {
		return ev.scanTimes(from, to, cand)
	}
	d, err := days.dict()
	if err != nil {
		return nil, err
	}
	var whole []*roaring.Bitmap
	var cut []uint32
	for code := uint32(1); code <= days.meta.dictLen; code++ {
		day, err := time.Parse(time.DateOnly, string(d.bytesOf(code)))
		if err != nil {
			return nil, ev.seg.corrupt(colDay+"/dictionary", "bad day %q", d.bytesOf(code))
		}
		start, end := day.UnixNano(), day.AddDate(0, 0, 1).UnixNano()
		switch {
		case end <= from || start >= to:
		case start >= from && end <= to:
			bm, err := days.bitmap(code)
			if err != nil {
				return nil, err
			}
			whole = append(whole, bm)
		default:
			cut = append(cut, code)
		}
	}
	out := unionOfRuns(whole)
	if out == nil {
		out = roaring.FastOr(whole...)
	}
	if len(cut) > 0 {
		starts, err := ev.seg.col(colChargePeriodStart).ints()
		if err != nil {
			return nil, err
		}
		for _, code := range cut {
			bm, err := days.bitmap(code)
			if err != nil {
				return nil, err
			}
			if cand != nil {
				bm = roaring.And(bm, cand)
			}
			out.Or(scanRows(ev.n, bm, func(r uint32) bool { return starts[r] >= from && starts[r] < to }))
		}
	}
	return out, nil
}

// unionOfRuns returns the union of bitmaps that are each one run of
// rows (days, in rows sorted by day) as ranges, or nil when one is not a
// run. A union of ranges is a few run containers; FastOr would expand
// them into 8 KiB bitmap containers, fresh memory on every query.
func unionOfRuns(bms []*roaring.Bitmap) *roaring.Bitmap {
	type span struct{ lo, hi uint64 } // [lo, hi)
	spans := make([]span, 0, len(bms))
	for _, bm := range bms {
		card := bm.GetCardinality()
		if card == 0 {
			continue
		}
		lo, hi := uint64(bm.Minimum()), uint64(bm.Maximum())
		if hi-lo+1 != card {
			return nil
		}
		spans = append(spans, span{lo, hi + 1})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	out := roaring.New()
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].lo <= cur.hi; i++ {
			cur.hi = max(cur.hi, spans[i].hi)
		}
		out.AddRange(cur.lo, cur.hi)
	}
	return out
}

func (ev *segEval) scanTimes(from, to int64, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	c := ev.seg.col(colChargePeriodStart)
	if c == nil {
		return roaring.New(), nil
	}
	starts, err := c.ints()
	if err != nil {
		return nil, err
	}
	return scanRows(ev.n, cand, func(r uint32) bool {
		return starts[r] != nullInt && starts[r] >= from && starts[r] < to
	}), nil
}

func (ev *segEval) costRange(f *Filter, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	c := ev.seg.col(string(f.Measure))
	if c == nil {
		// A measure column missing from a segment is all zero.
		if (!f.HasMin || f.Min <= 0) && (!f.HasMax || f.Max > 0) {
			return nil, nil
		}
		return roaring.New(), nil
	}
	// The bit-sliced index pays per plane and container and stops early
	// on a sparse candidate set; a scan pays per row. Use the planes for
	// sparse candidates only.
	if cand != nil && cand.GetCardinality()*4 < uint64(ev.n) {
		b, err := c.bsi()
		if err != nil {
			return nil, err
		}
		if b != nil {
			return b.inRange(cand, int64(f.Min), f.HasMin, int64(f.Max), f.HasMax), nil
		}
	}
	vals, err := c.money()
	if err != nil {
		return nil, err
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if f.HasMin {
		lo = int64(f.Min)
	}
	if f.HasMax {
		if f.Max == math.MinInt64 {
			return roaring.New(), nil
		}
		hi = int64(f.Max) - 1
	}
	if cand != nil {
		return scanRows(ev.n, cand, func(r uint32) bool { return vals[r] >= lo && vals[r] <= hi }), nil
	}
	var hits []uint32
	for r, v := range vals[:ev.n] {
		if v >= lo && v <= hi {
			hits = append(hits, uint32(r))
		}
	}
	bm := roaring.New()
	bm.AddMany(hits)
	return bm, nil
}

// scanRows returns the rows of cand (nil: [0, n)) for which keep is true.
func scanRows(n uint32, cand *roaring.Bitmap, keep func(r uint32) bool) *roaring.Bitmap {
	var hits []uint32
	if cand == nil {
		for r := uint32(0); r < n; r++ {
			if keep(r) {
				hits = append(hits, r)
			}
		}
	} else {
		buf := make([]uint32, 1024)
		it := cand.ManyIterator()
		for {
			k := it.NextMany(buf)
			if k == 0 {
				break
			}
			for _, r := range buf[:k] {
				if keep(r) {
					hits = append(hits, r)
				}
			}
		}
	}
	bm := roaring.New()
	bm.AddMany(hits)
	return bm
}
