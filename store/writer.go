package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"unsafe"
)

// segWriter lays blocks out in a segment file: it pads to the block's
// alignment, keeps the running offset and checksums each block.
type segWriter struct {
	f   *os.File
	w   *bufio.Writer
	off uint64
	crc uint32
	err error
	// written holds the blocks of at least dedupMin bytes written so far
	// by length and checksum, so that a block equal to one of them is
	// written once and referenced twice (see block).
	written map[blockKey][]writtenBlock
}

// dedupMin is the smallest block block looks up among those written.
const dedupMin = 512

type blockKey struct {
	len uint64
	crc uint32
}

// writtenBlock is a block's bytes, which stay unchanged until the segment
// is written, and where they are.
type writtenBlock struct {
	p   []byte
	ref blockRef
}

// newSegWriter writes to f, starting the kernel's writeback as it goes
// when early is set (see writeback).
func newSegWriter(f *os.File, early bool) *segWriter {
	var out io.Writer = f
	if early {
		out = &writeback{f: f}
	}
	return &segWriter{f: f, w: bufio.NewWriterSize(out, 1<<20)}
}

// writebackChunk is how much written data writeback lets accumulate
// before it asks the kernel to start writing it to disk.
const writebackChunk = 8 << 20

// writeback writes to f and starts the kernel's writeback of every
// writebackChunk written (startWriteback), without waiting for it.
type writeback struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes handed to startWriteback
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}

var zeros [blockAlign]byte

// Write appends p to the current block; it implements io.Writer for the
// roaring serializer.
func (w *segWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	w.off += uint64(n)
	w.crc = crc32.Update(w.crc, castagnoli, p[:n])
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *segWriter) pad(align uint64) {
	if n := alignUp(w.off, align) - w.off; n > 0 {
		w.Write(zeros[:n]) //nolint:errcheck // sticky w.err
	}
}

// begin starts a block at the given alignment and returns its offset.
func (w *segWriter) begin(align uint64) uint64 {
	w.pad(align)
	w.crc = 0
	return w.off
}

// end closes the block that began at start.
func (w *segWriter) end(start uint64) blockRef {
	return blockRef{off: start, len: w.off - start, crc: w.crc}
}

// block writes p as one block, or, when a block of the same bytes at a
// compatible alignment was written before, returns that block's
// reference instead. Blocks are immutable and each column reads its own
// reference, so two columns may share one: in FOCUS data many columns
// are null on every row, or one value on every row, or equal to another
// column (ContractedCost and BilledCost, PricingQuantity and
// ConsumedQuantity, a charge period's start and end days), and their
// blocks were 45% of a segment's bytes in bench/store's data set.
func (w *segWriter) block(align uint64, p []byte) blockRef {
	if len(p) < dedupMin {
		start := w.begin(align)
		w.Write(p) //nolint:errcheck // sticky w.err
		return w.end(start)
	}
	key := blockKey{len: uint64(len(p)), crc: crc32c(p)}
	for _, b := range w.written[key] {
		if b.ref.off%align == 0 && (unsafe.SliceData(b.p) == unsafe.SliceData(p) || bytes.Equal(b.p, p)) {
			return b.ref
		}
	}
	start := w.begin(align)
	if w.err == nil {
		n, err := w.w.Write(p)
		w.off += uint64(n)
		w.err = err
	}
	ref := blockRef{off: start, len: w.off - start, crc: key.crc}
	if w.err == nil {
		if w.written == nil {
			w.written = map[blockKey][]writtenBlock{}
		}
		w.written[key] = append(w.written[key], writtenBlock{p: p, ref: ref})
	}
	return ref
}

func (w *segWriter) header(kind tableKind) {
	var h [headerSize]byte
	copy(h[:], headerMagic)
	binary.LittleEndian.PutUint32(h[8:], formatVersion)
	binary.LittleEndian.PutUint32(h[12:], uint32(kind))
	w.Write(h[:]) //nolint:errcheck // sticky w.err
}

