package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Block is a run of whole CSV records cut from a stream, for parallel
// parsing.
type Block struct {
	Seq   int
	Line  int64 // line number of the block's first record
	Lines int   // newlines in Data: at most one record fewer than that
	Data  []byte
	buf   []byte // the pooled buffer Data is in; nil when it is not pooled
}

// Splitter cuts a CSV stream into blocks of whole records, so that
// several goroutines can parse one file. Record boundaries follow RFC
// 4180 quoting: a newline inside a quoted field does not end a record.
//
// The stream is read in chunks straight into block buffers, each with
// headroom at its front: the unfinished record at the end of one chunk
// is copied into the headroom of the next, so a block is the chunk with
// that tail before it and its own tail cut off, and no byte is copied
// besides the tails. Given a ReadAhead, the splitter takes its chunks as
// they come off the decompressing goroutine. Copying every byte out of
// the read-ahead's chunks into the splitter's buffer and again into the
// block's, with the quote walk of lastRecordEnd, took 50 ms of CPU per
// 64 MiB (BenchmarkSplit/plain), on the goroutine that feeds all the
// parsers; cutting the chunks in place takes 8.
type Splitter struct {
	name    string
	src     chunkSource
	head    int    // headroom of the buffers
	tail    []byte // carried bytes of an unfinished record, the splitter's own
	pend    []byte // bytes after the header, for the first Next
	pbuf    []byte // the buffer pend is in
	pending bool
	line    int64
	seq     int
	eof     bool
	err     error
}

// headroom is the space before the data in each block buffer for the
// tail carried from the previous one. FOCUS records are under 1 KiB; a
// tail longer than the headroom (a record of more than 64 KiB, or of
// more than a block) is carried by copying instead (see more).
const headroom = 64 << 10

// chunkSource reads a stream into buffers of head bytes of headroom and
// size bytes of data.
type chunkSource interface {
	// next returns a buffer holding the next n bytes at buf[head:head+n]
	// and the error that ended the read there, io.EOF at the end. buf
	// is nil only with an error.
	next() (buf []byte, n int, err error)
	// put returns a buffer from next for reuse; it may be called from
	// any goroutine.
	put(buf []byte)
}

// NewSplitter reads the header (skipping a UTF-8 byte order mark) and
// returns a splitter for the records after it, in blocks of about size
// bytes. When r is a ReadAhead the blocks are its chunks: it must not
// have been read from (else it is read through like any reader), and
// closing it stops the splitter's reads.
func NewSplitter(name string, r io.Reader, size int) (*Splitter, []string, error) {
	return newSplitter(name, r, size, headroom)
}

func newSplitter(name string, r io.Reader, size, head int) (*Splitter, []string, error) {
	size = max(size, 1)
	s := &Splitter{name: name, head: head, line: 1}
	if ra, ok := r.(*readAhead); ok && ra.attach(head, size) {
		s.src = ra
	} else {
		s.src = &readChunks{r: r, buffers: newBuffers(head, size)}
	}
	for bomSeen := false; ; {
		data, buf, err := s.more()
		if err != nil {
			return nil, nil, err
		}
		if !bomSeen {
			if len(data) < len(bom) && bytes.HasPrefix(bom, data) && !s.eof {
				s.carry(data, buf)
				continue
			}
			data, bomSeen = bytes.TrimPrefix(data, bom), true
		}
		end := firstRecordEnd(data)
		if end > 0 || s.eof {
			if end == 0 {
				end = len(data)
			}
			if end == 0 {
				s.release(buf)
				return nil, nil, fmt.Errorf("%s: empty file, no header", name)
			}
			// Counted before the parse, which unquotes "" in place: in a
			// header like """\n" that made a newline more.
			nl := bytes.Count(data[:end], []byte{'\n'})
			c := newCSVData(name, data[:end:end], 1, nil)
			if !c.Next() {
				s.release(buf)
				if c.err != nil {
					return nil, nil, c.err
				}
				return nil, nil, fmt.Errorf("%s: empty file, no header", name)
			}
			header := make([]string, c.NumFields())
			for i := range header {
				header[i] = string(bytes.TrimSpace(c.Field(i)))
			}
			s.line += int64(nl)
			s.pend, s.pbuf, s.pending = data[end:], buf, true
			return s, header, nil
		}
		if len(data) > MaxRecord {
			s.release(buf)
			return nil, nil, fmt.Errorf("%s: line 1: header longer than %d bytes", name, MaxRecord)
		}
		s.carry(data, buf)
	}
}

