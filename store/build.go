package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/costgate/costgate"
)

// A table is built whole from column specs: strings are dictionary coded
// (dictionaries sorted, so code order is string order), rows are sorted by
// the spec's sort columns, every indexed column gets one roaring bitmap per
// value built from sorted row runs or dense scratch words, and BSI money
// columns get their bit planes. No per-row inserts into bitmaps.

// nullInt marks a null int column value (a zero time.Time).
const nullInt = math.MinInt64

// maxSegmentRows bounds a segment: row ids are 32-bit.
const maxSegmentRows = math.MaxUint32 - 1

// colSpec names a column and how it is indexed.
type colSpec struct {
	name    string
	indexed bool // dictionary columns: a bitmap per value
	bsi     bool // money columns: bit-sliced index
}

// rowBuf receives one row's values from tableSpec.extract.
type rowBuf struct {
	strs    []string
	present []bool // false on entry for every string column
	ints    []int64
	money   []int64
	li      *costgate.LineItem // a row source's scratch line item
	coded   *costgate.CodedRow // a coded source's scratch row
	// table and ids: when extract sets table, the first len(ids) string
	// columns came coded, ids[j] being column j's value's index in table
	// (0: null), instead of in strs. extract sets table on every row of a
	// table or on none.
	table []string
	ids   []uint32

	// Tag columns (tableSpec.tagCols) coded per Tags map: a map's values
	// are looked up and coded once per chunk, for every row that shares
	// the map (a parser's interned tags, one resource's rows). extract
	// sets tagHit to the cached codes of the row's map, or, when they are
	// not cached yet, tagMap to the map or tagNewID (the row's tagsID
	// into table names it); the chunk loop caches its codes.
	tagCodes *mapOffsets // map -> offset in tagFlat
	tagIDs   idOffsets   // (table, TagsID) -> offset in tagFlat
	tagFlat  []uint32
	tagHit   []uint32
	tagMap   unsafe.Pointer
	tagsID   uint32 // a coded row's TagsID
	tagNewID bool
	tagMaps  int // maps cached, by either key
}

// maxTagsID bounds the TagsIDs cached by id: a chunk's array of a table's
// ids takes four bytes an id up to the largest seen. Rows with larger ids
// are cached by their map's address instead.
const maxTagsID = 1 << 20

// idOffsets maps a coded source's (table, TagsID) to an offset + 1 (0:
// none): per table, by its address, an array indexed by the id. An id
// names a map without the map being read, and an array costs one load
// where a hash table of addresses cost a cache miss a row.
type idOffsets struct {
	tabs []*string
	offs [][]uint32
	last int
}

func (x *idOffsets) table(t []string) int {
	p := unsafe.SliceData(t)
	if x.last < len(x.tabs) && x.tabs[x.last] == p {
		return x.last
	}
	i := slices.Index(x.tabs, p)
	if i < 0 {
		i = len(x.tabs)
		x.tabs, x.offs = append(x.tabs, p), append(x.offs, nil)
	}
	x.last = i
	return i
}

func (x *idOffsets) get(t []string, id uint32) (uint32, bool) {
	o := x.offs[x.table(t)]
	if int(id) < len(o) && o[id] != 0 {
		return o[id] - 1, true
	}
	return 0, false
}

func (x *idOffsets) put(t []string, id uint32, off uint32) {
	i := x.table(t)
	o := x.offs[i]
	if int(id) >= len(o) {
		o = slices.Grow(o, int(id)+1-len(o))[:int(id)+1]
		x.offs[i] = o
	}
	o[id] = off + 1
}

// maxTagMaps bounds the Tags maps a chunk caches: rows that each bring a
// map of their own (a converter building tags per row) fill it, and the
// rows after it read their maps uncached.
var maxTagMaps = 1 << 16

// mapOffsets maps the identity of a Tags map to an offset: an open
// addressing table probed linearly from a multiplicative hash of the
// address, one cache line a lookup. A chunk looks up the map of each of
// its rows here (tens of thousands of maps, most rows hits): Go's map
// cost 42 ns a lookup in bench/store's 10M-row ingest, 6% of its CPU.
// The keys are pointers, so the maps stay alive while they are cached.
type mapOffsets struct {
	slots []mapSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

type mapSlot struct {
	p   unsafe.Pointer
	off uint32
}

func newMapOffsets() *mapOffsets {
	const size = 1 << 10
	return &mapOffsets{slots: make([]mapSlot, size), shift: 64 - 10}
}

func (m *mapOffsets) home(p unsafe.Pointer) int {
	return int((uint64(uintptr(p)) >> 3 * 0x9e3779b97f4a7c15) >> m.shift)
}

func (m *mapOffsets) get(p unsafe.Pointer) (uint32, bool) {
	mask := len(m.slots) - 1
	for i := m.home(p); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.p == p {
			return s.off, true
		}
		if s.p == nil {
			return 0, false
		}
	}
}

// put adds p, which get does not find; the table stays at most half full.
func (m *mapOffsets) put(p unsafe.Pointer, off uint32) {
	if 2*(m.n+1) > len(m.slots) {
		old := m.slots
		m.slots = make([]mapSlot, 2*len(old))
		m.shift--
		for _, s := range old {
			if s.p != nil {
				m.insert(s.p, s.off)
			}
		}
	}
	m.insert(p, off)
	m.n++
}

