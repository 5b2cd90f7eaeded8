package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Block is a run of whole CSV records cut from a stream, for parallel
// parsing.
type Block struct {
	Seq   int
	Line  int64 // line number of the block's first record
	Lines int   // newlines in Data: at most one record fewer than that
	Data  []byte
}

// Splitter cuts a CSV stream into blocks of whole records, so that
// several goroutines can parse one file. Record boundaries follow RFC
// 4180 quoting: a newline inside a quoted field does not end a record.
type Splitter struct {
	name string
	r    io.Reader
	size int
	buf  []byte // carried-over bytes of an unfinished record
	line int64
	seq  int
	eof  bool
	pool sync.Pool
}

// NewSplitter reads the header (skipping a UTF-8 byte order mark) and
// returns a splitter for the records after it, in blocks of about size
// bytes.
func NewSplitter(name string, r io.Reader, size int) (*Splitter, []string, error) {
	s := &Splitter{name: name, r: r, size: size, line: 1}
	if err := s.fill(max(size, 64)); err != nil {
		return nil, nil, err
	}
	s.buf = bytes.TrimPrefix(s.buf, bom)
	for {
		end := firstRecordEnd(s.buf)
		if end > 0 || s.eof {
			if end == 0 {
				end = len(s.buf)
			}
			if end == 0 {
				return nil, nil, fmt.Errorf("%s: empty file, no header", name)
			}
			c := newCSVData(name, s.buf[:end:end], 1, nil)
			if !c.Next() {
				if c.err != nil {
					return nil, nil, c.err
				}
				return nil, nil, fmt.Errorf("%s: empty file, no header", name)
			}
			header := make([]string, c.NumFields())
			for i := range header {
				header[i] = string(bytes.TrimSpace(c.Field(i)))
			}
			s.line += int64(bytes.Count(s.buf[:end], []byte{'\n'}))
			s.buf = append([]byte(nil), s.buf[end:]...)
			return s, header, nil
		}
		if len(s.buf) > MaxRecord {
			return nil, nil, fmt.Errorf("%s: line 1: header longer than %d bytes", name, MaxRecord)
		}
		if err := s.fill(len(s.buf) + size); err != nil {
			return nil, nil, err
		}
	}
}

// fill reads until buf holds n bytes or the input ends.
func (s *Splitter) fill(n int) error {
	if cap(s.buf) < n {
		nb := make([]byte, len(s.buf), n)
		copy(nb, s.buf)
		s.buf = nb
	}
	for len(s.buf) < n && !s.eof {
		k, err := s.r.Read(s.buf[len(s.buf):n])
		s.buf = s.buf[:len(s.buf)+k]
		if errors.Is(err, io.EOF) {
			s.eof = true
			break
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: read: %w", s.name, s.line+int64(bytes.Count(s.buf, []byte{'\n'})), err)
		}
	}
	return nil
}

// Next returns the next block; io.EOF after the last.
func (s *Splitter) Next() (Block, error) {
	for {
		if !s.eof && len(s.buf) < s.size {
			if err := s.fill(s.size); err != nil {
				return Block{}, err
			}
		}
		if len(s.buf) == 0 && s.eof {
			return Block{}, io.EOF
		}
		end := lastRecordEnd(s.buf)
		if end == 0 && s.eof {
			end = len(s.buf) // a last record without a final newline, or an unterminated quote the parser reports
		}
		if end == 0 {
			if len(s.buf) > MaxRecord {
				return Block{}, fmt.Errorf("%s: line %d: record longer than %d bytes", s.name, s.line, MaxRecord)
			}
			if err := s.fill(len(s.buf) + s.size); err != nil {
				return Block{}, err
			}
			continue
		}
		data := s.get(end)
		copy(data, s.buf[:end])
		rest := copy(s.buf, s.buf[end:])
		s.buf = s.buf[:rest]
		nl := bytes.Count(data, []byte{'\n'})
		b := Block{Seq: s.seq, Line: s.line, Lines: nl, Data: data}
		s.seq++
		s.line += int64(nl)
		return b, nil
	}
}

func (s *Splitter) get(n int) []byte {
	if b, ok := s.pool.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n, max(n, s.size))
}

// Release returns a block's memory once it is parsed.
func (s *Splitter) Release(b Block) { s.pool.Put(&b.Data) }

// lastRecordEnd returns the index just past the last newline of b that
// is outside quotes (0 if none). Every quote toggles quoting, which also
// handles "" escapes.
func lastRecordEnd(b []byte) int {
	last, i := 0, 0
	nextQ, nextN := -1, -1
	inQuote := false
	for {
		if nextQ < i {
			if q := bytes.IndexByte(b[i:], '"'); q >= 0 {
				nextQ = i + q
			} else {
				nextQ = len(b)
			}
		}
		if inQuote {
			if nextQ == len(b) {
				return last
			}
			inQuote, i = false, nextQ+1
			continue
		}
		if nextN < i {
			if n := bytes.IndexByte(b[i:], '\n'); n >= 0 {
				nextN = i + n
			} else {
				nextN = len(b)
			}
		}
		if nextN < nextQ {
			last, i = nextN+1, nextN+1
			continue
		}
		if nextQ == len(b) {
			return last
		}
		inQuote, i = true, nextQ+1
	}
}

// firstRecordEnd returns the index just past the first newline of b
// outside quotes (0 if none).
func firstRecordEnd(b []byte) int {
	inQuote := false
	for i, c := range b {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == '\n' && !inQuote:
			return i + 1
		}
	}
	return 0
}

// NewCSVBlock parses the records of one block; header gives the column
// count every record must have.
func NewCSVBlock(name string, b Block, header []string) *CSV {
	return newCSVData(name, b.Data, b.Line, header)
}

func newCSVData(name string, data []byte, line int64, header []string) *CSV {
	return &CSV{name: name, buf: data, end: len(data), eof: true, line: line, cols: header}
}
