package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// lineReader is a naive costgate.CostReader over a few line items: it
// supports what SpendDocument asks (time range, tag present, one group).
type lineReader []costgate.LineItem

func (lr lineReader) Query(_ context.Context, q costgate.CostQuery) (*costgate.CostResult, error) {
	sums := map[string]*costgate.Sum{}
	var order []string
	for _, li := range lr {
		ok := true
		for _, f := range q.Filters {
			switch f.Op {
			case costgate.FilterTimeRange:
				ok = ok && !li.ChargePeriodStart.Before(f.From) && li.ChargePeriodStart.Before(f.To)
			case costgate.FilterTagPresent:
				_, has := li.Tags[f.Column[4:]]
				ok = ok && has
			}
		}
		if !ok {
			continue
		}
		var key string
		switch col := q.GroupBy[0]; {
		case col == "BillingAccountId":
			key = li.BillingAccountID
		case len(col) > 4 && col[:4] == "tag:":
			key = li.Tags[col[4:]]
		}
		if sums[key] == nil {
			sums[key] = &costgate.Sum{}
			order = append(order, key)
		}
		sums[key].Add(li.EffectiveCost)
	}
	res := &costgate.CostResult{GroupBy: q.GroupBy, Measures: q.Measures}
	for _, k := range order {
		res.Rows = append(res.Rows, costgate.CostRow{Keys: []string{k}, Values: []costgate.Sum{*sums[k]}})
	}
	return res, nil
}

func TestSpendDocument(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	item := func(at time.Time, acct, team, cost string) costgate.LineItem {
		tags := map[string]string{}
		if team != "" {
			tags["team"] = team
		}
		return costgate.LineItem{ChargePeriodStart: at, BillingAccountID: acct, Tags: tags, EffectiveCost: costgate.MustMoney(cost)}
	}
	r := lineReader{
		item(day(11, 1), "111", "payments", "1000.000000001"),
		item(day(11, 10), "111", "payments", "499.999999999"),
		item(day(11, 12), "222", "", "77"),
		item(day(10, 5), "111", "payments", "3000"),
		item(day(11, 16), "111", "payments", "999"), // after "now": not month-to-date
	}
	now := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC) // 15 of 30 days
	doc, err := SpendDocument(context.Background(), r, SpendOptions{Now: now, Budgets: map[string]costgate.Money{"payments": costgate.MustMoney("4000"), "search": costgate.MustMoney("10")}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Month        string
		Teams        map[string]map[string]json.Number
		Accounts     map[string]map[string]json.Number
		Environments map[string]map[string]json.Number
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	p := got.Teams["payments"]
	if p["month_to_date"] != "1500" || p["last_month"] != "3000" || p["forecast"] != "3000.000000000" || p["budget"] != "4000" {
		t.Errorf("payments %v", p)
	}
	if s := got.Teams["search"]; s["month_to_date"] != "0" || s["budget"] != "10" {
		t.Errorf("search (budget, no spend) %v", s)
	}
	if _, ok := got.Teams[""]; ok {
		t.Error("untagged spend listed as a team")
	}
	if a := got.Accounts["222"]; a["month_to_date"] != "77" {
		t.Errorf("account 222 %v", a)
	}
	if got.Month != "2026-11" {
		t.Errorf("month %s", got.Month)
	}
}