func (m *mapOffsets) insert(p unsafe.Pointer, off uint32) {
	mask := len(m.slots) - 1
	i := m.home(p)
	for m.slots[i].p != nil {
		i = (i + 1) & mask
	}
	m.slots[i] = mapSlot{p, off}
}

// mapIdentity returns the identity of a map (its header's address).
func mapIdentity(m map[string]string) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

// derivedSpec is a dictionary column computed from an int column: the
// UTC day or month of a time.
type derivedSpec struct {
	name string
	from string // int column
	unit string // "day" or "month"
}

// tableSpec describes a batch of rows as columns. Rows are read once, row
// by row, through extract (column-at-a-time reads would stream the whole
// row array through the cache once per column).
type tableSpec struct {
	kind    tableKind
	rows    int
	strs    []colSpec
	ints    []colSpec // nullInt for null
	money   []colSpec
	extract func(i int, r *rowBuf)
	// check, when set, reports a row extract found invalid; the build
	// fails with it before anything is written.
	check   func() error
	derived []derivedSpec
	sortBy  []string // dictionary columns, major first
	// runKeys, a prefix of sortBy, asks for a run index over them
	// (runIndex); nil: none.
	runKeys []string
	timeCol string // int column whose range goes in the footer
	// tagCols are the string columns [lo, lo+n) extract fills from a
	// row's Tags map, cached per map (rowBuf.tagCodes).
	tagCols struct{ lo, n int }
	// maxBitmapValues: an indexed column with more distinct values in a
	// segment is stored without bitmaps (filters scan its codes instead).
	maxBitmapValues int
	workers         int
	// bufs supplies and takes back the build's large buffers (nil:
	// allocate them).
	bufs *bufCache
}

type dictCol struct {
	name    string
	indexed bool
	codes   []uint32
	vals    []string
}

type builtCol struct {
	meta    colMeta
	data    []byte
	dict    []byte
	bitmaps [][]byte
	planes  [][]byte
	runSums []byte       // money: the run index's totals (runSums); nil: none
	lo, hi  int64        // int: the least and greatest value (nullInt: all null)
	total   costgate.Sum // money: the sum of every row
}

type builtTable struct {
	f    footer
	cols []builtCol
	runs *builtRuns // nil: no run index
	// bufs are the scratch buffers the columns' blocks live in, to give
	// back (release) once the segment is written.
	bufs [][]byte
	from *bufCache
}

// release gives the table's scratch buffers back; its blocks are no
// longer valid.
func (t *builtTable) release() {
	for _, b := range t.bufs {
		t.from.put(b)
	}
	t.bufs = nil
}

// builtRuns is a run index ready to be written (runIndex).
type builtRuns struct {
	keys  []string
	codes [][]byte // per key: u32 per run
	ends  []byte   // u32 per run
	sums  []struct {
		name string
		data []byte // i64 per run
	}
}

