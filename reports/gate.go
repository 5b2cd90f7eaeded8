package reports

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// DecisionSource lists the gate's decisions for the gate activity section.
// cmd/costgate fills it from the decision log; reports never imports the
// log itself.
type DecisionSource interface {
	// Decisions returns the decisions made in [from, to), only those of
	// team when team is not empty, in any order.
	Decisions(ctx context.Context, from, to time.Time, team string) ([]GateDecision, error)
}

// GateDecision is what the report needs of one logged decision.
type GateDecision struct {
	Time     time.Time
	Team     string
	Outcome  costgate.Outcome
	Findings []costgate.Finding
	// Cost is the plan's estimated monthly totals, when it was priced.
	Cost *costgate.CostTotals
	// Estimates are per-resource monthly estimates that name the cloud
	// resource (its billing ResourceId); they feed estimate-versus-actual
	// accuracy. Empty when the source does not keep them.
	Estimates []ResourceEstimate
}

// ResourceEstimate is the gate's monthly estimate for one resource.
type ResourceEstimate struct {
	Address    string
	ResourceID string
	Monthly    costgate.Money
}

// GateActivity summarises the month's gate decisions.
type GateActivity struct {
	Decisions int `json:"decisions"`
	// ByOutcome counts decisions per outcome (allow, warn, deny).
	ByOutcome map[costgate.Outcome]int `json:"by_outcome"`
	// Rules are the most violated rules (unwaived findings), most first.
	Rules []RuleCount `json:"rules"`
	// Blocked is the estimated monthly cost increase of denied changes;
	// Waived that of changes let through because a waiver covered a
	// finding. Only positive deltas count.
	Blocked costgate.Sum `json:"blocked"`
	Waived  costgate.Sum `json:"waived"`
	// Currency of Blocked and Waived ("" when no decision was priced).
	Currency string `json:"currency"`
	// Expiring are the waivers that expire in the next 30 days.
	Expiring []costgate.Waiver `json:"expiring"`
	// Accuracy compares estimates with the month's actual spend, for the
	// resources the gate saw at plan time (nil when none is known).
	Accuracy *Accuracy `json:"accuracy,omitempty"`
}

// RuleCount is one rule's unwaived and waived findings.
type RuleCount struct {
	RuleID string `json:"rule_id"`
	Count  int    `json:"count"`
	Waived int    `json:"waived"`
}

// Accuracy is estimate versus actual over the resources that have both.
type Accuracy struct {
	Resources int          `json:"resources"`
	Estimated costgate.Sum `json:"estimated"`
	Actual    costgate.Sum `json:"actual"`
	// ErrorPct is (Estimated - Actual) / Actual in percent; MAPE the mean
	// absolute percentage error per resource (display only).
	ErrorPct float64         `json:"error_pct"`
	MAPE     float64         `json:"mape"`
	Worst    []AccuracyEntry `json:"worst"`
}

// AccuracyEntry is one resource's estimate and actual.
type AccuracyEntry struct {
	Address    string         `json:"address"`
	ResourceID string         `json:"resource_id"`
	Estimated  costgate.Money `json:"estimated"`
	Actual     costgate.Sum   `json:"actual"`
	ErrorPct   float64        `json:"error_pct"`
}

// expiryWindow is how far ahead expiring waivers are listed.
const expiryWindow = 30 * 24 * time.Hour

