package pricing

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// testCatalog is a small snapshot for the framework tests.
func testCatalog(tb testing.TB) *Catalog {
	tb.Helper()
	c, err := Parse([]byte(`{
	  "format": "costgate.prices/v1", "id": "test", "currency": "USD", "sources": {"t": "test prices"},
	  "prices": [
	    {"provider":"aws","service":"AmazonEC2","region":"us-east-1","attributes":{"instanceType":"m5.large"},"unit":"hour","price":"0.096","source":"t"},
	    {"provider":"aws","service":"AmazonEC2","region":"us-east-1","attributes":{"instanceType":"m5.xlarge"},"unit":"hour","price":"0.192","source":"t"},
	    {"provider":"aws","service":"AmazonRDS","region":"us-east-1","attributes":{"instanceType":"db.t3.micro"},"unit":"hour","price":"0.017","source":"t"},
	    {"provider":"aws","service":"AWSLambda","region":"us-east-1","attributes":{"group":"req"},"unit":"request","price":"0.0000002","source":"t"},
	    {"provider":"aws","service":"AWSLambda","region":"us-east-1","attributes":{"group":"dur"},"unit":"GB-second","price":"0.0000166667","tier_start":"0","source":"t"},
	    {"provider":"aws","service":"AWSLambda","region":"us-east-1","attributes":{"group":"dur"},"unit":"GB-second","price":"0.000015","tier_start":"6000000000","source":"t"}
	  ]}`), "test.json")
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// instanceFunc prices instance_type hours in EC2 (or RDS for db.*).
func instanceFunc(env *Env, s Side) (*Result, error) {
	typ, err := s.Need("instance_type")
	if err != nil {
		return nil, err
	}
	svc := "AmazonEC2"
	if strings.HasPrefix(typ, "db.") {
		svc = "AmazonRDS"
	}
	c, err := env.Pricer.Component(Line{Name: "Instance " + typ, Unit: "hours", Quantity: Hours(1),
		Query: Query{Provider: "aws", Service: svc, Region: s.Region(), Unit: "hour", Attrs: map[string]string{"instanceType": typ}}})
	if err != nil {
		return nil, err
	}
	return &Result{Components: []costgate.CostComponent{c}}, nil
}

// lambdaFunc has a fixed-free usage-based resource: requests and duration
// from the usage.
func lambdaFunc(env *Env, s Side) (*Result, error) {
	req, _ := env.Usage.Quantity("monthly_requests")
	gbs, _ := env.Usage.Quantity("gb_seconds")
	var m *costgate.Quantity
	if req != nil {
		m = QtyRate(req.Rate().Mul(costgate.RateOf(1, 1_000_000)))
	}
	c, err := env.Pricer.Component(Line{Name: "Requests", Unit: "1M requests", Quantity: m, Scale: 1_000_000, UsageBased: true,
		Query: Query{Provider: "aws", Service: "AWSLambda", Region: s.Region(), Attrs: map[string]string{"group": "req"}}})
	if err != nil {
		return nil, err
	}
	d, err := env.Pricer.Tiered(Line{Name: "Duration", Unit: "GB-seconds", Quantity: gbs, UsageBased: true,
		Query: Query{Provider: "aws", Service: "AWSLambda", Region: s.Region(), Attrs: map[string]string{"group": "dur"}}},
		func(start, end *costgate.Rate) string { return "" })
	if err != nil {
		return nil, err
	}
	return &Result{Components: append([]costgate.CostComponent{c}, d...)}, nil
}

func testRegistry() *Registry {
	r := NewRegistry()
	r.Register("aws_instance", instanceFunc)
	r.Register("aws_lambda_function", lambdaFunc)
	r.Free("aws_iam_role")
	r.FreePrefix("random_")
	return r
}

func vals(tb testing.TB, s string) map[string]any {
	tb.Helper()
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func money(tb testing.TB, m *costgate.Money) string {
	tb.Helper()
	if m == nil {
		return "nil"
	}
	return m.String()
}

func TestEstimateActions(t *testing.T) {
	cases := map[string]struct {
		typ, action, before, after string
		priced, free               bool
		wantBefore, wantAfter      string
		wantDelta, reason          string
	}{
		"create":       {typ: "aws_instance", action: "create", after: `{"instance_type":"m5.large"}`, priced: true, wantBefore: "0", wantAfter: "70.08", wantDelta: "70.08"},
		"delete":       {typ: "aws_instance", action: "delete", before: `{"instance_type":"m5.large"}`, priced: true, wantBefore: "70.08", wantAfter: "0", wantDelta: "-70.08"},
		"update":       {typ: "aws_instance", action: "update", before: `{"instance_type":"m5.large"}`, after: `{"instance_type":"m5.xlarge"}`, priced: true, wantBefore: "70.08", wantAfter: "140.16", wantDelta: "70.08"},
		"replace":      {typ: "aws_instance", action: "replace", before: `{"instance_type":"m5.xlarge"}`, after: `{"instance_type":"m5.large"}`, priced: true, wantBefore: "140.16", wantAfter: "70.08", wantDelta: "-70.08"},
		"no-op":        {typ: "aws_instance", action: "no-op", before: `{"instance_type":"m5.large"}`, after: `{"instance_type":"m5.large"}`, priced: true, wantBefore: "70.08", wantAfter: "70.08", wantDelta: "0"},
		"free":         {typ: "aws_iam_role", action: "create", after: `{}`, priced: true, free: true, wantBefore: "0", wantAfter: "0", wantDelta: "0"},
		"free prefix":  {typ: "random_id", action: "create", after: `{}`, priced: true, free: true, wantBefore: "0", wantAfter: "0", wantDelta: "0"},
		"unsupported":  {typ: "aws_sqs_queue", action: "create", after: `{}`, wantBefore: "nil", wantAfter: "nil", wantDelta: "nil", reason: "not supported"},
		"unknown attr": {typ: "aws_instance", action: "create", after: `{}`, wantBefore: "0", wantAfter: "nil", wantDelta: "nil", reason: "instance_type is not set"},
		"no price":     {typ: "aws_instance", action: "create", after: `{"instance_type":"x9.huge"}`, wantBefore: "0", wantAfter: "nil", wantDelta: "nil", reason: "no price in the catalog"},
		"usage unknown": {typ: "aws_lambda_function", action: "create", after: `{}`, wantBefore: "0", wantAfter: "nil", wantDelta: "nil",
			reason: "usage-based, and no usage is known"},
		"update before unpriced": {typ: "aws_instance", action: "update", before: `{"instance_type":"x9.huge"}`, after: `{"instance_type":"m5.large"}`,
			wantBefore: "nil", wantAfter: "70.08", wantDelta: "nil", reason: "before: no price"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := costgate.PlannedResource{Address: tc.typ + ".x", Type: tc.typ, Action: tc.action, Region: "us-east-1",
				Before: vals(t, tc.before), After: vals(t, tc.after)}
			est, err := NewEstimator(testCatalog(t), Options{Registry: testRegistry()}).Estimate(context.Background(), []costgate.PlannedResource{r})
			if err != nil {
				t.Fatal(err)
			}
			re := est.Resources[0]
			if re.Priced != tc.priced || re.Free != tc.free {
				t.Errorf("priced=%v free=%v, want %v %v (reason %q)", re.Priced, re.Free, tc.priced, tc.free, re.Reason)
			}
			if got := money(t, re.MonthlyBefore) + " " + money(t, re.MonthlyAfter) + " " + money(t, re.MonthlyDelta); got != tc.wantBefore+" "+tc.wantAfter+" "+tc.wantDelta {
				t.Errorf("before/after/delta = %s, want %s %s %s", got, tc.wantBefore, tc.wantAfter, tc.wantDelta)
			}
			if !strings.Contains(re.Reason, tc.reason) {
				t.Errorf("reason %q, want %q", re.Reason, tc.reason)
			}
			unpriced := len(est.Unpriced) == 1
			if unpriced != (!tc.priced && !tc.free) {
				t.Errorf("Unpriced = %v", est.Unpriced)
			}
		})
	}
}

func TestEstimateTotalsAndUsage(t *testing.T) {
	u, err := ParseUsageFile([]byte(`version: 0.1
resource_usage:
  aws_lambda_function.fn:
    monthly_requests: 100000000
    gb_seconds: 7000000000
`), "usage.yml")
	if err != nil {
		t.Fatal(err)
	}
	rs := []costgate.PlannedResource{
		{Address: "aws_instance.a", Type: "aws_instance", Action: "create", Region: "us-east-1", After: vals(t, `{"instance_type":"m5.large"}`)},
		{Address: "aws_instance.b", Type: "aws_instance", Action: "delete", Region: "us-east-1", Before: vals(t, `{"instance_type":"db.t3.micro"}`)},
		{Address: "aws_lambda_function.fn", Type: "aws_lambda_function", Action: "create", Region: "us-east-1", After: vals(t, `{}`)},
		{Address: "aws_lambda_function.other", Type: "aws_lambda_function", Action: "create", Region: "us-east-1", After: vals(t, `{}`)},
		{Address: "data.aws_ami.x", Type: "aws_ami", Mode: "data", Action: "read"},
	}
	est, err := NewEstimator(testCatalog(t), Options{Registry: testRegistry(), Usage: u}).Estimate(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	fn := est.Resource("aws_lambda_function.fn")
	// 100 × 0.2 + 6e9 × 0.0000166667 + 1e9 × 0.000015 = 20 + 100000.2 + 15000
	if !fn.Priced || money(t, fn.MonthlyAfter) != "115020.2" {
		t.Fatalf("lambda = %v %s (%s)", fn.Priced, money(t, fn.MonthlyAfter), fn.Reason)
	}
	if len(fn.Components) != 3 || fn.Components[2].MonthlyQuantity.String() != "1000000000" {
		t.Errorf("tiers: %+v", fn.Components)
	}
	// after = 70.08 + 115020.2; before = 12.41 (db.t3.micro as EC2-priced test type)
	if est.MonthlyAfter.String() != "115090.28" || est.MonthlyBefore.String() != "12.41" || est.MonthlyDelta.String() != "115077.87" {
		t.Errorf("totals %s %s %s", est.MonthlyBefore, est.MonthlyAfter, est.MonthlyDelta)
	}
	if len(est.Unpriced) != 1 || est.Unpriced[0] != "aws_lambda_function.other" {
		t.Errorf("unpriced %v", est.Unpriced)
	}
	if d := est.Resource("data.aws_ami.x"); !d.Free {
		t.Errorf("data source not free: %+v", d)
	}
}

func TestEstimatePartialUsage(t *testing.T) {
	reg := testRegistry()
	reg.Register("aws_nat_gateway", func(env *Env, s Side) (*Result, error) {
		h, err := env.Pricer.Component(Line{Name: "hours", Unit: "hours", Quantity: Hours(1),
			Query: Query{Provider: "aws", Service: "AmazonEC2", Region: s.Region(), Unit: "hour", Attrs: map[string]string{"instanceType": "m5.large"}}})
		if err != nil {
			return nil, err
		}
		d, err := env.Pricer.Component(Line{Name: "Data processed", Unit: "GB", UsageBased: true,
			Query: Query{Provider: "aws", Service: "AWSLambda", Region: s.Region(), Attrs: map[string]string{"group": "req"}}})
		if err != nil {
			return nil, err
		}
		return &Result{Components: []costgate.CostComponent{h, d}}, nil
	})
	r := costgate.PlannedResource{Address: "aws_nat_gateway.n", Type: "aws_nat_gateway", Action: "create", Region: "us-east-1", After: vals(t, `{}`)}
	est, err := NewEstimator(testCatalog(t), Options{Registry: reg}).Estimate(context.Background(), []costgate.PlannedResource{r})
	if err != nil {
		t.Fatal(err)
	}
	re := est.Resources[0]
	if !re.Priced || !re.Partial || !re.UsageBased || money(t, re.MonthlyAfter) != "70.08" || !strings.Contains(re.Reason, "Data processed") {
		t.Errorf("%+v", re)
	}
}

func TestCalibrationExact(t *testing.T) {
	list := costgate.SumOf(costgate.MustMoney("1000"))
	eff := costgate.SumOf(costgate.MustMoney("700"))
	cal := NewCalibration([]CalibrationEntry{
		{Account: "111", Family: "Amazon Elastic Compute Cloud", Effective: eff, List: list},
		{Account: "222", Family: "Amazon Elastic Compute Cloud", Effective: costgate.SumOf(costgate.MustMoney("200")), List: costgate.SumOf(costgate.MustMoney("200"))},
		{Account: "111", Family: "AmazonRDS", Effective: costgate.SumOf(costgate.MustMoney("1")), List: costgate.SumOf(costgate.MustMoney("3"))},
	}, "test")
	if r, ok := cal.Ratio("111", "AmazonEC2"); !ok || r.String() != "0.7" {
		t.Errorf("111 EC2 ratio %s %v", r, ok)
	}
	// any account: (700 + 200) / (1000 + 200) = 0.75
	if r, ok := cal.Ratio("", "Amazon Elastic Compute Cloud"); !ok || r.String() != "0.75" {
		t.Errorf("all-accounts EC2 ratio %s %v", r, ok)
	}
	// 1/3 has no finite decimal; it stays exact.
	r, _ := cal.Ratio("111", "Amazon Relational Database Service")
	if r.Cmp(costgate.RateOf(1, 3)) != 0 {
		t.Errorf("RDS ratio %s", r)
	}
	rs := []costgate.PlannedResource{
		{Address: "aws_instance.a", Type: "aws_instance", Action: "create", Region: "us-east-1", Account: "111", After: vals(t, `{"instance_type":"m5.large"}`)},
		{Address: "aws_instance.b", Type: "aws_instance", Action: "create", Region: "us-east-1", Account: "111", After: vals(t, `{"instance_type":"db.t3.micro"}`)},
	}
	est, err := NewEstimator(testCatalog(t), Options{Registry: testRegistry(), Calibration: cal}).Estimate(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	a, b := est.Resource("aws_instance.a"), est.Resource("aws_instance.b")
	if money(t, a.ListMonthlyAfter) != "70.08" || money(t, a.MonthlyAfter) != "49.056" || a.Components[0].UnitPrice.String() != "0.0672" {
		t.Errorf("EC2: list %s effective %s unit %s", money(t, a.ListMonthlyAfter), money(t, a.MonthlyAfter), a.Components[0].UnitPrice)
	}
	// 12.41 / 3 = 4.136666666... rounded half away from zero at 1e-9
	if money(t, b.MonthlyAfter) != "4.136666667" {
		t.Errorf("RDS effective %s", money(t, b.MonthlyAfter))
	}
	if est.ListMonthlyAfter.String() != "82.49" || est.MonthlyAfter.String() != "53.192666667" {
		t.Errorf("totals list %s eff %s", est.ListMonthlyAfter, est.MonthlyAfter)
	}
}

func TestEstimateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewEstimator(testCatalog(t), Options{Registry: testRegistry(), Now: func() time.Time { return time.Time{} }}).
		Estimate(ctx, []costgate.PlannedResource{{Address: "a", Type: "aws_iam_role", Action: "create"}})
	if err == nil {
		t.Fatal("no error for a cancelled context")
	}
}

func TestUsageFilePrecedence(t *testing.T) {
	u, err := ParseUsageFile([]byte(`version: 0.1
resource_type_default_usage:
  aws_nat_gateway:
    monthly_data_processed_gb: 1
    other: 5
resource_usage:
  aws_nat_gateway.n[*]:
    monthly_data_processed_gb: 2
  aws_nat_gateway.n[1]:
    monthly_data_processed_gb: 3
  aws_nat_gateway.empty:
  aws_s3_bucket.b:
    standard:
      storage_gb: 1.5
`), "u.yml")
	if err != nil {
		t.Fatal(err)
	}
	get := func(addr, typ, key string) string {
		q, ok := u.For(&costgate.PlannedResource{Address: addr, Type: typ}).Quantity(key)
		if !ok {
			return "none"
		}
		return q.String()
	}
	for _, c := range [][4]string{
		{"aws_nat_gateway.n[0]", "aws_nat_gateway", "monthly_data_processed_gb", "2"},
		{"aws_nat_gateway.n[1]", "aws_nat_gateway", "monthly_data_processed_gb", "3"},
		{"aws_nat_gateway.n[1]", "aws_nat_gateway", "other", "5"},
		{"aws_nat_gateway.m", "aws_nat_gateway", "monthly_data_processed_gb", "1"},
		{"aws_nat_gateway.empty", "aws_nat_gateway", "monthly_data_processed_gb", "1"},
		{"aws_s3_bucket.b", "aws_s3_bucket", "standard.storage_gb", "1.5"},
		{"aws_s3_bucket.c", "aws_s3_bucket", "standard.storage_gb", "none"},
	} {
		if got := get(c[0], c[1], c[2]); got != c[3] {
			t.Errorf("%s %s = %s, want %s", c[0], c[2], got, c[3])
		}
	}
	if _, err := ParseUsageFile([]byte("resource_usage:\n  a.b:\n    x: -1\n"), "bad.yml"); err == nil || !strings.Contains(err.Error(), "resource_usage.a.b") {
		t.Errorf("negative usage: %v", err)
	}
	if _, err := ParseUsageFile([]byte("resources: {}\n"), "bad.yml"); err == nil {
		t.Error("unknown top-level key accepted")
	}
}
