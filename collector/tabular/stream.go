package tabular

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Decompress returns r decompressed when it starts with the gzip magic
// bytes, else r itself (buffered). A ZIP archive is refused with a
// message: legacy CUR can be set to ZIP, which this reader does not take.
func Decompress(name string, r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gunzip(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		return &gzipErrors{name: name, r: zr}, nil
	case len(head) >= 4 && string(head) == "PK\x03\x04":
		return nil, fmt.Errorf("%s: a ZIP archive: unzip it, or set the report's compression to GZIP or Parquet", name)
	}
	return br, nil
}

// gzipErrors says "truncated gzip" instead of a bare unexpected EOF.
type gzipErrors struct {
	name string
	r    io.Reader
}

func (g *gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("truncated gzip stream: %w", err)
		} else {
			err = fmt.Errorf("gzip: %w", err)
		}
	}
	return n, err
}

// ReadAhead reads r on its own goroutine in chunks, so that reading and
// decompressing overlap with parsing on another core. Close stops it.
// The goroutine starts at the first Read, or when NewSplitter takes the
// chunks to split them where they are.
func ReadAhead(r io.Reader) io.ReadCloser {
	return &readAhead{
		r:       r,
		buffers: newBuffers(0, 1<<20),
		ch:      make(chan chunk, 3),
		stop:    make(chan struct{}),
	}
}

type chunk struct {
	buf []byte // data is buf[head:head+n]
	n   int
	err error
}

// readAhead fills buffers from its pool on the goroutine and passes them
// on through ch, at most 3 ahead of the reader; buffers come back to the
// pool from Read, or from Splitter.Release when they are blocks. A buffer
// is made when none is free, so the memory is that of the 4 ahead and of
// the blocks the splitter's consumer holds (readCSV: 2 per worker and 1).
type readAhead struct {
	r io.Reader
	buffers
	ch    chan chunk
	stop  chan struct{}
	wg    sync.WaitGroup
	start sync.Once
	once  sync.Once
	cur   chunk
	rest  []byte
}

func (ra *readAhead) begin() {
	ra.start.Do(func() {
		ra.wg.Add(1)
		go ra.run()
	})
}

// attach starts the goroutine with buffers of head bytes of headroom and
// size bytes of data, for a Splitter; false if it has already started.
func (ra *readAhead) attach(head, size int) bool {
	ok := false
	ra.start.Do(func() {
		ra.head, ra.size, ok = head, size, true
		ra.wg.Add(1)
		go ra.run()
	})
	return ok
}

func (ra *readAhead) run() {
	defer ra.wg.Done()
	defer close(ra.ch)
	for {
		select {
		case <-ra.stop:
			return
		default:
		}
		buf := ra.get()
		n, err := readFull(ra.r, buf[ra.head:])
		select {
		case ra.ch <- chunk{buf: buf, n: n, err: err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// errClosed is what a Splitter reads from a ReadAhead closed under it.
var errClosed = errors.New("read ahead: closed")

func (ra *readAhead) next() ([]byte, int, error) {
	c, ok := <-ra.ch
	if !ok {
		return nil, 0, errClosed
	}
	return c.buf, c.n, c.err
}

func (ra *readAhead) Read(p []byte) (int, error) {
	ra.begin()
	for len(ra.rest) == 0 {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.buf != nil {
			ra.put(ra.cur.buf)
			ra.cur.buf = nil
		}
		c, ok := <-ra.ch
		if !ok {
			return 0, io.EOF
		}
		ra.cur, ra.rest = c, c.buf[ra.head:ra.head+c.n]
	}
	n := copy(p, ra.rest)
	ra.rest = ra.rest[n:]
	return n, nil
}

func (ra *readAhead) Close() error {
	ra.once.Do(func() {
		ra.start.Do(func() { close(ra.ch) }) // never started: nothing to stop
		close(ra.stop)
		for range ra.ch {
		}
		ra.wg.Wait()
	})
	return nil
}
