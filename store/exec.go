package store

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/costgate/costgate"
)

// Query execution: per segment, the filters give a selection; measures
// are then summed per group. Groups whose keys are constant in a segment
// (a partition's account and month, say) take the segment's stored totals
// or a bit-sliced sum and never touch a row; other groups gather codes and
// values for the selected rows into per-segment arrays, which merge across
// segments through global ids.

const batchSize = 2048

type plan struct {
	st       *Store
	t        *table
	q        Query
	measures []string // summed columns, in query order without count
	keys     []string
	gds      []*globalDict
}

func (sn *Snapshot) run(ctx context.Context, t *table, q Query) (*Result, error) {
	q, err := t.normalize(q)
	if err != nil {
		return nil, err
	}
	p := &plan{st: sn.st, t: t, q: q, keys: q.GroupBy}
	for _, m := range q.Measures {
		if m != Count {
			p.measures = append(p.measures, string(m))
		}
	}
	for _, k := range p.keys {
		p.gds = append(p.gds, sn.st.globalDict(k))
	}
	segs, err := sn.segments(t, q.Filters)
	if err != nil {
		return nil, err
	}
	workers := max(1, min(sn.st.opts.Parallelism, len(segs)))
	// One aggregator for the query: workers sum each segment into their
	// own scratch and merge it under the lock, once per segment.
	a := getAgg(len(p.keys), len(p.measures))
	defer putAgg(a)
	if len(p.keys) == 1 {
		// Ids seen so far: after the first query on a column, the dense
		// slots never grow.
		a.slot([]uint32{uint32(len(p.gds[0].values()) - 1)})
	}
	scr := make([]*scratch, workers)
	for i := range scr {
		scr[i] = scratchPool.Get().(*scratch)
		defer scratchPool.Put(scr[i])
	}
	err = sn.forSegments(ctx, segs, func(w int, seg *segment) error {
		return p.runSegment(seg, a, scr[w])
	})
	if err != nil {
		return nil, err
	}
	return p.result(a, sn.v.gen), nil
}

// scratch holds a worker's reusable buffers.
type scratch struct {
	rows   []uint32
	idx    []uint64
	counts []int64
	sums   []costgate.Sum
	sums64 []int64
	gids   []uint32
}

// ensure makes the row buffers.
func (s *scratch) ensure() {
	if cap(s.rows) < batchSize {
		s.rows = make([]uint32, batchSize)
	}
	if cap(s.idx) < batchSize {
		s.idx = make([]uint64, batchSize)
	}
}

type keyCol struct {
	col   *segCol // nil: the column is absent (all null)
	fixed bool    // one value (gid) in the whole segment
	gid   uint32
	codes *codeView
	card  uint64 // dictLen+1, or 1 when fixed
	remap []uint32
}

func (p *plan) runSegment(seg *segment, a *agg, s *scratch) error {
	ev := &segEval{seg: seg, t: p.t, n: seg.rows()}
	sel, pred, none, err := ev.selectionDeferred(p.q.Filters, true)
	if err != nil || none {
		return err
	}
	rs := rowSet{n: ev.n, sel: sel, pred: pred}
	kcs := make([]keyCol, len(p.keys))
	constant := true
	s.gids = s.gids[:0]
	for i, k := range p.keys {
		kc := &kcs[i]
		kc.col, kc.card, kc.fixed = seg.col(k), 1, true
		if kc.col != nil {
			if kc.remap, err = kc.col.remapFor(p.gds[i]); err != nil {
				return err
			}
			var ok bool
			if kc.gid, ok, err = constantKey(kc.col, kc.remap); err != nil {
				return err
			}
			if !ok {
				constant, kc.fixed = false, false
				kc.card = uint64(kc.col.meta.dictLen) + 1
				if kc.codes, err = kc.col.codes(); err != nil {
					return err
				}
			}
		}
		s.gids = append(s.gids, kc.gid)
	}
	if constant {
		vals, err := p.measureValues(seg)
		if err != nil {
			return err
		}
		return p.constantGroup(seg, &rs, vals, a, s)
	}
	return p.groupRows(seg, &rs, kcs, a, s)
}

