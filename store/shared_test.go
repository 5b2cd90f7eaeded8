package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/costgate/costgate"
)

// TestSharedBlocks: columns whose blocks hold the same bytes (null on
// every row, one value on every row, equal money columns) share one
// block in the segment file, and every query reads each of them as its
// own column. Columns one row away from constant keep blocks of their own.
func TestSharedBlocks(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(5)
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	for i := range rows {
		rows[i].ListCost = rows[i].BilledCost // as ContractedCost already is
	}
	rows[7].ChargeFrequency = ""       // one value and one null row
	rows[11].PublisherName = "Another" // two values, one of them on one row
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	if _, err := s.Replace(ctx, p, rows, "e1", ""); err != nil {
		t.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil || len(files) != 1 {
		t.Fatalf("segments %v (%v), want one", files, err)
	}
	seg, err := openSegment(files[0], -1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.close()
	ref := map[string]blockRef{}
	for _, c := range seg.f.cols {
		ref[c.name] = c.data
	}
	same := func(a, b string) {
		t.Helper()
		if ref[a] != ref[b] {
			t.Errorf("%s's block %+v and %s's %+v differ, want one shared block", a, ref[a], b, ref[b])
		}
	}
	apart := func(a, b string) {
		t.Helper()
		if ref[a].off == ref[b].off {
			t.Errorf("%s and %s share the block at %d, but their values differ", a, b, ref[a].off)
		}
	}
	same("ProviderName", "BillingCurrency")    // one value on every row
	same("ProviderName", "InvoiceIssuerName")  //
	same("SubAccountName", "InvoiceId")        // null on every row
	same("ListCost", "BilledCost")             // equal money
	same("ContractedCost", "BilledCost")       //
	apart("ChargeFrequency", "ProviderName")   // one null row
	apart("PublisherName", "ProviderName")     // one other value
	apart("EffectiveCost", "BilledCost")       //
	apart("SubAccountName", "BillingCurrency") // null against one value
	m := &model{parts: map[string][]costgate.LineItem{"p": rows}}
	for _, q := range []Query{
		{Measures: []Measure{ListCost, BilledCost, ContractedCost, Count}, GroupBy: []string{"ProviderName", "BillingCurrency"}},
		{Measures: []Measure{ListCost, EffectiveCost}, GroupBy: []string{"ChargeFrequency"}},
		{Measures: []Measure{BilledCost}, GroupBy: []string{"PublisherName", "SubAccountName"}},
		{Filters: []Filter{Eq("ChargeFrequency", "")}, Measures: []Measure{Count, ListCost}},
		{Filters: []Filter{Eq("PublisherName", "Another")}, Measures: []Measure{Count, ListCost}},
		{Filters: []Filter{Not(Eq("InvoiceIssuerName", "Amazon Web Services"))}, Measures: []Measure{Count}},
		{Filters: []Filter{Eq("BillingCurrency", "USD"), Eq("SubAccountName", "")}, GroupBy: []string{"ServiceName"}, Measures: []Measure{ListCost}},
		{Filters: []Filter{Not(Eq("SubAccountName", ""))}, Measures: []Measure{Count}},
	} {
		got, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameResult(got, m.query(q)); d != "" {
			t.Errorf("%+v: %s", q, d)
		}
	}
}

// TestArenaSharesCopies: a block two columns share is copied once.
func TestArenaSharesCopies(t *testing.T) {
	a := &arena{budget: &hotBudget{limit: 1 << 30}}
	defer a.free()
	b := make([]byte, hotMin)
	for i := range b {
		b[i] = byte(i)
	}
	h1, fresh1 := a.copyOf(4096, b)
	h2, fresh2 := a.copyOf(4096, b)
	h3, fresh3 := a.copyOf(8192, b)
	switch {
	case h1 == nil || h2 == nil || h3 == nil:
		t.Fatal("no copy")
	case !fresh1 || fresh2 || !fresh3:
		t.Errorf("fresh %v %v %v, want true false true", fresh1, fresh2, fresh3)
	case &h1[0] != &h2[0]:
		t.Error("the second use of the block at 4096 copied it again")
	case &h1[0] == &h3[0]:
		t.Error("the block at 8192 got the copy of the one at 4096")
	case string(h3) != string(b):
		t.Error("copy differs from the block")
	}
}
