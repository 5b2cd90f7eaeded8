package gate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"
)

func money(s string) *costgate.Money {
	m := costgate.MustMoney(s)
	return &m
}

// costPlan is two new instances of team payments (prod) and one of data.
const costPlan = `{"format_version":"1.2","resource_changes":[
 {"address":"aws_instance.a","mode":"managed","type":"aws_instance","name":"a","provider_name":"registry.terraform.io/hashicorp/aws",
  "change":{"actions":["create"],"before":null,"after":{"instance_type":"m5.large","tags":{"team":"payments","env":"prod"},"tags_all":{"team":"payments","env":"prod"}},"after_unknown":{}}},
 {"address":"aws_instance.b","mode":"managed","type":"aws_instance","name":"b","provider_name":"registry.terraform.io/hashicorp/aws",
  "change":{"actions":["create"],"before":null,"after":{"instance_type":"m5.large","tags":{"team":"payments","env":"prod"},"tags_all":{"team":"payments","env":"prod"}},"after_unknown":{}}},
 {"address":"aws_lambda_function.f","mode":"managed","type":"aws_lambda_function","name":"f","provider_name":"registry.terraform.io/hashicorp/aws",
  "change":{"actions":["create"],"before":null,"after":{"tags":{"team":"data"},"tags_all":{"team":"data"}},"after_unknown":{}}}]}`

func costEstimate() *costgate.PlanEstimate {
	return &costgate.PlanEstimate{
		Currency: "USD", PriceSnapshot: "test@1",
		Resources: []costgate.ResourceEstimate{
			{Address: "aws_instance.a", Type: "aws_instance", Priced: true, MonthlyBefore: money("0"), MonthlyAfter: money("70.080000001"), MonthlyDelta: money("70.080000001")},
			{Address: "aws_instance.b", Type: "aws_instance", Priced: true, MonthlyBefore: money("0"), MonthlyAfter: money("70.079999999"), MonthlyDelta: money("70.079999999")},
			{Address: "aws_lambda_function.f", Type: "aws_lambda_function", Priced: false, UsageBased: true, Reason: "usage-based: no usage known"},
		},
		MonthlyAfter: costgate.MustMoney("140.16"), MonthlyDelta: costgate.MustMoney("140.16"),
		Unpriced: []string{"aws_lambda_function.f"},
	}
}