// measureValues reads the segment's columns of the summed measures (nil
// for one the segment does not have).
func (p *plan) measureValues(seg *segment) ([][]int64, error) {
	vals := make([][]int64, len(p.measures))
	for i, m := range p.measures {
		if c := seg.col(m); c != nil {
			var err error
			if vals[i], err = c.money(); err != nil {
				return nil, err
			}
		}
	}
	return vals, nil
}

// rowSet is the rows a query reads in one segment: sel (nil: all n
// rows), less those a deferred cost predicate drops.
type rowSet struct {
	n    uint32
	sel  *roaring.Bitmap
	pred *costPred
}

// span reports whether the set is every row of [from, to) (no
// predicate, a selection of one run of rows or none).
func (rs *rowSet) span() (from, to uint32, ok bool) {
	if rs.pred != nil {
		return 0, 0, false
	}
	return rs.run()
}

// run reports whether the selection, the predicate aside, is every row
// of [from, to): no selection, or one run of rows. An empty selection is
// not a run.
func (rs *rowSet) run() (from, to uint32, ok bool) {
	if rs.sel == nil {
		return 0, rs.n, true
	}
	card := rs.sel.GetCardinality()
	if card == 0 {
		return 0, 0, false
	}
	lo, hi := rs.sel.Minimum(), rs.sel.Maximum()
	return lo, hi + 1, uint64(hi-lo)+1 == card
}

// groupSpan2 counts and sums v (nil: count only) per group of two codes
// over rows [from, to): group a + b*stride. Rows are sorted by their
// keys within a segment, so groups come in runs: each run is summed in
// registers (in an int64 when narrow: no sum in the segment can overflow
// it) and added to its group once.
func groupSpan2(a, b *codeView, from, to uint32, stride uint64, v []int64, narrow bool, counts []int64, sums []costgate.Sum) {
	switch a.width {
	case 1:
		groupSpan2a(a.u8[from:to], b, from, to, stride, v, narrow, counts, sums)
	case 2:
		groupSpan2a(a.u16[from:to], b, from, to, stride, v, narrow, counts, sums)
	default:
		groupSpan2a(a.u32[from:to], b, from, to, stride, v, narrow, counts, sums)
	}
}

func groupSpan2a[A uint8 | uint16 | uint32](a []A, b *codeView, from, to uint32, stride uint64, v []int64, narrow bool, counts []int64, sums []costgate.Sum) {
	switch b.width {
	case 1:
		groupRuns(a, b.u8[from:to], stride, v, narrow, counts, sums)
	case 2:
		groupRuns(a, b.u16[from:to], stride, v, narrow, counts, sums)
	default:
		groupRuns(a, b.u32[from:to], stride, v, narrow, counts, sums)
	}
}

func groupRuns[A, B uint8 | uint16 | uint32](a []A, b []B, stride uint64, v []int64, narrow bool, counts []int64, sums []costgate.Sum) {
	if len(a) == 0 {
		return
	}
	b = b[:len(a)]
	cur := uint64(a[0]) + uint64(b[0])*stride
	var run int64
	var sum costgate.Sum
	if v == nil {
		for j := range a {
			if g := uint64(a[j]) + uint64(b[j])*stride; g != cur {
				counts[cur] += run
				cur, run = g, 0
			}
			run++
		}
		counts[cur] += run
		return
	}
	v = v[:len(a)]
	if narrow {
		var sum int64
		for j := range a {
			if g := uint64(a[j]) + uint64(b[j])*stride; g != cur {
				counts[cur] += run
				sums[cur].Add(costgate.Money(sum))
				cur, run, sum = g, 0, 0
			}
			run++
			sum += v[j]
		}
		counts[cur] += run
		sums[cur].Add(costgate.Money(sum))
		return
	}
	for j := range a {
		if g := uint64(a[j]) + uint64(b[j])*stride; g != cur {
			counts[cur] += run
			sums[cur].AddSum(sum)
			cur, run, sum = g, 0, costgate.Sum{}
		}
		run++
		sum.Add(costgate.Money(v[j]))
	}
	counts[cur] += run
	sums[cur].AddSum(sum)
}