// finish writes the footer and trailer and flushes; the caller syncs and
// closes the file.
func (w *segWriter) finish(f *footer) (size uint64, footerCRC uint32, err error) {
	body := f.encode(formatVersion)
	// Written, never shared with an earlier block: the footer's offset is
	// where the data area ends.
	start := w.begin(blockAlign)
	w.Write(body) //nolint:errcheck // sticky w.err
	ref := w.end(start)
	var t [trailerSize]byte
	binary.LittleEndian.PutUint64(t[0:], ref.off)
	binary.LittleEndian.PutUint64(t[8:], ref.len)
	binary.LittleEndian.PutUint32(t[16:], ref.crc)
	binary.LittleEndian.PutUint32(t[20:], formatVersion)
	copy(t[24:], trailerMagic)
	w.Write(t[:]) //nolint:errcheck // sticky w.err
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return 0, 0, fmt.Errorf("write segment: %w", w.err) // w.err names the file
	}
	return w.off, ref.crc, nil
}

// pendingSegment is a segment file written in full and still open, not
// yet known to be on disk: sync makes it durable and closes it.
type pendingSegment struct {
	f         *os.File
	path      string
	size      uint64
	footerCRC uint32
}

// writeSegment writes t to path (which must not exist) and returns it
// open and unsynced, with its size and footer checksum; t's buffers may
// be released once it returns. On error the file is gone.
//
// With early (a store that syncs), the kernel is asked to start writing
// the file back as it is written (startWriteback), so the sync that
// follows waits for little more than the last few MiB: the builds of a
// collect no longer queue behind a 200 MB fsync each.
func writeSegment(path string, t *builtTable, early bool) (p *pendingSegment, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	w := newSegWriter(f, early)
	w.header(t.f.kind)
	ft := t.f
	ft.cols = make([]colMeta, len(t.cols))
	for i := range t.cols {
		c := &t.cols[i]
		m := c.meta
		m.data = w.block(blockAlign, c.data)
		if m.typ == colDict {
			m.dict = w.block(blockAlign, c.dict)
		}
		if m.flags&flagIndexed != 0 {
			m.bmDir = w.bitmaps(c.bitmaps)
		}
		if m.flags&flagBSI != 0 {
			m.bsiDir = w.bitmaps(c.planes)
		}
		ft.cols[i] = m
	}
	if r := t.runs; r != nil {
		ft.runs = runIndex{keys: r.keys, runs: uint32(len(r.ends) / 4), ends: w.block(blockAlign, r.ends)}
		for _, c := range r.codes {
			ft.runs.codes = append(ft.runs.codes, w.block(blockAlign, c))
		}
		for _, sm := range r.sums {
			ft.runs.sums = append(ft.runs.sums, runSum{name: sm.name, data: w.block(blockAlign, sm.data)})
		}
	}
	size, footerCRC, err := w.finish(&ft)
	if err != nil {
		return nil, err
	}
	return &pendingSegment{f: f, path: path, size: size, footerCRC: footerCRC}, nil
}

// sync makes the segment durable (unless noSync) and closes it; on error
// the file is removed.
func (p *pendingSegment) sync(noSync bool) error {
	var err error
	if !noSync {
		if err = p.f.Sync(); err != nil {
			err = fmt.Errorf("sync segment %s: %w", p.path, err)
		}
	}
	if cerr := p.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close segment %s: %w", p.path, cerr)
	}
	if err != nil {
		os.Remove(p.path)
	}
	return err
}

// bitmaps writes serialized bitmaps, each 8-byte aligned, then their
// directory block.
func (w *segWriter) bitmaps(bms [][]byte) blockRef {
	dir := make([]byte, bmDirEntry*len(bms))
	for i, b := range bms {
		if len(b) == 0 {
			continue
		}
		r := w.block(bitmapAlign, b)
		binary.LittleEndian.PutUint64(dir[bmDirEntry*i:], r.off)
		binary.LittleEndian.PutUint32(dir[bmDirEntry*i+8:], uint32(r.len))
		binary.LittleEndian.PutUint32(dir[bmDirEntry*i+12:], r.crc)
	}
	return w.block(blockAlign, dir)
}