// build turns a spec into serialized columns ready to be written.
func build(spec *tableSpec) (*builtTable, error) {
	n := spec.rows
	if n > maxSegmentRows {
		return nil, fmt.Errorf("%d rows exceed a segment's limit of %d", n, maxSegmentRows)
	}
	workers := spec.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	// 1. Read the rows once (in row chunks, one per worker), coding
	// strings against per-chunk dictionaries, then merge the dictionaries.
	ints, money, dicts := extractColumns(spec, workers)
	bufs := spec.bufs
	defer func() {
		// The inputs are copied into the columns' blocks by now.
		for _, v := range ints {
			bufs.putI64s(v)
		}
		for _, v := range money {
			bufs.putI64s(v)
		}
		for _, d := range dicts {
			bufs.putU32s(d.codes)
		}
	}()
	if spec.check != nil {
		if err := spec.check(); err != nil {
			return nil, err
		}
	}
	intIdx := map[string]int{}
	for i, c := range spec.ints {
		intIdx[c.name] = i
	}
	for _, d := range spec.derived {
		dicts = append(dicts, encodeTimes(d.name, ints[intIdx[d.from]], d.unit, bufs))
	}

	// 2. Row order.
	byName := map[string]*dictCol{}
	for i := range dicts {
		byName[dicts[i].name] = &dicts[i]
	}
	var keys []*dictCol
	for _, name := range spec.sortBy {
		if d := byName[name]; d != nil && d.codes != nil { // a null column orders nothing
			keys = append(keys, d)
		}
	}
	perm := sortOrder(n, keys, bufs)
	defer bufs.putU32s(perm)
	var ends []uint32
	var runKeys []*dictCol
	if len(spec.runKeys) > 0 {
		for _, name := range spec.runKeys {
			if d := byName[name]; d != nil {
				runKeys = append(runKeys, d)
			}
		}
		if len(runKeys) == len(spec.runKeys) {
			ends = runEnds(runKeys, perm)
		}
	}

	// 3. Serialize every column in row order (parallel).
	t := &builtTable{from: bufs}
	t.f.kind = spec.kind
	t.f.rows = uint64(n)
	t.f.minTime, t.f.maxTime = nullInt, nullInt // set from the time column's build
	t.cols = make([]builtCol, len(dicts)+len(ints)+len(money))
	var errMu sync.Mutex
	var firstErr error
	null := nullCol{bufs: bufs}
	colBufs := make([][]byte, len(t.cols)) // the scratch each column's data block is in
	runKey := map[*dictCol]bool{}
	for _, d := range runKeys {
		runKey[d] = true
	}
	// Each column's input goes back to bufs as soon as it is in row
	// order, for the next column's scratch (or the other build's
	// columns): a build then holds a few columns twice, not all of them.
	// Session 9, collect of 10M FOCUS rows: the nine money columns alone
	// were 104 MB a build held twice.
	parallel(len(t.cols), workers, func(j int) {
		var c builtCol
		var err error
		hasData := true
		switch {
		case j < len(dicts):
			d := &dicts[j]
			// Null and constant columns share their data (null.data,
			// null.ones).
			c, hasData, err = buildDict(d, perm, spec.maxBitmapValues, &null, bufs, !runKey[d])
		case j < len(dicts)+len(ints):
			k := j - len(dicts)
			c = buildInt(spec.ints[k].name, ints[k], perm, bufs)
			if spec.ints[k].name == spec.timeCol {
				t.f.minTime, t.f.maxTime = c.lo, c.hi
			}
			bufs.putI64s(ints[k])
			ints[k] = nil
		default:
			k := j - len(dicts) - len(ints)
			c, err = buildMoney(spec.money[k], money[k], perm, ends, bufs)
			bufs.putI64s(money[k])
			money[k] = nil
		}
		if err != nil {
			errMu.Lock()
			firstErr = cmp.Or(firstErr, err)
			errMu.Unlock()
		}
		t.cols[j] = c
		if hasData {
			colBufs[j] = c.data
		}
	})
	t.bufs = append(colBufs, null.data, null.ones)
	for k, m := range spec.money {
		hi, lo := t.cols[len(dicts)+len(ints)+k].total.Parts()
		t.f.totals = append(t.f.totals, total{name: m.name, sum: [2]uint64{uint64(hi), lo}})
	}
	if firstErr != nil {
		t.release()
		return nil, firstErr
	}
	if ends != nil {
		r := &builtRuns{keys: spec.runKeys, ends: make([]byte, 4*len(ends))}
		for i, e := range ends {
			binary.LittleEndian.PutUint32(r.ends[4*i:], e)
		}
		// Each run's key codes, so that queries read no row for them.
		for _, d := range runKeys {
			b := make([]byte, 4*len(ends))
			start := uint32(0)
			for i, e := range ends {
				if d.codes != nil { // else null: code 0
					binary.LittleEndian.PutUint32(b[4*i:], d.codes[perm[start]])
				}
				start = e
			}
			r.codes = append(r.codes, b)
		}
		for _, c := range t.cols {
			if c.runSums != nil {
				r.sums = append(r.sums, struct {
					name string
					data []byte
				}{c.meta.name, c.runSums})
			}
		}
		t.runs = r
	}
	return t, nil
}

// maxRunShare bounds a run index: with more runs than rows/maxRunShare,
// reading the runs would save too little over reading the rows.
const maxRunShare = 8

// runEnds returns the ends of the runs of equal keys in row order perm
// (the row after each run), or nil when there are too many runs for an
// index to be worth it.
func runEnds(keys []*dictCol, perm []uint32) []uint32 {
	n := len(perm)
	if n == 0 {
		return nil
	}
	var ends []uint32
	for i := 1; i < n; i++ {
		a, b := perm[i-1], perm[i]
		for _, k := range keys {
			if k.codes != nil && k.codes[a] != k.codes[b] {
				ends = append(ends, uint32(i))
				break
			}
		}
		if len(ends)*maxRunShare > n {
			return nil
		}
	}
	ends = append(ends, uint32(n))
	if len(ends)*maxRunShare > n {
		return nil
	}
	return ends
}

// runSums returns the total of sorted (values in row order) per run, as
// little-endian int64s, or nil when a total does not fit an int64; and
// the total of all of sorted.
func runSums(sorted []int64, ends []uint32) (data []byte, all costgate.Sum) {
	data = make([]byte, 8*len(ends))
	start := 0
	for i, e := range ends {
		var s costgate.Sum
		for _, v := range sorted[start:e] {
			s.Add(costgate.Money(v))
		}
		all.AddSum(s)
		if v, ok := s.Money(); ok && data != nil {
			binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
		} else {
			data = nil // a run's total does not fit: no run sums, but go on for all
		}
		start = int(e)
	}
	return data, all
}

// chunkDict codes one string column within one chunk of rows.
type chunkDict struct {
	ids      map[string]uint32
	vals     []string
	last     string
	lastCode uint32
	// hits and tries measure the last-value shortcut; a column whose
	// consecutive rows rarely repeat stops trying it.
	hits, tries int
	// byPtr maps a string's bytes (address, length) to its code: rows
	// that share one string (interned by a parser, or one resource's id
	// on every row) skip hashing it. It is direct-mapped and grows with
	// the dictionary, up to 1<<14 entries.
	byPtr []ptrCode
}

type ptrCode struct {
	p    *byte
	n    int
	code uint32
}