// batches calls fn with the rows in ascending order, at most len(buf) at
// a time (fn may reorder or overwrite rows). A selection that is one run
// of rows (a time range in rows sorted by day, say) is walked as a range,
// without the bitmap's iterator.
func (rs *rowSet) batches(buf []uint32, fn func(rows []uint32)) {
	emit := func(rows []uint32) {
		if rs.pred != nil {
			rows = rs.pred.filter(rows)
		}
		if len(rows) > 0 {
			fn(rows)
		}
	}
	from, to, ok := rs.run()
	if !ok {
		// Scattered rows (or none): the bitmap's own iterator.
		it := rs.sel.ManyIterator()
		for {
			k := it.NextMany(buf)
			if k == 0 {
				return
			}
			emit(buf[:k])
		}
	}
	for next := from; next < to; {
		k := min(uint32(len(buf)), to-next)
		if rs.pred != nil {
			// Straight down the column: no row list to build first.
			if rows := rs.pred.scan(buf[:0], next, next+k); len(rows) > 0 {
				fn(rows)
			}
			next += k
			continue
		}
		rows := buf[:k]
		for j := range rows {
			rows[j] = next + uint32(j)
		}
		next += k
		fn(rows)
	}
}

// constantKey reports whether every row of the segment has the same value
// in c, and that value's global id.
func constantKey(c *segCol, remap []uint32) (uint32, bool, error) {
	switch {
	case c.meta.dictLen == 0:
		return 0, true, nil
	case c.meta.dictLen == 1 && c.indexed():
		nulls, err := c.bitmap(0)
		if err != nil {
			return 0, false, err
		}
		if nulls.IsEmpty() {
			return remap[1], true, nil
		}
	}
	return 0, false, nil
}

// constantGroup adds the whole selection to one group: stored totals for
// a full segment, bit-sliced sums for dense selections, else a gather.
func (p *plan) constantGroup(seg *segment, rs *rowSet, vals [][]int64, a *agg, s *scratch) error {
	sel := rs.sel
	n := seg.rows()
	sums := make([]costgate.Sum, len(p.measures))
	s.ensure()
	if rs.pred != nil {
		// The predicate's rows are only known row by row: one pass
		// counts them and sums every measure.
		var count int64
		rs.batches(s.rows[:batchSize], func(rows []uint32) {
			count += int64(len(rows))
			for i, v := range vals {
				if v != nil {
					sums[i].AddSum(gatherRows(v, rows))
				}
			}
		})
		a.mu.Lock()
		a.add(a.slot(s.gids), count, sums)
		a.mu.Unlock()
		return nil
	}
	count := int64(n)
	if sel != nil {
		count = int64(sel.GetCardinality())
	}
	for i, m := range p.measures {
		if vals[i] == nil {
			continue
		}
		if sel == nil {
			if t, ok := seg.total(m); ok {
				sums[i] = t
				continue
			}
		}
		b, err := seg.col(m).bsi()
		if err != nil {
			return err
		}
		// A bit-sliced sum pays per plane and container, a gather per
		// row: the planes win only for dense selections.
		if b != nil && sel != nil && count*2 >= int64(n) {
			sums[i] = b.sum(sel)
			continue
		}
		v := vals[i]
		rs.batches(s.rows[:batchSize], func(rows []uint32) { sums[i].AddSum(gatherRows(v, rows)) })
	}
	a.mu.Lock()
	a.add(a.slot(s.gids), count, sums)
	a.mu.Unlock()
	return nil
}

