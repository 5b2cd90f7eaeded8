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
	planes, err := buildBSI(v)
	if err != nil {
		t.Fatal(err)
	}
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
