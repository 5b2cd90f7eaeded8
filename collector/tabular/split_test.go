package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
)

// splitAll parses a stream through the splitter with tiny blocks.
func splitAll(tb testing.TB, in string, size int) ([][]string, []string, error) {
	tb.Helper()
	return splitAllWith(tb, iotest.HalfReader(strings.NewReader(in)), size, headroom)
}

// splitAllWith parses r through a splitter with blocks of size bytes and
// head bytes of headroom, and checks the blocks' numbering: Seq counts
// from 0, Lines are the newlines of Data, and each block starts on the
// line after the previous one's.
func splitAllWith(tb testing.TB, r io.Reader, size, head int) ([][]string, []string, error) {
	tb.Helper()
	sp, header, err := newSplitter("t.csv", r, size, head)
	if err != nil {
		return nil, nil, err
	}
	out := [][]string{header}
	var where []string
	seq, line := 0, sp.line
	for {
		b, err := sp.Next()
		if err == io.EOF {
			return out, where, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if b.Seq != seq || b.Line != line || b.Lines != bytes.Count(b.Data, []byte{'\n'}) {
			tb.Fatalf("block %d at line %d, %d lines: want block %d at line %d, %d lines", b.Seq, b.Line, b.Lines, seq, line, bytes.Count(b.Data, []byte{'\n'}))
		}
		seq, line = seq+1, line+int64(b.Lines)
		c := NewCSVBlock("t.csv", b, header)
		for c.Next() {
			rec := make([]string, c.NumFields())
			for i := range rec {
				rec[i] = string(c.Field(i))
			}
			out = append(out, rec)
			where = append(where, c.Where())
		}
		if err := c.Err(); err != nil {
			return nil, nil, err
		}
		sp.Release(b)
	}
}

func TestSplitterMatchesSerial(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "billing", "focus", "focus_1.0_sample_1000_rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{
		"plain":          "a,b\n1,2\n3,4\n",
		"quoted newline": "a,b\n\"1\n2\",3\n\"x\"\"\ny\",5\n6,7",
		"bom crlf":       "\xEF\xBB\xBFa,b\r\n1,2\r\n",
		"blank lines":    "a,b\n\n1,2\n\n\n3,4\n",
		"multiline head": "\"a\nb\",c\n1,2\n",
		"escaped head":   "\"\"\"\n\"\n0",
		"sample":         string(sample),
	}
	for name, in := range inputs {
		for _, size := range []int{1, 7, 64, 1 << 20} {
			want, wantWhere, werr := readAll(t, in, 1<<20, false)
			got, gotWhere, gerr := splitAll(t, in, size)
			if werr != nil || gerr != nil {
				t.Fatalf("%s/%d: %v %v", name, size, werr, gerr)
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotWhere, wantWhere) {
				t.Fatalf("%s/%d: split parse differs from serial:\n%q %q\n%q %q", name, size, got, gotWhere, want, wantWhere)
			}
		}
	}
}

func TestSplitterErrors(t *testing.T) {
	if _, _, err := splitAll(t, "a,b\n1,2\n\"3,4\n", 4); err == nil || !strings.Contains(err.Error(), "line 3: unterminated quoted field") {
		t.Fatalf("%v", err)
	}
	if _, _, err := splitAll(t, "", 4); err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Fatalf("%v", err)
	}
}