// gatherRows sums v over rows.
func gatherRows(v []int64, rows []uint32) costgate.Sum {
	var s costgate.Sum
	for _, r := range rows {
		s.Add(costgate.Money(v[r]))
	}
	return s
}

// groupRows aggregates row by row into per-segment groups indexed by the
// combined codes, then merges them into a.
func (p *plan) groupRows(seg *segment, rs *rowSet, kcs []keyCol, a *agg, s *scratch) error {
	sel := rs.sel
	n := seg.rows()
	nm := len(p.measures)
	strides := make([]uint64, len(kcs))
	product := uint64(1)
	for i := range kcs {
		strides[i] = product
		hi, lo := mulOverflow(product, kcs[i].card)
		if hi {
			return fmt.Errorf("group by %s: too many combinations in segment %s", strings.Join(p.keys, ","), seg.file)
		}
		product = lo
	}
	var count int64
	if sel == nil {
		count = int64(n)
	} else {
		count = int64(sel.GetCardinality())
	}
	dense := product <= uint64(count)+4096
	var sparse map[uint64]int32
	var sparseKeys []uint64
	if dense {
		s.counts = resize(s.counts, int(product))
		s.sums = resize(s.sums, int(product)*nm)
	} else {
		sparse = make(map[uint64]int32)
		s.counts, s.sums = s.counts[:0], s.sums[:0]
	}
	s.ensure()
	if dense {
		// Before the measure columns are read: a query the run index
		// answers never touches them.
		ok, err := p.groupRunIndex(seg, rs, kcs, strides, s)
		if err != nil {
			return err
		}
		if ok {
			return p.mergeLocal(a, kcs, strides, s, nil)
		}
	}
	vals, err := p.measureValues(seg)
	if err != nil {
		return err
	}
	if dense && len(kcs) == 1 && nm <= 1 {
		var v []int64
		if nm == 1 {
			v = vals[0]
		}
		// Sums that cannot overflow 64 bits in this segment are kept in
		// int64s (half the memory, no carry) and widened once.
		var sums64 []int64
		if v != nil && fitsInt64(seg, p.measures[0]) {
			s.sums64 = resize(s.sums64, int(product))
			sums64 = s.sums64
		}
		switch cv := kcs[0].codes; cv.width {
		case 1:
			aggOne(cv.u8, v, rs, s.counts, s.sums, sums64, s.rows)
		case 2:
			aggOne(cv.u16, v, rs, s.counts, s.sums, sums64, s.rows)
		default:
			aggOne(cv.u32, v, rs, s.counts, s.sums, sums64, s.rows)
		}
		for c, x := range sums64 {
			if x != 0 {
				s.sums[c].Add(costgate.Money(x))
			}
		}
		return p.mergeLocal(a, kcs, strides, s, nil)
	}
	if dense && len(kcs) == 2 && nm <= 1 && !kcs[0].fixed && !kcs[1].fixed {
		if from, to, ok := rs.span(); ok {
			var v []int64
			narrow := false
			if nm == 1 && vals[0] != nil {
				v, narrow = vals[0][from:to], fitsInt64(seg, p.measures[0])
			}
			groupSpan2(kcs[0].codes, kcs[1].codes, from, to, strides[1], v, narrow, s.counts, s.sums)
			return p.mergeLocal(a, kcs, strides, s, nil)
		}
	}
	rs.batches(s.rows[:batchSize], func(rows []uint32) {
		idx := s.idx[:len(rows)]
		clear(idx)
		for i := range kcs {
			if !kcs[i].fixed {
				addCodes(idx, rows, kcs[i].codes, strides[i])
			}
		}
		if !dense {
			for j, x := range idx {
				slot, ok := sparse[x]
				if !ok {
					slot = int32(len(sparseKeys))
					sparse[x] = slot
					sparseKeys = append(sparseKeys, x)
					s.counts = append(s.counts, 0)
					s.sums = append(s.sums, make([]costgate.Sum, nm)...)
				}
				idx[j] = uint64(slot)
			}
		}
		accumulate(idx, rows, vals, s.counts, s.sums)
	})
	return p.mergeLocal(a, kcs, strides, s, sparseKeys)
}

