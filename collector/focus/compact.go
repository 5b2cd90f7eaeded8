package focus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/tabular"
)

// The parallel CSV path decodes into compact rows: strings as ids into
// the decoding goroutine's string table, times and amounts as integers,
// and no pointers at all, so that millions of rows waiting for their
// partition to be written cost a third of the memory of line items and
// nothing to the garbage collector. They become line items one
// partition at a time (compactBatch.AppendTo).

// Slots of each kind, in columns order.
var (
	strSlots   []*column
	timeSlots  []*column
	moneySlots []*column
	qtySlots   []*column
	slotOf     = map[*column]int{}
	strField   []int // strSlots[s]'s index in costgate.StringFields
	timeField  []int // timeSlots[s]'s index in costgate.TimeFields
	moneyField []int // moneySlots[s]'s index in costgate.AmountFields
	qtyField   []int // qtySlots[s]'s index in costgate.AmountFields
	acctSlot   int
	bpsSlot    int // BillingPeriodStart
	cpsSlot    int // ChargePeriodStart
)

const nullTime = math.MinInt64

func init() {
	for i := range columns {
		c := &columns[i]
		switch c.kind {
		case kString:
			slotOf[c] = len(strSlots)
			strSlots = append(strSlots, c)
		case kTime:
			slotOf[c] = len(timeSlots)
			timeSlots = append(timeSlots, c)
		case kMoney:
			slotOf[c] = len(moneySlots)
			moneySlots = append(moneySlots, c)
		case kQuantity:
			slotOf[c] = len(qtySlots)
			qtySlots = append(qtySlots, c)
		}
	}
	for _, c := range strSlots {
		f := slices.Index(costgate.StringFields[:], c.name)
		if f < 0 {
			panic("focus: string column " + c.name + " is not in costgate.StringFields")
		}
		strField = append(strField, f)
	}
	index := func(fields []string, kind string, c *column) int {
		f := slices.Index(fields, c.name)
		if f < 0 {
			panic("focus: " + kind + " column " + c.name + " is not in costgate's " + kind + " fields")
		}
		return f
	}
	for _, c := range timeSlots {
		timeField = append(timeField, index(costgate.TimeFields[:], "time", c))
	}
	for _, c := range moneySlots {
		moneyField = append(moneyField, index(costgate.AmountFields[:], "amount", c))
	}
	for _, c := range qtySlots {
		qtyField = append(qtyField, index(costgate.AmountFields[:], "amount", c))
	}
	acctSlot = slotOf[lookup("BillingAccountId")]
	bpsSlot = slotOf[lookup("BillingPeriodStart")]
	cpsSlot = slotOf[lookup("ChargePeriodStart")]
	if len(strSlots) > nStr || len(timeSlots) > nTime || len(moneySlots) > nMoney || len(qtySlots) > nQty {
		panic("focus: compact row too small for the columns")
	}
}

const (
	nStr   = 40
	nTime  = 4
	nMoney = 6
	nQty   = 3
)

// compactRow is one line item without pointers.
type compactRow struct {
	str   [nStr]uint32
	times [nTime]int64
	money [nMoney]int64
	qty   [nQty]int64
	tags  uint32 // index into tables.maps (0: none)
	ext   uint32
}

// tables hold what compact rows point to, for one decoding goroutine.
// They only grow while the export is read and are read-only after.
type tables struct {
	strs []string // strs[0] is ""
	// sets holds, per file column, the ids of the strings seen in it:
	// one small set per column keeps the lookups of its few values in
	// cache, where one map of every column's strings did not (a column
	// of resource ids can hold millions). A string in two columns has
	// two ids; ids are only ever turned back into strings.
	sets   []internSet
	maps   []map[string]string // maps[0] is nil
	mapIDs map[string]uint32   // 't' and the raw text of a Tags object, or 'x' and x_ values -> id
	xKey   []byte
	tKey   []byte
}

func newTables(columns int) *tables {
	return &tables{strs: []string{""}, sets: make([]internSet, columns), maps: []map[string]string{nil}, mapIDs: map[string]uint32{}}
}