func TestLastRecordEnd(t *testing.T) {
	tests := map[string]int{
		"a,b\n1,2":       4,
		"a,\"b\n\",c\n1": 9,
		"\"open\n":       0,
		"x\n\"\"\"\"\ny": 7,
		"":               0,
	}
	for in, want := range tests {
		if got := lastRecordEnd([]byte(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}

// lastRecordEndToggling is lastRecordEnd walked byte by byte, as the
// model to check it against.
func lastRecordEndToggling(b []byte) int {
	last, inQuote := 0, false
	for i, c := range b {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == '\n' && !inQuote:
			last = i + 1
		}
	}
	return last
}

func TestLastRecordEndMatchesToggling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{`"`, `""`, "\n", "\r\n", ",", "a", "xyz", `"a""b"`, "\"x\ny\"", `"{""k"": ""v""}"`, "\n\n"}
	for i := 0; i < 100000; i++ {
		var b []byte
		n := rng.IntN(30)
		if i%100 == 0 {
			n = rng.IntN(1000)
		}
		for ; n > 0; n-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		if got, want := lastRecordEnd(b), lastRecordEndToggling(b); got != want {
			t.Fatalf("%q: %d, want %d", b, got, want)
		}
	}
}

// randomCSV is a valid CSV of three columns: empty, plain and long
// fields, quoted ones with commas, "" and line breaks, CRLF and blank
// lines, a quoted header now and then, and a last record without its
// newline now and then. Long fields are longer than the tiny headrooms
// TestSplitterTinyBuffers uses.
func randomCSV(rng *rand.Rand, rows int) string {
	var b strings.Builder
	if rng.IntN(4) == 0 {
		b.WriteString("\xEF\xBB\xBF")
	}
	if rng.IntN(3) == 0 {
		b.WriteString("\"a\n\"\"x\"\"\",b,c\r\n")
	} else {
		b.WriteString("a,b,c\n")
	}
	quoted := []string{",", `""`, "\n", "\r\n", "x", "yz", "{", `""k"": ""v""`}
	for r := 0; r < rows; r++ {
		if rng.IntN(10) == 0 {
			b.WriteString("\n")
		}
		for f := 0; f < 3; f++ {
			if f > 0 {
				b.WriteByte(',')
			}
			switch rng.IntN(4) {
			case 0:
			case 1:
				fmt.Fprintf(&b, "v%d", rng.IntN(1000))
			case 2:
				b.WriteString(strings.Repeat("w", rng.IntN(40)))
			case 3:
				b.WriteByte('"')
				for n := rng.IntN(12); n > 0; n-- {
					b.WriteString(quoted[rng.IntN(len(quoted))])
				}
				b.WriteByte('"')
			}
		}
		if r < rows-1 || rng.IntN(2) == 0 {
			b.WriteString([]string{"\n", "\r\n"}[rng.IntN(2)])
		}
	}
	return b.String()
}

// TestSplitterTinyBuffers splits with blocks and headrooms down to a
// byte, so that tails longer than the headroom are carried by copying,
// records span many chunks, and "" and \r\n straddle chunk ends, read
// on the caller's goroutine and through a ReadAhead; the records and
// their line numbers must be those of one parse of the whole input.
func TestSplitterTinyBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		in := randomCSV(rng, 30)
		want, wantWhere, err := readAll(t, in, 1<<20, false)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		for _, size := range []int{1, 2, 3, 5, 8, 13, 64, 1 << 20} {
			for _, head := range []int{0, 1, 4, 16, headroom} {
				for _, ahead := range []bool{false, true} {
					got, gotWhere, err := splitAllWith(t, halfReader(t, in, ahead), size, head)
					if err != nil {
						t.Fatalf("%q size %d head %d ahead %v: %v", in, size, head, ahead, err)
					}
					if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotWhere, wantWhere) {
						t.Fatalf("%q size %d head %d ahead %v: split parse differs from serial:\n%q %q\n%q %q", in, size, head, ahead, got, gotWhere, want, wantWhere)
					}
				}
			}
		}
	}
}

// TestSplitterReadAheadInPlace checks that blocks from a ReadAhead are
// its chunks, not copies, and that released ones are used again.
func TestSplitterReadAheadInPlace(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "billing", "focus", "focus_1.0_sample_1000_rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ra := ReadAhead(bytes.NewReader(sample))
	defer ra.Close()
	sp, _, err := NewSplitter("t.csv", ra, 4096)
	if err != nil {
		t.Fatal(err)
	}
	bufs := map[*byte]bool{}
	var blocks []Block
	for {
		b, err := sp.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
		if b.buf != nil {
			bufs[&b.buf[0]] = true
		}
		sp.Release(b)
	}
	for _, b := range blocks[:len(blocks)-1] {
		if b.buf == nil {
			t.Fatalf("block %d of %d was copied", b.Seq, len(blocks))
		}
	}
	if len(blocks) < 100 || len(bufs) > 8 {
		t.Fatalf("%d blocks in %d buffers, want 100 or more in 8 or fewer", len(blocks), len(bufs))
	}
}

var errBoom = errors.New("boom")

