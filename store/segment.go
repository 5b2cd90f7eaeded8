package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"
)

// ErrCorrupt marks a segment or manifest whose bytes fail a check.
var ErrCorrupt = errors.New("corrupt")

// CorruptError names the file and the block that failed a check.
type CorruptError struct {
	File   string // segment file name
	Block  string // e.g. "footer", "ServiceName/codes", "tag:team/bitmap 3"
	Detail string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("segment %s: block %s: %s", e.File, e.Block, e.Detail)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// segment is an open, immutable segment file, mapped read-only. Blocks
// are checked against their crc32c the first time they are used.
type segment struct {
	file string // base name
	path string
	size int64
	data []byte
	f    *footer
	cols map[string]*segCol
	// dataEnd is where the footer starts.
	dataEnd uint64
	// noChecksums skips the crc32c comparisons (the fuzz test uses it to
	// reach the structural checks behind them).
	noChecksums bool
	// hot holds the copies of large blocks (see hot.go); nil: none.
	hot *arena
	// runsOnce loads the run index (runs).
	runsOnce lazy[*runData]
}

// segCol is one column of a segment with its lazily loaded parts.
type segCol struct {
	seg  *segment
	meta colMeta

	codesOnce lazy[codeView]
	dictOnce  lazy[dictView]
	intsOnce  lazy[[]int64]
	bmDirOnce lazy[[]byte]
	bmOnce    sync.Once
	bitmaps   []lazy[*roaring.Bitmap]
	bsiOnce   lazy[*bsi]
	remapOnce lazy[[]uint32]
}

// lazy is a value computed once, error included.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(f func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = f() })
	return l.v, l.err
}

func (s *segment) corrupt(block, format string, args ...any) error {
	return &CorruptError{File: s.file, Block: block, Detail: fmt.Sprintf(format, args...)}
}

// openSegment maps path and checks its header, trailer and footer. When
// wantCRC is non-zero the footer checksum must equal it (the manifest's
// record of the file), so a swapped or truncated file is caught at once.
func openSegment(path string, wantSize int64, wantCRC uint32, hot *hotBudget) (*segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat segment: %w", err)
	}
	s := &segment{file: filepath.Base(path), path: path, size: st.Size()}
	if wantSize > 0 && s.size != wantSize {
		return nil, s.corrupt("file", "size %d, manifest says %d (truncated or replaced)", s.size, wantSize)
	}
	if s.size < headerSize+trailerSize {
		return nil, s.corrupt("file", "%d bytes is too short for a segment", s.size)
	}
	// Header, trailer and footer are read with pread: touching them
	// through the mapping would fault in pages a query may never need.
	if err := s.parse(wantCRC, f.ReadAt); err != nil {
		return nil, err
	}
	data, err := mapFile(f, s.size)
	if err != nil {
		return nil, err
	}
	s.data = data
	if hot != nil && hot.limit > 0 {
		s.hot = &arena{budget: hot}
	}
	return s, nil
}

// parseSegment checks and decodes a segment held in memory (the fuzz
// target and tests use it without a file).
func parseSegment(name string, data []byte, noChecksums bool) (*segment, error) {
	s := &segment{file: name, path: name, size: int64(len(data)), data: data, noChecksums: noChecksums}
	if len(data) < headerSize+trailerSize {
		return nil, s.corrupt("file", "%d bytes is too short for a segment", len(data))
	}
	readAt := func(p []byte, off int64) (int, error) { return copy(p, data[off:]), nil }
	if err := s.parse(0, readAt); err != nil {
		return nil, err
	}
	return s, nil
}

