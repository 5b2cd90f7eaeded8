package costgate

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func bigOf(s Sum) *big.Int { return s.Big() }

func TestParseMoney(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Money
		err  bool
	}{
		"integer":         {in: "12", want: 12 * NanosPerUnit},
		"fraction":        {in: "12.5", want: 12_500_000_000},
		"nano":            {in: "-0.000000001", want: -1},
		"round half away": {in: "0.0000000015", want: 2},
		"round down":      {in: "0.0000000014", want: 1},
		"exponent":        {in: "3.2E+2", want: 320 * NanosPerUnit},
		"neg exponent":    {in: "1e-3", want: 1_000_000},
		"spaces":          {in: " 7 ", want: 7 * NanosPerUnit},
		"empty":           {in: "", err: true},
		"letters":         {in: "1a", err: true},
		"too big":         {in: "10000000000", err: true},
		"dot only":        {in: ".", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMoney(tc.in)
			if (err != nil) != tc.err || (!tc.err && got != tc.want) {
				t.Fatalf("ParseMoney(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
	if _, err := ParseMoney("1e30"); !errors.Is(err, ErrMoneyRange) {
		t.Errorf("1e30: %v, want ErrMoneyRange", err)
	}
}

func TestSumPartsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		var s Sum
		for j := 0; j < 10; j++ {
			s.AddMul(Money(rng.Int64()), rng.Int64())
		}
		hi, lo := s.Parts()
		if SumFromParts(hi, lo) != s {
			t.Fatalf("parts round trip of %s", s)
		}
	}
}

func TestAddMulExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	edge := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MinInt64 + 1, NanosPerUnit}
	for i := 0; i < 5000; i++ {
		a, b := rng.Int64()-rng.Int64(), rng.Int64()-rng.Int64()
		if i < len(edge)*len(edge) {
			a, b = edge[i%len(edge)], edge[i/len(edge)]
		}
		var s Sum
		s.Add(Money(12345))
		s.AddMul(Money(a), b)
		want := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		want.Add(want, big.NewInt(12345))
		if bigOf(s).Cmp(want) != 0 {
			t.Fatalf("AddMul(%d, %d) = %s, want %s", a, b, bigOf(s), want)
		}
	}
}

func TestSumUnits(t *testing.T) {
	if got := SumUnits(42).String(); got != "42" {
		t.Errorf("SumUnits(42) = %s", got)
	}
	if got := SumUnits(math.MaxInt64).String(); got != "9223372036854775807" {
		t.Errorf("SumUnits(MaxInt64) = %s", got)
	}
	if got := SumUnits(-3).String(); got != "-3" {
		t.Errorf("SumUnits(-3) = %s", got)
	}
}

func TestParseSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		var s Sum
		for j := 0; j < rng.IntN(4); j++ {
			s.AddMul(Money(rng.Int64()-rng.Int64()), rng.Int64N(1<<40))
		}
		got, err := ParseSum(s.String())
		if err != nil || got != s {
			t.Fatalf("ParseSum(%q) = %s, %v", s.String(), got, err)
		}
		var u Sum
		b, _ := s.MarshalText()
		if err := u.UnmarshalText(b); err != nil || u != s {
			t.Fatalf("text round trip of %s: %s, %v", s, u, err)
		}
	}
	tests := map[string]struct {
		in   string
		want string
		err  bool
	}{
		"rounds":   {in: "0.0000000015", want: "0.000000002"},
		"negative": {in: "-12.5", want: "-12.5"},
		"plus":     {in: "+3", want: "3"},
		"max":      {in: "170141183460469231731687303715.884105727", want: "170141183460469231731687303715.884105727"},
		"min":      {in: "-170141183460469231731687303715.884105728", want: "-170141183460469231731687303715.884105728"},
		"too big":  {in: "170141183460469231731687303715.884105728", err: true},
		"empty":    {in: "", err: true},
		"letters":  {in: "1x", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSum(tc.in)
			if (err != nil) != tc.err || (!tc.err && got.String() != tc.want) {
				t.Fatalf("ParseSum(%q) = %s, %v", tc.in, got, err)
			}
		})
	}
}

// TestFormatNanosFastPath: amounts below 2^63 nanos are formatted without
// big.Int; every places setting gives what the big.Int path gives, at
// the rounding boundaries, the extremes and random magnitudes.
func TestFormatNanosFastPath(t *testing.T) {
	vals := []uint64{0, 1, 4, 5, 9, 10, 499_999_999, 500_000_000, 999_999_999, 1e9, 1e9 + 1,
		1_234_567_890, 1<<63 - 1, 1<<63 - 500_000_000, 1<<63 - 499_999_999}
	for p := range 10 {
		u := pow10u64[p]
		vals = append(vals, u/2, u/2-1, u/2+1, u-1, u, 7*u+u/2)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		vals = append(vals, rng.Uint64()>>(1+rng.IntN(63)))
	}
	for _, v := range vals {
		if v >= 1<<63 {
			continue
		}
		for _, neg := range []bool{false, true} {
			for places := -1; places <= 9; places++ {
				got := formatNanos(neg, v, 0, places)
				want := formatBig(neg, new(big.Int).SetUint64(v), places)
				if got != want {
					t.Fatalf("formatNanos(%v, %d, %d) = %q, big.Int path %q", neg, v, places, got, want)
				}
			}
		}
	}
	if got := Money(math.MinInt64).String(); got != "-9223372036.854775808" {
		t.Errorf("MinInt64 = %s", got)
	}
}
