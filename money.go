package costgate

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// NanosPerUnit is the number of Money sub-units in one currency unit:
// amounts are held as integer nano-units (1e-9) so that sums are exact.
const NanosPerUnit = 1_000_000_000

// Money is an exact amount of some currency in nano-units (1e-9 of a unit).
// It is never a float: parse it from decimal text, add it with Sum, format
// it at the edge with String or Format.
type Money int64

// ErrMoneyRange reports an amount that does not fit in Money.
var ErrMoneyRange = errors.New("amount out of range")

// ParseMoney parses a decimal amount such as "12.5", "-0.000000001",
// "1e-3" or "3.2E+2". More than nine fractional digits are rounded half
// away from zero, the way billing exports round.
func ParseMoney(s string) (Money, error) {
	v, err := parseNanos(s)
	if err != nil {
		return 0, fmt.Errorf("parse money %q: %w", s, err)
	}
	return Money(v), nil
}

// parseNanos parses a decimal number into nano-units, rounding half away
// from zero past nine fractional digits. Its errors carry no prefix; the
// callers name what they parse.
func parseNanos(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := parseExp(s[i+1:])
		if err != nil {
			return 0, err
		}
		exp = e
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, errors.New("no digits")
	}
	digits := intPart + frac
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("unexpected %q", digits[i])
		}
	}
	// value = digits * 10^(exp - len(frac)); we want value * 1e9.
	shift := exp - len(frac) + 9
	digits = strings.TrimLeft(digits, "0")
	var v uint64
	if shift >= 0 {
		if len(digits)+shift > 19 {
			if digits == "" {
				return 0, nil
			}
			return 0, ErrMoneyRange
		}
		digits += strings.Repeat("0", shift)
		for i := 0; i < len(digits); i++ {
			v = v*10 + uint64(digits[i]-'0')
		}
	} else {
		drop := -shift
		keep := ""
		if drop < len(digits) {
			keep = digits[:len(digits)-drop]
		}
		var roundDigit byte = '0'
		if drop <= len(digits) {
			roundDigit = digits[len(digits)-drop]
		}
		if len(keep) > 19 {
			return 0, ErrMoneyRange
		}
		for i := 0; i < len(keep); i++ {
			v = v*10 + uint64(keep[i]-'0')
		}
		if roundDigit >= '5' {
			v++
		}
	}
	if v > math.MaxInt64 {
		return 0, ErrMoneyRange
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

func parseExp(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty exponent")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" || len(s) > 3 {
		return 0, fmt.Errorf("exponent %q out of range", s)
	}
	e := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad exponent %q", s)
		}
		e = e*10 + int(s[i]-'0')
	}
	if neg {
		e = -e
	}
	return e, nil
}

// MustMoney is ParseMoney for constants in tests and tables; it panics on
// bad input, so never call it on user data.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// String formats m with all nine fractional digits trimmed of trailing
// zeros ("12.5", "-0.000000001", "3").
func (m Money) String() string {
	return formatNanos(m < 0, absU64(int64(m)), 0, -1)
}

// Format formats m rounded half away from zero to the given number of
// fractional digits (0..9), e.g. Format(2) for cents.
func (m Money) Format(places int) string {
	return formatNanos(m < 0, absU64(int64(m)), 0, places)
}

func absU64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// formatNanos formats the 128-bit magnitude hi:lo nanos. Magnitudes
// below 2^63 (every Money, most sums) are formatted in uint64
// arithmetic; building a policy input formats hundreds of amounts, and
// big.Int's allocations were most of that.
func formatNanos(neg bool, lo, hi uint64, places int) string {
	if hi == 0 && lo < 1<<63 {
		if places >= 0 && places < 9 {
			unit := pow10u64[9-places]
			lo = (lo + unit/2) / unit * unit // < 2^63 + 5e8: no overflow
		}
		var buf [24]byte
		return formatDigits(neg, string(strconv.AppendUint(buf[:0], lo, 10)), places)
	}
	b := new(big.Int).SetUint64(hi)
	b.Lsh(b, 64)
	b.Or(b, new(big.Int).SetUint64(lo))
	return formatBig(neg, b, places)
}