// parse reads and checks the header, trailer and footer of a segment of
// s.size bytes.
func (s *segment) parse(wantCRC uint32, readAt func(p []byte, off int64) (int, error)) error {
	var h [headerSize]byte
	var t [trailerSize]byte
	if _, err := readAt(h[:], 0); err != nil {
		return fmt.Errorf("read segment %s: %w", s.file, err)
	}
	if _, err := readAt(t[:], s.size-trailerSize); err != nil {
		return fmt.Errorf("read segment %s: %w", s.file, err)
	}
	if string(h[:8]) != headerMagic {
		return s.corrupt("header", "bad magic %q", h[:8])
	}
	version := binary.LittleEndian.Uint32(h[8:])
	if version < minFormatVersion || version > formatVersion {
		return s.corrupt("header", "format version %d, want %d to %d (a newer costgate wrote it?)", version, minFormatVersion, formatVersion)
	}
	if string(t[24:32]) != trailerMagic {
		return s.corrupt("trailer", "bad magic %q (truncated file?)", t[24:32])
	}
	if v := binary.LittleEndian.Uint32(t[20:]); v != version {
		return s.corrupt("trailer", "format version %d, header says %d", v, version)
	}
	off := binary.LittleEndian.Uint64(t[0:])
	n := binary.LittleEndian.Uint64(t[8:])
	crc := binary.LittleEndian.Uint32(t[16:])
	end := uint64(s.size - trailerSize)
	if off < headerSize || off > end || n != end-off || off%blockAlign != 0 {
		return s.corrupt("footer", "bad position [%d,+%d) in a %d-byte file", off, n, s.size)
	}
	body := make([]byte, n)
	if _, err := readAt(body, int64(off)); err != nil {
		return fmt.Errorf("read segment %s: %w", s.file, err)
	}
	if got := crc32c(body); got != crc && !s.noChecksums {
		return s.corrupt("footer", "checksum mismatch: stored %08x, computed %08x", crc, got)
	}
	if wantCRC != 0 && crc != wantCRC {
		return s.corrupt("footer", "checksum %08x, manifest says %08x", crc, wantCRC)
	}
	s.dataEnd = off
	ft, err := decodeFooter(body, off, version)
	if err != nil {
		return s.corrupt("footer", "%v", err)
	}
	if kind := tableKind(binary.LittleEndian.Uint32(h[12:])); kind != ft.kind {
		return s.corrupt("header", "table %s, footer says %s", kind, ft.kind)
	}
	s.f = ft
	s.cols = make(map[string]*segCol, len(ft.cols))
	for i := range ft.cols {
		s.cols[ft.cols[i].name] = &segCol{seg: s, meta: ft.cols[i]}
	}
	return nil
}

func (s *segment) close() error {
	d := s.data
	s.data = nil
	if s.hot != nil {
		s.hot.free()
	}
	return unmapFile(d)
}

func (s *segment) rows() uint32 { return uint32(s.f.rows) }

// block returns the bytes of r after checking their checksum.
func (s *segment) block(name string, r blockRef) ([]byte, error) {
	if r.off > s.dataEnd || r.len > s.dataEnd-r.off {
		return nil, s.corrupt(name, "[%d,+%d) outside the data area", r.off, r.len)
	}
	b := s.data[r.off : r.off+r.len]
	if s.hot != nil && len(b) >= hotMin {
		if h, fresh := s.hot.copyOf(r.off, b); h != nil {
			if fresh {
				dropMapped(b)
			}
			b = h
		}
	}
	if got := crc32c(b); got != r.crc && !s.noChecksums {
		return nil, s.corrupt(name, "checksum mismatch at offset %d: stored %08x, computed %08x", r.off, r.crc, got)
	}
	return b, nil
}

// runData is a segment's run index, read.
type runData struct {
	keys  []string
	ends  []uint32   // strictly increasing, the last = rows
	codes [][]uint32 // per key, each a code of its column's dictionary
	sums  map[string][]int64
}

// runs returns the run index, or nil when the segment has none.
func (s *segment) runs() (*runData, error) {
	ri := &s.f.runs
	if ri.runs == 0 {
		return nil, nil
	}
	return s.runsOnce.get(func() (*runData, error) {
		b, err := s.block("runs/ends", ri.ends)
		if err != nil {
			return nil, err
		}
		rd := &runData{keys: ri.keys, ends: viewU32(b), sums: make(map[string][]int64, len(ri.sums))}
		prev := uint32(0)
		for i, e := range rd.ends {
			if e <= prev {
				return nil, s.corrupt("runs/ends", "run %d ends at row %d, after %d", i, e, prev)
			}
			prev = e
		}
		if prev != s.rows() {
			return nil, s.corrupt("runs/ends", "the runs end at row %d of %d", prev, s.rows())
		}
		for k, key := range ri.keys {
			b, err := s.block("runs/codes/"+key, ri.codes[k])
			if err != nil {
				return nil, err
			}
			codes := viewU32(b)
			n := s.col(key).meta.dictLen // the footer checked it is a dictionary column
			for i, c := range codes {
				if c > n {
					return nil, s.corrupt("runs/codes/"+key, "run %d has code %d of %d", i, c, n)
				}
			}
			rd.codes = append(rd.codes, codes)
		}
		for _, sm := range ri.sums {
			b, err := s.block("runs/"+sm.name, sm.data)
			if err != nil {
				return nil, err
			}
			rd.sums[sm.name] = viewI64(b)
		}
		return rd, nil
	})
}

