package tabular

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
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
		zr, err := gzip.NewReader(br)
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
func ReadAhead(r io.Reader) io.ReadCloser {
	ra := &readAhead{
		ch:   make(chan chunk, 3),
		free: make(chan []byte, 4),
		stop: make(chan struct{}),
	}
	for i := 0; i < 4; i++ {
		ra.free <- make([]byte, 1<<20)
	}
	ra.wg.Add(1)
	go ra.run(r)
	return ra
}

type chunk struct {
	b   []byte
	err error
}

type readAhead struct {
	ch   chan chunk
	free chan []byte
	stop chan struct{}
	wg   sync.WaitGroup
	cur  chunk
	rest []byte
	once sync.Once
}

func (ra *readAhead) run(r io.Reader) {
	defer ra.wg.Done()
	defer close(ra.ch)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = r.Read(buf[n:])
			n += k
		}
		select {
		case ra.ch <- chunk{b: buf[:n], err: err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.rest) == 0 {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.b != nil {
			ra.free <- ra.cur.b[:cap(ra.cur.b)]
		}
		c, ok := <-ra.ch
		if !ok {
			return 0, io.EOF
		}
		ra.cur, ra.rest = c, c.b
		if len(c.b) == 0 && c.err == nil {
			continue
		}
	}
	n := copy(p, ra.rest)
	ra.rest = ra.rest[n:]
	return n, nil
}

func (ra *readAhead) Close() error {
	ra.once.Do(func() {
		close(ra.stop)
		for range ra.ch {
		}
		ra.wg.Wait()
	})
	return nil
}