func (b *builder) gateActivity(ctx context.Context) (*GateActivity, error) {
	src := b.opts.Decisions
	if src == nil {
		return nil, nil
	}
	from, to := b.month.Start(), b.month.End()
	if b.now.Before(to) {
		to = b.now
	}
	decs, err := src.Decisions(ctx, from, to, b.opts.Team)
	if err != nil {
		return nil, fmt.Errorf("gate decisions: %w", err)
	}
	g := &GateActivity{Decisions: len(decs), ByOutcome: map[costgate.Outcome]int{}}
	rules := map[string]*RuleCount{}
	waivers := slices.Clone(b.opts.Waivers)
	latest := map[string]ResourceEstimate{}
	latestAt := map[string]time.Time{}
	for _, d := range decs {
		g.ByOutcome[d.Outcome]++
		usedWaiver := false
		for _, f := range d.Findings {
			rc := rules[f.RuleID]
			if rc == nil {
				rc = &RuleCount{RuleID: f.RuleID}
				rules[f.RuleID] = rc
			}
			if f.Waived {
				rc.Waived++
				usedWaiver = true
				if f.Waiver != nil && !slices.Contains(waivers, *f.Waiver) {
					waivers = append(waivers, *f.Waiver)
				}
			} else {
				rc.Count++
			}
		}
		if d.Cost != nil && d.Cost.MonthlyDelta > 0 {
			if g.Currency == "" {
				g.Currency = d.Cost.Currency
			}
			switch {
			case d.Outcome == costgate.OutcomeDeny:
				g.Blocked.Add(d.Cost.MonthlyDelta)
			case usedWaiver:
				g.Waived.Add(d.Cost.MonthlyDelta)
			}
		}
		for _, e := range d.Estimates {
			if e.ResourceID == "" {
				continue
			}
			if t, ok := latestAt[e.ResourceID]; !ok || d.Time.After(t) {
				latest[e.ResourceID], latestAt[e.ResourceID] = e, d.Time
			}
		}
	}
	for _, rc := range rules {
		g.Rules = append(g.Rules, *rc)
	}
	sort.Slice(g.Rules, func(i, j int) bool {
		a, c := g.Rules[i], g.Rules[j]
		if a.Count != c.Count {
			return a.Count > c.Count
		}
		if a.Waived != c.Waived {
			return a.Waived > c.Waived
		}
		return a.RuleID < c.RuleID
	})
	if len(g.Rules) > 10 {
		g.Rules = g.Rules[:10]
	}
	today := b.now.UTC().Truncate(24 * time.Hour)
	for _, w := range waivers {
		if !w.Expires.IsZero() && !w.Expires.Before(today) && w.Expires.Time.Before(today.Add(expiryWindow)) {
			g.Expiring = append(g.Expiring, w)
		}
	}
	sort.SliceStable(g.Expiring, func(i, j int) bool {
		if !g.Expiring[i].Expires.Equal(g.Expiring[j].Expires.Time) {
			return g.Expiring[i].Expires.Before(g.Expiring[j].Expires.Time)
		}
		return g.Expiring[i].RuleID+g.Expiring[i].Address < g.Expiring[j].RuleID+g.Expiring[j].Address
	})
	if len(latest) > 0 {
		acc, err := b.accuracy(ctx, latest)
		if err != nil {
			return nil, err
		}
		g.Accuracy = acc
	}
	return g, nil
}

// accuracy compares each estimate with the resource's actual spend in the
// report's month (month to date for an open month, so read it with care).
func (b *builder) accuracy(ctx context.Context, est map[string]ResourceEstimate) (*Accuracy, error) {
	ids := make([]string, 0, len(est))
	for id := range est {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	res, err := b.query(ctx, costgate.CostQuery{
		Filters: b.filters(eq("month", b.month.String()), in("ResourceId", ids...)),
		GroupBy: []string{"ResourceId"},
	})
	if err != nil {
		return nil, err
	}
	acc := &Accuracy{}
	var mape float64
	for _, row := range res.Rows {
		e := est[row.Keys[0]]
		actual := row.Values[0]
		acc.Resources++
		acc.Estimated.Add(e.Monthly)
		acc.Actual.AddSum(actual)
		errPct := 0.0
		if !actual.IsZero() {
			errPct = (e.Monthly.Float64() - actual.Float64()) / actual.Float64() * 100
		}
		mape += math.Abs(errPct)
		acc.Worst = append(acc.Worst, AccuracyEntry{Address: e.Address, ResourceID: e.ResourceID, Estimated: e.Monthly, Actual: actual, ErrorPct: errPct})
	}
	if acc.Resources == 0 {
		return nil, nil
	}
	acc.MAPE = mape / float64(acc.Resources)
	if !acc.Actual.IsZero() {
		d := acc.Estimated
		d.AddSum(acc.Actual.Neg())
		acc.ErrorPct = d.Float64() / acc.Actual.Float64() * 100
	}
	sort.Slice(acc.Worst, func(i, j int) bool {
		if math.Abs(acc.Worst[i].ErrorPct) != math.Abs(acc.Worst[j].ErrorPct) {
			return math.Abs(acc.Worst[i].ErrorPct) > math.Abs(acc.Worst[j].ErrorPct)
		}
		return strings.Compare(acc.Worst[i].ResourceID, acc.Worst[j].ResourceID) < 0
	})
	if len(acc.Worst) > 5 {
		acc.Worst = acc.Worst[:5]
	}
	return acc, nil
}
