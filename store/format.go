package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Segment file layout (all integers little-endian):
//
//	header   64 bytes: magic "CGSEGMT1", format version u32, table kind u32, zero padding
//	blocks   column codes, dictionaries, int and money columns, bitmap
//	         directories: each starts 64-byte aligned; roaring bitmaps
//	         (portable serialization) 8-byte aligned. Columns whose
//	         blocks hold the same bytes may reference one block.
//	footer   the directory: partition, totals, one entry per column with
//	         block references (offset, length, crc32c); from version 2,
//	         the run index (runIndex) after the columns
//	trailer  32 bytes: footer offset u64, footer length u64, footer crc32c
//	         u32, format version u32, magic "CGSEGEND"
//
// Version 1 segments (no run index) are still read.
const (
	headerSize       = 64
	trailerSize      = 32
	blockAlign       = 64
	bitmapAlign      = 8
	formatVersion    = 2
	minFormatVersion = 1
	headerMagic      = "CGSEGMT1"
	trailerMagic     = "CGSEGEND"
	bmDirEntry       = 16 // offset u64, length u32, crc32c u32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// tableKind says which table a segment belongs to.
type tableKind uint32

const (
	tableLineItems tableKind = 1
	tableInventory tableKind = 2
)

func (k tableKind) String() string {
	switch k {
	case tableLineItems:
		return "lineitems"
	case tableInventory:
		return "inventory"
	}
	return fmt.Sprintf("table(%d)", uint32(k))
}

// colType is the physical type of a column.
type colType uint8

const (
	colDict  colType = 1 // dictionary codes; code 0 is null/absent
	colInt   colType = 2 // frame-of-reference int64 (times)
	colMoney colType = 3 // raw int64 nano-units
)

// column flags.
const (
	flagIndexed uint8 = 1 << iota // bitmap per dictionary code
	flagBSI                       // bit-sliced index planes
	flagHasNull                   // int column: encoded 0 is null
)

// blockRef locates a checksummed block.
type blockRef struct {
	off uint64
	len uint64
	crc uint32
}

// colMeta is one column's footer entry.
type colMeta struct {
	name    string
	typ     colType
	flags   uint8
	width   uint8 // bytes per value: 1, 2, 4 or 8
	base    int64 // int: value = base + (encoded[-1 if null flag]) * scale
	scale   int64
	data    blockRef
	dictLen uint32 // dict: number of values (codes 1..dictLen)
	dict    blockRef
	bmDir   blockRef // indexed dict: dictLen+1 entries, code 0 first
	nplanes uint8    // BSI: magnitude planes
	bsiDir  blockRef // BSI: nplanes+1 entries, the sign plane first
}

// total is an exact measure total of a whole segment.
type total struct {
	name string
	sum  [2]uint64 // hi, lo of the 128-bit value
}

// runIndex sums a segment's rows per run of its sort key's leading
// columns (keys: day, billing account, service for line items). Rows are
// sorted by those columns, so each run is a range of rows whose keys are
// one value each: a query that groups and filters by nothing finer reads
// a run's totals instead of its rows. ends[i] (u32) is the row after run
// i; codes[k][i] (u32) is run i's dictionary code of keys[k], so that a
// query reads no row at all; sums are one int64 per run for each
// measure whose run totals all fit one (the others have none).
type runIndex struct {
	keys  []string
	runs  uint32
	ends  blockRef
	codes []blockRef // aligned with keys
	sums  []runSum
}

type runSum struct {
	name string
	data blockRef
}

// footer is the decoded directory of a segment.
type footer struct {
	kind        tableKind
	rows        uint64
	source      string
	account     string
	period      string
	exportID    string
	contentHash string
	minTime     int64 // ChargePeriodStart (or FirstSeen) range, unix nanos
	maxTime     int64
	totals      []total
	cols        []colMeta
	runs        runIndex // version 2; runs 0: none
}

// encode lays out the footer of a segment of the given format version.
func (f *footer) encode(version uint32) []byte {
	var e enc
	e.u32(uint32(f.kind))
	e.u64(f.rows)
	e.str(f.source)
	e.str(f.account)
	e.str(f.period)
	e.str(f.exportID)
	e.str(f.contentHash)
	e.i64(f.minTime)
	e.i64(f.maxTime)
	e.u32(uint32(len(f.totals)))
	for _, t := range f.totals {
		e.str(t.name)
		e.u64(t.sum[0])
		e.u64(t.sum[1])
	}
	e.u32(uint32(len(f.cols)))
	for i := range f.cols {
		c := &f.cols[i]
		e.str(c.name)
		e.u8(uint8(c.typ))
		e.u8(c.flags)
		e.u8(c.width)
		e.i64(c.base)
		e.i64(c.scale)
		e.ref(c.data)
		e.u32(c.dictLen)
		e.ref(c.dict)
		e.ref(c.bmDir)
		e.u8(c.nplanes)
		e.ref(c.bsiDir)
	}
	if version >= 2 {
		r := &f.runs
		e.u32(uint32(len(r.keys)))
		for i, k := range r.keys {
			e.str(k)
			e.ref(r.codes[i])
		}
		e.u32(r.runs)
		e.ref(r.ends)
		e.u32(uint32(len(r.sums)))
		for _, s := range r.sums {
			e.str(s.name)
			e.ref(s.data)
		}
	}
	return e.b
}

// decodeFooter parses a footer; it validates every reference against the
// data area [headerSize, dataEnd) so later reads cannot go out of bounds.
func decodeFooter(b []byte, dataEnd uint64, version uint32) (*footer, error) {
	d := dec{b: b}
	f := &footer{}
	f.kind = tableKind(d.u32())
	f.rows = d.u64()
	f.source = d.str()
	f.account = d.str()
	f.period = d.str()
	f.exportID = d.str()
	f.contentHash = d.str()
	f.minTime = d.i64()
	f.maxTime = d.i64()
	nt := d.count(8)
	for i := 0; i < nt && d.err == nil; i++ {
		f.totals = append(f.totals, total{name: d.str(), sum: [2]uint64{d.u64(), d.u64()}})
	}
	nc := d.count(16)
	for i := 0; i < nc && d.err == nil; i++ {
		c := colMeta{name: d.str()}
		c.typ = colType(d.u8())
		c.flags = d.u8()
		c.width = d.u8()
		c.base = d.i64()
		c.scale = d.i64()
		c.data = d.ref()
		c.dictLen = d.u32()
		c.dict = d.ref()
		c.bmDir = d.ref()
		c.nplanes = d.u8()
		c.bsiDir = d.ref()
		f.cols = append(f.cols, c)
	}
	if version >= 2 {
		r := &f.runs
		nk := d.count(24)
		for i := 0; i < nk && d.err == nil; i++ {
			r.keys = append(r.keys, d.str())
			r.codes = append(r.codes, d.ref())
		}
		r.runs = d.u32()
		r.ends = d.ref()
		ns := d.count(24)
		for i := 0; i < ns && d.err == nil; i++ {
			r.sums = append(r.sums, runSum{name: d.str(), data: d.ref()})
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(b) {
		return nil, fmt.Errorf("footer: %d trailing bytes", len(b)-d.off)
	}
	if f.kind != tableLineItems && f.kind != tableInventory {
		return nil, fmt.Errorf("footer: unknown table kind %d", f.kind)
	}
	if f.rows > math.MaxUint32 {
		return nil, fmt.Errorf("footer: %d rows exceed a segment's limit", f.rows)
	}
	// Every table has a column that bounds the row count by the file's
	// size: a footer cannot claim rows it has no bytes for.
	keyCol, keyType := colChargePeriodStart, colInt
	if f.kind == tableInventory {
		keyCol, keyType = "ResourceId", colDict
	}
	found := false
	for i := range f.cols {
		if f.cols[i].name == keyCol && f.cols[i].typ == keyType {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("footer: no %s column", keyCol)
	}
	seen := make(map[string]bool, len(f.cols))
	for i := range f.cols {
		c := &f.cols[i]
		if seen[c.name] {
			return nil, fmt.Errorf("footer: column %q twice", c.name)
		}
		seen[c.name] = true
		if err := c.validate(f.rows, dataEnd); err != nil {
			return nil, fmt.Errorf("footer: column %s: %w", c.name, err)
		}
	}
	if err := f.runs.validate(f, dataEnd); err != nil {
		return nil, fmt.Errorf("footer: run index: %w", err)
	}
	return f, nil
}

// validate checks the run index against the footer's columns. Its ends
// are checked when they are read (segment.runEnds).
func (r *runIndex) validate(f *footer, dataEnd uint64) error {
	if r.runs == 0 {
		if len(r.keys) != 0 || len(r.sums) != 0 {
			return errors.New("keys or sums without runs")
		}
		return nil
	}
	if uint64(r.runs) > f.rows {
		return fmt.Errorf("%d runs in %d rows", r.runs, f.rows)
	}
	if len(r.keys) == 0 {
		return errors.New("runs without keys")
	}
	typeOf := make(map[string]colType, len(f.cols))
	for i := range f.cols {
		typeOf[f.cols[i].name] = f.cols[i].typ
	}
	for i, k := range r.keys {
		if typeOf[k] != colDict {
			return fmt.Errorf("key %q is not a dictionary column", k)
		}
		if err := checkRef(r.codes[i], dataEnd, blockAlign); err != nil {
			return fmt.Errorf("codes of %s: %w", k, err)
		}
		if r.codes[i].len != 4*uint64(r.runs) {
			return fmt.Errorf("codes of %s: %d bytes for %d runs", k, r.codes[i].len, r.runs)
		}
	}
	if err := checkRef(r.ends, dataEnd, blockAlign); err != nil {
		return fmt.Errorf("ends: %w", err)
	}
	if r.ends.len != 4*uint64(r.runs) {
		return fmt.Errorf("ends: %d bytes for %d runs", r.ends.len, r.runs)
	}
	seen := map[string]bool{}
	for _, s := range r.sums {
		if typeOf[s.name] != colMoney || seen[s.name] {
			return fmt.Errorf("sum %q is not a measure, or is there twice", s.name)
		}
		seen[s.name] = true
		if err := checkRef(s.data, dataEnd, blockAlign); err != nil {
			return fmt.Errorf("sum %s: %w", s.name, err)
		}
		if s.data.len != 8*uint64(r.runs) {
			return fmt.Errorf("sum %s: %d bytes for %d runs", s.name, s.data.len, r.runs)
		}
	}
	return nil
}

func (c *colMeta) validate(rows, dataEnd uint64) error {
	switch c.width {
	case 1, 2, 4, 8:
	default:
		return fmt.Errorf("bad width %d", c.width)
	}
	if err := checkRef(c.data, dataEnd, blockAlign); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if c.data.len != rows*uint64(c.width) {
		return fmt.Errorf("data: %d bytes for %d rows of width %d", c.data.len, rows, c.width)
	}
	switch c.typ {
	case colDict:
		if c.width == 8 || uint64(c.dictLen) >= 1<<(8*uint(c.width)) {
			return fmt.Errorf("%d values do not fit width %d", c.dictLen, c.width)
		}
		if err := checkRef(c.dict, dataEnd, blockAlign); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		if c.dict.len < 4*(uint64(c.dictLen)+1) {
			return errors.New("dictionary: too short")
		}
		if c.flags&flagIndexed != 0 {
			if err := checkRef(c.bmDir, dataEnd, blockAlign); err != nil {
				return fmt.Errorf("bitmap directory: %w", err)
			}
			if c.bmDir.len != bmDirEntry*(uint64(c.dictLen)+1) {
				return errors.New("bitmap directory: wrong length")
			}
		}
	case colInt:
		if c.scale <= 0 {
			return fmt.Errorf("bad scale %d", c.scale)
		}
	case colMoney:
		if c.width != 8 {
			return fmt.Errorf("money width %d", c.width)
		}
		if c.flags&flagBSI != 0 {
			if c.nplanes > 64 {
				return fmt.Errorf("%d bsi planes", c.nplanes)
			}
			if err := checkRef(c.bsiDir, dataEnd, blockAlign); err != nil {
				return fmt.Errorf("bsi directory: %w", err)
			}
			if c.bsiDir.len != bmDirEntry*(uint64(c.nplanes)+1) {
				return errors.New("bsi directory: wrong length")
			}
		}
	default:
		return fmt.Errorf("unknown column type %d", c.typ)
	}
	return nil
}

func checkRef(r blockRef, dataEnd uint64, align uint64) error {
	if r.off < headerSize || r.off > dataEnd || r.len > dataEnd-r.off {
		return fmt.Errorf("block [%d,+%d) outside the data area", r.off, r.len)
	}
	if r.off%align != 0 {
		return fmt.Errorf("block at %d not %d-byte aligned", r.off, align)
	}
	return nil
}

// enc appends little-endian values.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) i64(v int64)  { e.u64(uint64(v)) }
func (e *enc) str(s string) { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *enc) ref(r blockRef) {
	e.u64(r.off)
	e.u64(r.len)
	e.u32(r.crc)
}

// dec reads little-endian values; the first short read sets err and every
// later read returns zero.
type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("footer: truncated at byte %d", d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *dec) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *dec) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *dec) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *dec) i64() int64 { return int64(d.u64()) }

func (d *dec) str() string { return string(d.take(int(d.u32()))) }

// count reads an element count and rejects counts that could not fit in
// the remaining bytes at minSize bytes each.
func (d *dec) count(minSize int) int {
	n := d.u32()
	if d.err == nil && uint64(n)*uint64(minSize) > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("footer: count %d at byte %d exceeds the footer", n, d.off-4)
		return 0
	}
	return int(n)
}

func (d *dec) ref() blockRef {
	return blockRef{off: d.u64(), len: d.u64(), crc: d.u32()}
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }
