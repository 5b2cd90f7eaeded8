package focus

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
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
	// strIDs holds, per file column, the ids of the strings seen in it:
	// one small map per column keeps the lookups of its few values in
	// cache, where one map of every column's strings did not (a column
	// of resource ids can hold millions). A string in two columns has
	// two ids; ids are only ever turned back into strings.
	strIDs []map[string]uint32
	maps   []map[string]string // maps[0] is nil
	mapIDs map[string]uint32   // raw text of a Tags object or x_ values -> id
	xKey   []byte
}

func newTables(columns int) *tables {
	return &tables{strs: []string{""}, strIDs: make([]map[string]uint32, columns), maps: []map[string]string{nil}, mapIDs: map[string]uint32{}}
}

// str returns the id of b, a value of file column col.
func (t *tables) str(col int, b []byte) uint32 {
	ids := t.strIDs[col]
	if id, ok := ids[string(b)]; ok {
		return id
	}
	if ids == nil {
		ids = map[string]uint32{}
		t.strIDs[col] = ids
	}
	s := string(b)
	id := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	ids[s] = id
	return id
}

// compactDecoder decodes records into compact rows.
type compactDecoder struct {
	*decoder
	t       *tables
	scratch []compactRow // a block's rows, reused: batches get exact-sized copies
	group   []int32      // a block's rows' partitions (groupCompact), reused
	last    [][]byte     // per file column: last string bytes
	lastID  []uint32
	slot    []int // per file column: its slot among its kind's (slotOf)
}

func newCompactDecoder(d *decoder) *compactDecoder {
	cd := &compactDecoder{decoder: d, t: newTables(len(d.cols)), last: make([][]byte, len(d.cols)), lastID: make([]uint32, len(d.cols)), slot: make([]int, len(d.cols))}
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
		b := rec.Field(i)
		if tabular.IsNull(b) {
			continue
		}
		switch c.kind {
		case kString:
			if d.last[i] != nil && bytes.Equal(b, d.last[i]) {
				r.str[d.slot[i]] = d.lastID[i]
				continue
			}
			id := d.t.str(i, b)
			d.last[i] = append(d.last[i][:0], b...)
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
			id, ok := d.t.mapIDs[string(b)]
			if !ok {
				m, err := tabular.ParseTags(b)
				if err != nil {
					return d.fail(rec, i, err)
				}
				id = uint32(len(d.t.maps))
				d.t.maps = append(d.t.maps, m)
				d.t.mapIDs[string(b)] = id
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

// compactBatch is rows of one partition decoded by one goroutine. Its
// rows are in memory, or in a spill file from off once the run is over
// its memory budget (spillIfOver).
type compactBatch struct {
	// strs and maps are the decoder's tables as they were when the
	// batch was cut: the decoder only appends to them, so what the
	// batch's rows point to never changes while it goes on decoding
	// (a reader of the batch may run beside it).
	strs []string
	maps []map[string]string
	rows []compactRow
	sp   *collector.Spill
	off  int64
	n    int
	once sync.Once // maps spilled rows in
}

func (b *compactBatch) Len() int {
	if b.sp != nil {
		return b.n
	}
	return len(b.rows)
}

// load points rows at the spilled rows (the spill file is mapped once
// the export is read, before any batch is turned into line items).
func (b *compactBatch) load() {
	if b.sp == nil {
		return
	}
	b.once.Do(func() {
		raw := b.sp.Bytes(b.off, int64(b.n)*int64(unsafe.Sizeof(compactRow{})))
		b.rows = unsafe.Slice((*compactRow)(unsafe.Pointer(unsafe.SliceData(raw))), b.n)
	})
}

// spillIfOver writes a compact batch's rows to the export's spill file
// when the run's memory budget (collector.SpillEnv) has no room for them.
// The rows are pointer-free, so their bytes are the rows.
func spillIfOver(rows *collector.Rows, batch collector.Batch) error {
	b, ok := batch.(*compactBatch)
	if !ok || len(b.rows) == 0 {
		return nil
	}
	size := int64(len(b.rows)) * int64(unsafe.Sizeof(compactRow{}))
	if rows.Hold(size) {
		return nil
	}
	sp, err := rows.Spill()
	if err != nil {
		return err
	}
	off, err := sp.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b.rows))), size))
	if err != nil {
		return err
	}
	b.sp, b.off, b.n, b.rows = sp, off, len(b.rows), nil
	return nil
}

