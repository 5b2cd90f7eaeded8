package store

import (
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/costgate/costgate"
)

// A bit-sliced index holds a money column as bitmaps: a sign plane (rows
// with a negative value) and magnitude planes, plane i holding the rows
// whose |value| has bit i set. A filtered sum is then
// Σ 2^i·(|plane_i ∧ F ∧ ¬sign| − |plane_i ∧ F ∧ sign|): counts only.

// buildBSI returns the serialized sign plane followed by the magnitude
// planes of v (rows in final order), built from dense words
// (denseBitmapBytes).
func buildBSI(v []int64) [][]byte {
	var maxMag uint64
	for _, x := range v {
		maxMag = max(maxMag, magnitude(x))
	}
	np := bits.Len64(maxMag)
	nw := len(v)/64 + 1
	words := make([][]uint64, np+1)
	backing := make([]uint64, nw*(np+1))
	for i := range words {
		words[i] = backing[i*nw : (i+1)*nw : (i+1)*nw]
	}
	// 64 rows at a time: their magnitudes, as a 64×64 bit matrix (row r,
	// bit p), transposed, are the 64-row words of the magnitude planes.
	var block [64]uint64
	for w := 0; w*64 < len(v); w++ {
		rows := v[w*64 : min(len(v), w*64+64)]
		var sign uint64
		for r, x := range rows {
			block[r] = magnitude(x)
			sign |= uint64(x) >> 63 << r
		}
		clear(block[len(rows):])
		words[0][w] = sign
		transpose64(&block)
		for p := 1; p <= np; p++ {
			words[p][w] = block[p-1]
		}
	}
	out := make([][]byte, np+1)
	for i, w := range words {
		out[i] = denseBitmapBytes(w)
	}
	return out
}

// transpose64 transposes a 64×64 bit matrix in place: bit c of a[r]
// becomes bit r of a[c]. Off-diagonal blocks are swapped, halving the
// block size each round (32, 16, ... 1), six rounds of 32 swaps.
func transpose64(a *[64]uint64) {
	masks := [...]uint64{0x00000000ffffffff, 0x0000ffff0000ffff, 0x00ff00ff00ff00ff,
		0x0f0f0f0f0f0f0f0f, 0x3333333333333333, 0x5555555555555555}
	for round, j := 0, 32; j != 0; round, j = round+1, j>>1 {
		m := masks[round]
		for k := 0; k < 64; k = ((k | j) + 1) &^ j {
			// k runs over the rows whose bit j is clear; row k|j is its
			// partner. The high half of k's columns (within each block)
			// trades places with the low half of k|j's.
			t := (a[k]>>uint(j) ^ a[k|j]) & m
			a[k|j] ^= t
			a[k] ^= t << uint(j)
		}
	}
}

func magnitude(x int64) uint64 {
	if x < 0 {
		return uint64(^x) + 1
	}
	return uint64(x)
}

// bsi is a loaded bit-sliced index over a segment's rows.
type bsi struct {
	rows   uint32
	sign   *roaring.Bitmap
	planes []*roaring.Bitmap
}

func (b *bsi) all() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, uint64(b.rows))
	return bm
}

// sum returns the exact sum of the rows in filter (nil: every row).
func (b *bsi) sum(filter *roaring.Bitmap) costgate.Sum {
	if filter == nil {
		filter = b.all()
	}
	pos, neg := filter, (*roaring.Bitmap)(nil)
	if !b.sign.IsEmpty() && filter.Intersects(b.sign) {
		pos = roaring.AndNot(filter, b.sign)
		neg = roaring.And(filter, b.sign)
	}
	var s costgate.Sum
	for i, p := range b.planes {
		addPow2(&s, i, int64(p.AndCardinality(pos)))
		if neg != nil {
			addPow2(&s, i, -int64(neg.AndCardinality(p)))
		}
	}
	return s
}

// addPow2 adds n·2^i to s for i in [0, 64).
func addPow2(s *costgate.Sum, i int, n int64) {
	if n == 0 {
		return
	}
	if i == 63 {
		s.AddMul(costgate.Money(1<<62), 2*n)
		return
	}
	s.AddMul(costgate.Money(int64(1)<<i), n)
}

// atLeast returns the rows of cand (nil: every row) whose value is >= c.
func (b *bsi) atLeast(cand *roaring.Bitmap, c int64) *roaring.Bitmap {
	if cand == nil {
		cand = b.all()
	}
	nonneg := roaring.AndNot(cand, b.sign)
	if c > 0 {
		return b.magAtLeast(nonneg, uint64(c))
	}
	// Every non-negative value qualifies, and negatives with |v| <= |c|.
	negs := roaring.And(cand, b.sign)
	nonneg.Or(b.magAtMost(negs, magnitude(c)))
	return nonneg
}

// magAtLeast returns the rows of cand whose magnitude is >= c.
func (b *bsi) magAtLeast(cand *roaring.Bitmap, c uint64) *roaring.Bitmap {
	k := len(b.planes)
	if bits.Len64(c) > k {
		return roaring.New()
	}
	gt := roaring.New()
	eq := cand.Clone()
	for i := k - 1; i >= 0 && !eq.IsEmpty(); i-- {
		if c>>uint(i)&1 == 1 {
			eq.And(b.planes[i])
		} else {
			gt.Or(roaring.And(eq, b.planes[i]))
			eq.AndNot(b.planes[i])
		}
	}
	gt.Or(eq)
	return gt
}

// magAtMost returns the rows of cand whose magnitude is <= c.
func (b *bsi) magAtMost(cand *roaring.Bitmap, c uint64) *roaring.Bitmap {
	k := len(b.planes)
	if bits.Len64(c) > k {
		return cand.Clone()
	}
	lt := roaring.New()
	eq := cand.Clone()
	for i := k - 1; i >= 0 && !eq.IsEmpty(); i-- {
		if c>>uint(i)&1 == 1 {
			lt.Or(roaring.AndNot(eq, b.planes[i]))
			eq.And(b.planes[i])
		} else {
			eq.AndNot(b.planes[i])
		}
	}
	lt.Or(eq)
	return lt
}

// inRange returns the rows of cand whose value lies in [lo, hi) with
// either bound optional.
func (b *bsi) inRange(cand *roaring.Bitmap, lo int64, hasLo bool, hi int64, hasHi bool) *roaring.Bitmap {
	if cand == nil {
		cand = b.all()
	}
	out := cand
	if hasLo {
		out = b.atLeast(out, lo)
	}
	if hasHi {
		out = roaring.AndNot(out, b.atLeast(out, hi))
	}
	return out
}
