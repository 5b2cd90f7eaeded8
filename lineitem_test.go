package costgate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseQuantity(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
		err  bool
	}{
		"hours":    {in: "730", want: "730"},
		"fraction": {in: "0.5", want: "0.5"},
		"rounded":  {in: "0.0000000004", want: "0"},
		"exponent": {in: "1.2e-3", want: "0.0012"},
		"bad":      {in: "x", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q, err := ParseQuantity(tc.in)
			if (err != nil) != tc.err || (!tc.err && q.String() != tc.want) {
				t.Fatalf("ParseQuantity(%q) = %s, %v", tc.in, q, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "parse quantity") {
				t.Errorf("error %q does not say what it parsed", err)
			}
		})
	}
}

func TestLineItemJSONUsesFOCUSNames(t *testing.T) {
	li := LineItem{
		BillingAccountID: "123", ResourceID: "i-1", SkuPriceID: "p",
		EffectiveCost: MustMoney("1.000000001"), ConsumedQuantity: 5 * NanosPerUnit,
		Tags: map[string]string{"team": "a"}, Extensions: map[string]string{"x_Foo": "bar"},
	}
	b, err := json.Marshal(li)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"BillingAccountId":"123"`, `"ResourceId":"i-1"`, `"SkuPriceId":"p"`,
		`"EffectiveCost":"1.000000001"`, `"ConsumedQuantity":"5"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var back LineItem
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.EffectiveCost != li.EffectiveCost || back.ConsumedQuantity != li.ConsumedQuantity || back.Tags["team"] != "a" {
		t.Errorf("round trip: %+v", back)
	}
}

func TestMonth(t *testing.T) {
	m, err := ParseMonth("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != "2026-12" || m.Next().String() != "2027-01" || m.Prev().String() != "2026-11" {
		t.Errorf("month arithmetic: %s %s %s", m, m.Next(), m.Prev())
	}
	if !m.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("end %s", m.End())
	}
	if MonthOf(time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("x", -3600*5))) != (Month{2027, time.January}) {
		t.Error("MonthOf ignores the zone")
	}
	for _, bad := range []string{"2026-13", "26-01", "", "2026/01"} {
		if _, err := ParseMonth(bad); err == nil {
			t.Errorf("ParseMonth(%q): no error", bad)
		}
	}
	var p Partition
	if err := json.Unmarshal([]byte(`{"source":"s","billing_account_id":"a","billing_period":"2026-10"}`), &p); err != nil || p.BillingPeriod != (Month{2026, time.October}) {
		t.Errorf("partition JSON: %+v %v", p, err)
	}
}

func TestParseMeasure(t *testing.T) {
	if m, err := ParseMeasure("effectivecost"); err != nil || m != MeasureEffectiveCost {
		t.Errorf("ParseMeasure: %s %v", m, err)
	}
	if _, err := ParseMeasure("Cost"); err == nil || !strings.Contains(err.Error(), "EffectiveCost") {
		t.Errorf("unknown measure error %v should list the measures", err)
	}
}
