package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

func TestGateActivity(t *testing.T) {
	st := smallStore(t)
	// Name a resource that the store bills, for estimate versus actual.
	res, err := st.Query(context.Background(), store.Query{Filters: []store.Filter{store.Eq("month", "2026-10")},
		GroupBy: []string{"ResourceId"}, OrderBy: []store.Order{{By: "EffectiveCost", Desc: true}}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, actual := res.Rows[0].Keys[0], res.Rows[0].Values[0]
	decs := append(fakeDecisions{}, testDecisions...)
	decs = append(decs, reports.GateDecision{Time: at(9), Team: "data", Outcome: costgate.OutcomeAllow,
		Estimates: []costgate.EstimatedResource{{Address: "aws_instance.big", Type: "aws_instance", Action: costgate.ActionNoOp,
			IDs: []string{id}, Monthly: costgate.MustMoney("100")}}})
	opts := goldenOptions()
	opts.Decisions = decs
	r, err := reports.Build(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	g := r.Gate
	if g == nil {
		t.Fatal("no gate section")
	}
	if g.Decisions != 6 || g.ByOutcome["deny"] != 2 || g.ByOutcome["allow"] != 3 || g.ByOutcome["warn"] != 1 {
		t.Errorf("outcomes %d %v", g.Decisions, g.ByOutcome)
	}
	if g.Blocked.String() != "1200.5" || g.Waived.String() != "300.25" || g.Currency != "USD" {
		t.Errorf("blocked %s, waived %s %s; want 1200.5 and 300.25 USD", g.Blocked, g.Waived, g.Currency)
	}
	if len(g.Rules) == 0 || g.Rules[0].RuleID != "tags.required" || g.Rules[0].Count != 2 || g.Rules[0].Waived != 1 {
		t.Errorf("rules %+v", g.Rules)
	}
	// Expiring within 30 days of 2 November: the waiver used in a decision
	// (20 Nov) and the configured GPU one (30 Nov); not 2027, not past.
	if len(g.Expiring) != 2 || g.Expiring[0].Address != "module.legacy.*" || g.Expiring[1].Address != "aws_instance.gpu" {
		t.Errorf("expiring %+v", g.Expiring)
	}
	a := g.Accuracy
	if a == nil {
		t.Fatal("no accuracy")
	}
	var found bool
	for _, w := range a.Worst {
		if w.ResourceID == id {
			found = true
			if w.Actual.Cmp(actual) != 0 || w.Estimated != costgate.MustMoney("100") {
				t.Errorf("accuracy of %s: %+v, actual %s", id, w, actual)
			}
		}
	}
	if !found {
		t.Errorf("accuracy lacks %s: %+v", id, a)
	}

	opts.Team = "search"
	r, err = reports.Build(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Gate.Decisions != 3 {
		t.Errorf("team search: %d decisions, want 3", r.Gate.Decisions)
	}
	opts.Decisions = nil
	if r, _ = reports.Build(context.Background(), st, opts); r.Gate != nil {
		t.Errorf("gate section without a decision source")
	}
}

func TestBuildErrors(t *testing.T) {
	st := smallStore(t)
	if _, err := reports.Build(context.Background(), st, reports.Options{}); err == nil {
		t.Error("no month: no error")
	}
	_, err := reports.Build(context.Background(), st, reports.Options{Month: costgate.Month{Year: 2027, Month: time.January},
		Now: fixedClock(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))})
	if err == nil {
		t.Error("future month: no error")
	}
	// A month without data builds, with nothing in it.
	r, err := reports.Build(context.Background(), st, reports.Options{Month: costgate.Month{Year: 2020, Month: time.January},
		Now: fixedClock(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))})
	if err != nil || !r.Total.IsZero() || r.Previous.Available || len(r.TopResources) != 0 {
		t.Fatalf("empty month: %v %+v", err, r)
	}
	if _, err := reports.Render(r); err != nil {
		t.Errorf("render an empty month: %v", err)
	}
}
