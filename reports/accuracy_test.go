package reports_test

import (
	"context"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/reportdemo"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

// accuracyCase is one estimate of TestAccuracyMatching and what should
// become of it.
type accuracyCase struct {
	address string
	match   string // "" for not found
	billed  string // the billed ResourceId when found
}

// TestAccuracyMatching matches estimates with the small store's October
// bill by id, by ARN, through an inventory by address and by tags, and
// leaves out what cannot be told apart; then it checks every figure
// against values recomputed here from the store and the decisions.
func TestAccuracyMatching(t *testing.T) {
	st := smallStore(t)
	aws := "registry.terraform.io/hashicorp/aws"
	est := func(addr, typ, action, monthly string, ids []string, tags map[string]string) costgate.EstimatedResource {
		return costgate.EstimatedResource{Address: addr, Type: typ, Action: action, Provider: aws, Region: "us-east-1",
			Account: "210987654300", Monthly: costgate.MustMoney(monthly), IDs: ids, Tags: tags}
	}
	decs := fakeDecisions{
		{Time: at(2), Team: "data", Outcome: costgate.OutcomeAllow, Scope: "acme/infra", Estimates: []costgate.EstimatedResource{
			est("aws_db_instance.main", "aws_db_instance", costgate.ActionUpdate, "1300", []string{"db-4301-se000001"}, nil),
			est("aws_instance.web", "aws_instance", costgate.ActionNoOp, "30", []string{"i-4301-pa00001c"}, nil),
			est("module.search.aws_instance.api", "aws_instance", costgate.ActionCreate, "150", nil, map[string]string{"team": "search"}),
			est("aws_instance.tagged", "aws_instance", costgate.ActionCreate, "40", nil, map[string]string{"Name": "tagged-1", "team": "data"}),
			est("aws_instance.ambiguous", "aws_instance", costgate.ActionCreate, "20", nil, map[string]string{"team": "data"}),
			est("aws_instance.canary", "aws_instance", costgate.ActionCreate, "25.125", nil, nil),
			est("aws_ebs_volume.typed", "aws_ebs_volume", costgate.ActionCreate, "8", nil, nil),
		}},
		// Denied: its estimate of the database is not the one compared.
		{Time: at(3), Team: "data", Outcome: costgate.OutcomeDeny, Scope: "acme/infra", Estimates: []costgate.EstimatedResource{
			est("aws_db_instance.main", "aws_db_instance", costgate.ActionUpdate, "99999", []string{"db-4301-se000001"}, nil)}},
		// Later: this estimate of aws_instance.web replaces the first; its
		// ARN bills as the instance id inside it.
		{Time: at(4), Team: "data", Outcome: costgate.OutcomeWarn, Scope: "acme/infra", Estimates: []costgate.EstimatedResource{
			est("aws_instance.web", "aws_instance", costgate.ActionUpdate, "33", []string{"arn:aws:ec2:us-east-1:210987654301:instance/i-4301-pa00001c"}, nil)}},
		// Another configuration names the same billed instance, earlier:
		// the resource counts once, with the later estimate.
		{Time: at(1), Team: "data", Outcome: costgate.OutcomeAllow, Scope: "other/repo", Estimates: []costgate.EstimatedResource{
			est("aws_instance.web2", "aws_instance", costgate.ActionNoOp, "35", []string{"i-4301-pa00001c"}, nil)}},
		// Another month.
		{Time: at(1).AddDate(0, -1, 0), Team: "data", Outcome: costgate.OutcomeAllow, Estimates: []costgate.EstimatedResource{
			est("aws_instance.september", "aws_instance", costgate.ActionCreate, "1", nil, nil)}},
	}
	sep20 := time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	nov1 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	inv := fakeInventory{
		// A Terraform state's view of module.search.aws_instance.api: the
		// instance it replaced (last seen in September) and the new one.
		{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "aws_instance", Name: "module.search.aws_instance.api",
			ID: "arn:aws:ec2:us-east-1:210987654300:instance/i-4300-se00000c", Source: "state", FirstSeen: sep20.AddDate(0, -2, 0), LastSeen: sep20},
		{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "aws_instance", Name: "module.search.aws_instance.api",
			ID: "arn:aws:ec2:us-east-1:210987654300:instance/i-4300-se000021", Source: "state", FirstSeen: at(2), LastSeen: nov1},
		// The tagging API: one resource carries Name=tagged-1, two carry
		// team=data alone.
		{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "ec2:instance", Name: "tagged-1",
			ID: "arn:aws:ec2:us-east-1:210987654300:instance/i-4300-da000051", Source: "tags", Tags: map[string]string{"Name": "tagged-1", "team": "data", "env": "prod"}, LastSeen: nov1},
		{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "ec2:instance",
			ID: "arn:aws:ec2:us-east-1:210987654300:instance/i-4301-da000022", Source: "tags", Tags: map[string]string{"team": "data"}, LastSeen: nov1},
		// The address of aws_ebs_volume.typed, but an instance in the state.
		{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "aws_instance", Name: "aws_ebs_volume.typed",
			ID: "i-4300-pa000033", Source: "state", LastSeen: nov1},
	}
	want := []accuracyCase{
		{"aws_db_instance.main", reports.MatchID, "db-4301-se000001"},
		{"aws_instance.web", reports.MatchID, "i-4301-pa00001c"},
		{"module.search.aws_instance.api", reports.MatchAddress, "i-4300-se000021"},
		{"aws_instance.tagged", reports.MatchTags, "i-4300-da000051"},
		{"aws_instance.ambiguous", "", ""},
		{"aws_instance.canary", "", ""},
		{"aws_ebs_volume.typed", "", ""},
	}

	opts := goldenOptions()
	opts.Decisions, opts.Inventory, opts.Logger = decs, inv, quiet
	r, err := reports.Build(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Gate.Accuracy
	if a == nil {
		t.Fatal("no accuracy")
	}
	checkAccuracy(t, st, decs, a, want)

	// Without an inventory only the ids the plans knew match.
	opts.Inventory = nil
	r, err = reports.Build(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkAccuracy(t, st, decs, r.Gate.Accuracy, []accuracyCase{
		{"aws_db_instance.main", reports.MatchID, "db-4301-se000001"},
		{"aws_instance.web", reports.MatchID, "i-4301-pa00001c"},
		{"module.search.aws_instance.api", "", ""},
		{"aws_instance.tagged", "", ""},
		{"aws_instance.ambiguous", "", ""},
		{"aws_instance.canary", "", ""},
		{"aws_ebs_volume.typed", "", ""},
	})

	// Only denied decisions: no estimate to compare.
	opts.Decisions = fakeDecisions{decs[1]}
	if r, err = reports.Build(context.Background(), st, opts); err != nil || r.Gate.Accuracy != nil {
		t.Fatalf("denied only: accuracy %+v, err %v", r.Gate.Accuracy, err)
	}
}

// checkAccuracy recomputes a from the store and the decisions: the latest
// allowed estimate per address (the later of two naming one billed
// resource), its share of October from the decision on for a create,
// the resource's October bill queried from the store by id.
func checkAccuracy(t *testing.T, st *store.Store, decs fakeDecisions, a *reports.Accuracy, want []accuracyCase) {
	t.Helper()
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	nov := oct.AddDate(0, 1, 0)
	latest := map[string]reports.GateDecision{}
	estimate := map[string]costgate.EstimatedResource{}
	for _, d := range decs {
		if d.Outcome == costgate.OutcomeDeny || d.Time.Before(oct) || !d.Time.Before(nov) {
			continue
		}
		for _, e := range d.Estimates {
			if l, ok := latest[e.Address]; !ok || d.Time.After(l.Time) {
				latest[e.Address], estimate[e.Address] = d, e
			}
		}
	}
	share := func(addr string) costgate.Money {
		e, d := estimate[addr], latest[addr]
		from := oct
		if e.Action == costgate.ActionCreate {
			from = d.Time
		}
		x := new(big.Rat).SetFrac64(int64(e.Monthly)*int64(nov.Sub(from)/time.Second), int64(nov.Sub(oct)/time.Second))
		f, _ := x.Float64()
		return costgate.Money(math.Round(f)) // exact enough: the amounts here are far below 2^53 nano-units
	}
	actual := func(id string) costgate.Sum {
		res, err := st.Query(context.Background(), store.Query{Filters: []store.Filter{store.Eq("month", "2026-10"), store.Eq("ResourceId", id)}})
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("query %s: %v %+v", id, err, res)
		}
		return res.Rows[0].Values[0]
	}

	var wantEst, wantAct costgate.Sum
	var found, notFound int
	var mape float64
	byMatch := map[string]int{}
	entries := map[string]reports.AccuracyEntry{}
	for _, e := range append(append([]reports.AccuracyEntry{}, a.Worst...), a.Missing...) {
		entries[e.Address] = e
	}
	for _, w := range want {
		e, listed := entries[w.address]
		if w.match == "" {
			notFound++
			if !listed || e.ResourceID != "" {
				t.Errorf("%s: want it among the missing, got %+v (listed %v)", w.address, e, listed)
			}
			continue
		}
		found++
		byMatch[w.match]++
		est, act := share(w.address), actual(w.billed)
		wantEst.Add(est)
		wantAct.AddSum(act)
		errPct := (est.Float64() - act.Float64()) / act.Float64() * 100
		mape += math.Abs(errPct)
		if !listed || e.ResourceID != w.billed || e.Match != w.match || e.Estimated != est || e.Actual.Cmp(act) != 0 ||
			e.Monthly != estimate[w.address].Monthly || math.Abs(e.ErrorPct-errPct) > 1e-9 {
			t.Errorf("%s: got %+v (listed %v); want %s by %s, estimated %s, actual %s, error %.4f%%",
				w.address, e, listed, w.billed, w.match, est, act, errPct)
		}
	}
	if a.Seen != len(want) || a.Resources != found || a.NotFound != notFound {
		t.Errorf("seen %d, found %d, not found %d; want %d, %d, %d", a.Seen, a.Resources, a.NotFound, len(want), found, notFound)
	}
	if a.Estimated.Cmp(wantEst) != 0 || a.Actual.Cmp(wantAct) != 0 {
		t.Errorf("estimated %s, actual %s; want %s, %s", a.Estimated, a.Actual, wantEst, wantAct)
	}
	d := wantEst
	d.AddSum(wantAct.Neg())
	if errPct := d.Float64() / wantAct.Float64() * 100; math.Abs(a.ErrorPct-errPct) > 1e-9 {
		t.Errorf("error %.6f%%, want %.6f%%", a.ErrorPct, errPct)
	}
	if m := mape / float64(found); math.Abs(a.MAPE-m) > 1e-9 {
		t.Errorf("MAPE %.6f%%, want %.6f%%", a.MAPE, m)
	}
	for m, n := range byMatch {
		if a.ByMatch[m] != n {
			t.Errorf("by match %v, want %v", a.ByMatch, byMatch)
		}
	}
	for i := 1; i < len(a.Worst); i++ {
		if math.Abs(a.Worst[i].ErrorPct) > math.Abs(a.Worst[i-1].ErrorPct) {
			t.Errorf("worst not in order of absolute error: %+v", a.Worst)
		}
	}
}

// TestAccuracyOpenMonth prorates estimates to the days with data.
func TestAccuracyOpenMonth(t *testing.T) {
	st := openMonthStore(t) // data through 14 October
	opts := goldenOptions()
	opts.Now, opts.Logger = fixedClock(openNow), quiet
	opts.Decisions = fakeDecisions{{Time: at(4), Outcome: costgate.OutcomeAllow, Estimates: []costgate.EstimatedResource{
		{Address: "a.update", Type: "aws_db_instance", Action: costgate.ActionUpdate, Monthly: costgate.MustMoney("3100"), IDs: []string{"db-4301-se000001"}},
		{Address: "a.create", Type: "aws_instance", Action: costgate.ActionCreate, Monthly: costgate.MustMoney("310"), IDs: []string{"i-4300-se000021"}},
		{Address: "a.replace", Type: "aws_instance", Action: costgate.ActionReplace, Monthly: costgate.MustMoney("310"), IDs: []string{"i-4300-da000051"}},
	}}, {Time: time.Date(2026, 10, 15, 8, 0, 0, 0, time.UTC), Outcome: costgate.OutcomeAllow, Estimates: []costgate.EstimatedResource{
		{Address: "a.today", Type: "aws_instance", Action: costgate.ActionCreate, Monthly: costgate.MustMoney("310")},
	}}}
	r, err := reports.Build(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]costgate.Money{}
	for _, e := range append(r.Gate.Accuracy.Worst, r.Gate.Accuracy.Missing...) {
		got[e.Address] = e.Estimated
	}
	// 14 of 31 days for an update; from 4 October 12:00 to the end of the
	// 14th (10.5 days) for a create or a replacement; nothing yet for
	// today's create.
	want := map[string]costgate.Money{"a.update": costgate.MustMoney("1400"), "a.create": costgate.MustMoney("105"),
		"a.replace": costgate.MustMoney("105"), "a.today": 0}
	for addr, w := range want {
		if got[addr] != w {
			t.Errorf("%s: estimated %s, want %s", addr, got[addr], w)
		}
	}
}

// TestDemoPlanDecisions: the demo's priced plans (make demo) match its
// billing by id, inventory address and inventory tags, every team's
// canary is not found, and the same Params give the same plans.
func TestDemoPlanDecisions(t *testing.T) {
	p := reportdemo.Small()
	plans, inventories := p.PlanDecisions(oct2026)
	again, _ := p.PlanDecisions(oct2026)
	if len(plans) == 0 || !reflect.DeepEqual(plans, again) {
		t.Fatalf("%d plan decisions, deterministic %v", len(plans), reflect.DeepEqual(plans, again))
	}
	var decs fakeDecisions
	for _, d := range plans {
		decs = append(decs, reports.GateDecision{Time: d.Time, Team: d.Team, Outcome: d.Decision.Decision, Cost: d.Decision.Cost,
			Scope: d.Context["workspace"], Estimates: d.Resources})
	}
	var inv fakeInventory
	for _, i := range inventories {
		inv = append(inv, i.Resources...)
	}
	opts := goldenOptions()
	opts.Decisions, opts.Inventory, opts.Logger = decs, inv, quiet
	r, err := reports.Build(context.Background(), smallStore(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Gate.Accuracy
	if a == nil || a.NotFound != len(plans) || a.Resources != a.Seen-len(plans) ||
		a.ByMatch[reports.MatchID] == 0 || a.ByMatch[reports.MatchAddress] == 0 || a.ByMatch[reports.MatchTags] == 0 {
		t.Fatalf("demo accuracy: %+v", a)
	}
	if math.Abs(a.ErrorPct) > 25 || a.MAPE > 25 {
		t.Errorf("demo estimates are off by %.1f%% (MAPE %.1f%%): they should stay within -20%%..+25%% of the bill", a.ErrorPct, a.MAPE)
	}
	if _, none := p.PlanDecisions(costgate.Month{Year: 2020, Month: time.January}); none != nil {
		t.Errorf("a month outside the data has inventories")
	}
}