// AppendTo turns the rows into line items.
func (b *compactBatch) AppendTo(dst []costgate.LineItem) []costgate.LineItem {
	b.load()
	for i := range b.rows {
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
	b.load()
	r := &b.rows[i]
	*li = costgate.LineItem{}
	for s, c := range strSlots {
		if id := r.str[s]; id != 0 {
			*c.str(li) = b.strs[id]
		}
	}
	b.setNonStrings(r, li)
}

// CodedRow sets *cr to row i with the string fields as ids into the
// batch's string table (collector.CodedRowBatch): the store codes each
// distinct value once instead of once a row, and reads the times and
// amounts as they are.
func (b *compactBatch) CodedRow(i int, cr *costgate.CodedRow) []string {
	b.load()
	r := &b.rows[i]
	*cr = costgate.CodedRow{Tags: b.maps[r.tags], Extensions: b.maps[r.ext]}
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
	return b.strs
}

// setNonStrings sets li's times, amounts, quantities and maps from r.
func (b *compactBatch) setNonStrings(r *compactRow, li *costgate.LineItem) {
	for s, c := range timeSlots {
		if v := r.times[s]; v != nullTime {
			*c.tm(li) = time.Unix(0, v).UTC()
		}
	}
	for s, c := range moneySlots {
		*c.money(li) = costgate.Money(r.money[s])
	}
	for s, c := range qtySlots {
		*c.qty(li) = costgate.Quantity(r.qty[s])
	}
	li.Tags = b.maps[r.tags]
	li.Extensions = b.maps[r.ext]
}

// MapKeys lists the keys of the Tags and x_ column maps the rows use.
// Map ids index the batch's table of maps, so a bit per id marks the maps
// already listed.
func (b *compactBatch) MapKeys() (tags, extensions []string) {
	b.load()
	// Tags and x_ maps share the table (their texts never collide), so one
	// set of bits serves both.
	seen := make([]uint64, len(b.maps)/64+1)
	first := func(id uint32) bool {
		if id == 0 || seen[id/64]&(1<<(id%64)) != 0 {
			return false
		}
		seen[id/64] |= 1 << (id % 64)
		return true
	}
	for i := range b.rows {
		r := &b.rows[i]
		if first(r.tags) {
			for k := range b.maps[r.tags] {
				tags = append(tags, k)
			}
		}
		if first(r.ext) {
			for k := range b.maps[r.ext] {
				extensions = append(extensions, k)
			}
		}
	}
	return tags, extensions
}

// groupKey is a partition within one block.
type groupKey struct {
	acct  uint32
	month costgate.Month
}

// compactBlock decodes one block into one batch per partition. Rows are
// decoded into the goroutine's scratch space and copied (no pointers, so
// a plain memmove) into exact-sized batches: what waits in memory for the
// partitions to be written is no bigger than it must be.
func compactBlock(name string, header []string, dec *compactDecoder, blk tabular.Block) (batches []partBatch, n int, err error) {
	c := tabular.NewCSVBlock(name, blk, header)
	rows := dec.scratch[:0]
	if cap(rows) < blk.Lines+1 {
		rows = make([]compactRow, 0, blk.Lines+1)
	}
	for c.Next() {
		if len(rows) == cap(rows) {
			rows = append(rows, compactRow{})[:len(rows)]
		}
		rows = rows[:len(rows)+1]
		if err := dec.decode(c, &rows[len(rows)-1]); err != nil {
			return nil, 0, err
		}
	}
	dec.scratch = rows
	if err := c.Err(); err != nil {
		return nil, 0, err
	}
	return groupCompact(dec, rows), len(rows), nil
}

// groupCompact copies rows into one exact-sized batch per partition, in
// order of first appearance; rows can be reused after. A row's partition
// is worked out once: rows mostly follow one another in runs of one
// account and billing period, so the key is only looked up when the raw
// account id or period start changes.
func groupCompact(dec *compactDecoder, rows []compactRow) (batches []partBatch) {
	if len(rows) == 0 {
		return nil
	}
	group := dec.group[:0]
	index := map[groupKey]int32{}
	var order []groupKey
	var counts []int
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
	groups := make([]*compactBatch, len(order))
	for g := range order {
		groups[g] = &compactBatch{strs: dec.t.strs, maps: dec.t.maps, rows: make([]compactRow, 0, counts[g])}
	}
	for i, g := range group {
		b := groups[g]
		b.rows = append(b.rows, rows[i])
	}
	for g, k := range order {
		batches = append(batches, partBatch{account: dec.t.strs[k.acct], period: k.month, batch: groups[g]})
	}
	return batches
}

type partBatch struct {
	account string
	period  costgate.Month
	batch   collector.Batch
}