func (d *chunkDict) code(v string) uint32 {
	if d.tries < 1024 || d.hits*8 > d.tries {
		d.tries++
		if d.lastCode != 0 && v == d.last {
			d.hits++
			return d.lastCode
		}
	}
	p := unsafe.StringData(v)
	e := &d.byPtr[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(v)))&uintptr(len(d.byPtr)-1)]
	if e.p == p && e.n == len(v) && e.code != 0 {
		d.last, d.lastCode = v, e.code
		return e.code
	}
	c, ok := d.ids[v]
	if !ok {
		d.vals = append(d.vals, v)
		c = uint32(len(d.vals))
		d.ids[v] = c
		if len(d.vals)*2 > len(d.byPtr) && len(d.byPtr) < 1<<14 {
			d.byPtr = make([]ptrCode, 4*len(d.byPtr))
			e = &d.byPtr[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(v)))&uintptr(len(d.byPtr)-1)]
		}
	}
	*e = ptrCode{p: p, n: len(v), code: c}
	d.last, d.lastCode = v, c
	return c
}

// chunkTables keeps, for one chunk of coded rows, the string tables its
// rows name and which table each row names. The row loop stores raw ids;
// remapCoded then turns them into dictionary codes column by column.
type chunkTables struct {
	tabs  [][]string // the longest view of each table seen
	ptrs  []*string
	tabOf []uint32 // per row of the chunk: its table's index in tabs
	lo    int      // the chunk's first row
}

// add records that row i names table.
func (ct *chunkTables) add(i int, table []string) {
	p := unsafe.SliceData(table)
	t := len(ct.ptrs) - 1
	if t < 0 || ct.ptrs[t] != p {
		t = slices.Index(ct.ptrs, p)
		if t < 0 {
			t = len(ct.ptrs)
			ct.ptrs, ct.tabs = append(ct.ptrs, p), append(ct.tabs, nil)
		}
	}
	if len(table) > len(ct.tabs[t]) {
		ct.tabs[t] = table
	}
	ct.tabOf[i-ct.lo] = uint32(t)
}

// remapCoded turns the raw ids of the coded string columns (cols, each
// nil or n rows) into codes of sorted dictionaries, one column at a
// time on up to workers goroutines, and returns each column's
// dictionary. cts are the chunks' tables (a chunk without coded rows has
// no tabOf). A column's distinct (table, id) pairs get first-seen numbers
// through one array per table, so no value is hashed; the pairs are then
// sorted by their strings (equal strings from different tables or ids
// become one value) and the column renumbered. Per chunk dictionaries
// merged through maps, as before, hashed each distinct value four times
// (a tenth of a partition's build).
func remapCoded(cols [][]uint32, cts []chunkTables, bounds []int, workers int, bufs *bufCache) [][]string {
	// The chunks' tables, numbered once across chunks.
	var tabs [][]string
	var ptrs []*string
	global := make([][]uint32, len(cts)) // per chunk: its table index -> global
	for c := range cts {
		ct := &cts[c]
		global[c] = make([]uint32, len(ct.ptrs))
		for t, p := range ct.ptrs {
			g := slices.Index(ptrs, p)
			if g < 0 {
				g = len(ptrs)
				ptrs, tabs = append(ptrs, p), append(tabs, nil)
			}
			if len(ct.tabs[t]) > len(tabs[g]) {
				tabs[g] = ct.tabs[t]
			}
			global[c][t] = uint32(g)
		}
	}
	type entry struct{ tab, id uint32 }
	vals := make([][]string, len(cols))
	parallel(len(cols), workers, func(j int) {
		col := cols[j]
		if col == nil {
			return
		}
		seen := make([][]uint32, len(tabs)) // per table: id -> first-seen number (0: not seen)
		var distinct []entry
		if len(tabs) == 1 {
			// One table (a source with one string table, or one table
			// per partition): no row needs its table looked up.
			s := bufs.u32s(len(tabs[0]), true)
			seen[0] = s
			for i, id := range col {
				if id == 0 {
					continue
				}
				k := s[id]
				if k == 0 {
					distinct = append(distinct, entry{0, id})
					k = uint32(len(distinct))
					s[id] = k
				}
				col[i] = k
			}
		}
		for c := range cts {
			ct := &cts[c]
			if ct.tabOf == nil || len(tabs) == 1 {
				continue
			}
			g := global[c]
			for i := bounds[c]; i < bounds[c+1]; i++ {
				id := col[i]
				if id == 0 {
					continue
				}
				t := g[ct.tabOf[i-bounds[c]]]
				s := seen[t]
				if s == nil {
					s = bufs.u32s(len(tabs[t]), true)
					seen[t] = s
				}
				k := s[id]
				if k == 0 {
					distinct = append(distinct, entry{t, id})
					k = uint32(len(distinct))
					s[id] = k
				}
				col[i] = k
			}
		}
		for _, s := range seen {
			bufs.putU32s(s)
		}
		type numbered struct {
			s string
			k uint32 // first-seen number - 1
		}
		order := make([]numbered, len(distinct))
		for k, e := range distinct {
			order[k] = numbered{tabs[e.tab][e.id], uint32(k)}
		}
		slices.SortFunc(order, func(a, b numbered) int { return strings.Compare(a.s, b.s) })
		code := make([]uint32, len(distinct)+1) // first-seen number -> code; 0 -> 0
		var v []string
		for _, o := range order {
			if len(v) == 0 || v[len(v)-1] != o.s {
				v = append(v, o.s)
			}
			code[o.k+1] = uint32(len(v))
		}
		for i, k := range col {
			col[i] = code[k]
		}
		vals[j] = v
	})
	return vals
}

// extractColumns reads every row once and returns the int and money
// columns and the dictionary-coded string columns (dictionaries sorted).
func extractColumns(spec *tableSpec, workers int) (ints, money [][]int64, dicts []dictCol) {
	n := spec.rows
	// Every row sets every int and money column: no zeroing needed.
	ints = make([][]int64, len(spec.ints))
	for i := range ints {
		ints[i] = spec.bufs.i64s(n, false)
	}
	money = make([][]int64, len(spec.money))
	for i := range money {
		money[i] = spec.bufs.i64s(n, false)
	}
	// A string column's codes are allocated when a chunk first codes a
	// value in it: a column null on every row (most of FOCUS's optional
	// columns in most exports) costs no pass over the rows.
	codes := make([][]uint32, len(spec.strs))
	var codesMu sync.Mutex
	column := func(j int) []uint32 {
		codesMu.Lock()
		defer codesMu.Unlock()
		if codes[j] == nil {
			codes[j] = spec.bufs.u32s(n, true)
		}
		return codes[j]
	}
	chunks := max(1, min(workers, n/4096))
	bounds := make([]int, chunks+1)
	for c := range bounds {
		bounds[c] = n * c / chunks
	}
	cds := make([][]chunkDict, chunks)
	// A coded source sets rowBuf.table on every row: its first ncoded
	// string columns come as ids into its tables, on every row.
	cts := make([]chunkTables, chunks)
	ncoded := make([]int, chunks)
	parallel(chunks, chunks, func(c int) {
		ds := make([]chunkDict, len(spec.strs))
		for j := range ds {
			// Sized as the last build's (growing a map of thousands of
			// values step by step rehashes it many times), at most a row
			// a value: a small partition after a big one stays small.
			ds[j].ids = make(map[string]uint32, min(spec.bufs.dictHint(spec.strs[j].name), bounds[c+1]-bounds[c]))
			ds[j].byPtr = make([]ptrCode, 16)
		}
		r := rowBuf{
			strs:    make([]string, len(spec.strs)),
			present: make([]bool, len(spec.strs)),
			ints:    make([]int64, len(spec.ints)),
			money:   make([]int64, len(spec.money)),
		}
		if spec.tagCols.n > 0 {
			r.tagCodes = newMapOffsets()
		}
		tagLo, tagN := spec.tagCols.lo, spec.tagCols.n
		ct := &cts[c]
		ct.lo = bounds[c]
		cols := make([][]uint32, len(spec.strs)) // this chunk's view of codes
		for i := bounds[c]; i < bounds[c+1]; i++ {
			clear(r.present)
			r.table, r.tagHit, r.tagMap, r.tagsID, r.tagNewID = nil, nil, nil, 0, false
			spec.extract(i, &r)
			for k, code := range r.tagHit {
				if code != 0 {
					if cols[tagLo+k] == nil {
						cols[tagLo+k] = column(tagLo + k)
					}
					cols[tagLo+k][i] = code
				}
			}
			first := 0
			if r.table != nil {
				if ct.tabOf == nil {
					ct.tabOf = spec.bufs.u32s(bounds[c+1]-bounds[c], false)
				}
				ct.add(i, r.table)
				for j, id := range r.ids {
					if id == 0 || int(id) >= len(r.table) {
						continue // null (an id out of range is reported by extract)
					}
					if cols[j] == nil {
						cols[j] = column(j)
					}
					cols[j][i] = id
				}
				ncoded[c] = len(r.ids)
				first = len(r.ids)
			}
			for j := first; j < len(r.present); j++ {
				if r.present[j] {
					if cols[j] == nil {
						cols[j] = column(j)
					}
					cols[j][i] = ds[j].code(r.strs[j])
				}
			}
			if (r.tagMap != nil || r.tagNewID) && r.tagMaps < maxTagMaps {
				off := uint32(len(r.tagFlat))
				for j := tagLo; j < tagLo+tagN; j++ {
					code := uint32(0)
					if r.present[j] {
						code = cols[j][i]
					}
					r.tagFlat = append(r.tagFlat, code)
				}
				if r.tagNewID {
					r.tagIDs.put(r.table, r.tagsID, off)
				} else {
					r.tagCodes.put(r.tagMap, off)
				}
				r.tagMaps++
			}
			for j, v := range r.ints {
				ints[j][i] = v
			}
			for j, v := range r.money {
				money[j][i] = v
			}
		}
		cds[c] = ds
		for j := range ds {
			if len(ds[j].vals) > 0 { // a coded column's are remapCoded's
				spec.bufs.setDictHint(spec.strs[j].name, len(ds[j].vals))
			}
		}
	})
	// Columns [0, ncoded) hold raw ids into the source's tables.
	nc := slices.Max(ncoded)
	var codedVals [][]string
	if nc > 0 {
		codedVals = remapCoded(codes[:nc], cts, bounds, workers, spec.bufs)
	}
	for c := range cts {
		spec.bufs.putU32s(cts[c].tabOf)
	}
	dicts = make([]dictCol, len(spec.strs))
	parallel(len(spec.strs), workers, func(j int) {
		d := dictCol{name: spec.strs[j].name, indexed: spec.strs[j].indexed, codes: codes[j]}
		if d.codes == nil { // null on every row
			dicts[j] = d
			return
		}
		if j < nc {
			d.vals = codedVals[j] // sorted and coded
			dicts[j] = d
			return
		}
		if chunks == 1 {
			d.vals = cds[0][j].vals
			dicts[j] = sortDict(d)
			return
		}
		// Union of the chunks' values, sorted; then each chunk's codes
		// are renumbered into it.
		size := 0
		for c := range cds {
			size += len(cds[c][j].vals)
		}
		seen := make(map[string]struct{}, size)
		for c := range cds {
			for _, v := range cds[c][j].vals {
				if _, ok := seen[v]; !ok {
					seen[v] = struct{}{}
					d.vals = append(d.vals, v)
				}
			}
		}
		slices.Sort(d.vals)
		pos := make(map[string]uint32, len(d.vals))
		for i, v := range d.vals {
			pos[v] = uint32(i + 1)
		}
		for c := range cds {
			vals := cds[c][j].vals
			remap := make([]uint32, len(vals)+1)
			for i, v := range vals {
				remap[i+1] = pos[v]
			}
			for i := bounds[c]; i < bounds[c+1]; i++ {
				d.codes[i] = remap[d.codes[i]]
			}
		}
		dicts[j] = d
	})
	return ints, money, dicts
}

