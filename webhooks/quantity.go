package webhooks

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// quantity is a Kubernetes resource quantity ("250m", "1.5Gi", "10G",
// "1e3") as an exact rational number of base units (cores, bytes, GPUs).
type quantity struct{ r *big.Rat }

// quantityText is a quantity as written: a JSON string ("250m") or the
// text of a JSON number.
type quantityText string

var quantitySuffixes = map[string]*big.Rat{
	"n": big.NewRat(1, 1_000_000_000), "u": big.NewRat(1, 1_000_000), "m": big.NewRat(1, 1000), "": big.NewRat(1, 1),
	"k": big.NewRat(1_000, 1), "M": big.NewRat(1_000_000, 1), "G": big.NewRat(1_000_000_000, 1),
	"T": new(big.Rat).SetInt(pow(10, 12)), "P": new(big.Rat).SetInt(pow(10, 15)), "E": new(big.Rat).SetInt(pow(10, 18)),
	"Ki": big.NewRat(1<<10, 1), "Mi": big.NewRat(1<<20, 1), "Gi": big.NewRat(1<<30, 1),
	"Ti": big.NewRat(1<<40, 1), "Pi": big.NewRat(1<<50, 1), "Ei": big.NewRat(1<<60, 1),
}

func pow(b, e int64) *big.Int { return new(big.Int).Exp(big.NewInt(b), big.NewInt(e), nil) }

// parseQuantity parses the Kubernetes quantity grammar exactly.
func parseQuantity(s string) (quantity, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return quantity{}, fmt.Errorf("quantity %q: empty", orig)
	}
	neg := false
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, suffix := s[:i], s[i:]
	if num == "" || num == "." || strings.Count(num, ".") > 1 {
		return quantity{}, fmt.Errorf("quantity %q: no number", orig)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return quantity{}, fmt.Errorf("quantity %q: bad number", orig)
	}
	if m, ok := quantitySuffixes[suffix]; ok {
		r.Mul(r, m)
	} else if suffix[0] == 'e' || suffix[0] == 'E' {
		e, err := strconv.Atoi(suffix[1:])
		if err != nil || e < -30 || e > 30 {
			return quantity{}, fmt.Errorf("quantity %q: bad exponent", orig)
		}
		if e >= 0 {
			r.Mul(r, new(big.Rat).SetInt(pow(10, int64(e))))
		} else {
			r.Quo(r, new(big.Rat).SetInt(pow(10, int64(-e))))
		}
	} else {
		return quantity{}, fmt.Errorf("quantity %q: unknown suffix %q (use m, k, M, G, Ki, Mi, Gi, ...)", orig, suffix)
	}
	if neg {
		r.Neg(r)
	}
	return quantity{r}, nil
}

// String formats q as a decimal with up to 9 fractional digits.
func (q quantity) String() string {
	if q.r == nil {
		return "0"
	}
	s := q.r.FloatString(9)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
