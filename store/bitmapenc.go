package store

import (
	"encoding/binary"
	"math/bits"
	"sort"
)

// The two encoders here write roaring bitmaps in the portable
// serialization (github.com/RoaringBitmap/RoaringFormatSpec) straight
// from a build's row ids, without building a roaring.Bitmap first: they
// measure each 65536-row container in one pass and write it in a second.
// Each container is the kind roaring's RunOptimize would leave (runs when
// their 2+4·runs bytes are fewer than both the array's 2·cardinality and
// the bitmap's 8192; else an array up to 4096 values; else a bitmap), so
// the bytes are those of roaring's own RunOptimize then WriteTo
// (TestBitmapEncoders compares them). In the build of a partition the
// roaring route (AddMany or FromDense, RunOptimize, WriteTo) was a tenth
// of the CPU.

const (
	rbCookieNoRuns  = 12346 // only arrays and bitmaps
	rbCookieRuns    = 12347 // runs too
	rbNoOffsetLimit = 4     // with runs, fewer containers have no offset header
	rbArrayMax      = 4096  // an array holds at most this many values
	rbBitmapBytes   = 8192
)

type rbKind uint8

const (
	rbArray rbKind = iota
	rbBitmap
	rbRun
)

// rbContainer is one container's measurements.
type rbContainer struct {
	key  uint16
	kind rbKind
	card int // 1..65536
	runs int
	lo   int // sortedBitmapBytes: index of its first value; denseBitmapBytes: its first word
}

func rbKindOf(card, runs int) rbKind {
	if 2+4*runs < min(rbBitmapBytes, 2*card) {
		return rbRun
	}
	if card <= rbArrayMax {
		return rbArray
	}
	return rbBitmap
}

func (c *rbContainer) size() int {
	switch c.kind {
	case rbRun:
		return 2 + 4*c.runs
	case rbArray:
		return 2 * c.card
	}
	return rbBitmapBytes
}

// rbHeader sizes the serialization of cs and writes its header; it
// returns the buffer and where the first container goes.
func rbHeader(cs []rbContainer) ([]byte, int) {
	hasRun := false
	body := 0
	for i := range cs {
		hasRun = hasRun || cs[i].kind == rbRun
		body += cs[i].size()
	}
	n := len(cs)
	head := 8
	if hasRun {
		head = 4 + (n+7)/8
	}
	head += 4 * n // keys and cardinalities
	offsets := !hasRun || n >= rbNoOffsetLimit
	if offsets {
		head += 4 * n
	}
	b := make([]byte, head+body)
	pos := 0
	if hasRun {
		binary.LittleEndian.PutUint16(b[0:], rbCookieRuns)
		binary.LittleEndian.PutUint16(b[2:], uint16(n-1))
		for i := range cs {
			if cs[i].kind == rbRun {
				b[4+i/8] |= 1 << (i % 8)
			}
		}
		pos = 4 + (n+7)/8
	} else {
		binary.LittleEndian.PutUint32(b[0:], rbCookieNoRuns)
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		pos = 8
	}
	for i := range cs {
		binary.LittleEndian.PutUint16(b[pos:], cs[i].key)
		binary.LittleEndian.PutUint16(b[pos+2:], uint16(cs[i].card-1))
		pos += 4
	}
	if offsets {
		off := head
		for i := range cs {
			binary.LittleEndian.PutUint32(b[pos:], uint32(off))
			pos += 4
			off += cs[i].size()
		}
	}
	return b, head
}

