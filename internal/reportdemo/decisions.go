package reportdemo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/costgate/costgate"
)

// DemoDecision is one generated gate decision with the context it was
// made in.
type DemoDecision struct {
	Time     time.Time
	Team     string
	Decision costgate.Decision
	// Context is input.context (nil: team and repository only).
	Context map[string]string
	// Resources are the per-resource estimates of a priced plan.
	Resources []costgate.EstimatedResource
}

// DemoWaivers are the waivers the demo decisions use; some expire within
// 30 days of 2 November 2026.
func DemoWaivers() []costgate.Waiver {
	d := func(s string) costgate.Date { v, _ := costgate.ParseDate(s); return v }
	return []costgate.Waiver{
		{RuleID: "tags.required", Address: "module.legacy.*", Reason: "legacy stack being migrated", Owner: "platform@example.com", Ticket: "FIN-123", Expires: d("2026-11-20")},
		{RuleID: "compute.allowed_types", Address: "aws_instance.gpu_*", Reason: "ML training quarter", Owner: "ml@example.com", Ticket: "FIN-140", Expires: d("2026-11-28")},
		{RuleID: "cost.monthly_increase", Address: "module.search.*", Reason: "index rebuild", Owner: "search@example.com", Expires: d("2027-01-31")},
	}
}

var demoRules = []struct {
	id       string
	severity costgate.Severity
	weight   int
}{
	{"tags.required", costgate.SeverityDeny, 10},
	{"tags.allowed_values", costgate.SeverityDeny, 5},
	{"compute.allowed_types", costgate.SeverityDeny, 4},
	{"cost.monthly_increase", costgate.SeverityWarn, 6},
	{"storage.gp3", costgate.SeverityWarn, 3},
}

// Decisions generates n gate decisions spread over month m, by the teams
// of p, deterministic for a seed.
func (p Params) Decisions(m costgate.Month, n int) []DemoDecision {
	r := rand.New(rand.NewPCG(p.Seed, 0xdec1))
	waivers := DemoWaivers()
	span := m.End().Sub(m.Start())
	out := make([]DemoDecision, 0, n)
	for i := 0; i < n; i++ {
		at := m.Start().Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
		team := teamName(r.IntN(max(p.Teams, 1)))
		var findings []costgate.Finding
		for k := 0; k < r.IntN(3); k++ {
			total := 0
			for _, x := range demoRules {
				total += x.weight
			}
			pick := r.IntN(total)
			for _, x := range demoRules {
				if pick < x.weight {
					addr := fmt.Sprintf("module.%s.aws_instance.app_%d", team, r.IntN(20))
					f := costgate.Finding{RuleID: x.id, Severity: x.severity, Address: addr,
						Message: fmt.Sprintf("%s: %s", addr, x.id)}
					for _, w := range waivers {
						if w.RuleID == x.id && r.IntN(4) == 0 {
							wc := w
							f.Waived, f.Waiver = true, &wc
							break
						}
					}
					findings = append(findings, f)
					break
				}
				pick -= x.weight
			}
		}
		delta := costgate.Money(int64(r.IntN(2_000_00)-30_00) * costgate.NanosPerUnit / 100)
		d := costgate.Decision{Version: costgate.DecisionVersion, Decision: costgate.Verdict(findings), Findings: findings,
			Cost:           &costgate.CostTotals{Currency: p.Currency, MonthlyBefore: 0, MonthlyAfter: max(delta, 0), MonthlyDelta: delta, Unpriced: []string{}},
			PolicyRevision: "sha256:demo", InputSHA256: fmt.Sprintf("%064x", i)}
		out = append(out, DemoDecision{Time: at, Team: team, Decision: d})
	}
	return out
}