// parallel runs fn(0..n-1) on up to workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= n {
					return
				}
				fn(j)
			}
		}()
	}
	wg.Wait()
}

func sortDict(d dictCol) dictCol {
	if slices.IsSorted(d.vals) {
		return d
	}
	order := make([]uint32, len(d.vals))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return cmp.Compare(d.vals[a], d.vals[b]) })
	remap := make([]uint32, len(d.vals)+1)
	sorted := make([]string, len(d.vals))
	for newIdx, old := range order {
		remap[old+1] = uint32(newIdx + 1)
		sorted[newIdx] = d.vals[old]
	}
	for i, c := range d.codes {
		d.codes[i] = remap[c]
	}
	d.vals = sorted
	return d
}

const nanosPerDay = int64(24 * time.Hour)

// encodeTimes codes the UTC day ("2026-10-01") or month ("2026-10") of
// unix-nano times; such strings sort in time order.
func encodeTimes(name string, v []int64, unit string, bufs *bufCache) dictCol {
	bucket := func(x int64) int64 {
		if unit == "month" {
			t := time.Unix(0, x).UTC()
			return int64(t.Year())*12 + int64(t.Month()) - 1
		}
		return floorDiv(x, nanosPerDay)
	}
	format := func(b int64) string {
		if unit == "month" {
			return costgate.Month{Year: int(b / 12), Month: time.Month(b%12 + 1)}.String()
		}
		return time.Unix(b*86400, 0).UTC().Format(time.DateOnly)
	}
	codes := bufs.u32s(len(v), true)
	ids := map[int64]uint32{}
	var buckets []int64
	var lastB int64
	var lastC uint32
	var lastX int64 = nullInt
	for i, x := range v {
		if x == nullInt {
			continue
		}
		if lastC != 0 && x == lastX {
			codes[i] = lastC
			continue
		}
		b := bucket(x)
		c := lastC
		if lastC == 0 || b != lastB {
			var ok bool
			if c, ok = ids[b]; !ok {
				buckets = append(buckets, b)
				c = uint32(len(buckets))
				ids[b] = c
			}
		}
		codes[i] = c
		lastX, lastB, lastC = x, b, c
	}
	vals := make([]string, len(buckets))
	for i, b := range buckets {
		vals[i] = format(b)
	}
	return sortDict(dictCol{name: name, indexed: true, codes: codes, vals: vals})
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// sortOrder returns the row permutation that sorts rows by the key
// columns' codes (then by original position). Keys are packed with the
// row index into one uint64 and radix sorted when they fit.
func sortOrder(n int, keys []*dictCol, bufs *bufCache) []uint32 {
	perm := bufs.u32s(n, false)
	idxBits := bits.Len(uint(n))
	total := idxBits
	widths := make([]int, len(keys))
	for i, k := range keys {
		widths[i] = bits.Len(uint(len(k.vals)))
		total += widths[i]
	}
	if total > 64 {
		for i := range perm {
			perm[i] = uint32(i)
		}
		slices.SortStableFunc(perm, func(a, b uint32) int {
			for _, k := range keys {
				if c := cmp.Compare(k.codes[a], k.codes[b]); c != 0 {
					return c
				}
			}
			return 0
		})
		return perm
	}
	packed := bufs.u64s(n, false)
	defer bufs.putU64s(packed)
	for i := range packed {
		var key uint64
		for j, k := range keys {
			key = key<<widths[j] | uint64(k.codes[i])
		}
		packed[i] = key<<idxBits | uint64(i)
	}
	radixSort(packed, total, bufs)
	mask := uint64(1)<<idxBits - 1
	for i, p := range packed {
		perm[i] = uint32(p & mask)
	}
	return perm
}

// radixSort sorts v by its low bits bits, least significant byte first.
func radixSort(v []uint64, nbits int, bufs *bufCache) {
	if len(v) < 256 {
		slices.Sort(v)
		return
	}
	tmp := bufs.u64s(len(v), false)
	defer bufs.putU64s(tmp)
	src, dst := v, tmp
	// Digits of 11 bits: the 40-odd bits of a line-item sort key take four
	// passes instead of six, and 2048 counters still fit the L1 cache.
	const digit = 11
	const buckets = 1 << digit
	var count [buckets + 1]int
	for shift := 0; shift < nbits; shift += digit {
		clear(count[:])
		for _, x := range src {
			count[(x>>shift)&(buckets-1)+1]++
		}
		if count[1] == len(src) {
			continue // every value has this digit zero
		}
		for i := 1; i <= buckets; i++ {
			count[i] += count[i-1]
		}
		for _, x := range src {
			b := (x >> shift) & (buckets - 1)
			dst[count[b]] = x
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &v[0] {
		copy(v, src)
	}
}

func codeWidth(dictLen int) uint8 {
	switch {
	case dictLen < 1<<8:
		return 1
	case dictLen < 1<<16:
		return 2
	}
	return 4
}

// buildDict builds d's column in row order perm. With release, d's codes
// go back to bufs once they are copied in that order (d.codes is then
// nil). owned is false when the column's data block is null's (a column
// null on every row, or one value on every row).
func buildDict(d *dictCol, perm []uint32, maxBitmapValues int, null *nullCol, bufs *bufCache, release bool) (c builtCol, owned bool, err error) {
	n := len(perm)
	w := codeWidth(len(d.vals))
	if d.codes == nil {
		// Null on every row: code 0 everywhere, one bitmap of every row.
		c := builtCol{meta: colMeta{name: d.name, typ: colDict, width: w, scale: 1}}
		data, bm, err := null.get(n)
		if err != nil {
			return c, false, fmt.Errorf("column %s: %w", d.name, err)
		}
		c.data, c.dict = data, packDict(nil)
		if d.indexed {
			c.meta.flags |= flagIndexed
			c.bitmaps = [][]byte{bm}
		}
		return c, false, nil
	}
	c = builtCol{meta: colMeta{name: d.name, typ: colDict, width: w, scale: 1, dictLen: uint32(len(d.vals))}}
	c.dict = packDict(d.vals)
	indexed := d.indexed && (maxBitmapValues <= 0 || len(d.vals) <= maxBitmapValues)
	if len(d.vals) == 1 && allEqual(d.codes, 1) {
		// One value on every row (the billing account, the provider, the
		// currency of a partition): the blocks codeBitmaps and packCodes
		// would make, without a pass over the rows in their order.
		data, empty, all, err := null.constant(n)
		if err != nil {
			return c, false, fmt.Errorf("column %s: %w", d.name, err)
		}
		if release {
			bufs.putU32s(d.codes)
			d.codes = nil
		}
		c.data = data
		if indexed {
			c.meta.flags |= flagIndexed
			c.bitmaps = [][]byte{empty, all}
		}
		return c, false, nil
	}
	sorted := bufs.u32s(n, false)
	defer bufs.putU32s(sorted)
	for i, p := range perm {
		sorted[i] = d.codes[p]
	}
	if release {
		bufs.putU32s(d.codes)
		d.codes = nil
	}
	c.data = packCodes(sorted, w, bufs)
	if indexed {
		c.meta.flags |= flagIndexed
		c.bitmaps = codeBitmaps(sorted, len(d.vals), bufs)
	}
	return c, true, nil
}

// allEqual reports whether every element of v is x.
func allEqual(v []uint32, x uint32) bool {
	for _, y := range v {
		if y != x {
			return false
		}
	}
	return true
}

// nullCol is what the null and the constant dictionary columns of a
// table share, each made once: n zero codes and the serialized bitmap of
// every row; n one codes (one byte each: a dictionary of one value) and
// the serialized empty bitmap.
type nullCol struct {
	bufs *bufCache
	once sync.Once
	data []byte
	bm   []byte
	err  error

	onesOnce sync.Once
	ones     []byte
	empty    []byte
	onesErr  error
}

func (nc *nullCol) get(n int) (data, bm []byte, err error) {
	nc.once.Do(func() {
		nc.data = nc.bufs.bytes(n, true)
		all := roaring.New()
		all.AddRange(0, uint64(n))
		nc.bm, nc.err = bitmapBytes(all)
	})
	return nc.data, nc.bm, nc.err
}

// constant returns the blocks of a column whose rows all hold code 1:
// its data, code 0's bitmap (empty) and code 1's (every row).
func (nc *nullCol) constant(n int) (data, empty, all []byte, err error) {
	if _, all, err = nc.get(n); err != nil {
		return nil, nil, nil, err
	}
	nc.onesOnce.Do(func() {
		nc.ones = nc.bufs.bytes(n, false)
		for i := range nc.ones {
			nc.ones[i] = 1
		}
		nc.empty, nc.onesErr = bitmapBytes(roaring.New())
	})
	return nc.ones, nc.empty, all, nc.onesErr
}

func packCodes(codes []uint32, w uint8, bufs *bufCache) []byte {
	b := bufs.bytes(len(codes)*int(w), false)
	switch w {
	case 1:
		for i, c := range codes {
			b[i] = byte(c)
		}
	case 2:
		for i, c := range codes {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(c))
		}
	default:
		for i, c := range codes {
			binary.LittleEndian.PutUint32(b[4*i:], c)
		}
	}
	return b
}

// packDict lays a dictionary out as len+1 u32 offsets then the bytes.
func packDict(vals []string) []byte {
	size := 4 * (len(vals) + 1)
	for _, v := range vals {
		size += len(v)
	}
	b := make([]byte, 4*(len(vals)+1), size)
	off := uint32(0)
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], off)
		off += uint32(len(v))
	}
	binary.LittleEndian.PutUint32(b[4*len(vals):], off)
	for _, v := range vals {
		b = append(b, v...)
	}
	return b
}