var pow10u64 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func formatBig(neg bool, mag *big.Int, places int) string {
	mag = new(big.Int).Set(mag)
	if places >= 0 && places < 9 {
		unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(9-places)), nil)
		half := new(big.Int).Rsh(unit, 1)
		mag.Add(mag, half)
		mag.Quo(mag, unit)
		mag.Mul(mag, unit)
	}
	return formatDigits(neg, mag.String(), places)
}

// formatDigits formats s, a magnitude in nanos as decimal digits, with
// the given fractional digits (-1: as many as needed).
func formatDigits(neg bool, s string, places int) string {
	if len(s) < 10 {
		s = strings.Repeat("0", 10-len(s)) + s
	}
	ip, fp := s[:len(s)-9], s[len(s)-9:]
	if places < 0 {
		fp = strings.TrimRight(fp, "0")
	} else {
		fp = fp[:min(places, 9)]
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// Float64 returns m as a float for display ratios and charts only; never
// add the results.
func (m Money) Float64() float64 { return float64(m) / NanosPerUnit }

// MulRat returns m*num/den rounded half away from zero; it is exact in
// 128-bit arithmetic and reports ErrMoneyRange on overflow.
func (m Money) MulRat(num, den int64) (Money, error) {
	if den == 0 {
		return 0, errors.New("money: divide by zero")
	}
	r := new(big.Int).Mul(big.NewInt(int64(m)), big.NewInt(num))
	d := big.NewInt(den)
	neg := (r.Sign() < 0) != (d.Sign() < 0)
	r.Abs(r)
	d.Abs(d)
	q, rem := new(big.Int).QuoRem(r, d, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, ErrMoneyRange
	}
	return Money(q.Int64()), nil
}

// Sum accumulates Money exactly in 128 bits; the zero value is 0.
// A billing period of any size sums without overflow.
type Sum struct {
	hi int64
	lo uint64
}

// Add adds m to s.
func (s *Sum) Add(m Money) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, uint64(int64(m)), 0)
	ext := int64(m) >> 63 // sign extension: 0 or -1
	s.hi += ext + int64(carry)
}

// AddSum adds another sum to s.
func (s *Sum) AddSum(o Sum) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, o.lo, 0)
	s.hi += o.hi + int64(carry)
}

// Sub subtracts m from s.
func (s *Sum) Sub(m Money) {
	var borrow uint64
	s.lo, borrow = bits.Sub64(s.lo, uint64(int64(m)), 0)
	ext := int64(m) >> 63
	s.hi -= ext + int64(borrow)
}

// Neg returns -s.
func (s Sum) Neg() Sum {
	lo, borrow := bits.Sub64(0, s.lo, 0)
	return Sum{hi: -s.hi - int64(borrow), lo: lo}
}

// IsZero reports whether s is 0.
func (s Sum) IsZero() bool { return s.hi == 0 && s.lo == 0 }

// Sign returns -1, 0 or +1.
func (s Sum) Sign() int {
	switch {
	case s.hi < 0:
		return -1
	case s.hi == 0 && s.lo == 0:
		return 0
	}
	return 1
}

// Cmp compares s and o: -1, 0 or +1.
func (s Sum) Cmp(o Sum) int {
	if s.hi != o.hi {
		if s.hi < o.hi {
			return -1
		}
		return 1
	}
	if s.lo != o.lo {
		if s.lo < o.lo {
			return -1
		}
		return 1
	}
	return 0
}

// Money returns s as Money and whether it fits.
func (s Sum) Money() (Money, bool) {
	if (s.hi == 0 && s.lo <= math.MaxInt64) || (s.hi == -1 && s.lo > math.MaxInt64) {
		return Money(int64(s.lo)), true
	}
	return 0, false
}

// Big returns s in nano-units as a big.Int.
func (s Sum) Big() *big.Int {
	b := big.NewInt(s.hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(s.lo))
}

