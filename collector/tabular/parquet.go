package tabular

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet reads a Parquet file record by record, each top-level column
// rendered as text so that one decoder serves CSV and Parquet alike:
// strings as they are, DECIMAL exactly, doubles as the shortest decimal
// that reads back as the same double, timestamps as RFC 3339 in UTC,
// dates as 2006-01-02, and MAP columns (CUR 2.0 resource_tags) as a JSON
// object. Nulls are nil.
type Parquet struct {
	name string
	f    *parquet.File
	cols []string
	// per leaf column: the top-level column and its role
	leaves []leafInfo
	want   []bool

	groups []parquet.RowGroup
	gi     int
	rows   parquet.Rows
	batch  []parquet.Row
	bi, bn int
	row    int64

	fields [][]byte
	bufs   [][]byte
	maps   []mapAcc
	err    error
}

type leafRole uint8

const (
	leafScalar leafRole = iota
	leafMapKey
	leafMapValue
	leafList
	leafSkip
)

type leafInfo struct {
	top   int
	role  leafRole
	conv  func(dst []byte, v parquet.Value) []byte
	maxDL int
	// optional: a map value that may be null.
	optional bool
}

type mapAcc struct {
	keys, vals []string
	isMap      bool
	present    bool
}

// NewParquet opens a Parquet file of the given size. want, if not nil,
// says which top-level columns to decode; the others read as null.
func NewParquet(name string, r io.ReaderAt, size int64, want func(col string) bool) (*Parquet, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: open parquet: %w", name, err)
	}
	p := &Parquet{name: name, f: f, groups: f.RowGroups(), batch: make([]parquet.Row, 256)}
	schema := f.Schema()
	for _, fld := range schema.Fields() {
		p.cols = append(p.cols, fld.Name())
	}
	p.want = make([]bool, len(p.cols))
	for i, c := range p.cols {
		p.want[i] = want == nil || want(c)
	}
	p.fields = make([][]byte, len(p.cols))
	p.bufs = make([][]byte, len(p.cols))
	p.maps = make([]mapAcc, len(p.cols))
	top := map[string]int{}
	for i, c := range p.cols {
		top[c] = i
	}
	for _, path := range schema.Columns() {
		leaf, ok := schema.Lookup(path...)
		if !ok {
			return nil, fmt.Errorf("%s: column %v not found in schema", name, path)
		}
		t := top[path[0]]
		li := leafInfo{top: t, maxDL: leaf.MaxDefinitionLevel, conv: converter(leaf.Node), optional: leaf.Node.Optional()}
		switch {
		case !p.want[t]:
			li.role = leafSkip
		case len(path) == 1:
			li.role = leafScalar
		case len(path) == 3 && isMapNode(schema, path[0]):
			p.maps[t].isMap = true
			if path[2] == "key" {
				li.role = leafMapKey
			} else {
				li.role = leafMapValue
			}
		case leaf.MaxRepetitionLevel > 0:
			li.role = leafList
		default:
			li.role = leafSkip // nested structs are not billing columns
		}
		for len(p.leaves) <= leaf.ColumnIndex {
			p.leaves = append(p.leaves, leafInfo{role: leafSkip})
		}
		p.leaves[leaf.ColumnIndex] = li
	}
	return p, nil
}

func isMapNode(s *parquet.Schema, name string) bool {
	for _, f := range s.Fields() {
		if f.Name() != name {
			continue
		}
		if lt := f.Type().LogicalType(); lt != nil {
			if _, ok := lt.Value.(*format.MapType); ok {
				return true
			}
		}
		if ct := f.Type().ConvertedType(); ct != nil && (*ct == 1 || *ct == 2) { // MAP, MAP_KEY_VALUE
			return true
		}
		// An unannotated repeated group of key and value is a map too.
		fs := f.Fields()
		if len(fs) == 1 && fs[0].Repeated() && len(fs[0].Fields()) == 2 && fs[0].Fields()[0].Name() == "key" {
			return true
		}
	}
	return false
}

// Columns returns the top-level column names.
func (p *Parquet) Columns() []string { return p.cols }

// Field returns column i of the current row as text (nil for null).
func (p *Parquet) Field(i int) []byte { return p.fields[i] }

// Where says which row is current: "row 12".
func (p *Parquet) Where() string { return fmt.Sprintf("row %d", p.row) }

// Name is the file name given to NewParquet.
func (p *Parquet) Name() string { return p.name }

// Err returns the error that stopped Next, if any.
func (p *Parquet) Err() error { return p.err }

// NumRows returns the file's row count.
func (p *Parquet) NumRows() int64 { return p.f.NumRows() }

// Close releases the current row group reader.
func (p *Parquet) Close() error {
	if p.rows != nil {
		return p.rows.Close()
	}
	return nil
}

// Next reads the next row.
func (p *Parquet) Next() bool {
	if p.err != nil {
		return false
	}
	for p.bi >= p.bn {
		if p.rows == nil {
			if p.gi >= len(p.groups) {
				return false
			}
			p.rows = p.groups[p.gi].Rows()
			p.gi++
		}
		n, err := p.rows.ReadRows(p.batch)
		p.bi, p.bn = 0, n
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.err = fmt.Errorf("%s: row %d: read parquet: %w", p.name, p.row+int64(n)+1, err)
				return false
			}
			p.rows.Close()
			p.rows = nil
		}
	}
	row := p.batch[p.bi]
	p.bi++
	p.row++
	for i := range p.fields {
		p.fields[i] = nil
		p.maps[i].keys, p.maps[i].vals, p.maps[i].present = p.maps[i].keys[:0], p.maps[i].vals[:0], false
	}
	for _, v := range row {
		c := v.Column()
		if c >= len(p.leaves) {
			continue
		}
		li := &p.leaves[c]
		switch li.role {
		case leafSkip:
		case leafScalar:
			if v.IsNull() {
				continue
			}
			p.bufs[li.top] = li.conv(p.bufs[li.top][:0], v)
			p.fields[li.top] = p.bufs[li.top]
		case leafMapKey, leafMapValue, leafList:
			m := &p.maps[li.top]
			if v.DefinitionLevel() < li.maxDL || v.IsNull() {
				if li.role == leafMapValue && li.optional && v.DefinitionLevel() == li.maxDL-1 {
					m.vals = append(m.vals, "") // a key whose value is null
				}
				continue
			}
			m.present = true
			s := string(li.conv(nil, v))
			if li.role == leafMapKey {
				m.keys = append(m.keys, s)
			} else {
				m.vals = append(m.vals, s)
			}
		}
	}
	for i := range p.maps {
		m := &p.maps[i]
		if !m.present {
			continue
		}
		var doc any
		if m.isMap {
			obj := make(map[string]string, len(m.keys))
			for k, key := range m.keys {
				if k < len(m.vals) {
					obj[key] = m.vals[k]
				}
			}
			doc = obj
		} else {
			doc = m.vals
		}
		b, _ := json.Marshal(doc)
		p.bufs[i] = append(p.bufs[i][:0], b...)
		p.fields[i] = p.bufs[i]
	}
	return true
}

// converter returns the text rendering of a leaf column's values.
func converter(n parquet.Node) func(dst []byte, v parquet.Value) []byte {
	t := n.Type()
	lt := t.LogicalType()
	var lv format.LogicalTypeValue
	if lt != nil {
		lv = lt.Value
	}
	scale := -1
	if d, ok := lv.(*format.DecimalType); ok {
		scale = int(d.Scale)
	} else if ct := t.ConvertedType(); ct != nil && *ct == 5 { // DECIMAL
		if d, ok := n.(interface{ Scale() int }); ok {
			scale = d.Scale()
		}
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendBool(dst, v.Boolean()) }
	case parquet.Int32:
		if _, ok := lv.(*format.DateType); ok {
			return func(dst []byte, v parquet.Value) []byte {
				return time.Unix(int64(v.Int32())*86400, 0).UTC().AppendFormat(dst, time.DateOnly)
			}
		}
		if scale >= 0 {
			return func(dst []byte, v parquet.Value) []byte {
				return appendScaled(dst, big.NewInt(int64(v.Int32())), scale)
			}
		}
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, int64(v.Int32()), 10) }
	case parquet.Int64:
		if ts, ok := lv.(*format.TimestampType); ok {
			unit := time.Millisecond
			if ts.Unit.Value != nil {
				unit = ts.Unit.Value.Duration()
			}
			return func(dst []byte, v parquet.Value) []byte {
				x := v.Int64()
				var tt time.Time
				switch unit {
				case time.Nanosecond:
					tt = time.Unix(0, x)
				case time.Microsecond:
					tt = time.UnixMicro(x)
				default:
					tt = time.UnixMilli(x)
				}
				return tt.UTC().AppendFormat(dst, time.RFC3339Nano)
			}
		}
		if ct := t.ConvertedType(); ct != nil && (*ct == 9 || *ct == 10) { // TIMESTAMP_MILLIS, TIMESTAMP_MICROS
			micros := *ct == 10
			return func(dst []byte, v parquet.Value) []byte {
				tt := time.UnixMilli(v.Int64())
				if micros {
					tt = time.UnixMicro(v.Int64())
				}
				return tt.UTC().AppendFormat(dst, time.RFC3339Nano)
			}
		}
		if scale >= 0 {
			return func(dst []byte, v parquet.Value) []byte { return appendScaled(dst, big.NewInt(v.Int64()), scale) }
		}
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, v.Int64(), 10) }
	case parquet.Int96:
		return func(dst []byte, v parquet.Value) []byte {
			b := v.Bytes() // 8 bytes of nanoseconds in the day, 4 of Julian day
			if len(b) != 12 {
				return dst
			}
			nanos := int64(binary.LittleEndian.Uint64(b[:8]))
			day := int64(binary.LittleEndian.Uint32(b[8:]))
			tt := time.Unix((day-2440588)*86400, nanos)
			return tt.UTC().AppendFormat(dst, time.RFC3339Nano)
		}
	case parquet.Float:
		return func(dst []byte, v parquet.Value) []byte {
			return strconv.AppendFloat(dst, float64(v.Float()), 'g', -1, 32)
		}
	case parquet.Double:
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendFloat(dst, v.Double(), 'g', -1, 64) }
	}
	// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY.
	if scale >= 0 {
		return func(dst []byte, v parquet.Value) []byte {
			b := v.ByteArray()
			x := new(big.Int).SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 { // two's complement
				x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
			return appendScaled(dst, x, scale)
		}
	}
	return func(dst []byte, v parquet.Value) []byte { return append(dst, v.ByteArray()...) }
}

// appendScaled writes x·10^-scale exactly.
func appendScaled(dst []byte, x *big.Int, scale int) []byte {
	s := x.String()
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	if neg {
		dst = append(dst, '-')
	}
	if scale == 0 {
		return append(dst, s...)
	}
	for len(s) <= scale {
		s = "0" + s
	}
	dst = append(dst, s[:len(s)-scale]...)
	dst = append(dst, '.')
	return append(dst, s[len(s)-scale:]...)
}
