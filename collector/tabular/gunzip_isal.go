//go:build cgo && isal

package tabular

/*
#cgo LDFLAGS: -lisal
#include <stdlib.h>
#include <isa-l/igzip_lib.h>

typedef struct {
	int ret;
	uint32_t used, wrote;
	int finished;
} cg_result;

// cg_inflate inflates from in to out, Go memory that is only lent for the
// call: the state keeps no pointer to it after.
static cg_result cg_inflate(struct inflate_state *s, uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_len) {
	s->next_in = in;
	s->avail_in = in_len;
	s->next_out = out;
	s->avail_out = out_len;
	cg_result r;
	r.ret = isal_inflate(s);
	r.used = in_len - s->avail_in;
	r.wrote = out_len - s->avail_out;
	r.finished = s->block_state == ISAL_BLOCK_FINISH;
	s->next_in = NULL;
	s->avail_in = 0;
	s->next_out = NULL;
	s->avail_out = 0;
	return r;
}

static struct inflate_state *cg_new(void) {
	struct inflate_state *s = malloc(sizeof(struct inflate_state));
	if (s != NULL) {
		isal_inflate_init(s);
		s->crc_flag = ISAL_GZIP;
	}
	return s;
}

static void cg_reset(struct inflate_state *s) {
	isal_inflate_reset(s);
	s->crc_flag = ISAL_GZIP;
}
*/
import "C"

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"unsafe"
)

// Gunzip names the gzip decoder this build uses: Intel's ISA-L (igzip),
// built with -tags isal where libisal-dev is installed (the Makefile
// does that). It inflated the bench's 10M-row FOCUS file (6.7 GB of
// CSV) in 4.5 s of CPU where klauspost/compress took 13 s: decompression
// runs on one goroutine and paced the whole read.
const Gunzip = "isa-l"

// isalReader is a gzip stream (members one after another, as gzip -c
// appends them) inflated by ISA-L.
type isalReader struct {
	src    *bufio.Reader
	state  *C.struct_inflate_state
	in     []byte
	pos    int
	end    int
	srcErr error // what ended src: io.EOF, or a read error
	member bool  // inside a member (its header read or being read)
	err    error
}

func gunzip(br *bufio.Reader) (io.Reader, error) {
	// Check the header here, as gzip.NewReader does, so that a file that
	// is not gzip after all fails at open.
	head, err := br.Peek(10)
	if err != nil {
		return nil, fmt.Errorf("read gzip header: %w", err)
	}
	if head[0] != 0x1f || head[1] != 0x8b || head[2] != 8 {
		return nil, errors.New("invalid gzip header")
	}
	st := C.cg_new()
	if st == nil {
		return nil, errors.New("out of memory for the ISA-L inflate state")
	}
	z := &isalReader{src: br, state: st, in: make([]byte, 256<<10), member: true}
	runtime.AddCleanup(z, func(st *C.struct_inflate_state) { C.free(unsafe.Pointer(st)) }, st)
	return z, nil
}

// fill reads more compressed input when all of it has been used.
func (z *isalReader) fill() {
	if z.pos < z.end || z.srcErr != nil {
		return
	}
	n, err := z.src.Read(z.in)
	z.pos, z.end = 0, n
	if err != nil {
		z.srcErr = err
	}
}

func (z *isalReader) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > 1<<30 {
		p = p[:1<<30]
	}
	for {
		z.fill()
		if !z.member {
			// Between members: the end of the stream, or another member.
			if z.pos == z.end {
				if z.srcErr == nil {
					continue
				}
				z.err = z.srcErr
				return 0, z.err
			}
			C.cg_reset(z.state)
			z.member = true
		}
		var in *C.uint8_t
		if z.pos < z.end {
			in = (*C.uint8_t)(unsafe.Pointer(&z.in[z.pos]))
		}
		r := C.cg_inflate(z.state, in, C.uint32_t(z.end-z.pos), (*C.uint8_t)(unsafe.Pointer(&p[0])), C.uint32_t(len(p)))
		runtime.KeepAlive(z.in)
		runtime.KeepAlive(p)
		z.pos += int(r.used)
		n := int(r.wrote)
		if r.ret < 0 {
			z.err = isalError(int(r.ret))
			return n, z.err
		}
		if r.finished != 0 {
			z.member = false
		}
		if n > 0 {
			return n, nil
		}
		if z.member && z.pos == z.end && z.srcErr != nil && r.used == 0 {
			// No input left and nothing more came out: the stream stops
			// inside a member.
			if z.srcErr == io.EOF {
				z.err = io.ErrUnexpectedEOF
			} else {
				z.err = z.srcErr
			}
			return 0, z.err
		}
	}
}

func isalError(code int) error {
	switch code {
	case C.ISAL_INCORRECT_CHECKSUM:
		return errors.New("invalid checksum")
	case C.ISAL_INVALID_WRAPPER:
		return errors.New("invalid gzip header")
	case C.ISAL_UNSUPPORTED_METHOD:
		return errors.New("unsupported compression method")
	case C.ISAL_INVALID_BLOCK, C.ISAL_INVALID_SYMBOL, C.ISAL_INVALID_LOOKBACK:
		return fmt.Errorf("corrupt deflate data (ISA-L error %d)", code)
	}
	return fmt.Errorf("ISA-L inflate error %d", code)
}