// groupRunIndex sums the selected rows into the dense slots of s from
// the segment's run index (runIndex) when it can: every group key is
// constant within a run (a run key, or the month of the day key), no
// cost predicate is deferred, every summed measure has run totals, and
// the selection is a range of whole runs. It reports whether it did;
// when not, nothing was added.
func (p *plan) groupRunIndex(seg *segment, rs *rowSet, kcs []keyCol, strides []uint64, s *scratch) (bool, error) {
	if seg.f.runs.runs == 0 || rs.pred != nil {
		return false, nil
	}
	// Per key: which of the index's key codes give it (a run key), or -1
	// when it is read from the run's first row (the month of the day key).
	keyCodes := make([]int, len(kcs))
	for i := range kcs {
		keyCodes[i] = -1
		if kcs[i].fixed {
			continue
		}
		for k, name := range seg.f.runs.keys {
			if name == p.keys[i] {
				keyCodes[i] = k
			}
		}
		if keyCodes[i] < 0 && !(p.keys[i] == colMonth && slices.Contains(seg.f.runs.keys, colDay)) {
			return false, nil
		}
	}
	from, to, ok := rs.run()
	if !ok {
		return false, nil
	}
	rd, err := seg.runs()
	if err != nil {
		return false, err
	}
	sums := make([][]int64, len(p.measures))
	for i, m := range p.measures {
		if seg.col(m) == nil {
			continue // the column is absent: its sums are zero
		}
		if sums[i] = rd.sums[m]; sums[i] == nil {
			return false, nil
		}
	}
	// The runs [lo, hi) must cover exactly rows [from, to).
	lo, hi := 0, 0
	if from > 0 {
		i, found := slices.BinarySearch(rd.ends, from)
		if !found {
			return false, nil
		}
		lo = i + 1
	}
	i, found := slices.BinarySearch(rd.ends, to)
	if !found {
		return false, nil
	}
	hi = i + 1
	nm := len(p.measures)
	start := from
	for r := lo; r < hi; r++ {
		var g uint64
		for i := range kcs {
			switch {
			case kcs[i].fixed:
			case keyCodes[i] >= 0:
				g += uint64(rd.codes[keyCodes[i]][r]) * strides[i]
			default:
				g += uint64(kcs[i].codes.at(start)) * strides[i]
			}
		}
		end := rd.ends[r]
		s.counts[g] += int64(end - start)
		for m, v := range sums {
			if v != nil {
				s.sums[int(g)*nm+m].Add(costgate.Money(v[r]))
			}
		}
		start = end
	}
	if p.st != nil {
		p.st.runIndexUses.Add(1)
	}
	return true, nil
}

// mergeLocal adds a segment's groups (slots of combined codes, or of
// sparseKeys when not nil) to a.
func (p *plan) mergeLocal(a *agg, kcs []keyCol, strides []uint64, s *scratch, sparseKeys []uint64) error {
	nm := len(p.measures)
	gids := make([]uint32, len(kcs))
	for i := range kcs {
		if kcs[i].fixed {
			gids[i] = kcs[i].gid
		}
	}
	// digits are the slot's code per key, counted up like an odometer
	// as the dense slots are walked (no division per slot).
	digits := make([]uint64, len(kcs))
	a.mu.Lock()
	defer a.mu.Unlock()
	for slot, c := range s.counts {
		if c != 0 {
			for i := range kcs {
				if kcs[i].fixed {
					continue
				}
				x := digits[i]
				if sparseKeys != nil {
					x = (sparseKeys[slot] / strides[i]) % kcs[i].card
				}
				gids[i] = kcs[i].remap[x]
			}
			a.add(a.slot(gids), c, s.sums[slot*nm:slot*nm+nm])
		}
		if sparseKeys == nil {
			for i := range digits {
				if digits[i]++; digits[i] < kcs[i].card {
					break
				}
				digits[i] = 0
			}
		}
	}
	return nil
}