func TestSplitterReadErrors(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "billing", "focus", "focus_1.0_sample_1000_rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(sample)
	zw.Close()
	cut := gz.Bytes()[:gz.Len()*6/10]
	// The line of a read error is the one after all the bytes read.
	zr, err := gzip.NewReader(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated gzip read: %v", err)
	}
	cutLine := fmt.Sprintf("t.csv: line %d: read: truncated gzip stream", 1+bytes.Count(got, []byte{'\n'}))
	long := strings.Repeat("x", MaxRecord+2<<20)
	tests := map[string]struct {
		in   func() io.Reader
		want string
	}{
		"record": {func() io.Reader {
			return io.MultiReader(strings.NewReader("a,b\n1,2\n\"3\n4"), iotest.ErrReader(errBoom))
		},
			"t.csv: line 4: read: boom"},
		"header": {func() io.Reader { return io.MultiReader(strings.NewReader("a,b"), iotest.ErrReader(errBoom)) },
			"t.csv: line 1: read: boom"},
		"truncated gzip": {func() io.Reader {
			r, err := Decompress("t.csv", bytes.NewReader(cut))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, cutLine},
		"empty":        {func() io.Reader { return strings.NewReader("") }, "t.csv: empty file, no header"},
		"bom only":     {func() io.Reader { return strings.NewReader("\xEF\xBB\xBF") }, "t.csv: empty file, no header"},
		"blank header": {func() io.Reader { return strings.NewReader("\n") }, "t.csv: empty file, no header"},
		"long record":  {func() io.Reader { return strings.NewReader("a\n1\n\"" + long) }, fmt.Sprintf("t.csv: line 3: record longer than %d bytes", MaxRecord)},
		"long header":  {func() io.Reader { return strings.NewReader(long) }, fmt.Sprintf("t.csv: line 1: header longer than %d bytes", MaxRecord)},
		"unterminated": {func() io.Reader { return strings.NewReader("a,b\n1,2\n\"3,4\n") }, "t.csv: line 3: unterminated quoted field"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			for _, size := range []int{1, 7, 1 << 20} {
				for _, head := range []int{0, 2, headroom} {
					if (size < 1<<20 || head < headroom) && strings.HasPrefix(name, "long") {
						continue // slow, and the same as 1 MiB blocks
					}
					for _, ahead := range []bool{false, true} {
						r := tt.in()
						if ahead {
							ra := ReadAhead(r)
							defer ra.Close()
							r = ra
						}
						if _, _, err := splitAllWith(t, r, size, head); err == nil || !strings.Contains(err.Error(), tt.want) {
							t.Fatalf("size %d head %d ahead %v: got %v, want %q", size, head, ahead, err, tt.want)
						}
					}
				}
			}
		})
	}
}

// endless is a CSV that never ends; it counts its reads.
type endless struct{ reads atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.reads.Add(1) == 1 {
		return copy(p, "a,b\n"), nil
	}
	for i := range p {
		p[i] = "1,2\n"[i%4]
	}
	return len(p), nil
}

// TestReadAheadCloseStops stops reading after the first block, as a
// parse error or a cancel does: Close must end the goroutine, which
// then reads no more.
func TestReadAheadCloseStops(t *testing.T) {
	r := &endless{}
	ra := ReadAhead(r)
	sp, _, err := NewSplitter("t.csv", ra, 1024)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sp.Next()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		ra.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the read-ahead goroutine")
	}
	sp.Release(b)
	n := r.reads.Load()
	time.Sleep(20 * time.Millisecond)
	if r.reads.Load() != n {
		t.Fatal("reads after Close")
	}
	if _, err := sp.Next(); err == nil {
		t.Fatal("Next after Close: no error")
	}
	ra.Close()
	ReadAhead(r).Close() // never started
}

// FuzzSplitter compares splitting in tiny blocks and headrooms with one
// parse of the whole input, on every input encoding/csv accepts (on
// others, stray quotes in unquoted fields are read differently by the
// splitter and the parser, as they always were) but for a blank first
// record.
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x\ny\"\n", "a,b\r\n\"\"\"\",\n", "x,y\n\n,\n", "\"a\n\"\"\",b\n\"1\n\n\",\"\"\"\"\n"} {
		f.Add(s, uint8(3), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in string, size, head uint8) {
		if _, err := csv.NewReader(strings.NewReader(in)).ReadAll(); err != nil {
			return
		}
		end := firstRecordEnd([]byte(in))
		if end == 0 {
			end = len(in)
		}
		if first := strings.TrimRight(in[:end], "\r\n"); first == "" || first == `""` {
			return // the splitter takes a blank first record for an empty header; the parser skips it
		}
		want, wantWhere, werr := readAll(t, in, 1<<20, false)
		for _, ahead := range []bool{false, true} {
			got, gotWhere, gerr := splitAllWith(t, halfReader(t, in, ahead), int(size%16)+1, int(head%8))
			if fmt.Sprint(gerr) != fmt.Sprint(werr) || werr == nil && (!reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotWhere, wantWhere)) {
				t.Fatalf("%q size %d head %d ahead %v: split parse differs from serial:\n%q %q %v\n%q %q %v", in, size%16+1, head%8, ahead, got, gotWhere, gerr, want, wantWhere, werr)
			}
		}
	})
}

// halfReader reads in half a request at a time, through a ReadAhead
// (closed when the test ends) when ahead is set.
func halfReader(tb testing.TB, in string, ahead bool) io.Reader {
	r := iotest.HalfReader(strings.NewReader(in))
	if !ahead {
		return r
	}
	ra := ReadAhead(r)
	tb.Cleanup(func() { ra.Close() })
	return ra
}