// sortedBitmapBytes serializes the bitmap of p, ascending row ids without
// repeats.
func sortedBitmapBytes(p []uint32) []byte {
	var cs []rbContainer
	for i := 0; i < len(p); {
		key := p[i] >> 16
		c := rbContainer{key: uint16(key), lo: i, runs: 1}
		// The container's values: up to the first of the next key.
		j := i + sort.Search(len(p)-i, func(k int) bool { return p[i+k]>>16 != key })
		for k := i + 1; k < j; k++ {
			// A new run wherever the step is not 1 (without a branch:
			// the steps of scattered rows are unpredictable).
			c.runs += int(min(p[k]-p[k-1]-1, 1))
		}
		c.card = j - i
		c.kind = rbKindOf(c.card, c.runs)
		cs = append(cs, c)
		i = j
	}
	b, pos := rbHeader(cs)
	for _, c := range cs {
		v := p[c.lo : c.lo+c.card]
		switch c.kind {
		case rbArray:
			for k, x := range v {
				binary.LittleEndian.PutUint16(b[pos+2*k:], uint16(x))
			}
		case rbBitmap:
			w := b[pos : pos+rbBitmapBytes]
			for _, x := range v {
				w[x>>3&0x1fff] |= 1 << (x & 7)
			}
		case rbRun:
			binary.LittleEndian.PutUint16(b[pos:], uint16(c.runs))
			r := pos + 2
			start := v[0]
			for k := 1; k <= len(v); k++ {
				if k == len(v) || v[k] != v[k-1]+1 {
					binary.LittleEndian.PutUint16(b[r:], uint16(start))
					binary.LittleEndian.PutUint16(b[r+2:], uint16(v[k-1]-start))
					r += 4
					if k < len(v) {
						start = v[k]
					}
				}
			}
		}
		pos += c.size()
	}
	return b
}

// denseBitmapBytes serializes the bitmap whose bit i is bit i%64 of
// w[i/64].
func denseBitmapBytes(w []uint64) []byte {
	const words = 1 << 16 / 64
	var cs []rbContainer
	for lo := 0; lo < len(w); lo += words {
		ws := w[lo:min(len(w), lo+words)]
		card, runs := 0, 0
		prev := uint64(0) // the previous word's top bit, as bit 0
		for _, x := range ws {
			card += bits.OnesCount64(x)
			// A run starts at each set bit whose lower neighbour is clear.
			runs += bits.OnesCount64(x &^ (x<<1 | prev))
			prev = x >> 63
		}
		if card == 0 {
			continue
		}
		cs = append(cs, rbContainer{key: uint16(lo / words), card: card, runs: runs, kind: rbKindOf(card, runs), lo: lo})
	}
	b, pos := rbHeader(cs)
	for _, c := range cs {
		ws := w[c.lo:min(len(w), c.lo+words)]
		switch c.kind {
		case rbBitmap:
			for k, x := range ws {
				binary.LittleEndian.PutUint64(b[pos+8*k:], x)
			}
		case rbArray:
			k := pos
			for i, x := range ws {
				for x != 0 {
					binary.LittleEndian.PutUint16(b[k:], uint16(64*i+bits.TrailingZeros64(x)))
					k += 2
					x &= x - 1
				}
			}
		case rbRun:
			binary.LittleEndian.PutUint16(b[pos:], uint16(c.runs))
			r := pos + 2
			// Walk the runs: find a set bit, then the next clear bit.
			i, x := 0, ws[0]
			for {
				for x == 0 && i+1 < len(ws) {
					i++
					x = ws[i]
				}
				if x == 0 {
					break
				}
				start := 64*i + bits.TrailingZeros64(x)
				// Complement from start's bit up to find the run's end.
				y := ^x &^ (1<<uint(start%64) - 1)
				for y == 0 && i+1 < len(ws) {
					i++
					y = ^ws[i]
				}
				end := 64 * len(ws) // exclusive
				if y != 0 {
					end = 64*i + bits.TrailingZeros64(y)
				}
				binary.LittleEndian.PutUint16(b[r:], uint16(start))
				binary.LittleEndian.PutUint16(b[r+2:], uint16(end-1-start))
				r += 4
				if end >= 64*len(ws) {
					break
				}
				// Continue from end: the bits of word i at and above it.
				x = ws[i] &^ (1<<uint(end%64) - 1)
			}
		}
		pos += c.size()
	}
	return b
}