// SumOf returns the exact sum of ms.
func SumOf(ms ...Money) Sum {
	var s Sum
	for _, m := range ms {
		s.Add(m)
	}
	return s
}

// String formats s like Money.String.
func (s Sum) String() string { return s.Format(-1) }

// Format formats s rounded to places fractional digits (-1: all, trimmed).
func (s Sum) Format(places int) string {
	b := s.Big()
	neg := b.Sign() < 0
	return formatBig(neg, b.Abs(b), places)
}

// Float64 returns s as a float for display ratios only.
func (s Sum) Float64() float64 {
	f, _ := new(big.Rat).SetFrac(s.Big(), big.NewInt(NanosPerUnit)).Float64()
	return f
}

// MarshalText encodes s as an exact decimal string.
func (s Sum) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalText encodes m as an exact decimal string, so JSON carries
// "12.5", never a float.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a decimal string.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// SumFromParts rebuilds a Sum from the two's-complement 128-bit value
// hi:lo, as stored by Parts. Stores use it to persist exact totals.
func SumFromParts(hi int64, lo uint64) Sum { return Sum{hi: hi, lo: lo} }

// Parts returns s as the two's-complement 128-bit value hi:lo.
func (s Sum) Parts() (hi int64, lo uint64) { return s.hi, s.lo }

// AddMul adds m*n to s exactly (the 128-bit product of two int64 values
// cannot overflow). Bit-sliced sums use it to add count·2^i.
func (s *Sum) AddMul(m Money, n int64) {
	// absU64 maps MinInt64 to 1<<63, its true magnitude, so the product of
	// two magnitudes is at most 2^126 and fits the positive 128-bit range.
	hi, lo := bits.Mul64(absU64(int64(m)), absU64(n))
	p := Sum{hi: int64(hi), lo: lo}
	if (m < 0) != (n < 0) {
		p = p.Neg()
	}
	s.AddSum(p)
}

// SumUnits returns n whole units (n × NanosPerUnit nanos) as a Sum, for
// counts carried alongside money in the same exact type.
func SumUnits(n int64) Sum {
	var s Sum
	s.AddMul(NanosPerUnit, n)
	return s
}

// ParseSum parses an exact decimal string as written by Sum.String; more
// than nine fractional digits are rounded half away from zero.
func ParseSum(str string) (Sum, error) {
	t := strings.TrimSpace(str)
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	ip, fp, _ := strings.Cut(t, ".")
	if ip == "" && fp == "" {
		return Sum{}, fmt.Errorf("parse sum %q: no digits", str)
	}
	round := false
	if len(fp) > 9 {
		round = fp[9] >= '5'
		for _, c := range fp[9:] {
			if c < '0' || c > '9' {
				return Sum{}, fmt.Errorf("parse sum %q: unexpected %q", str, c)
			}
		}
		fp = fp[:9]
	}
	digits := ip + fp + strings.Repeat("0", 9-len(fp))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return Sum{}, fmt.Errorf("parse sum %q: unexpected %q", str, c)
		}
	}
	b, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Sum{}, fmt.Errorf("parse sum %q: bad number", str)
	}
	if round {
		b.Add(b, big.NewInt(1))
	}
	if neg {
		b.Neg(b)
	}
	if limit := new(big.Int).Lsh(big.NewInt(1), 127); b.Cmp(limit) >= 0 || b.Cmp(new(big.Int).Neg(limit)) < 0 {
		return Sum{}, fmt.Errorf("parse sum %q: %w", str, ErrMoneyRange)
	}
	return sumFromBig(b), nil
}

func sumFromBig(b *big.Int) Sum {
	mask := new(big.Int).SetUint64(math.MaxUint64)
	m := new(big.Int).Set(b)
	if m.Sign() < 0 {
		// two's complement in 128 bits
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	lo := new(big.Int).And(m, mask).Uint64()
	hi := new(big.Int).Rsh(m, 64).Uint64()
	return Sum{hi: int64(hi), lo: lo}
}

// UnmarshalText parses an exact decimal string.
func (s *Sum) UnmarshalText(b []byte) error {
	v, err := ParseSum(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