func TestCostInInput(t *testing.T) {
	p, err := ParsePlan([]byte(costPlan), "cost.json")
	if err != nil {
		t.Fatal(err)
	}
	in := BuildInput(p, InputOptions{Estimate: costEstimate()})
	b, err := in.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources []struct {
			Address string
			Cost    map[string]any
		}
		Cost struct {
			Currency string
			ByTeam   map[string]map[string]any `json:"by_team"`
			ByEnv    map[string]map[string]any `json:"by_env"`
			Unpriced []string
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	// The two instances sum exactly: 70.080000001 + 70.079999999.
	if got := doc.Cost.ByTeam["payments"]["monthly_delta"]; got != json.Number("140.16") {
		t.Errorf("by_team.payments.monthly_delta = %v, want exactly 140.16", got)
	}
	if got := doc.Cost.ByEnv["prod"]["monthly_delta"]; got != json.Number("140.16") {
		t.Errorf("by_env.prod.monthly_delta = %v", got)
	}
	if got := doc.Cost.ByTeam["data"]["unpriced"]; got != json.Number("1") {
		t.Errorf("by_team.data.unpriced = %v", got)
	}
	if doc.Resources[0].Cost["monthly_after"] != json.Number("70.080000001") || doc.Resources[2].Cost["priced"] != false {
		t.Errorf("resource costs %+v", doc.Resources)
	}
	if len(doc.Cost.Unpriced) != 1 || doc.Cost.Currency != "USD" {
		t.Errorf("cost %+v", doc.Cost)
	}
}

// TestBudgetDenied is the budget test: a team whose month-to-date
// spend plus the plan's delta is over its budget is denied, and the
// message names the team, the budget, the spend and the delta.
func TestBudgetDenied(t *testing.T) {
	p, err := ParsePlan([]byte(costPlan), "cost.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Options{
		Config: map[string]any{
			"budgets": map[string]any{"teams": map[string]any{"payments": 5000, "data": 900}},
			"cost":    map[string]any{"unpriced": true, "expensive_resource": 70.08, "max_monthly_increase": map[string]any{"prod": 100}},
		},
		Spend: map[string]any{"teams": map[string]any{"payments": map[string]any{"month_to_date": json.Number("4900.5")}}},
	})
	d, err := e.Evaluate(context.Background(), BuildInput(p, InputOptions{Estimate: costEstimate()}))
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string][]costgate.Finding{}
	for _, f := range d.Findings {
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	budget := byRule["cost.budget"]
	if len(budget) != 1 || budget[0].Severity != costgate.SeverityDeny {
		t.Fatalf("cost.budget findings %+v", budget)
	}
	for _, want := range []string{`team "payments"`, "5000.00 USD monthly budget", "spent 4900.50", "adds 140.16"} {
		if !strings.Contains(budget[0].Message, want) {
			t.Errorf("budget message %q lacks %q", budget[0].Message, want)
		}
	}
	if n := len(byRule["cost.expensive_resource"]); n != 1 {
		t.Errorf("expensive_resource findings: %d, want 1 (70.080000001 >= 70.08, 70.079999999 < 70.08)", n)
	}
	if n := len(byRule["cost.max_monthly_increase"]); n != 1 {
		t.Errorf("max_monthly_increase findings: %+v", byRule["cost.max_monthly_increase"])
	}
	if u := byRule["cost.unpriced"]; len(u) != 1 || u[0].Address != "aws_lambda_function.f" || u[0].Severity != costgate.SeverityWarn {
		t.Errorf("unpriced findings %+v", u)
	}
	if d.Cost == nil || d.Cost.MonthlyDelta != costgate.MustMoney("140.16") || len(d.Cost.Unpriced) != 1 {
		t.Errorf("decision cost %+v", d.Cost)
	}
	if d.Decision != costgate.OutcomeDeny {
		t.Errorf("decision %s", d.Decision)
	}
}

func TestMarkdownCostDiff(t *testing.T) {
	est := costEstimate()
	d := &costgate.Decision{Version: 1, Decision: costgate.OutcomeAllow, Findings: []costgate.Finding{},
		Cost: &costgate.CostTotals{Currency: "USD", MonthlyAfter: est.MonthlyAfter, MonthlyDelta: est.MonthlyDelta, Unpriced: est.Unpriced}}
	f, err := NewFormatter("markdown", FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := f.Format(&b, &Report{Decision: d, Estimate: est}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"### Cost", "| Delta | +140.16 |", "Cost by resource (2 changes)", "| `aws_instance.a` | 0.00 | 70.08 | +70.08 |", "Prices: `test@1`", "`aws_lambda_function.f`"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "aws_instance.a") > strings.Index(out, "aws_instance.b") {
		t.Error("the larger change is not first")
	}
}

// TestCostInInputAnyOrder: the estimators list resources in input order
// and the input finds each one's estimate by position; an estimate in
// another order, or missing a resource, is found by address instead, with
// the same cost objects.
func TestCostInInputAnyOrder(t *testing.T) {
	p, err := ParsePlan([]byte(costPlan), "cost.json")
	if err != nil {
		t.Fatal(err)
	}
	costs := func(est *costgate.PlanEstimate) []string {
		t.Helper()
		b, err := BuildInput(p, InputOptions{Estimate: est}).JSON()
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Resources []struct{ Cost json.RawMessage }
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(doc.Resources))
		for i, r := range doc.Resources {
			out[i] = string(r.Cost)
		}
		return out
	}
	inOrder := costs(costEstimate())
	reversed := costEstimate()
	slices.Reverse(reversed.Resources)
	if got := costs(reversed); !slices.Equal(got, inOrder) {
		t.Errorf("reversed estimate:\n%v\nwant\n%v", got, inOrder)
	}
	partial := costEstimate()
	partial.Resources = partial.Resources[1:]
	got := costs(partial)
	if !slices.Equal(got[1:], inOrder[1:]) || !strings.Contains(got[0], `"not estimated"`) {
		t.Errorf("estimate without aws_instance.a: %v", got)
	}
	// Equal estimates share one term; the two instances differ by a
	// nano-dollar and must not.
	if inOrder[0] == inOrder[1] {
		t.Errorf("distinct estimates rendered the same: %s", inOrder[0])
	}
}

