package store

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/costgate/costgate"
)

func loadTestBSI(t *testing.T, v []int64) *bsi {
	t.Helper()
	planes := buildBSI(v)
	b := &bsi{rows: uint32(len(v))}
	for i, p := range planes {
		bm := roaring.New()
		if err := decodeBitmap(bm, p); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			b.sign = bm
		} else {
			b.planes = append(b.planes, bm)
		}
	}
	return b
}

// TestBSIAgainstScan checks bit-sliced sums and ranges against plain loops,
// extremes of int64 included.
func TestBSIAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 30; round++ {
		n := 1 + rng.IntN(5000)
		v := make([]int64, n)
		for i := range v {
			switch rng.IntN(10) {
			case 0:
				v[i] = []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}[rng.IntN(6)]
			case 1, 2:
				v[i] = -rng.Int64N(1 << uint(rng.IntN(62)+1))
			default:
				v[i] = rng.Int64N(1 << uint(rng.IntN(62)+1))
			}
		}
		b := loadTestBSI(t, v)
		var filter *roaring.Bitmap
		if rng.IntN(3) > 0 {
			filter = roaring.New()
			for i := range v {
				if rng.IntN(3) == 0 {
					filter.Add(uint32(i))
				}
			}
		}
		in := func(i int) bool { return filter == nil || filter.Contains(uint32(i)) }
		var want costgate.Sum
		for i, x := range v {
			if in(i) {
				want.Add(costgate.Money(x))
			}
		}
		if got := b.sum(filter); got != want {
			t.Fatalf("round %d: sum %s, want %s", round, got, want)
		}
		for k := 0; k < 20; k++ {
			lo := v[rng.IntN(n)] + int64(rng.IntN(3)) - 1
			hi := v[rng.IntN(n)]
			hasLo, hasHi := rng.IntN(4) > 0, rng.IntN(4) > 0
			if !hasLo && !hasHi {
				hasLo = true
			}
			got := b.inRange(filter, lo, hasLo, hi, hasHi)
			for i, x := range v {
				w := in(i) && (!hasLo || x >= lo) && (!hasHi || x < hi)
				if got.Contains(uint32(i)) != w {
					t.Fatalf("round %d: row %d value %d in [%d(%v), %d(%v)): got %v", round, i, x, lo, hasLo, hi, hasHi, !w)
				}
			}
		}
	}
}

// TestTranspose64 checks the bit-matrix transpose against its definition.
func TestTranspose64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 50; round++ {
		var a, orig [64]uint64
		for r := range a {
			a[r] = rng.Uint64()
			if round%5 == 0 {
				a[r] &= 1 << uint(rng.IntN(64)) // sparse
			}
		}
		orig = a
		transpose64(&a)
		for r := 0; r < 64; r++ {
			for c := 0; c < 64; c++ {
				if got, want := a[c]>>uint(r)&1, orig[r]>>uint(c)&1; got != want {
					t.Fatalf("round %d: bit %d of row %d = %d, want bit %d of row %d of the input = %d", round, r, c, got, c, r, want)
				}
			}
		}
	}
}

// TestBSIPlanes checks each plane's rows against the bits of the values.
func TestBSIPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 63, 64, 65, 200, 4097} {
		v := make([]int64, n)
		for i := range v {
			v[i] = rng.Int64N(1<<40) - 1<<39
		}
		v[0] = math.MinInt64
		b := loadTestBSI(t, v)
		for i, x := range v {
			if got, want := b.sign.Contains(uint32(i)), x < 0; got != want {
				t.Fatalf("n=%d row %d (%d): sign %v, want %v", n, i, x, got, want)
			}
			m := magnitude(x)
			for p, pl := range b.planes {
				if got, want := pl.Contains(uint32(i)), m>>uint(p)&1 == 1; got != want {
					t.Fatalf("n=%d row %d (%d): plane %d has %v, want %v", n, i, x, p, got, want)
				}
			}
		}
	}
}
