package store

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBuildIntRoundTrip: an int column reads back as its values in row
// order, with nulls, negative and extreme values, common divisors and
// long runs of one value, in the narrowest width.
func TestBuildIntRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	day := int64(24 * time.Hour)
	cases := map[string]func(i int) int64{
		"days in runs": func(i int) int64 { return 1_790_000_000*int64(time.Second) + int64(i/1000)*day },
		"one value":    func(int) int64 { return 42 },
		"all null":     func(int) int64 { return nullInt },
		"nulls and hours": func(i int) int64 {
			return map[bool]int64{true: nullInt, false: int64(i%50) * int64(time.Hour)}[i%7 == 0]
		},
		"negative": func(i int) int64 { return -int64(i%300) * 6 },
		"extremes": func(i int) int64 { return []int64{math.MaxInt64, math.MinInt64 + 1, 0, nullInt}[i%4] },
		"random":   func(int) int64 { return rng.Int64() - math.MaxInt64/2 },
	}
	for name, gen := range cases {
		n := 5000
		v := make([]int64, n)
		for i := range v {
			v[i] = gen(i)
		}
		perm := make([]uint32, n)
		for i := range perm {
			perm[i] = uint32(i)
		}
		if name != "days in runs" {
			rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		c := buildInt(name, v, perm, nil)
		m := c.meta
		hasNull := m.flags&flagHasNull != 0
		for i, p := range perm {
			var e uint64
			switch m.width {
			case 1:
				e = uint64(c.data[i])
			case 2:
				e = uint64(binary.LittleEndian.Uint16(c.data[2*i:]))
			case 4:
				e = uint64(binary.LittleEndian.Uint32(c.data[4*i:]))
			default:
				e = binary.LittleEndian.Uint64(c.data[8*i:])
			}
			got := int64(nullInt)
			if !hasNull || e != 0 {
				if hasNull {
					e--
				}
				got = m.base + int64(e)*m.scale
			}
			if got != v[p] {
				t.Fatalf("%s: row %d reads %d, want %d (base %d, scale %d, width %d)", name, i, got, v[p], m.base, m.scale, m.width)
			}
		}
		wantWidth := map[string]uint8{"days in runs": 1, "one value": 1, "all null": 1, "nulls and hours": 1, "negative": 2, "extremes": 1, "random": 8}[name]
		if m.width != wantWidth {
			t.Errorf("%s: width %d, want %d", name, m.width, wantWidth)
		}
	}
}

// TestRadixSort: radixSort orders keys of any width as slices.Sort does,
// with digits that are all zero skipped.
func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, nbits := range []int{1, 8, 11, 12, 22, 33, 44, 63, 64} {
		for _, n := range []int{0, 1, 255, 256, 1000, 70_000} {
			v := make([]uint64, n)
			for i := range v {
				v[i] = rng.Uint64()
				if nbits < 64 {
					v[i] &= 1<<nbits - 1
				}
				if i%3 == 0 {
					v[i] &^= 0xffe00 // some digits zero in every third key
				}
			}
			want := slices.Clone(v)
			slices.Sort(want)
			radixSort(v, nbits, nil)
			if !slices.Equal(v, want) {
				t.Fatalf("%d keys of %d bits: not sorted as slices.Sort sorts them", n, nbits)
			}
		}
	}
}