// more returns the bytes not yet split, the carried tail followed by the
// next chunk, contiguous. buf is the pooled buffer they are in, or nil
// when they are the splitter's own memory. After the last chunk it
// returns the tail alone.
func (s *Splitter) more() (data, buf []byte, err error) {
	if s.err != nil {
		return nil, nil, s.err
	}
	if s.eof {
		data, s.tail = s.tail, nil
		return data, nil, nil
	}
	buf, n, err := s.src.next()
	if err != nil && !errors.Is(err, io.EOF) {
		line := s.line + int64(bytes.Count(s.tail, []byte{'\n'}))
		if buf != nil {
			line += int64(bytes.Count(buf[s.head:s.head+n], []byte{'\n'}))
			s.src.put(buf)
		}
		s.err = fmt.Errorf("%s: line %d: read: %w", s.name, line, err)
		return nil, nil, s.err
	}
	s.eof = err != nil
	if len(s.tail) > s.head {
		data, s.tail = append(s.tail, buf[s.head:s.head+n]...), nil
		s.src.put(buf)
		return data, nil, nil
	}
	start := s.head - len(s.tail)
	copy(buf[start:], s.tail)
	s.tail = s.tail[:0]
	return buf[start : s.head+n], buf, nil
}

// carry keeps data, which holds no whole record, as the tail.
func (s *Splitter) carry(data, buf []byte) {
	if buf == nil {
		s.tail = data
		return
	}
	s.tail = append(s.tail[:0], data...)
	s.src.put(buf)
}

func (s *Splitter) release(buf []byte) {
	if buf != nil {
		s.src.put(buf)
	}
}

// Next returns the next block; io.EOF after the last.
func (s *Splitter) Next() (Block, error) {
	for {
		var data, buf []byte
		if s.pending {
			data, buf = s.pend, s.pbuf
			s.pend, s.pbuf, s.pending = nil, nil, false
		} else {
			var err error
			if data, buf, err = s.more(); err != nil {
				return Block{}, err
			}
		}
		if len(data) == 0 && s.eof {
			s.release(buf)
			return Block{}, io.EOF
		}
		end := lastRecordEnd(data)
		if end == 0 && s.eof {
			end = len(data) // a last record without a final newline, or an unterminated quote the parser reports
		}
		if end == 0 {
			if len(data) > MaxRecord {
				s.release(buf)
				s.err = fmt.Errorf("%s: line %d: record longer than %d bytes", s.name, s.line, MaxRecord)
				return Block{}, s.err
			}
			s.carry(data, buf)
			continue
		}
		s.tail = append(s.tail, data[end:]...)
		nl := bytes.Count(data[:end], []byte{'\n'})
		b := Block{Seq: s.seq, Line: s.line, Lines: nl, Data: data[:end:end], buf: buf}
		s.seq++
		s.line += int64(nl)
		return b, nil
	}
}

// Release returns a block's memory once it is parsed. It may be called
// from any goroutine.
func (s *Splitter) Release(b Block) { s.release(b.buf) }

// buffers recycles the block buffers of one stream: head bytes of
// headroom and size bytes of data each. The free list is bounded; a
// buffer put back when it is full is left to the garbage collector.
type buffers struct {
	head, size int
	free       chan []byte
}

func newBuffers(head, size int) buffers {
	return buffers{head: head, size: size, free: make(chan []byte, 16)}
}

func (p *buffers) get() []byte {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]byte, p.head+p.size)
	}
}

func (p *buffers) put(b []byte) {
	if cap(b) != p.head+p.size {
		return
	}
	select {
	case p.free <- b[:cap(b)]:
	default:
	}
}

// readChunks is the chunk source for a reader that is not a ReadAhead:
// it reads on the caller's goroutine.
type readChunks struct {
	r io.Reader
	buffers
}

func (c *readChunks) next() ([]byte, int, error) {
	buf := c.get()
	n, err := readFull(c.r, buf[c.head:])
	return buf, n, err
}

// readFull reads into b until it is full or r returns an error, which
// it returns as is (io.EOF too).
func readFull(r io.Reader, b []byte) (n int, err error) {
	for n < len(b) && err == nil {
		var k int
		k, err = r.Read(b[n:])
		n += k
	}
	return n, err
}

// lastRecordEnd returns the index just past the last newline of b that
// is outside quotes (0 if none). Every quote toggles quoting, which also
// handles "" escapes, and b starts outside quotes, so a newline is
// outside them when the quotes before it are even in number. Counting
// them (SIMD) and walking back from the last newline only while the
// count is odd is 7 times faster than walking from quote to quote on
// FOCUS rows, whose JSON tags are full of "": 0.045 ms per MiB instead
// of 0.32 (BenchmarkLastRecordEnd), which was 2.4 s per 10M rows.
func lastRecordEnd(b []byte) int {
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return 0
	}
	q := bytes.Count(b[:end], []byte{'"'})
	for q%2 != 0 {
		prev := bytes.LastIndexByte(b[:end], '\n')
		if prev < 0 {
			return 0
		}
		q -= bytes.Count(b[prev:end], []byte{'"'})
		end = prev
	}
	return end + 1
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
