package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// bitmapShapes returns sets of row ids, ascending, that exercise every
// container kind and the edges between them: empty, one value, runs
// across container boundaries, full containers, arrays at 4096 values,
// bitmaps just over it, scattered values, and random mixes.
func bitmapShapes(rng *rand.Rand) map[string][]uint32 {
	rangeOf := func(lo, hi uint32) []uint32 {
		var p []uint32
		for x := lo; x < hi; x++ {
			p = append(p, x)
		}
		return p
	}
	every := func(lo, hi, step uint32) []uint32 {
		var p []uint32
		for x := lo; x < hi; x += step {
			p = append(p, x)
		}
		return p
	}
	shapes := map[string][]uint32{
		"empty":               nil,
		"one":                 {7},
		"one high":            {3<<16 + 65535},
		"two apart":           {0, 2},
		"two adjacent":        {5, 6},
		"three adjacent":      {5, 6, 7}, // a run's 6 bytes against an array's 6: array
		"range across":        rangeOf(65000, 3*65536+100),
		"full container":      rangeOf(65536, 2*65536),
		"4096 scattered":      every(0, 4096*3, 3),
		"4097 scattered":      every(0, 4097*3, 3),
		"dense odd":           every(1, 65536, 2),
		"last bit":            {65535, 65536, 131071},
		"runs of 3":           nil,
		"four containers":     append(append(every(0, 30000, 7), rangeOf(70000, 90000)...), every(140000, 270000, 97)...),
		"bitmap vs runs edge": nil,
	}
	for x := uint32(0); x < 65536*2; x += 10 {
		shapes["runs of 3"] = append(shapes["runs of 3"], x, x+1, x+2)
	}
	// 2047 runs of 2: runs' 2+4·2047 = 8190 bytes against arrays' 8188.
	for x := uint32(0); x < 2047*4; x += 4 {
		shapes["bitmap vs runs edge"] = append(shapes["bitmap vs runs edge"], x, x+1)
	}
	for k := range 30 {
		n := 1 + rng.IntN(400_000)
		density := rng.Float64()
		runny := rng.IntN(3) == 0
		var p []uint32
		for x := uint32(rng.IntN(70000)); len(p) < n && x < 1<<22; x++ {
			if runny {
				if rng.IntN(200) == 0 {
					x += uint32(rng.IntN(5000))
				}
				p = append(p, x)
			} else if rng.Float64() < density {
				p = append(p, x)
			}
		}
		shapes[fmt.Sprint("random ", k)] = p
	}
	return shapes
}

// TestBitmapEncoders: sortedBitmapBytes and denseBitmapBytes write the
// bytes roaring writes for the same set after RunOptimize, and roaring
// reads them back as that set.
func TestBitmapEncoders(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, p := range bitmapShapes(rng) {
		want := roaring.New()
		want.AddMany(p)
		want.RunOptimize()
		wantBytes, err := bitmapBytes(want)
		if err != nil {
			t.Fatal(err)
		}
		var words []uint64
		if len(p) > 0 {
			words = make([]uint64, p[len(p)-1]/64+1+uint32(rng.IntN(3)))
		}
		for _, x := range p {
			words[x/64] |= 1 << (x % 64)
		}
		for enc, got := range map[string][]byte{"sorted": sortedBitmapBytes(p), "dense": denseBitmapBytes(words)} {
			if !bytes.Equal(got, wantBytes) {
				t.Errorf("%s, %s: %d bytes differ from roaring's %d", name, enc, len(got), len(wantBytes))
				continue
			}
			back := roaring.New()
			if _, err := back.FromBuffer(got); err != nil {
				t.Errorf("%s, %s: roaring cannot read it: %v", name, enc, err)
				continue
			}
			if !slices.Equal(back.ToArray(), p) && !(len(p) == 0 && back.IsEmpty()) {
				t.Errorf("%s, %s: read back %d values, want %d", name, enc, back.GetCardinality(), len(p))
			}
		}
	}
}

// BenchmarkBitmapEncoders compares the encoders with the roaring route
// they replaced, on SkuId-like positions (a few thousand rows scattered
// over 166k) and a BSI-like dense plane.
func BenchmarkBitmapEncoders(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var p []uint32
	for x := uint32(0); x < 166_666; x++ {
		if rng.IntN(50) == 0 {
			p = append(p, x)
		}
	}
	words := make([]uint64, 166_666/64+1)
	for i := range words {
		words[i] = rng.Uint64()
	}
	b.Run("sorted", func(b *testing.B) {
		for b.Loop() {
			sortedBitmapBytes(p)
		}
	})
	b.Run("sorted-roaring", func(b *testing.B) {
		for b.Loop() {
			bm := roaring.New()
			bm.AddMany(p)
			bm.RunOptimize()
			if _, err := bitmapBytes(bm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dense", func(b *testing.B) {
		for b.Loop() {
			denseBitmapBytes(words)
		}
	})
	b.Run("dense-roaring", func(b *testing.B) {
		for b.Loop() {
			bm := roaring.FromDense(words, false)
			bm.RunOptimize()
			if _, err := bitmapBytes(bm); err != nil {
				b.Fatal(err)
			}
		}
	})
}