// codeBitmaps builds one serialized bitmap per code 0..dictLen from rows
// already in final order: a counting sort gives each code's rows in
// ascending order, and each list is serialized as a bitmap
// (sortedBitmapBytes).
func codeBitmaps(codes []uint32, dictLen int, bufs *bufCache) [][]byte {
	n := len(codes)
	start := make([]uint32, dictLen+2)
	for _, c := range codes {
		start[c+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	pos := bufs.u32s(n, false)
	defer bufs.putU32s(pos)
	cur := slices.Clone(start[:dictLen+1])
	for i, c := range codes {
		pos[cur[c]] = uint32(i)
		cur[c]++
	}
	out := make([][]byte, dictLen+1)
	for c := 0; c <= dictLen; c++ {
		out[c] = sortedBitmapBytes(pos[start[c]:start[c+1]])
	}
	return out
}

// bitmapBytes serializes bm (portable format) into a buffer of its exact
// size (Bitmap.ToBytes grows one from empty, copying as it goes).
func bitmapBytes(bm *roaring.Bitmap) ([]byte, error) {
	w := bytes.NewBuffer(make([]byte, 0, bm.GetSerializedSizeInBytes()))
	if _, err := bm.WriteTo(w); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

func buildInt(name string, v []int64, perm []uint32, bufs *bufCache) builtCol {
	// One pass: the range, whether any row is null, and the gcd of the
	// values' distances from the first (the same as from the least).
	// Equal neighbours skip the gcd: a time column holds long runs of one
	// value (a day, a billing period).
	lo, hi, first, last := int64(nullInt), int64(nullInt), int64(nullInt), int64(nullInt)
	hasNull := false
	var g uint64
	for _, x := range v {
		switch {
		case x == nullInt:
			hasNull = true
		case first == nullInt:
			first, last, lo, hi = x, x, x, x
		case x != last:
			last = x
			lo, hi = min(lo, x), max(hi, x)
			if g != 1 {
				d := uint64(x) - uint64(first)
				if x < first {
					d = uint64(first) - uint64(x)
				}
				g = gcd(g, d)
			}
		}
	}
	c := builtCol{meta: colMeta{name: name, typ: colInt, base: lo, scale: 1}, lo: lo, hi: hi}
	if lo == nullInt { // all null
		c.meta.base = 0
	}
	if g > 1 && g <= math.MaxInt64 {
		c.meta.scale = int64(g)
	}
	span := uint64(0)
	if lo != nullInt {
		span = uint64(hi-lo) / uint64(c.meta.scale)
	}
	if hasNull {
		c.meta.flags |= flagHasNull
		if span < math.MaxUint64 {
			span++
		}
	}
	switch {
	case span < 1<<8:
		c.meta.width = 1
	case span < 1<<16:
		c.meta.width = 2
	case span < 1<<32:
		c.meta.width = 4
	default:
		c.meta.width = 8
	}
	encode := func(x int64) uint64 {
		if x == nullInt {
			return 0
		}
		e := uint64(x-c.meta.base) / uint64(c.meta.scale)
		if hasNull {
			e++
		}
		return e
	}
	b := bufs.bytes(len(v)*int(c.meta.width), false)
	// Rows in perm's order repeat values in runs (the sort key starts
	// with the day): each run is divided once.
	prevX := int64(nullInt)
	prevE := encode(prevX)
	for i, p := range perm {
		x := v[p]
		if x != prevX {
			prevX, prevE = x, encode(x)
		}
		e := prevE
		switch c.meta.width {
		case 1:
			b[i] = byte(e)
		case 2:
			binary.LittleEndian.PutUint16(b[2*i:], uint16(e))
		case 4:
			binary.LittleEndian.PutUint32(b[4*i:], uint32(e))
		default:
			binary.LittleEndian.PutUint64(b[8*i:], e)
		}
	}
	c.data = b
	return c
}

// int64Bytes returns v as little-endian bytes: v's own memory where the
// machine is little-endian, else a copy.
func int64Bytes(v []int64) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*cap(v))[:8*len(v)]
	}
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func buildMoney(s colSpec, v []int64, perm []uint32, ends []uint32, bufs *bufCache) (builtCol, error) {
	c := builtCol{meta: colMeta{name: s.name, typ: colMoney, width: 8, scale: 1}}
	sorted := bufs.i64s(len(v), false)
	for i, p := range perm {
		sorted[i] = v[p]
	}
	c.data = int64Bytes(sorted)
	// The column's total, with its runs' when there is a run index: each
	// row is added once.
	if ends != nil {
		c.runSums, c.total = runSums(sorted, ends)
	} else {
		for _, x := range sorted {
			c.total.Add(costgate.Money(x))
		}
	}
	if s.bsi {
		planes := buildBSI(sorted)
		c.meta.flags |= flagBSI
		c.meta.nplanes = uint8(len(planes) - 1)
		c.planes = planes
	}
	return c, nil
}
