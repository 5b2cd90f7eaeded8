package tabular

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func gz(tb testing.TB, level int, parts ...[]byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	for _, p := range parts {
		w, err := gzip.NewWriterLevel(&out, level)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(p)
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return out.Bytes()
}

// csvLike is compressible text with some randomness, n bytes.
func csvLike(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	words := []string{"AmazonEC2", "us-east-1", "\"{\"\"team\"\":\"\"web\"\"}\"", "0.000123", "2026-01-01T00:00:00Z", "i-0abc", "Usage"}
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(8) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(',')
		}
		if rng.IntN(50) == 0 {
			for range rng.IntN(300) {
				b.WriteByte(byte(rng.IntN(256)))
			}
		}
	}
	return b.Bytes()[:n]
}

// readChunked reads r in reads of at most chunk bytes.
func readChunked(r io.Reader, chunk int) ([]byte, error) {
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// TestGunzip: the build's gzip decoder (Gunzip: ISA-L with -tags isal,
// else klauspost/compress) gives back exactly what was compressed, for
// streams of one or several members, empty ones, stored (level 0) and
// compressed blocks, whatever the sizes of the source's reads and of the
// caller's.
func TestGunzip(t *testing.T) {
	t.Logf("gzip decoder: %s", Gunzip)
	rng := rand.New(rand.NewPCG(4, 5))
	big := csvLike(rng, 3<<20)
	cases := map[string][][]byte{
		"one member":    {big},
		"three members": {big[:1000], big[1000 : 1<<20], big[1<<20:]},
		"empty":         {{}},
		"empty member":  {big[:5000], {}, big[5000:9000]},
		"tiny":          {[]byte("a,b\n")},
	}
	for name, parts := range cases {
		want := bytes.Join(parts, nil)
		for _, level := range []int{gzip.NoCompression, gzip.BestSpeed, gzip.DefaultCompression} {
			data := gz(t, level, parts...)
			for _, src := range []struct {
				name string
				r    func() io.Reader
			}{
				{"whole", func() io.Reader { return bytes.NewReader(data) }},
				{"one byte reads", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }},
			} {
				if src.name == "one byte reads" && len(data) > 1<<20 {
					continue
				}
				for _, chunk := range []int{1 << 20, 4093, 7} {
					if chunk == 7 && len(want) > 1<<20 {
						continue
					}
					r, err := Decompress("t.csv.gz", src.r())
					if err != nil {
						t.Fatalf("%s level %d %s: %v", name, level, src.name, err)
					}
					got, err := readChunked(r, chunk)
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("%s level %d %s reads of %d: %d bytes (want %d), equal %v, err %v",
							name, level, src.name, chunk, len(got), len(want), bytes.Equal(got, want), err)
					}
				}
			}
		}
	}
}

// TestGunzipHeaderFields: a member whose header carries a name, a
// comment and an extra field (gzip -N, and some exporters, write them)
// reads like any other.
func TestGunzipHeaderFields(t *testing.T) {
	want := csvLike(rand.New(rand.NewPCG(8, 9)), 100<<10)
	var data bytes.Buffer
	for _, part := range [][]byte{want[:40<<10], want[40<<10:]} {
		w := gzip.NewWriter(&data)
		w.Name = "focus-2026-01.csv"
		w.Comment = "exported by a test"
		w.Extra = []byte("AB\x04\x00data")
		w.Write(part)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Decompress("t.csv.gz", bytes.NewReader(data.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readChunked(r, 3000)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%d bytes (want %d), equal %v, err %v", len(got), len(want), bytes.Equal(got, want), err)
	}
}

// TestGunzipBadStreams: a stream cut short anywhere, a flipped bit in the
// compressed data or in the checksum, or garbage after the last member
// is an error, never a quiet end of file with part of the data.
func TestGunzipBadStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	want := csvLike(rng, 200<<10)
	data := gz(t, gzip.DefaultCompression, want[:100<<10], want[100<<10:])
	read := func(b []byte) ([]byte, error) {
		r, err := Decompress("t.csv.gz", bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return readChunked(r, 64<<10)
	}
	for _, cut := range []int{11, 20, 100, len(data) / 3, len(data)/2 - 3, len(data) - 9, len(data) - 4, len(data) - 1} {
		got, err := read(data[:cut])
		if err == nil {
			t.Fatalf("cut at %d of %d: no error, %d of %d bytes", cut, len(data), len(got), len(want))
		}
		if !strings.Contains(err.Error(), "truncated gzip stream") && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: %v, want a truncated gzip stream error", cut, err)
		}
		if !bytes.HasPrefix(want, got) {
			t.Errorf("cut at %d: the bytes before the error are not the data's start", cut)
		}
	}
	for _, at := range []int{len(data) / 4, len(data) - 6} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x10
		if got, err := read(bad); err == nil {
			t.Errorf("bit flipped at %d of %d: no error (%d bytes, equal %v)", at, len(data), len(got), bytes.Equal(got, want))
		}
	}
	if _, err := read(append(bytes.Clone(data), "garbage!!!"...)); err == nil {
		t.Error("garbage after the last member: no error")
	}
	if _, err := read([]byte{0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}); err == nil {
		t.Error("compression method 7: no error")
	}
}
