package aws

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

var later = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func fixture(name string) string {
	return filepath.Join("..", "..", "testdata", "billing", "aws-cur", name)
}

const curFixture = "cur_legacy_csv_anonymized_2023-11.csv"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(tb.TempDir(), store.Options{NoSync: true, Logger: quiet()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func collect(tb testing.TB, st *store.Store, srcs ...collector.Source) ([]collector.Summary, error) {
	tb.Helper()
	return collector.Run(context.Background(), collectstore.New(st), srcs, collector.Options{
		Logger: quiet(), Now: func() time.Time { return later },
	})
}

func slurp(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func gz(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// The CUR oracle reads the legacy CSV with encoding/csv and applies the
// converter's rules for the row types in the sample (Usage and Tax) with
// math/big: BilledCost = NetUnblendedCost if present else UnblendedCost,
// EffectiveCost = UnblendedCost, ListCost = publicOnDemandRate x
// UsageAmount if the rate is present, else publicOnDemandCost. Totals by
// month of UsageStartDate, ProductCode and PayerAccountId.

type curKey struct{ month, service, account string }

type curSums struct {
	count int64
	// exact sums of the values as written; rounded sums each value to
	// 1e-9 first (BilledCost, EffectiveCost only: ListCost is a product).
	billed, effective, list *big.Rat
	billedR, effectiveR     *big.Rat
}

func curOracle(tb testing.TB, r io.Reader) map[curKey]*curSums {
	tb.Helper()
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		tb.Fatal(err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	get := func(rec []string, c string) string {
		if i, ok := idx[c]; ok {
			return rec[i]
		}
		return ""
	}
	rat := func(s string) *big.Rat {
		x, ok := new(big.Rat).SetString(s)
		if !ok {
			tb.Fatalf("oracle: %q is not a number", s)
		}
		return x
	}
	out := map[curKey]*curSums{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if lit := get(rec, "lineItem/LineItemType"); lit != "Usage" && lit != "Tax" {
			tb.Fatalf("oracle: line item type %s is not in the sample's rules", lit)
		}
		k := curKey{get(rec, "lineItem/UsageStartDate")[:7], get(rec, "lineItem/ProductCode"), get(rec, "bill/PayerAccountId")}
		s := out[k]
		if s == nil {
			s = &curSums{billed: new(big.Rat), effective: new(big.Rat), list: new(big.Rat), billedR: new(big.Rat), effectiveR: new(big.Rat)}
			out[k] = s
		}
		s.count++
		unblended := rat(get(rec, "lineItem/UnblendedCost"))
		billed := unblended
		if v := get(rec, "lineItem/NetUnblendedCost"); v != "" {
			billed = rat(v)
		}
		s.billed.Add(s.billed, billed)
		s.billedR.Add(s.billedR, round9(billed))
		s.effective.Add(s.effective, unblended)
		s.effectiveR.Add(s.effectiveR, round9(unblended))
		if rate := get(rec, "pricing/publicOnDemandRate"); rate != "" {
			s.list.Add(s.list, new(big.Rat).Mul(rat(rate), rat(get(rec, "lineItem/UsageAmount"))))
		} else if c := get(rec, "pricing/publicOnDemandCost"); c != "" {
			s.list.Add(s.list, rat(c))
		}
	}
	return out
}

func round9(x *big.Rat) *big.Rat { return roundRat(x, 9) }

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

func cents(x *big.Rat) string {
	s := roundRat(x, 2).FloatString(2)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

func sumRat(s costgate.Sum) *big.Rat {
	return new(big.Rat).SetFrac(s.Big(), big.NewInt(costgate.NanosPerUnit))
}

func checkCUROracle(tb testing.TB, st *store.Store, want map[curKey]*curSums) {
	tb.Helper()
	res, err := st.Query(context.Background(), store.Query{
		Measures: []store.Measure{store.BilledCost, store.EffectiveCost, store.ListCost},
		GroupBy:  []string{"month", "ServiceName", "BillingAccountId"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	seen := map[curKey]bool{}
	for _, row := range res.Rows {
		k := curKey{row.Keys[0], row.Keys[1], row.Keys[2]}
		seen[k] = true
		w := want[k]
		if w == nil {
			tb.Errorf("store has group %+v that the file does not", k)
			continue
		}
		if row.Count != w.count {
			tb.Errorf("%+v: %d rows, file %d", k, row.Count, w.count)
		}
		billed, eff, list := sumRat(row.Values[0]), sumRat(row.Values[1]), sumRat(row.Values[2])
		if billed.Cmp(w.billedR) != 0 || eff.Cmp(w.effectiveR) != 0 {
			tb.Errorf("%+v: billed %s effective %s, file %s %s", k, billed.FloatString(10), eff.FloatString(10), w.billedR.FloatString(10), w.effectiveR.FloatString(10))
		}
		for _, c := range []struct {
			name      string
			got, want *big.Rat
		}{{"BilledCost", billed, w.billed}, {"EffectiveCost", eff, w.effective}, {"ListCost", list, w.list}} {
			if cents(c.got) != cents(c.want) {
				tb.Errorf("%+v %s: store %s, file %s (to the cent)", k, c.name, cents(c.got), cents(c.want))
			}
			// Each value is held to 1e-9: the error is at most half a
			// nano-unit per value (and per operand of a product).
			diff := new(big.Rat).Sub(c.got, c.want)
			tol := new(big.Rat).SetFrac(big.NewInt(w.count*2), big.NewInt(costgate.NanosPerUnit))
			if diff.Abs(diff).Cmp(tol) > 0 {
				tb.Errorf("%+v %s: store %s, file %s: off by more than %d nano-units", k, c.name, c.got.FloatString(12), c.want.FloatString(12), 2*w.count)
			}
		}
	}
	var missing []curKey
	for k := range want {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].service < missing[j].service })
	if len(missing) > 0 {
		tb.Errorf("store lacks %d groups: %v", len(missing), missing)
	}
}

// TestCUROracleLocal: the legacy CUR sample, read as a local CSV, gives
// per month, service and account the totals computed from the file.
func TestCUROracleLocal(t *testing.T) {
	raw := slurp(t, fixture(curFixture))
	st := openStore(t)
	sums, err := collect(t, st, NewCUR(collector.Spec{Name: "cur", Type: CURType, Path: fixture(curFixture)}))
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Rows != 1281 {
		t.Fatalf("%s", sums[0].String())
	}
	want := curOracle(t, bytes.NewReader(raw))
	checkCUROracle(t, st, want)
	t.Logf("CUR oracle: %d groups (month x service x account) match", len(want))
}