// col returns the named column or nil.
func (s *segment) col(name string) *segCol { return s.cols[name] }

// codeView is a dictionary column's codes, viewed in place.
type codeView struct {
	width uint8
	u8    []uint8
	u16   []uint16
	u32   []uint32
}

func (v *codeView) at(i uint32) uint32 {
	switch v.width {
	case 1:
		return uint32(v.u8[i])
	case 2:
		return uint32(v.u16[i])
	}
	return v.u32[i]
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func viewU16(b []byte) []uint16 {
	if len(b) == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
	}
	v := make([]uint16, len(b)/2)
	for i := range v {
		v[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return v
}

func viewU32(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	v := make([]uint32, len(b)/4)
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return v
}

func viewI64(b []byte) []int64 {
	if len(b) == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
		return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), len(b)/8)
	}
	v := make([]int64, len(b)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}

// codes returns the column's codes, checked to lie within the dictionary.
func (c *segCol) codes() (*codeView, error) {
	v, err := c.codesOnce.get(func() (codeView, error) {
		name := c.meta.name + "/codes"
		if c.meta.typ != colDict {
			return codeView{}, fmt.Errorf("column %s is not a dimension", c.meta.name)
		}
		b, err := c.seg.block(name, c.meta.data)
		if err != nil {
			return codeView{}, err
		}
		v := codeView{width: c.meta.width}
		var maxCode uint32
		switch c.meta.width {
		case 1:
			v.u8 = b
			for _, x := range v.u8 {
				maxCode = max(maxCode, uint32(x))
			}
		case 2:
			v.u16 = viewU16(b)
			for _, x := range v.u16 {
				maxCode = max(maxCode, uint32(x))
			}
		default:
			v.u32 = viewU32(b)
			for _, x := range v.u32 {
				maxCode = max(maxCode, x)
			}
		}
		if maxCode > c.meta.dictLen {
			return codeView{}, c.seg.corrupt(name, "code %d beyond a %d-value dictionary", maxCode, c.meta.dictLen)
		}
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// dictView is a dictionary viewed in place: value of code c (1..n) is
// data[off[c-1]:off[c]].
type dictView struct {
	off  []uint32
	data []byte
}

func (d *dictView) len() int { return len(d.off) - 1 }

// bytesOf returns code c's value bytes; code 0 (null) is empty.
func (d *dictView) bytesOf(c uint32) []byte {
	if c == 0 {
		return nil
	}
	return d.data[d.off[c-1]:d.off[c]]
}

// str returns code c's value as a new string (safe to keep after the
// segment is unmapped).
func (d *dictView) str(c uint32) string { return string(d.bytesOf(c)) }

// lookup returns the code of v, or 0 and false.
func (d *dictView) lookup(v string) (uint32, bool) {
	lo, hi := 1, d.len()
	for lo <= hi {
		m := int(uint(lo+hi) >> 1)
		switch bytes.Compare(d.bytesOf(uint32(m)), unsafe.Slice(unsafe.StringData(v), len(v))) {
		case 0:
			return uint32(m), true
		case -1:
			lo = m + 1
		default:
			hi = m - 1
		}
	}
	return 0, false
}

func (c *segCol) dict() (*dictView, error) {
	v, err := c.dictOnce.get(func() (dictView, error) {
		name := c.meta.name + "/dictionary"
		b, err := c.seg.block(name, c.meta.dict)
		if err != nil {
			return dictView{}, err
		}
		n := int(c.meta.dictLen)
		hdr := 4 * (n + 1)
		if len(b) < hdr {
			return dictView{}, c.seg.corrupt(name, "too short")
		}
		v := dictView{off: viewU32(b[:hdr]), data: b[hdr:]}
		prev := uint32(0)
		for _, o := range v.off {
			if o < prev || int(o) > len(v.data) {
				return dictView{}, c.seg.corrupt(name, "bad value offset %d", o)
			}
			prev = o
		}
		if v.off[0] != 0 {
			return dictView{}, c.seg.corrupt(name, "first offset %d", v.off[0])
		}
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// indexed reports whether the column has a bitmap per value.
func (c *segCol) indexed() bool { return c.meta.typ == colDict && c.meta.flags&flagIndexed != 0 }

// bitmap returns the rows holding code (0: null/absent). The bitmap views
// the mapped file: never modify it, never keep it past the snapshot.
func (c *segCol) bitmap(code uint32) (*roaring.Bitmap, error) {
	if !c.indexed() {
		return nil, fmt.Errorf("column %s has no bitmaps", c.meta.name)
	}
	if code > c.meta.dictLen {
		return roaring.New(), nil
	}
	dir, err := c.bmDirOnce.get(func() ([]byte, error) {
		return c.seg.block(c.meta.name+"/bitmap directory", c.meta.bmDir)
	})
	if err != nil {
		return nil, err
	}
	c.bmOnce.Do(func() { c.bitmaps = make([]lazy[*roaring.Bitmap], c.meta.dictLen+1) })
	return c.bitmaps[code].get(func() (*roaring.Bitmap, error) {
		return c.seg.loadBitmap(fmt.Sprintf("%s/bitmap %d", c.meta.name, code), dir[bmDirEntry*int(code):])
	})
}

// loadBitmap decodes the portable-format bitmap a directory entry names.
func (s *segment) loadBitmap(name string, entry []byte) (*roaring.Bitmap, error) {
	r := blockRef{
		off: binary.LittleEndian.Uint64(entry),
		len: uint64(binary.LittleEndian.Uint32(entry[8:])),
		crc: binary.LittleEndian.Uint32(entry[12:]),
	}
	bm := roaring.New()
	if r.len == 0 {
		return bm, nil
	}
	if r.off < headerSize {
		return nil, s.corrupt(name, "offset %d inside the header", r.off)
	}
	b, err := s.block(name, r)
	if err != nil {
		return nil, err
	}
	if err := decodeBitmap(bm, b); err != nil {
		return nil, s.corrupt(name, "%v", err)
	}
	if !bm.IsEmpty() && bm.Maximum() >= s.rows() {
		return nil, s.corrupt(name, "row %d beyond %d rows", bm.Maximum(), s.rows())
	}
	return bm, nil
}

// decodeBitmap reads a portable roaring bitmap in place and validates it;
// a malformed one is an error, never a panic.
func decodeBitmap(bm *roaring.Bitmap, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed bitmap: %v", r)
		}
	}()
	n, err := bm.FromBuffer(b)
	if err != nil {
		return fmt.Errorf("malformed bitmap: %w", err)
	}
	if n != int64(len(b)) {
		return fmt.Errorf("bitmap uses %d of %d bytes", n, len(b))
	}
	if err := bm.Validate(); err != nil {
		return fmt.Errorf("invalid bitmap: %w", err)
	}
	return nil
}

// money returns a money column's values, viewed in place.
func (c *segCol) money() ([]int64, error) {
	if c.meta.typ != colMoney {
		return nil, fmt.Errorf("column %s is not a measure", c.meta.name)
	}
	v, err := c.intsOnce.get(func() ([]int64, error) {
		b, err := c.seg.block(c.meta.name+"/values", c.meta.data)
		if err != nil {
			return nil, err
		}
		return viewI64(b), nil
	})
	return v, err
}

// ints decodes an int column (nullInt for nulls).
func (c *segCol) ints() ([]int64, error) {
	if c.meta.typ != colInt {
		return nil, fmt.Errorf("column %s is not a time column", c.meta.name)
	}
	return c.intsOnce.get(func() ([]int64, error) {
		b, err := c.seg.block(c.meta.name+"/values", c.meta.data)
		if err != nil {
			return nil, err
		}
		n := int(c.seg.rows())
		out := make([]int64, n)
		hasNull := c.meta.flags&flagHasNull != 0
		for i := range out {
			var e uint64
			switch c.meta.width {
			case 1:
				e = uint64(b[i])
			case 2:
				e = uint64(binary.LittleEndian.Uint16(b[2*i:]))
			case 4:
				e = uint64(binary.LittleEndian.Uint32(b[4*i:]))
			default:
				e = binary.LittleEndian.Uint64(b[8*i:])
			}
			if hasNull {
				if e == 0 {
					out[i] = nullInt
					continue
				}
				e--
			}
			out[i] = c.meta.base + int64(e)*c.meta.scale
		}
		return out, nil
	})
}

// bsi returns the column's bit-sliced index, or nil if it has none.
func (c *segCol) bsi() (*bsi, error) {
	if c.meta.typ != colMoney || c.meta.flags&flagBSI == 0 {
		return nil, nil
	}
	return c.bsiOnce.get(func() (*bsi, error) {
		dir, err := c.seg.block(c.meta.name+"/bsi directory", c.meta.bsiDir)
		if err != nil {
			return nil, err
		}
		b := &bsi{rows: c.seg.rows()}
		for i := 0; i <= int(c.meta.nplanes); i++ {
			name := c.meta.name + "/bsi sign"
			if i > 0 {
				name = fmt.Sprintf("%s/bsi plane %d", c.meta.name, i-1)
			}
			bm, err := c.seg.loadBitmap(name, dir[bmDirEntry*i:])
			if err != nil {
				return nil, err
			}
			if i == 0 {
				b.sign = bm
			} else {
				b.planes = append(b.planes, bm)
			}
		}
		return b, nil
	})
}

// verify checks every block of the segment.
func (s *segment) verify() error {
	for i := range s.f.cols {
		c := s.cols[s.f.cols[i].name]
		switch c.meta.typ {
		case colDict:
			if _, err := c.codes(); err != nil {
				return err
			}
			if _, err := c.dict(); err != nil {
				return err
			}
			if c.indexed() {
				for code := uint32(0); code <= c.meta.dictLen; code++ {
					if _, err := c.bitmap(code); err != nil {
						return err
					}
				}
			}
		case colInt:
			if _, err := c.ints(); err != nil {
				return err
			}
		case colMoney:
			if _, err := c.money(); err != nil {
				return err
			}
			if _, err := c.bsi(); err != nil {
				return err
			}
		}
	}
	return s.verifyRuns()
}

// verifyRuns checks the run index against the rows: each run's keys are
// one value each and its totals are its rows' totals.
func (s *segment) verifyRuns() error {
	rd, err := s.runs()
	if rd == nil || err != nil {
		return err
	}
	var keys []*codeView
	for _, k := range rd.keys {
		c := s.col(k)
		if c == nil {
			return s.corrupt("runs", "key column %s is missing", k)
		}
		cv, err := c.codes()
		if err != nil {
			return err
		}
		keys = append(keys, cv)
	}
	start := uint32(0)
	for r, end := range rd.ends {
		for i, cv := range keys {
			want := rd.codes[i][r]
			for row := start; row < end; row++ {
				if cv.at(row) != want {
					return s.corrupt("runs/codes/"+rd.keys[i], "run %d (rows %d to %d): row %d has %s code %d, the index %d", r, start, end, row, rd.keys[i], cv.at(row), want)
				}
			}
		}
		start = end
	}
	for name, sums := range rd.sums {
		c := s.col(name)
		if c == nil {
			return s.corrupt("runs/"+name, "no such column")
		}
		v, err := c.money()
		if err != nil {
			return err
		}
		start := uint32(0)
		for r, end := range rd.ends {
			var t int64
			for _, x := range v[start:end] {
				// Wrapping adds: the run's total fits an int64 (or
				// it would have no index), so modulo 2^64 it is exact.
				t += x
			}
			if t != sums[r] {
				return s.corrupt("runs/"+name, "run %d totals %d, its rows %d", r, sums[r], t)
			}
			start = end
		}
	}
	return nil
}
