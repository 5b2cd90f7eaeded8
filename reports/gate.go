package reports

import (
	"context"
	"fmt"
	"slices"
	"sort"
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
	// Scope names the Terraform configuration the decision judged (its
	// workspace, repository, ...), so that one address in two
	// configurations stays two resources.
	Scope string
	// Estimates are the per-resource monthly estimates of a priced plan,
	// with what identifies each resource; they feed estimate-versus-actual
	// accuracy. Empty when the source does not keep them.
	Estimates []costgate.EstimatedResource
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
	latest := map[estimateKey]seenEstimate{}
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
		if d.Outcome == costgate.OutcomeDeny {
			continue // a denied change was not applied: its estimates say nothing of the bill
		}
		for _, e := range d.Estimates {
			k := estimateKey{d.Scope, e.Address}
			if cur, ok := latest[k]; !ok || d.Time.After(cur.at) {
				latest[k] = seenEstimate{e: e, scope: d.Scope, at: d.Time}
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
		seen := make([]seenEstimate, 0, len(latest))
		for _, e := range latest {
			seen = append(seen, e)
		}
		sort.Slice(seen, func(i, j int) bool {
			if seen[i].e.Address != seen[j].e.Address {
				return seen[i].e.Address < seen[j].e.Address
			}
			return seen[i].scope < seen[j].scope
		})
		acc, err := b.accuracy(ctx, seen)
		if err != nil {
			return nil, err
		}
		g.Accuracy = acc
	}
	return g, nil
}