// TestFreeCostTerm: the one cost object shared by the resources of free
// types is the object built for any of them, and only a free estimate
// takes it.
func TestFreeCostTerm(t *testing.T) {
	p, err := ParsePlan([]byte(costPlan), "cost.json")
	if err != nil {
		t.Fatal(err)
	}
	est := costEstimate()
	est.Resources[0] = costgate.ResourceEstimate{Address: "aws_instance.a", Type: "aws_instance", Priced: true, Free: true,
		MonthlyBefore: money("0"), MonthlyAfter: money("0"), MonthlyDelta: money("0"),
		ListMonthlyBefore: money("0"), ListMonthlyAfter: money("0"), ListMonthlyDelta: money("0"), Components: []costgate.CostComponent{}}
	in := BuildInput(p, InputOptions{Estimate: est})
	c, tc := in.costs, newTermCache()
	if !isFree(&est.Resources[0]) {
		t.Fatal("a free estimate is not isFree")
	}
	if got, want := c.resourceCost(0, "aws_instance.a", tc), c.build(&est.Resources[0], tc); !got.Equal(want) {
		t.Errorf("free cost term\n%v\nwant\n%v", got, want)
	}
	for i := 1; i < 3; i++ {
		if isFree(&est.Resources[i]) {
			t.Errorf("%s taken for free", est.Resources[i].Address)
		}
	}
	usage := est.Resources[0]
	usage.UsageBased = true
	if isFree(&usage) {
		t.Error("a usage-based estimate taken for free")
	}
}

// TestSharedCostTerms: inputs share cost objects through sharedCosts only
// when everything the object holds is equal, the currency included, and
// the cache stays within its bound.
func TestSharedCostTerms(t *testing.T) {
	p, err := ParsePlan([]byte(costPlan), "cost.json")
	if err != nil {
		t.Fatal(err)
	}
	costOf := func(est *costgate.PlanEstimate) *ast.Term {
		t.Helper()
		in := BuildInput(p, InputOptions{Estimate: est})
		return in.costs.resourceCost(0, "aws_instance.a", newTermCache())
	}
	usd := costOf(costEstimate())
	if again := costOf(costEstimate()); again != usd {
		t.Error("an equal estimate in a second input built a new cost object")
	}
	eur := costEstimate()
	eur.Currency = "EUR"
	got := costOf(eur)
	if cur := got.Get(ast.StringTerm("currency")); cur == nil || !cur.Equal(ast.StringTerm("EUR")) {
		t.Errorf("EUR estimate got the cost object %v", got)
	}
	other := costEstimate()
	other.Resources[0].MonthlyAfter = money("70.080000002")
	if got := costOf(other); got == usd || got.Get(ast.StringTerm("monthly_after")).Equal(usd.Get(ast.StringTerm("monthly_after"))) {
		t.Errorf("a different amount shared the cost object %v", got)
	}

	b := &boundedTerms{max: 3}
	for i := range 10 {
		b.put([]byte{byte(i)}, ast.IntNumberTerm(i))
		if n := b.len(); n > 3 {
			t.Fatalf("%d terms held, bound 3", n)
		}
		if v, ok := b.get([]byte{byte(i)}); !ok || !v.Equal(ast.IntNumberTerm(i)) {
			t.Fatalf("term %d not found after put", i)
		}
	}
}