// aggOne sums one measure (v, or none when nil) per code of a single
// group-by column over the rows of rs: into sums64 when it is not nil
// (the caller has checked no sum can overflow), else into sums.
func aggOne[T uint8 | uint16 | uint32](codes []T, v []int64, rs *rowSet, counts []int64, sums []costgate.Sum, sums64 []int64, buf []uint32) {
	if rs.sel == nil && rs.pred == nil {
		codes = codes[:rs.n]
		switch {
		case v == nil:
			for _, c := range codes {
				counts[c]++
			}
		case sums64 != nil:
			v = v[:rs.n]
			for i, c := range codes {
				counts[c]++
				sums64[c] += v[i]
			}
		default:
			v = v[:rs.n]
			for i, c := range codes {
				counts[c]++
				sums[c].Add(costgate.Money(v[i]))
			}
		}
		return
	}
	rs.batches(buf[:batchSize], func(rows []uint32) {
		switch {
		case v == nil:
			for _, r := range rows {
				counts[codes[r]]++
			}
		case sums64 != nil:
			for _, r := range rows {
				c := codes[r]
				counts[c]++
				sums64[c] += v[r]
			}
		default:
			for _, r := range rows {
				c := codes[r]
				counts[c]++
				sums[c].Add(costgate.Money(v[r]))
			}
		}
	})
}

// fitsInt64 reports whether any sum of the measure's values over rows of
// seg fits in an int64: its bit-sliced index bounds every |value| below
// 2^planes, so n values sum to less than n * 2^planes.
func fitsInt64(seg *segment, measure string) bool {
	c := seg.col(measure)
	if c == nil || c.meta.flags&flagBSI == 0 || c.meta.nplanes >= 63 {
		return false
	}
	return uint64(seg.rows()) <= uint64(1)<<(63-c.meta.nplanes)
}

