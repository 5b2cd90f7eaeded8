package reports

import (
	"math/big"
	"strings"

	"github.com/costgate/costgate"
)

// sub returns a - b exactly.
func sub(a, b costgate.Sum) costgate.Sum {
	a.AddSum(b.Neg())
	return a
}

// pct returns delta/base in percent, for display.
func pct(delta, base costgate.Sum) (float64, bool) {
	if base.IsZero() {
		return 0, false
	}
	return ratio(delta, base) * 100, true
}

// share returns part/whole (0 when whole is zero), for display.
func share(part, whole costgate.Sum) float64 {
	if whole.IsZero() {
		return 0
	}
	return ratio(part, whole)
}

// ratio divides two sums for display: as floats when both fit in Money
// (relative error about 1e-16), else as big rationals.
func ratio(a, b costgate.Sum) float64 {
	am, aok := a.Money()
	bm, bok := b.Money()
	if aok && bok {
		return float64(am) / float64(bm)
	}
	f, _ := new(big.Rat).SetFrac(a.Big(), b.Big()).Float64()
	return f
}

// mulDiv returns s*num/den rounded half away from zero to nano-units,
// and false when the result does not fit in a Sum.
func mulDiv(s costgate.Sum, num, den int64) (costgate.Sum, bool) {
	n := new(big.Int).Mul(s.Big(), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	// Round half away from zero: |2r| >= |d|.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(new(big.Int).Abs(d)) >= 0 {
		if (n.Sign() < 0) != (d.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return sumFromNanos(q)
}

// sumFromNanos converts a nano-unit integer back to a Sum through its
// exact decimal text.
func sumFromNanos(n *big.Int) (costgate.Sum, bool) {
	neg := n.Sign() < 0
	a := new(big.Int).Abs(n).String()
	if len(a) < 10 {
		a = strings.Repeat("0", 10-len(a)) + a
	}
	txt := a[:len(a)-9] + "." + a[len(a)-9:]
	if neg {
		txt = "-" + txt
	}
	s, err := costgate.ParseSum(txt)
	return s, err == nil
}
