package pricing_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/estimators"
	"github.com/costgate/costgate/store"
)

var now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// lineItem is one day of one resource's charges.
func lineItem(account, service, resource string, day time.Time, list, effective string, tags map[string]string) costgate.LineItem {
	return costgate.LineItem{
		ChargePeriodStart: day, ChargePeriodEnd: day.Add(24 * time.Hour),
		BillingPeriodStart: costgate.MonthOf(day).Start(), BillingPeriodEnd: costgate.MonthOf(day).End(),
		BillingAccountID: account, ProviderName: "AWS", ServiceName: service, ResourceID: resource,
		ChargeCategory: "Usage", BillingCurrency: "USD",
		ListCost: costgate.MustMoney(list), EffectiveCost: costgate.MustMoney(effective), BilledCost: costgate.MustMoney(effective),
		Tags: tags,
	}
}

// openStore writes line items into a fresh store, one partition per
// (account, month), closes it and reopens it read-only, as the CLI does.
func openStore(t *testing.T, rows []costgate.LineItem) *store.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[costgate.Partition][]costgate.LineItem{}
	for _, r := range rows {
		p := costgate.Partition{Source: "test", BillingAccountID: r.BillingAccountID, BillingPeriod: costgate.MonthOf(r.BillingPeriodStart)}
		parts[p] = append(parts[p], r)
	}
	for p, rs := range parts {
		if _, err := st.Replace(context.Background(), p, rs, "export", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func planned(t *testing.T, addr, typ, account, after string) costgate.PlannedResource {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(after))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return costgate.PlannedResource{Address: addr, Type: typ, Name: "x", Mode: "managed", Action: "create", After: m,
		Region: "us-east-1", Account: account, Tags: map[string]string{"team": "payments", "service": "checkout"}}
}

// TestCalibrationThirtyPercentEC2 is the calibration proof: a
// store whose EC2 actuals carry a 30% discount makes the effective
// estimate of an EC2 instance exactly 30% below list, and leaves the
// other services at list.
func TestCalibrationThirtyPercentEC2(t *testing.T) {
	var rows []costgate.LineItem
	for d := 1; d <= 30; d++ {
		day := now.AddDate(0, 0, -d)
		rows = append(rows,
			lineItem("123456789012", "Amazon Elastic Compute Cloud", "i-1", day, "10", "7", nil),
			lineItem("123456789012", "Amazon Elastic Compute Cloud", "vol-1", day, "0.3", "0.21", nil),
			lineItem("123456789012", "Amazon Relational Database Service", "db-1", day, "5", "5", nil),
		)
	}
	// Older than 30 days: no discount, must not count.
	rows = append(rows, lineItem("123456789012", "Amazon Elastic Compute Cloud", "i-1", now.AddDate(0, 0, -45), "1000", "1000", nil))
	st := openStore(t, rows)
	cal, err := pricing.Calibrate(context.Background(), st, now)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := cal.Ratio("123456789012", "Amazon Elastic Compute Cloud"); !ok || r.String() != "0.7" {
		t.Fatalf("EC2 ratio = %s, %v; want exactly 0.7", r, ok)
	}
	est := estimators.New(pricing.Default(), pricing.Options{Calibration: cal, Now: func() time.Time { return now }})
	pe, err := est.Estimate(context.Background(), []costgate.PlannedResource{
		planned(t, "aws_instance.web", "aws_instance", "123456789012",
			`{"instance_type":"m5.large","root_block_device":[{"volume_size":50,"volume_type":"gp3"}],"ebs_block_device":[]}`),
		planned(t, "aws_db_instance.db", "aws_db_instance", "123456789012",
			`{"instance_class":"db.t3.micro","engine":"postgres","engine_version":"16.3","allocated_storage":20,"storage_type":"gp3","multi_az":false}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	web := pe.Resource("aws_instance.web")
	// list: 730 × 0.096 + 50 × 0.08 = 70.08 + 4 = 74.08; effective 70% of it.
	if web.ListMonthlyAfter.String() != "74.08" {
		t.Fatalf("EC2 list = %s", web.ListMonthlyAfter)
	}
	want, _ := costgate.RateOf(7, 10).Apply(*web.ListMonthlyAfter)
	if *web.MonthlyAfter != want || web.MonthlyAfter.String() != "51.856" {
		t.Errorf("EC2 effective = %s, want exactly 30%% below list (%s)", web.MonthlyAfter, want)
	}
	for _, c := range web.Components {
		if c.UnitPrice.Cmp(c.ListUnitPrice.Mul(costgate.RateOf(7, 10))) != 0 {
			t.Errorf("%s: unit price %s, list %s", c.Name, c.UnitPrice, c.ListUnitPrice)
		}
	}
	db := pe.Resource("aws_db_instance.db")
	if *db.MonthlyAfter != *db.ListMonthlyAfter {
		t.Errorf("RDS has no discount in the bill, but effective %s != list %s", db.MonthlyAfter, db.ListMonthlyAfter)
	}
	if !strings.Contains(pe.Calibration, "generation") {
		t.Errorf("calibration description %q", pe.Calibration)
	}
}

// TestHistoryPricesUsageBasedResources: a Lambda function without usage
// is priced from the average monthly cost of the same service's
// resources that share its service tag.
func TestHistoryPricesUsageBasedResources(t *testing.T) {
	var rows []costgate.LineItem
	for d := 1; d <= 30; d++ {
		day := now.AddDate(0, 0, -d)
		rows = append(rows,
			lineItem("123456789012", "AWS Lambda", "fn-a", day, "2", "1.8", map[string]string{"service": "checkout"}),
			lineItem("123456789012", "AWS Lambda", "fn-b", day, "4", "3.6", map[string]string{"service": "checkout"}),
			lineItem("123456789012", "AWS Lambda", "fn-c", day, "100", "90", map[string]string{"service": "search"}),
		)
	}
	st := openStore(t, rows)
	est := estimators.New(pricing.Default(), pricing.Options{History: pricing.NewStoreHistory(st, now, nil), Now: func() time.Time { return now }})
	pe, err := est.Estimate(context.Background(), []costgate.PlannedResource{
		planned(t, "aws_lambda_function.fn", "aws_lambda_function", "", `{"memory_size":512}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	fn := pe.Resources[0]
	// (60 + 120) / 2 resources over 30 days = 90 per 720 hours -> 91.25 per 730 hours
	if !fn.Priced || fn.ListMonthlyAfter.String() != "91.25" || fn.MonthlyAfter.String() != "82.125" {
		t.Fatalf("history: priced %v list %s effective %s (%s)", fn.Priced, money(fn.ListMonthlyAfter), money(fn.MonthlyAfter), fn.Reason)
	}
	if !strings.Contains(fn.Components[0].UsageSource, "tag service=checkout") {
		t.Errorf("usage source %q", fn.Components[0].UsageSource)
	}
}

func money(m *costgate.Money) string {
	if m == nil {
		return "nil"
	}
	return m.String()
}
