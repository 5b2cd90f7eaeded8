package costgate

import (
	"encoding/json"
	"testing"
)

func TestRate(t *testing.T) {
	cases := map[string]struct {
		in, want string
	}{
		"decimal":      {"0.0000166667", "0.0000166667"},
		"ten digits":   {"0.0000000309", "0.0000000309"},
		"integer":      {"730", "730"},
		"trailing 0":   {"0.1000000000", "0.1"},
		"exponent":     {"1.5e-3", "0.0015"},
		"fraction":     {"7/10", "0.7"},
		"no decimal":   {"1/3", "0.333333333333"},
		"negative":     {"-0.5", "-0.5"},
		"zero":         {"0", "0"},
		"long decimal": {"0.123456789012345678", "0.123456789012345678"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := ParseRate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.String(); got != tc.want {
				t.Errorf("String = %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "abc", "1.2.3"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	var zero Rate
	if !zero.IsZero() || zero.String() != "0" || zero.Mul(MustRate("2")).Sign() != 0 {
		t.Error("zero value")
	}
}

func TestRateCost(t *testing.T) {
	cases := []struct{ price, qty, want string }{
		{"0.768", "730", "560.64"},
		{"0.0000166667", "25000000", "416.6675"},
		{"0.0000000309", "1", "0.000000031"},   // half up at the nano-unit
		{"0.0000000304", "1", "0.00000003"},    // half down
		{"-0.0000000305", "1", "-0.000000031"}, // half away from zero
		{"0.0052", "730", "3.796"},
		{"0.00292353", "2920", "8.5367076"},
	}
	for _, c := range cases {
		q, err := ParseQuantity(c.qty)
		if err != nil {
			t.Fatal(err)
		}
		m, err := MustRate(c.price).Cost(q)
		if err != nil {
			t.Fatal(err)
		}
		if m.String() != c.want {
			t.Errorf("%s × %s = %s, want %s", c.price, c.qty, m, c.want)
		}
	}
	// 30% off 742.64 is exactly 519.848.
	m, err := RateOf(7, 10).Apply(MustMoney("742.64"))
	if err != nil || m.String() != "519.848" {
		t.Errorf("Apply = %s, %v", m, err)
	}
	if _, err := MustRate("1e12").Cost(Quantity(1e18)); err == nil {
		t.Error("overflow not reported")
	}
}

func TestQuantityHelpers(t *testing.T) {
	q, err := QuantityOf(RateOf(15, 4)) // 3.75
	if err != nil || q.String() != "3.75" {
		t.Errorf("QuantityOf = %s, %v", q, err)
	}
	if q.Rate().String() != "3.75" {
		t.Errorf("Rate = %s", q.Rate())
	}
	if _, err := QuantityFromInt(1 << 40); err == nil {
		t.Error("QuantityFromInt overflow not reported")
	}
	h, _ := QuantityFromInt(HoursPerMonth)
	if h.String() != "730" {
		t.Errorf("HoursPerMonth = %s", h)
	}
}

func TestEstimateJSON(t *testing.T) {
	q, _ := ParseQuantity("730")
	m := MustMoney("70.08")
	c := CostComponent{Name: "Instance", Unit: "hours", MonthlyQuantity: &q, ListUnitPrice: MustRate("0.096"), UnitPrice: MustRate("0.0672"), ListMonthly: &m, Monthly: &m}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"Instance","unit":"hours","monthly_quantity":"730","list_unit_price":"0.096","unit_price":"0.0672","list_monthly":"70.08","monthly":"70.08"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back CostComponent
	if err := json.Unmarshal(b, &back); err != nil || back.UnitPrice.String() != "0.0672" || back.MonthlyQuantity.String() != "730" {
		t.Errorf("round trip %+v %v", back, err)
	}
	pe := &PlanEstimate{Currency: "USD", MonthlyAfter: m, Resources: []ResourceEstimate{{Address: "a"}}}
	if tot := pe.Totals(); tot.Unpriced == nil || tot.MonthlyAfter != m || tot.Currency != "USD" {
		t.Errorf("Totals %+v", tot)
	}
	if pe.Resource("a") == nil || pe.Resource("b") != nil {
		t.Error("Resource")
	}
}

// TestRateAppendKey checks the short path of AppendKey against the
// numerator and denominator in hex, and that equal rates give equal keys.
func TestRateAppendKey(t *testing.T) {
	for _, s := range []string{"0", "1", "-3", "0.096", "-0.0000166667", "7/10", "12345678901234567890123", "1/12345678901234567890123", "123456789012345678901/7"} {
		r, err := ParseRate(s)
		if err != nil {
			t.Fatal(err)
		}
		x := r.Rat()
		want := x.Num().Text(16) + "/" + x.Denom().Text(16)
		if got := string(r.AppendKey([]byte("k:"))); got != "k:"+want {
			t.Errorf("AppendKey(%s) = %q, want %q", s, got, "k:"+want)
		}
	}
	a, _ := ParseRate("0.50")
	b, _ := ParseRate("1/2")
	if string(a.AppendKey(nil)) != string(b.AppendKey(nil)) {
		t.Errorf("0.50 and 1/2 have different keys")
	}
	if got := string(Rate{}.AppendKey(nil)); got != "0/1" {
		t.Errorf("zero Rate key %q", got)
	}
}