// internSet is one column's distinct values as ids into tables.strs: open
// addressing with linear probing, at most half full, each slot the high
// half of the value's hash beside its id (0: empty; id 0 is never
// stored). A probe reads 8 bytes a slot and compares strings only on a
// matching hash half. A map[string]uint32 per column cost 6.7 s of CPU
// per 10M FOCUS rows (17% of a collect): some 15 columns a row change
// value from one row to the next, and the resource id and name columns
// hold tens of thousands of values.
type internSet struct {
	slots []uint64
	n     int
	slow  bool // hashed with maphash, not quickHash (see smallSet)
}

var internSeed = maphash.MakeSeed()

// str returns the id of b, a value of file column col.
func (t *tables) str(col int, b []byte) uint32 {
	set := &t.sets[col]
	if !set.slow {
		return t.strHashed(col, b, quickHash(b))
	}
	return t.strHashed(col, b, maphash.Bytes(internSeed, b))
}

// smallSet is the most values a set hashes with quickHash; past it the
// set is rehashed with maphash (slow). Most FOCUS columns hold a few
// dozen values, change from one row to the next, and are short: there
// maphash (a call into the runtime's AES hash) was most of a lookup.
const smallSet = 64

// quickHash hashes b from its length and its first and last 8 bytes: a
// few instructions, and as good as any hash for a set of a few dozen
// values. Values that share all three only probe further (a set holds at
// most smallSet of them).
func quickHash(b []byte) uint64 {
	n := len(b)
	var x, y uint64
	switch {
	case n >= 8:
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
	default:
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	h := (x ^ bits.RotateLeft64(y, 29) ^ uint64(n)<<56) * 0x9e3779b97f4a7c15
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// hashOf hashes b as set's slots are hashed.
func (set *internSet) hashOf(b string) uint64 {
	if set.slow {
		return maphash.String(internSeed, b)
	}
	return quickHash(unsafe.Slice(unsafe.StringData(b), len(b)))
}

// strHashed is str with b's hash given: quickHash in a set that is not
// slow, else maphash.Bytes with internSeed.
func (t *tables) strHashed(col int, b []byte, h uint64) uint32 {
	set := &t.sets[col]
	if set.slots != nil {
		mask := uint64(len(set.slots) - 1)
		for i := h & mask; ; i = (i + 1) & mask {
			s := set.slots[i]
			if s == 0 {
				break
			}
			if s>>32 == h>>32 && t.strs[uint32(s)] == string(b) {
				return uint32(s)
			}
		}
	}
	id := uint32(len(t.strs))
	t.strs = append(t.strs, string(b))
	if 2*(set.n+1) > len(set.slots) {
		old := set.slots
		set.slots = make([]uint64, max(16, 2*len(old)))
		if !set.slow && len(set.slots) > 2*smallSet {
			set.slow = true
			h = maphash.Bytes(internSeed, b)
		}
		for _, s := range old {
			if s != 0 {
				set.put(set.hashOf(t.strs[uint32(s)]), uint32(s))
			}
		}
	}
	set.put(h, id)
	set.n++
	return id
}

func (set *internSet) put(h uint64, id uint32) {
	mask := uint64(len(set.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if set.slots[i] == 0 {
			set.slots[i] = h>>32<<32 | uint64(id)
			return
		}
	}
}

// compactDecoder decodes records into compact rows.
type compactDecoder struct {
	*decoder
	t       *tables
	scratch []compactRow // a block's rows, reused: batches get exact-sized copies
	group   []int32      // a block's rows' partitions (groupCompact), reused
	perm    []int32      // a block's rows by partition (groupCompact), reused
	stamp   []uint32     // per map id: the mapsOf call that last listed it
	gen     uint32
	layouts map[[rowMaskLen]uint64]*layout
	rows    *collector.Rows // the budget and spill file; nil: hold every batch
	spill   []uint64        // records on their way to the spill file, reused
	last    [][]byte        // per file column: last string bytes
	lastID  []uint32
	slot    []int // per file column: its slot among its kind's (slotOf)
	// A string column whose set has grown past bigSet values (big[i]) is
	// interned a block at a time (internBig) instead of row by row:
	// pend[i] lists its values in the block; other columns leave theirs
	// empty.
	big  []bool
	pend []pendingStrs
	row  int32 // the block row decode is filling
	// inBlock: decode is called by compactBlock, whose field slices stay
	// valid until the next startBlock, so last keeps them uncopied.
	inBlock bool
	// touched sums what internBig loads ahead, so that the loads stay.
	touched uint64
}

// pendingStrs are a big column's values in the current block, still to
// be interned: rows[k] gets the id of vals[k].
type pendingStrs struct {
	rows []int32
	vals [][]byte
	hash []uint64
}

// newCompactDecoder returns a decoder whose batches are held against
// rows' memory budget or spilled (nil rows: always held).
func newCompactDecoder(d *decoder, rows *collector.Rows) *compactDecoder {
	cd := &compactDecoder{decoder: d, rows: rows, t: newTables(len(d.cols)), last: make([][]byte, len(d.cols)), lastID: make([]uint32, len(d.cols)), slot: make([]int, len(d.cols)),
		big: make([]bool, len(d.cols)), pend: make([]pendingStrs, len(d.cols))}
	for i, c := range d.cols {
		if c != nil {
			cd.slot[i] = slotOf[c]
		}
	}
	return cd
}

var (
	minNanos = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxNanos = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (d *compactDecoder) decode(rec tabular.Records, r *compactRow) error {
	*r = compactRow{}
	for i := range r.times {
		r.times[i] = nullTime
	}
	for i, c := range d.cols {
		if c == nil {
			continue
		}
		var b []byte
		if cv, ok := rec.(*tabular.CSV); ok && c.kind == kTags {
			b, _ = cv.RawField(i) // see kTags below
		} else {
			b = rec.Field(i)
		}
		if tabular.IsNull(b) {
			continue
		}
		switch c.kind {
		case kString:
			if d.big[i] {
				// Field slices stay valid for the whole block: the CSV is
				// parsed, and unquoted, in place.
				p := &d.pend[i]
				p.rows = append(p.rows, d.row)
				p.vals = append(p.vals, b)
				continue
			}
			if d.last[i] != nil && bytes.Equal(b, d.last[i]) {
				r.str[d.slot[i]] = d.lastID[i]
				continue
			}
			id := d.t.str(i, b)
			if d.inBlock {
				d.last[i] = b // valid until the block ends (startBlock)
			} else {
				d.last[i] = append(d.last[i][:0], b...)
			}
			d.lastID[i] = id
			r.str[d.slot[i]] = id
		case kTime:
			v, err := d.times[i].Parse(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			if v.Before(minNanos) || !v.Before(maxNanos) {
				return d.fail(rec, i, fmt.Errorf("%s is out of range (1678 to 2261)", v.Format(time.RFC3339)))
			}
			r.times[d.slot[i]] = v.UnixNano()
		case kMoney:
			v, err := tabular.ParseNanos(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			r.money[d.slot[i]] = v
		case kQuantity:
			v, err := tabular.ParseNanos(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			r.qty[d.slot[i]] = v
		case kTags:
			// Looked up by the raw text (tabular.CSV.RawField), so that a
			// Tags object seen before is not unquoted again.
			raw, esc := b, false
			if cv, ok := rec.(*tabular.CSV); ok {
				raw, esc = cv.RawField(i)
			}
			key := append(d.t.tKey[:0], 't', 0)
			if esc {
				key[1] = 1
			}
			key = append(key, raw...)
			d.t.tKey = key
			id, ok := d.t.mapIDs[string(key)]
			if !ok {
				m, err := tabular.ParseTags(rec.Field(i))
				if err != nil {
					return d.fail(rec, i, err)
				}
				id = uint32(len(d.t.maps))
				d.t.maps = append(d.t.maps, m)
				d.t.mapIDs[string(key)] = id
			}
			r.tags = id
		}
	}
	if len(d.xIdx) > 0 {
		r.ext = d.extID(rec)
	}
	for _, req := range [...]struct {
		ok   bool
		name string
	}{
		{r.str[acctSlot] != 0, "BillingAccountId"},
		{r.times[bpsSlot] != nullTime, "BillingPeriodStart"},
		{r.times[cpsSlot] != nullTime, "ChargePeriodStart"},
	} {
		if !req.ok {
			return &tabular.FieldError{File: d.file, Where: rec.Where(), Column: req.name, Err: errors.New("null, but every row needs one")}
		}
	}
	return nil
}

// extID returns the id of the row's x_ columns map.
func (d *compactDecoder) extID(rec tabular.Records) uint32 {
	t := d.t
	t.xKey = append(t.xKey[:0], 'x', 0)
	present := false
	for _, i := range d.xIdx {
		b := rec.Field(i)
		if !tabular.IsNull(b) {
			present = true
			t.xKey = append(t.xKey, b...)
		}
		t.xKey = append(t.xKey, 0)
	}
	if !present {
		return 0
	}
	if id, ok := t.mapIDs[string(t.xKey)]; ok {
		return id
	}
	m := make(map[string]string, len(d.xIdx))
	for k, i := range d.xIdx {
		if b := rec.Field(i); !tabular.IsNull(b) {
			m[d.xNames[k]] = string(b)
		}
	}
	id := uint32(len(t.maps))
	t.maps = append(t.maps, m)
	t.mapIDs[string(t.xKey)] = id
	return id
}

// A compact row seen as words: its fields in the order the struct
// declares them, checked in init.
const (
	rowWords   = int(unsafe.Sizeof(compactRow{})) / 8
	rowHalves  = 2 * rowWords
	timesWord  = nStr / 2
	moneyWord  = timesWord + nTime
	qtyWord    = moneyWord + nMoney
	tagsHalf   = 2 * (qtyWord + nQty)
	extHalf    = tagsHalf + 1
	maskBits   = tagsHalf + 2 // bit k: half k of the row varies (words as two halves)
	rowMaskLen = (maskBits + 63) / 64
)

func init() {
	var r compactRow
	if unsafe.Offsetof(r.times) != uintptr(timesWord*8) || unsafe.Offsetof(r.money) != uintptr(moneyWord*8) ||
		unsafe.Offsetof(r.qty) != uintptr(qtyWord*8) || unsafe.Offsetof(r.tags) != uintptr(tagsHalf*4) ||
		unsafe.Offsetof(r.ext) != uintptr(extHalf*4) || rowHalves != extHalf+1 {
		panic("focus: compactRow is not laid out as its word constants say")
	}
}

func (r *compactRow) words() *[rowWords]uint64   { return (*[rowWords]uint64)(unsafe.Pointer(r)) }
func (r *compactRow) halves() *[rowHalves]uint32 { return (*[rowHalves]uint32)(unsafe.Pointer(r)) }

// layout says which fields of a batch vary from row to row and where
// each row keeps them: a record of stride words, the varying 64-bit
// fields first, then the varying 32-bit ones two to a word. A field that
// has one value in every row of the batch (null in most FOCUS columns,
// and the account, period, provider and currency of a partition) is kept
// once, in the batch's template. A 10M-row FOCUS file took 272 bytes a
// row unpacked, and the page faults of fresh memory for them were the
// largest single cost of a collect (6.5 of 52 CPU-s).
type layout struct {
	stride int
	src64  []uint8 // record word k is row word src64[k]
	src32  []uint8 // record half j (after the 64-bit words) is row half src32[j]
	// Where CodedRow finds each varying field: record word or half, and
	// the field's index in CodedRow.
	times, amounts, ids []fieldPos
	tags, ext           int // record half, or -1 when constant
}

type fieldPos struct{ rec, dst int32 }

// layoutOf returns the layout for the fields set in vary, a bit per row
// half (compactRow.halves), cached per decoder: the batches of one file
// have few different shapes.
func (d *compactDecoder) layoutOf(vary [rowMaskLen]uint64) *layout {
	if l, ok := d.layouts[vary]; ok {
		return l
	}
	has := func(h int) bool { return vary[h/64]&(1<<(h%64)) != 0 }
	l := &layout{tags: -1, ext: -1}
	for w := timesWord; w < qtyWord+nQty; w++ {
		if !has(2*w) && !has(2*w+1) {
			continue
		}
		k := int32(len(l.src64))
		l.src64 = append(l.src64, uint8(w))
		switch {
		case w < moneyWord:
			if s := w - timesWord; s < len(timeSlots) {
				l.times = append(l.times, fieldPos{k, int32(timeField[s])})
			}
		case w < qtyWord:
			if s := w - moneyWord; s < len(moneySlots) {
				l.amounts = append(l.amounts, fieldPos{k, int32(moneyField[s])})
			}
		default:
			if s := w - qtyWord; s < len(qtySlots) {
				l.amounts = append(l.amounts, fieldPos{k, int32(qtyField[s])})
			}
		}
	}
	base := 2 * len(l.src64)
	for h := 0; h < rowHalves; h++ {
		if h >= 2*timesWord && h < tagsHalf || !has(h) {
			continue
		}
		j := base + len(l.src32)
		l.src32 = append(l.src32, uint8(h))
		switch {
		case h == tagsHalf:
			l.tags = j
		case h == extHalf:
			l.ext = j
		case h < len(strSlots):
			l.ids = append(l.ids, fieldPos{int32(j), int32(strField[h])})
		}
	}
	l.stride = len(l.src64) + (len(l.src32)+1)/2
	if d.layouts == nil {
		d.layouts = map[[rowMaskLen]uint64]*layout{}
	}
	d.layouts[vary] = l
	return l
}

// pack writes row r's varying fields to rec.
func (l *layout) pack(r *compactRow, rec []uint64) {
	w := r.words()
	for k, s := range l.src64 {
		rec[k] = w[s]
	}
	if len(l.src32) == 0 {
		return
	}
	h := r.halves()
	out := unsafe.Slice((*uint32)(unsafe.Pointer(&rec[len(l.src64)])), 2*(len(rec)-len(l.src64)))
	for j, s := range l.src32 {
		out[j] = h[s]
	}
}

// compactBatch is rows of one partition decoded by one goroutine,
// packed (layout). Its records are in memory, or in a spill file from
// off once the run is over its memory budget (compactDecoder.pack).
type compactBatch struct {
	// strs and maps are the decoder's tables as they were when the
	// batch was cut: the decoder only appends to them, so what the
	// batch's rows point to never changes while it goes on decoding
	// (a reader of the batch may run beside it).
	strs []string
	maps []map[string]string
	tmpl costgate.CodedRow // every field as in the first row
	lay  *layout
	n    int
	data []uint64 // n records of lay.stride words
	// The distinct Tags and x_ maps of the rows, when they vary (MapKeys):
	// listing them while packing saves a pass over every row's record.
	tagIDs, extIDs []uint32
	sp             *collector.Spill
	off            int64
	once           sync.Once // maps spilled records in
}

func (b *compactBatch) Len() int { return b.n }

// load points data at the spilled records (the spill file is mapped
// once the export is read, before any batch is turned into line items).
func (b *compactBatch) load() {
	if b.sp == nil {
		return
	}
	b.once.Do(func() {
		raw := b.sp.Bytes(b.off, int64(b.n*b.lay.stride)*8)
		if len(raw) > 0 {
			b.data = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/8)
		}
	})
}

// AppendTo turns the rows into line items.
func (b *compactBatch) AppendTo(dst []costgate.LineItem) []costgate.LineItem {
	for i := range b.n {
		// Filled on the stack and copied once: one bulk write barrier
		// instead of one per field.
		var item costgate.LineItem
		b.LineItem(i, &item)
		dst = append(dst, item)
	}
	return dst
}

// LineItem sets *li to row i (collector.RowBatch): the store reads a
// partition's compact rows this way, one at a time, and never holds
// them all as line items.
func (b *compactBatch) LineItem(i int, li *costgate.LineItem) {
	var cr costgate.CodedRow
	b.CodedRow(i, &cr)
	*li = costgate.LineItem{Tags: cr.Tags, Extensions: cr.Extensions}
	for s, c := range strSlots {
		if id := cr.IDs[strField[s]]; id != 0 {
			*c.str(li) = b.strs[id]
		}
	}
	for s, c := range timeSlots {
		if v := cr.Times[timeField[s]]; v != nullTime {
			*c.tm(li) = time.Unix(0, v).UTC()
		}
	}
	for s, c := range moneySlots {
		*c.money(li) = costgate.Money(cr.Amounts[moneyField[s]])
	}
	for s, c := range qtySlots {
		*c.qty(li) = costgate.Quantity(cr.Amounts[qtyField[s]])
	}
}

// CodedRow sets *cr to row i with the string fields as ids into the
// batch's string table (collector.CodedRowBatch): the store codes each
// distinct value once instead of once a row, and reads the times and
// amounts as they are.
func (b *compactBatch) CodedRow(i int, cr *costgate.CodedRow) []string {
	b.load()
	*cr = b.tmpl
	l := b.lay
	if l.stride == 0 {
		return b.strs
	}
	rec := b.data[i*l.stride : (i+1)*l.stride]
	for _, f := range l.times {
		cr.Times[f.dst] = int64(rec[f.rec])
	}
	for _, f := range l.amounts {
		cr.Amounts[f.dst] = int64(rec[f.rec])
	}
	h := unsafe.Slice((*uint32)(unsafe.Pointer(&rec[0])), 2*len(rec))
	for _, f := range l.ids {
		cr.IDs[f.dst] = h[f.rec]
	}
	if l.tags >= 0 {
		cr.Tags, cr.TagsID = b.maps[h[l.tags]], h[l.tags]
	}
	if l.ext >= 0 {
		cr.Extensions = b.maps[h[l.ext]]
	}
	return b.strs
}

// MapKeys lists the keys of the Tags and x_ column maps the rows use:
// the maps in the template when every row has the same, else the distinct
// maps pack listed.
func (b *compactBatch) MapKeys() (tags, extensions []string) {
	each := func(m map[string]string, pos int, ids []uint32) (keys []string) {
		if pos < 0 {
			for k := range m {
				keys = append(keys, k)
			}
			return keys
		}
		for _, id := range ids {
			for k := range b.maps[id] {
				keys = append(keys, k)
			}
		}
		return keys
	}
	return each(b.tmpl.Tags, b.lay.tags, b.tagIDs), each(b.tmpl.Extensions, b.lay.ext, b.extIDs)
}

// template returns r as a CodedRow.
func template(r *compactRow, maps []map[string]string) costgate.CodedRow {
	// A Tags map's id is its index in the decoder's tables, whose strs
	// the rows return as their table (costgate.CodedRow.TagsID).
	cr := costgate.CodedRow{Tags: maps[r.tags], TagsID: r.tags, Extensions: maps[r.ext]}
	for s, f := range strField {
		cr.IDs[f] = r.str[s]
	}
	for k := range cr.Times {
		cr.Times[k] = costgate.NullTime
	}
	for s, f := range timeField {
		cr.Times[f] = r.times[s]
	}
	for s, f := range moneyField {
		cr.Amounts[f] = r.money[s]
	}
	for s, f := range qtyField {
		cr.Amounts[f] = r.qty[s]
	}
	return cr
}

// groupKey is a partition within one block.
type groupKey struct {
	acct  uint32
	month costgate.Month
}

// compactBlock decodes one block into one batch per partition. Rows are
// decoded into the goroutine's scratch space and packed into
// exact-sized batches: what waits in memory for the partitions to be
// written is no bigger than it must be.
func compactBlock(name string, header []string, dec *compactDecoder, blk tabular.Block) (batches []partBatch, n int, err error) {
	c := tabular.NewCSVBlock(name, blk, header)
	rows := dec.scratch[:0]
	if cap(rows) < blk.Lines+1 {
		rows = make([]compactRow, 0, blk.Lines+1)
	}
	dec.startBlock()
	for c.Next() {
		if len(rows) == cap(rows) {
			rows = append(rows, compactRow{})[:len(rows)]
		}
		rows = rows[:len(rows)+1]
		dec.row = int32(len(rows) - 1)
		if err := dec.decode(c, &rows[len(rows)-1]); err != nil {
			return nil, 0, err
		}
	}
	dec.scratch = rows
	if err := c.Err(); err != nil {
		return nil, 0, err
	}
	dec.internBig(rows)
	if batches, err = groupCompact(dec, rows); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return batches, len(rows), nil
}

// bigSet is the number of values past which a string column is interned
// a block at a time: its set (16 bytes a value at most half full, and
// the strings themselves) no longer stays in the core's caches, so
// nearly every lookup waits for memory.
var bigSet = 4096

// bigInterned counts the values internBig interned (tests check the path
// was taken).
var bigInterned atomic.Int64

// internChunk is how many values internBig looks ahead: their slots and
// strings are loaded before they are needed, so that the waits for
// memory overlap instead of coming one after the other.
const internChunk = 64

// startBlock empties the pending values and marks the columns that are
// big now; a column turns big between blocks, never within one.
func (d *compactDecoder) startBlock() {
	d.inBlock = true
	clear(d.last) // slices of the last block, whose buffer is reused
	for i, c := range d.cols {
		if c == nil || c.kind != kString {
			continue
		}
		// BillingAccountId stays row by row: decode checks it is set and
		// groupCompact files rows by it.
		d.big[i] = d.t.sets[i].n >= bigSet && d.slot[i] != acctSlot
		p := &d.pend[i]
		clear(p.vals) // drop references to the last block's data
		p.rows, p.vals = p.rows[:0], p.vals[:0]
	}
}

// internBig interns the pending values of the big columns into rows.
// It is the same lookup as decode's, done column by column: for each
// chunk of values it first hashes them and touches the slot each hash
// lands on and the string that slot points to, then looks them up. On
// 10M FOCUS rows, where the resource id and name columns hold 54,000
// values each, interning those two row by row took 2.6 s of CPU (1.7 s
// waiting on the slot loads); a block at a time, in passes, 1.2 s
// (CPU profiles of collect). BenchmarkCompactBlocks, whose sets stay in
// the caches, shows no difference either way.
func (d *compactDecoder) internBig(rows []compactRow) {
	t := d.t
	for i, big := range d.big {
		if !big {
			continue
		}
		p := &d.pend[i]
		slot := d.slot[i]
		set := &t.sets[i]
		bigInterned.Add(int64(len(p.vals)))
		if !set.slow { // only with bigSet below smallSet (tests)
			for k, v := range p.vals {
				rows[p.rows[k]].str[slot] = t.str(i, v)
			}
			continue
		}
		p.hash = slices.Grow(p.hash[:0], len(p.vals))[:len(p.vals)]
		var words [internChunk]uint64
		for lo := 0; lo < len(p.vals); lo += internChunk {
			hi := min(lo+internChunk, len(p.vals))
			hs, vals, ws := p.hash[lo:hi], p.vals[lo:hi], words[:hi-lo]
			// Each pass only loads what the one before found, so that a
			// pass's loads are independent of one another and the core
			// has many in flight: hashes, then slots, then the string
			// headers, then the strings' first bytes.
			for k, v := range vals {
				hs[k] = maphash.Bytes(internSeed, v)
			}
			mask := uint64(len(set.slots) - 1)
			for k, h := range hs {
				ws[k] = set.slots[h&mask]
			}
			var touch uint64
			for k, w := range ws {
				if w>>32 == hs[k]>>32 && w != 0 {
					touch += uint64(len(t.strs[uint32(w)]))
				}
			}
			for k, w := range ws {
				if w>>32 == hs[k]>>32 && w != 0 {
					if v := t.strs[uint32(w)]; len(v) > 0 {
						touch += uint64(v[0])
					}
				}
			}
			d.touched += touch
			for k, v := range vals {
				rows[p.rows[lo+k]].str[slot] = t.strHashed(i, v, hs[k])
			}
		}
	}
}

// groupCompact packs rows into one batch per partition, in order of
// first appearance; rows can be reused after. A row's partition is
// worked out once: rows mostly follow one another in runs of one
// account and billing period, so the key is only looked up when the raw
// account id or period start changes.
func groupCompact(dec *compactDecoder, rows []compactRow) (batches []partBatch, err error) {
	if len(rows) == 0 {
		return nil, nil
	}
	group := dec.group[:0]
	index := map[groupKey]int32{}
	var order []groupKey
	var counts []int32
	lastAcct, lastStart, g := uint32(0), int64(nullTime), int32(-1)
	for i := range rows {
		r := &rows[i]
		if acct, start := r.str[acctSlot], r.times[bpsSlot]; g < 0 || acct != lastAcct || start != lastStart {
			k := groupKey{acct, costgate.MonthOf(time.Unix(0, start))}
			var ok bool
			if g, ok = index[k]; !ok {
				g = int32(len(order))
				index[k] = g
				order = append(order, k)
				counts = append(counts, 0)
			}
			lastAcct, lastStart = acct, start
		}
		group = append(group, g)
		counts[g]++
	}
	dec.group = group
	// The rows of each group in file order (a counting sort), so that each
	// group is packed from one list.
	starts := make([]int32, len(order)+1)
	for g, c := range counts {
		starts[g+1] = starts[g] + c
	}
	next := slices.Clone(starts[:len(order)])
	perm := slices.Grow(dec.perm[:0], len(rows))[:len(rows)]
	for i, g := range group {
		perm[next[g]] = int32(i)
		next[g]++
	}
	dec.perm = perm
	for g, k := range order {
		b, err := dec.pack(rows, perm[starts[g]:starts[g+1]])
		if err != nil {
			return nil, err
		}
		batches = append(batches, partBatch{account: dec.t.strs[k.acct], period: k.month, batch: b})
	}
	return batches, nil
}

// mapsOf lists the distinct nonzero map ids id gives for the rows at idx.
func (d *compactDecoder) mapsOf(rows []compactRow, idx []int32, id func(*compactRow) uint32) (ids []uint32) {
	if n := len(d.t.maps); len(d.stamp) < n {
		d.stamp = append(d.stamp, make([]uint32, n-len(d.stamp))...)
	}
	d.gen++
	if d.gen == 0 {
		clear(d.stamp)
		d.gen = 1
	}
	for _, i := range idx {
		if m := id(&rows[i]); m != 0 && d.stamp[m] != d.gen {
			d.stamp[m] = d.gen
			ids = append(ids, m)
		}
	}
	return ids
}

// pack packs the rows at idx into a batch. When the run's memory budget
// (collector.SpillEnv) has no room for the batch, its records go to the
// export's spill file from a reused buffer: a spilled batch never takes
// fresh heap, whose page faults cost more than the write (a 10M-row
// collect faulted in 2.7 GB for batches that were then spilled and
// dropped).
func (d *compactDecoder) pack(rows []compactRow, idx []int32) (*compactBatch, error) {
	first := &rows[idx[0]]
	fw := first.words()
	var diff [rowWords]uint64
	for _, i := range idx[1:] {
		w := rows[i].words()
		for k := range diff {
			diff[k] |= w[k] ^ fw[k]
		}
	}
	var vary [rowMaskLen]uint64
	for k, x := range diff {
		if uint32(x) != 0 {
			vary[(2*k)/64] |= 1 << ((2 * k) % 64)
		}
		if x>>32 != 0 {
			vary[(2*k+1)/64] |= 1 << ((2*k + 1) % 64)
		}
	}
	l := d.layoutOf(vary)
	b := &compactBatch{strs: d.t.strs, maps: d.t.maps, tmpl: template(first, d.t.maps), lay: l, n: len(idx)}
	if l.tags >= 0 {
		b.tagIDs = d.mapsOf(rows, idx, func(r *compactRow) uint32 { return r.tags })
	}
	if l.ext >= 0 {
		b.extIDs = d.mapsOf(rows, idx, func(r *compactRow) uint32 { return r.ext })
	}
	words := len(idx) * l.stride
	if words == 0 {
		return b, nil
	}
	held := d.rows == nil || d.rows.Hold(int64(words)*8)
	var data []uint64
	if held {
		data = make([]uint64, words)
	} else {
		data = slices.Grow(d.spill[:0], words)[:words]
		d.spill = data
	}
	for k, i := range idx {
		l.pack(&rows[i], data[k*l.stride:(k+1)*l.stride])
	}
	if held {
		b.data = data
		return b, nil
	}
	sp, err := d.rows.Spill()
	if err != nil {
		return nil, err
	}
	if b.off, err = sp.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), words*8)); err != nil {
		return nil, err
	}
	b.sp = sp
	return b, nil
}

type partBatch struct {
	account string
	period  costgate.Month
	batch   collector.Batch
}
