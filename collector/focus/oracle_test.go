package focus

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

// The oracle reads a FOCUS CSV with encoding/csv and sums with math/big,
// sharing no code with the collector: totals by month (of
// ChargePeriodStart), ServiceName and BillingAccountId.

var oracleMeasures = []string{"BilledCost", "EffectiveCost", "ListCost", "ContractedCost"}

type oracleKey struct{ month, service, account string }

type oracleSums struct {
	count int64
	// exact is the sum of the values as written; rounded the sum of each
	// value rounded half away from zero to nine decimals (what a store of
	// nano-units can hold).
	exact, rounded []*big.Rat
}

func oracleTotals(tb testing.TB, r io.Reader) map[oracleKey]*oracleSums {
	tb.Helper()
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		tb.Fatal(err)
	}
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	get := func(rec []string, col string) string {
		v := rec[idx[col]]
		if v == "NULL" {
			return ""
		}
		return v
	}
	out := map[oracleKey]*oracleSums{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		k := oracleKey{get(rec, "ChargePeriodStart")[:7], get(rec, "ServiceName"), get(rec, "BillingAccountId")}
		s := out[k]
		if s == nil {
			s = &oracleSums{}
			for range oracleMeasures {
				s.exact = append(s.exact, new(big.Rat))
				s.rounded = append(s.rounded, new(big.Rat))
			}
			out[k] = s
		}
		s.count++
		for i, m := range oracleMeasures {
			v := get(rec, m)
			if v == "" {
				continue
			}
			x, ok := new(big.Rat).SetString(v)
			if !ok {
				tb.Fatalf("oracle: %s %q is not a number", m, v)
			}
			s.exact[i].Add(s.exact[i], x)
			s.rounded[i].Add(s.rounded[i], roundRat(x, 9))
		}
	}
	return out
}

// roundRat rounds x half away from zero to places decimals.
func roundRat(x *big.Rat, places int) *big.Rat {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	n := new(big.Int).Mul(x.Num(), scale)
	d := x.Denom()
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) >= 0 {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return new(big.Rat).SetFrac(q, scale)
}

// cents formats x rounded half away from zero to two decimals, as
// costgate.Sum.Format(2) does.
func cents(x *big.Rat) string {
	r := roundRat(x, 2)
	s := r.FloatString(2)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

func sumRat(s costgate.Sum) *big.Rat {
	return new(big.Rat).SetFrac(s.Big(), big.NewInt(costgate.NanosPerUnit))
}

// checkOracle compares the store's totals with the oracle's.
func checkOracle(tb testing.TB, st *store.Store, want map[oracleKey]*oracleSums) {
	tb.Helper()
	ms := make([]costgate.Measure, 0, len(oracleMeasures))
	for _, m := range oracleMeasures {
		ms = append(ms, costgate.Measure(m))
	}
	// The tests keep one source per store.
	res, err := st.Query(context.Background(), store.Query{Measures: ms, GroupBy: []string{"month", "ServiceName", "BillingAccountId"}})
	if err != nil {
		tb.Fatal(err)
	}
	got := map[oracleKey]bool{}
	for _, row := range res.Rows {
		k := oracleKey{row.Keys[0], row.Keys[1], row.Keys[2]}
		got[k] = true
		w := want[k]
		if w == nil {
			tb.Errorf("store has group %+v that the file does not", k)
			continue
		}
		if row.Count != w.count {
			tb.Errorf("%+v: %d rows, file has %d", k, row.Count, w.count)
		}
		for i, m := range oracleMeasures {
			g := sumRat(row.Values[i])
			if g.Cmp(w.rounded[i]) != 0 {
				tb.Errorf("%+v %s: store %s, file (each value to 1e-9) %s", k, m, g.FloatString(11), w.rounded[i].FloatString(11))
			}
			if gc, wc := row.Values[i].Format(2), cents(w.exact[i]); gc != wc {
				tb.Errorf("%+v %s: store %s, file exactly %s (to the cent)", k, m, gc, wc)
			}
		}
	}
	var missing []string
	for k := range want {
		if !got[k] {
			missing = append(missing, fmt.Sprintf("%+v", k))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		tb.Errorf("store lacks %d groups of the file: %v", len(missing), missing)
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestOracleSample: after collect, totals by month, service and account
// equal the totals computed directly from the FOCUS 1.0 sample, for every
// cost column: exactly (each value held to 1e-9) and to the cent against
// the unrounded file.
func TestOracleSample(t *testing.T) {
	path := testdata("focus", "focus_1.0_sample_1000_rows.csv")
	want := oracleTotals(t, bytes.NewReader(readFile(t, path)))
	st := openStore(t, t.TempDir())
	sums, err := collect(t, st, later, New(spec("focus-sample", path)))
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Rows != 1000 || sums[0].Loaded != 4 {
		t.Fatalf("summary: %s", sums[0].String())
	}
	checkOracle(t, st, want)
	t.Logf("oracle: %d groups (month x service x account) match for %v", len(want), oracleMeasures)

	// Running collect again reads nothing and changes nothing.
	gen := st.Info().Generation
	sums, err = collect(t, st, later, New(spec("focus-sample", path)))
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Loaded != 0 || s.Unchanged != 4 || s.RowsRead != 0 || s.Files != 0 {
		t.Fatalf("second run: %s", s.String())
	}
	if g := st.Info().Generation; g != gen {
		t.Fatalf("second run committed generation %d (was %d)", g, gen)
	}
	checkOracle(t, st, want)
}

// TestOracleGzip reads the same sample gzip-compressed.
func TestOracleGzip(t *testing.T) {
	raw := readFile(t, testdata("focus", "focus_1.0_sample_1000_rows.csv"))
	dir := t.TempDir()
	path := dir + "/sample.csv.gz"
	if err := os.WriteFile(path, gzipped(t, raw), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	if _, err := collect(t, st, later, New(spec("focus-gz", path))); err != nil {
		t.Fatal(err)
	}
	checkOracle(t, st, oracleTotals(t, bytes.NewReader(raw)))
}
