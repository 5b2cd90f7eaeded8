package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxRecord bounds one CSV record (all its lines); a longer one is an
// error rather than an unbounded buffer.
const MaxRecord = 16 << 20

var bom = []byte("\xEF\xBB\xBF")

// CSV reads RFC 4180 CSV fast: fields are slices of a large read buffer,
// unquoted in place, and only valid until the next call to Next. Lines
// end in \n or \r\n; quoted fields may hold commas, quotes ("") and line
// breaks; a UTF-8 byte order mark is skipped; blank lines are skipped.
// The first record is the header.
type CSV struct {
	name string
	r    io.Reader
	buf  []byte
	pos  int // unread data is buf[pos:end]
	end  int
	eof  bool
	rerr error

	line    int64 // line number of the next unread byte
	recLine int64 // line where the current record starts
	rec     int64 // records read, header included

	fields [][]byte
	unq    []int // fields to unquote ("" -> ")
	// esc[i]: field i still holds "" escapes, which Field unquotes on
	// first use. Most escaped fields are JSON Tags, which the FOCUS
	// decoder looks up by their raw text (RawField) and unquotes only
	// when it has not seen that text before: unquoting every one took 1.2
	// s of CPU per 10M rows.
	esc  []bool
	cols []string
	err  error
}

// NewCSV reads the header of r. name is used in errors.
func NewCSV(name string, r io.Reader) (*CSV, error) { return newCSV(name, r, 1<<20) }

func newCSV(name string, r io.Reader, bufSize int) (*CSV, error) {
	c := &CSV{name: name, r: r, buf: make([]byte, bufSize), line: 1}
	if err := c.fill(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if bytes.HasPrefix(c.buf[c.pos:c.end], bom) {
		c.pos += len(bom)
	}
	if !c.Next() {
		if c.err != nil {
			return nil, c.err
		}
		return nil, fmt.Errorf("%s: empty file, no header", name)
	}
	c.cols = make([]string, len(c.fields))
	for i := range c.fields {
		c.cols[i] = string(bytes.TrimSpace(c.Field(i)))
	}
	return c, nil
}

// Columns returns the header.
func (c *CSV) Columns() []string { return c.cols }

// Field returns field i of the current record.
func (c *CSV) Field(i int) []byte {
	if i < len(c.esc) && c.esc[i] {
		c.esc[i] = false
		c.fields[i] = unquote(c.fields[i])
	}
	return c.fields[i]
}

// RawField returns field i as the file has it between its quotes, and
// whether it still holds "" escapes (which Field turns into "). Two
// fields with the same raw text and the same escaped flag have the same
// value.
func (c *CSV) RawField(i int) (raw []byte, escaped bool) {
	return c.fields[i], i < len(c.esc) && c.esc[i]
}

// NumFields returns the number of fields of the current record.
func (c *CSV) NumFields() int { return len(c.fields) }

// Where says where the current record starts: "line 12".
func (c *CSV) Where() string { return fmt.Sprintf("line %d", c.recLine) }

// Name is the file name given to NewCSV.
func (c *CSV) Name() string { return c.name }

// Err returns the error that stopped Next, if any.
func (c *CSV) Err() error { return c.err }

// fill reads more input after the unread data, growing the buffer when
// it is full.
func (c *CSV) fill() error {
	if c.eof {
		return nil
	}
	if c.pos > 0 {
		n := copy(c.buf, c.buf[c.pos:c.end])
		c.pos, c.end = 0, n
	}
	if c.end == len(c.buf) {
		if len(c.buf) >= MaxRecord {
			return fmt.Errorf("%s: line %d: record longer than %d bytes", c.name, c.line, MaxRecord)
		}
		nb := make([]byte, 2*len(c.buf))
		copy(nb, c.buf[:c.end])
		c.buf = nb
	}
	for c.end < len(c.buf) {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err == io.EOF {
			c.eof = true
			return nil
		}
		if err != nil {
			c.rerr = err
			c.eof = true
			return err
		}
		if n > 0 && c.end-c.pos >= 64<<10 {
			return nil
		}
	}
	return nil
}

// Next reads the next record; false at the end of input or on error.
func (c *CSV) Next() bool {
	if c.err != nil {
		return false
	}
	for {
		data := c.buf[c.pos:c.end]
		n, lines, ok, err := c.parse(data, c.eof)
		if err != nil {
			c.err = fmt.Errorf("%s: line %d: %w", c.name, c.line, err)
			return false
		}
		if ok {
			c.recLine = c.line
			c.line += lines
			c.pos += n
			if len(c.fields) == 1 && len(c.fields[0]) == 0 {
				continue // blank line
			}
			if len(c.esc) < len(c.fields) {
				c.esc = make([]bool, len(c.fields))
			}
			for _, i := range c.unq {
				c.esc[i] = true
			}
			if c.cols != nil && len(c.fields) != len(c.cols) {
				c.err = fmt.Errorf("%s: line %d: %d fields, but the header has %d", c.name, c.recLine, len(c.fields), len(c.cols))
				return false
			}
			c.rec++
			return true
		}
		if c.eof {
			if c.rerr != nil {
				c.err = fmt.Errorf("%s: line %d: read: %w", c.name, c.line, c.rerr)
			}
			return false
		}
		if err := c.fill(); err != nil {
			c.err = fmt.Errorf("%s: line %d: read: %w", c.name, c.line, err)
			return false
		}
	}
}

var errQuote = errors.New(`unterminated quoted field (a " without its closing ")`)

// parse splits one record off data. ok is false when data holds no whole
// record yet (and atEOF is false), or when data is empty at EOF.
func (c *CSV) parse(data []byte, atEOF bool) (n int, lines int64, ok bool, err error) {
	c.fields = c.fields[:0]
	for _, i := range c.unq {
		if i < len(c.esc) {
			c.esc[i] = false
		}
	}
	c.unq = c.unq[:0]
	if len(data) == 0 {
		return 0, 0, false, nil
	}
	i := 0
	lineEnd := -1 // index of the '\n' ending the current line, or len(data)
	findEOL := func(from int) int {
		if k := bytes.IndexByte(data[from:], '\n'); k >= 0 {
			return from + k
		}
		return len(data)
	}
	for {
		if i < len(data) && data[i] == '"' {
			j := i + 1
			escaped := false
			for {
				k := bytes.IndexByte(data[j:], '"')
				if k < 0 {
					if atEOF {
						return 0, 0, false, errQuote
					}
					return 0, 0, false, nil
				}
				lines += int64(bytes.Count(data[j:j+k], []byte{'\n'}))
				j += k
				if j+1 < len(data) && data[j+1] == '"' {
					escaped = true
					j += 2
					continue
				}
				if j+1 == len(data) && !atEOF {
					return 0, 0, false, nil // "" might straddle the buffer end
				}
				break
			}
			if escaped {
				c.unq = append(c.unq, len(c.fields))
			}
			c.fields = append(c.fields, data[i+1:j])
			i = j + 1
			// Anything between the closing quote and the separator is
			// kept out: `"a" ,` reads as a (spreadsheet exports pad).
			for i < len(data) && data[i] != ',' && data[i] != '\n' {
				i++
			}
			lineEnd = -1
		} else {
			if lineEnd < i {
				lineEnd = findEOL(i)
			}
			if lineEnd == len(data) && !atEOF {
				return 0, 0, false, nil
			}
			k := bytes.IndexByte(data[i:lineEnd], ',')
			if k < 0 {
				k = lineEnd - i
			}
			f := data[i : i+k]
			i += k
			if i == lineEnd && len(f) > 0 && f[len(f)-1] == '\r' {
				f = f[:len(f)-1]
			}
			c.fields = append(c.fields, f)
		}
		switch {
		case i >= len(data):
			if !atEOF {
				return 0, 0, false, nil
			}
			return len(data), lines + 1, true, nil
		case data[i] == ',':
			i++
			if i == len(data) && atEOF {
				c.fields = append(c.fields, nil)
				return len(data), lines + 1, true, nil
			}
		default: // '\n'
			return i + 1, lines + 1, true, nil
		}
	}
}

// unquote turns "" into " in place.
func unquote(f []byte) []byte {
	w := 0
	for r := 0; r < len(f); r++ {
		f[w] = f[r]
		w++
		if f[r] == '"' && r+1 < len(f) && f[r+1] == '"' {
			r++
		}
	}
	return f[:w]
}