func mulOverflow(a, b uint64) (overflow bool, product uint64) {
	if a != 0 && b > ^uint64(0)/a {
		return true, 0
	}
	return false, a * b
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func addCodes(idx []uint64, rows []uint32, cv *codeView, stride uint64) {
	switch cv.width {
	case 1:
		c := cv.u8
		for j, r := range rows {
			idx[j] += uint64(c[r]) * stride
		}
	case 2:
		c := cv.u16
		for j, r := range rows {
			idx[j] += uint64(c[r]) * stride
		}
	default:
		c := cv.u32
		for j, r := range rows {
			idx[j] += uint64(c[r]) * stride
		}
	}
}

func accumulate(idx []uint64, rows []uint32, vals [][]int64, counts []int64, sums []costgate.Sum) {
	nm := len(vals)
	for _, g := range idx {
		counts[g]++
	}
	if nm == 1 && vals[0] != nil {
		v := vals[0]
		for j, r := range rows {
			sums[idx[j]].Add(costgate.Money(v[r]))
		}
		return
	}
	for m, v := range vals {
		if v == nil {
			continue
		}
		for j, r := range rows {
			sums[idx[j]*uint64(nm)+uint64(m)].Add(costgate.Money(v[r]))
		}
	}
}

// agg accumulates groups across segments. With at most one key the slot is
// the key's global id; with more, slots come from a map of packed ids.
type agg struct {
	mu     sync.Mutex // held by workers while they merge a segment
	nk, nm int
	counts []int64
	sums   []costgate.Sum
	index  map[string]int32 // more than two keys: packed ids -> slot
	index2 map[uint64]int32 // two keys
	keys   []uint32         // several keys: slot s's ids are keys[s*nk:(s+1)*nk]
	buf    []byte
}

func newAgg(nk, nm int) *agg {
	a := &agg{nk: nk, nm: nm}
	switch {
	case nk == 2:
		a.index2 = map[uint64]int32{}
	case nk > 2:
		a.index = map[string]int32{}
	}
	return a
}

// Aggregators and scratch buffers are pooled: a group-by over a column
// with many values allocates megabytes of slots otherwise.
var (
	aggPool     sync.Pool
	scratchPool = sync.Pool{New: func() any { return &scratch{} }}
)

func getAgg(nk, nm int) *agg {
	a, ok := aggPool.Get().(*agg)
	if !ok {
		return newAgg(nk, nm)
	}
	a.nk, a.nm = nk, nm
	a.counts = a.counts[:0]
	a.sums = a.sums[:0]
	a.keys = a.keys[:0]
	// The maps keep their room when cleared: a query like the last one
	// adds its groups without rehashing.
	switch {
	case nk == 2 && a.index2 == nil:
		a.index2 = map[uint64]int32{}
	case nk > 2 && a.index == nil:
		a.index = map[string]int32{}
	}
	return a
}

func putAgg(a *agg) {
	if cap(a.counts) > 1<<24 || len(a.index2) > 1<<20 || len(a.index) > 1<<20 {
		return // a huge group-by: let it go rather than pin it
	}
	clear(a.index2)
	clear(a.index)
	aggPool.Put(a)
}

func (a *agg) slot(gids []uint32) int {
	if a.nk <= 1 {
		s := 0
		if a.nk == 1 {
			s = int(gids[0])
		}
		if s >= len(a.counts) {
			a.grow(max(s+1, 2*len(a.counts)))
		}
		return s
	}
	s := len(a.counts)
	if a.nk == 2 {
		// Two keys pack into one integer: no key bytes to build.
		k := uint64(gids[0])<<32 | uint64(gids[1])
		if s, ok := a.index2[k]; ok {
			return int(s)
		}
		a.index2[k] = int32(s)
	} else {
		a.buf = a.buf[:0]
		for _, g := range gids {
			a.buf = binary.LittleEndian.AppendUint32(a.buf, g)
		}
		if s, ok := a.index[string(a.buf)]; ok {
			return int(s)
		}
		a.index[string(a.buf)] = int32(s)
	}
	a.keys = append(a.keys, gids...)
	a.counts = append(a.counts, 0)
	a.sums = append(a.sums, make([]costgate.Sum, a.nm)...)
	return s
}

// grow extends the dense slots to n, zeroed, reusing capacity.
func (a *agg) grow(n int) {
	old := len(a.counts)
	if cap(a.counts) >= n && cap(a.sums) >= n*a.nm {
		a.counts = a.counts[:n]
		a.sums = a.sums[:n*a.nm]
		clear(a.counts[old:])
		clear(a.sums[old*a.nm:])
		return
	}
	counts := make([]int64, n)
	copy(counts, a.counts)
	sums := make([]costgate.Sum, n*a.nm)
	copy(sums, a.sums)
	a.counts, a.sums = counts, sums
}

func (a *agg) add(slot int, count int64, sums []costgate.Sum) {
	a.counts[slot] += count
	for i := range sums {
		a.sums[slot*a.nm+i].AddSum(sums[i])
	}
}

func (p *plan) result(a *agg, gen uint64) *Result {
	nm := a.nm
	n := 0
	for _, c := range a.counts {
		if c != 0 {
			n++
		}
	}
	// With a limit well under the groups, the groups go straight from
	// the slots into a heap of the limit's size: a list of every group
	// (200,000 resources, say) is fresh memory, and fresh memory costs a
	// page fault per 4 KiB.
	topN := p.q.Limit > 0 && n > 2*p.q.Limit
	var slots []int
	if !topN {
		slots = make([]int, 0, n)
		for slot, c := range a.counts {
			if c != 0 {
				slots = append(slots, slot)
			}
		}
		if len(p.keys) == 0 && len(slots) == 0 {
			slots = append(slots, a.slot(nil))
		}
	}
	names := make([][]string, len(p.keys))
	for i, g := range p.gds {
		names[i] = g.values()
	}
	key := func(slot, k int) string {
		if a.nk == 1 {
			return names[0][slot]
		}
		return names[k][a.keys[slot*a.nk+k]]
	}
	less := p.comparer(a, key)
	if topN {
		slots = topK(a.counts, p.q.Limit, less)
	} else {
		slices.SortFunc(slots, less)
		if p.q.Limit > 0 && len(slots) > p.q.Limit {
			slots = slots[:p.q.Limit]
		}
	}
	res := &Result{GroupBy: p.keys, Measures: p.q.Measures, Generation: gen, Rows: make([]Row, len(slots))}
	// Every row's keys and values are cut from two allocations.
	nk, nv := len(p.keys), len(p.q.Measures)
	keys := make([]string, len(slots)*nk)
	values := make([]costgate.Sum, len(slots)*nv)
	for i, slot := range slots {
		r := Row{Count: a.counts[slot], Keys: keys[i*nk : (i+1)*nk : (i+1)*nk], Values: values[i*nv : (i+1)*nv : (i+1)*nv]}
		for k := range p.keys {
			r.Keys[k] = key(slot, k)
		}
		mi := 0
		for j, m := range p.q.Measures {
			if m == Count {
				r.Values[j] = costgate.SumUnits(r.Count)
				continue
			}
			r.Values[j] = a.sums[slot*nm+mi]
			mi++
		}
		res.Rows[i] = r
	}
	return res
}

// comparer orders group slots by the query's OrderBy, then by keys
// ascending.
func (p *plan) comparer(a *agg, key func(slot, k int) string) func(x, y int) int {
	type ord struct {
		key     int // group-by index, or -1
		measure int // index in p.measures, or -1 for count
		desc    bool
	}
	var ords []ord
	for _, o := range p.q.OrderBy {
		ords = append(ords, ord{key: slices.Index(p.keys, o.By), measure: slices.Index(p.measures, o.By), desc: o.Desc})
	}
	nm := a.nm
	return func(x, y int) int {
		for _, o := range ords {
			var c int
			switch {
			case o.key >= 0:
				c = strings.Compare(key(x, o.key), key(y, o.key))
			case o.measure >= 0:
				c = a.sums[x*nm+o.measure].Cmp(a.sums[y*nm+o.measure])
			default:
				c = cmp.Compare(a.counts[x], a.counts[y])
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		for k := range p.keys {
			if c := strings.Compare(key(x, k), key(y, k)); c != 0 {
				return c
			}
		}
		return 0
	}
}

// topK returns the k first of the slots with a nonzero count under cmpf,
// sorted, in O(n log k).
func topK(counts []int64, k int, cmpf func(x, y int) int) []int {
	h := &slotHeap{cmp: cmpf, s: make([]int, 0, k)}
	for s, c := range counts {
		if c == 0 {
			continue
		}
		if len(h.s) < k {
			heap.Push(h, s)
			continue
		}
		if cmpf(s, h.s[0]) < 0 {
			h.s[0] = s
			heap.Fix(h, 0)
		}
	}
	slices.SortFunc(h.s, cmpf)
	return h.s
}

// slotHeap is a max-heap under cmp: the root is the worst slot kept.
type slotHeap struct {
	s   []int
	cmp func(x, y int) int
}

func (h *slotHeap) Len() int           { return len(h.s) }
func (h *slotHeap) Less(i, j int) bool { return h.cmp(h.s[i], h.s[j]) > 0 }
func (h *slotHeap) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *slotHeap) Push(x any)         { h.s = append(h.s, x.(int)) }
func (h *slotHeap) Pop() any {
	x := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return x
}
