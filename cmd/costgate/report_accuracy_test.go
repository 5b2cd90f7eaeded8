package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/store"
)

// TestCheckLogsEstimates runs `check --log` on a plan of creates, updates
// and no-ops and finds in the decision log one estimate per priced,
// cost-bearing resource that exists after the change, each equal to what
// `costgate estimate` says, with the ids the plan knew.
func TestCheckLogsEstimates(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "d.db")
	cfg := writeFile(t, dir, "costgate.yaml", "decision_log: {dsn: "+dsn+"}\n")
	plan := filepath.Join("..", "..", "testdata", "plans", "aws_tf014_modules_rds_ec2_mixed_actions.json")
	if code, out, errOut := runCLI(t, "", "check", "--config", cfg, "--log", plan); code > 1 {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "", "estimate", "--config", cfg, "--format", "json", plan)
	if code != 0 {
		t.Fatalf("estimate: exit %d\n%s", code, errOut)
	}
	var pe costgate.PlanEstimate
	if err := json.Unmarshal([]byte(out), &pe); err != nil {
		t.Fatal(err)
	}
	want := map[string]costgate.ResourceEstimate{}
	for _, r := range pe.Resources {
		if r.Priced && !r.Free && r.Action != costgate.ActionDelete && r.Action != costgate.ActionRead {
			want[r.Address] = r
		}
	}

	l, err := decisionlog.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	recs, err := l.Query(context.Background(), decisionlog.Filter{Resources: true})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	got := map[string]costgate.EstimatedResource{}
	for _, e := range recs[0].Resources {
		got[e.Address] = e
		w, ok := want[e.Address]
		if !ok {
			t.Errorf("%s logged, but it is not a priced resource that exists after the change", e.Address)
			continue
		}
		if e.Monthly != *w.MonthlyAfter || e.Action != w.Action || e.Type != w.Type || e.Provider != "registry.terraform.io/hashicorp/aws" || e.Region != "us-east-1" {
			t.Errorf("%s: logged %+v, estimate says %s %s", e.Address, e, w.Action, *w.MonthlyAfter)
		}
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Errorf("%d estimates logged, want %d", len(got), len(want))
	}
	ids := map[string][]string{
		"aws_instance.instance_1": {"arn:aws:ec2:us-east-1:123123123123:instance/i-0ec3a64e9a6965cfc", "i-0ec3a64e9a6965cfc"},
		"module.db.module.db_1.module.db_instance.aws_db_instance.this[0]": {"arn:aws:rds:us-east-1:123123123123:db:demodb", "demodb"},
		"aws_instance.instance_2": nil, // a create: no id until apply
	}
	for addr, w := range ids {
		if e, ok := got[addr]; !ok || !slices.Equal(e.IDs, w) {
			t.Errorf("%s: ids %q, want %q", addr, e.IDs, w)
		}
	}
	if e := got[`aws_instance.instance_named["test.2"]`]; e.Tags["Name"] != "test.2" {
		t.Errorf("tags of a created instance: %v", e.Tags)
	}
}

// TestReportAccuracyEndToEnd writes per-resource estimates to a decision
// log and an inventory to the store, runs `costgate report`, and checks
// report.csv's estimate-versus-actual figures against values recomputed
// here from the store and the log.
func TestReportAccuracyEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	stDir := reportStore(t)
	st, err := store.Open(stDir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	top, err := st.Query(ctx, store.Query{Filters: []store.Filter{store.Eq("month", "2026-10")}, GroupBy: []string{"ResourceId"},
		OrderBy: []store.Order{{By: "EffectiveCost", Desc: true}}, Limit: 3})
	if err != nil || len(top.Rows) != 3 {
		t.Fatalf("top resources: %v %+v", err, top)
	}
	billed := []string{top.Rows[0].Keys[0], top.Rows[1].Keys[0], top.Rows[2].Keys[0]}
	seen := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	inv := []costgate.Resource{{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "aws_instance",
		Name: "module.app.aws_instance.new", ID: "arn:aws:ec2:us-east-1:210987654300:instance/" + billed[2], FirstSeen: seen, LastSeen: seen}}
	if _, err := st.ReplaceInventory(ctx, "state", inv, "state-1", "hash-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	dsn := filepath.Join(dir, "decisions.db")
	l, err := decisionlog.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	aws := "registry.terraform.io/hashicorp/aws"
	rec := func(day int, outcome costgate.Outcome, c map[string]string, rs ...costgate.EstimatedResource) {
		r := decisionlog.NewRecord(time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC), decisionlog.SurfaceCLI, c, &costgate.Decision{Decision: outcome})
		r.Resources = rs
		if _, err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	infra := map[string]string{"team": "search", "repository": "acme/infra"}
	rec(3, costgate.OutcomeAllow, infra,
		costgate.EstimatedResource{Address: "aws_db_instance.a", Type: "aws_db_instance", Action: costgate.ActionUpdate, Provider: aws, Monthly: costgate.MustMoney("500"), IDs: []string{billed[0]}},
		costgate.EstimatedResource{Address: "aws_instance.b", Type: "aws_instance", Action: costgate.ActionNoOp, Provider: aws, Monthly: costgate.MustMoney("80.123456789"),
			IDs: []string{"arn:aws:ec2:us-east-1:210987654300:instance/" + billed[1]}},
		costgate.EstimatedResource{Address: "module.app.aws_instance.new", Type: "aws_instance", Action: costgate.ActionCreate, Provider: aws, Monthly: costgate.MustMoney("120"),
			Region: "us-east-1", Tags: map[string]string{"team": "search"}},
		costgate.EstimatedResource{Address: "aws_instance.ghost", Type: "aws_instance", Action: costgate.ActionCreate, Provider: aws, Monthly: costgate.MustMoney("10")},
	)
	rec(4, costgate.OutcomeDeny, infra, costgate.EstimatedResource{Address: "aws_db_instance.a", Type: "aws_db_instance", Action: costgate.ActionUpdate,
		Monthly: costgate.MustMoney("9999"), IDs: []string{billed[0]}})
	rec(6, costgate.OutcomeAllow, map[string]string{"team": "search", "workspace": "prod", "organization": "acme", "speculative": "true"},
		costgate.EstimatedResource{Address: "aws_db_instance.a", Type: "aws_db_instance", Action: costgate.ActionUpdate, Monthly: costgate.MustMoney("7777"), IDs: []string{billed[0]}})
	l.Close()

	cfg := writeFile(t, dir, "costgate.yaml", "decision_log: {dsn: "+dsn+"}\n")
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "", "report", "--config", cfg, "--store", stDir, "--month", "2026-10", "--now", "2026-11-02T08:00:00Z", "--out", out)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	rows := readReportCSV(t, filepath.Join(out, "report.csv"))

	// Recompute: the latest allowed, not speculative, estimate per
	// address from the log; its share of October (from the decision on
	// for a create); the billed cost of its resource from the store.
	l, err = decisionlog.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	recs, err := l.Query(ctx, decisionlog.Filter{Resources: true})
	if err != nil {
		t.Fatal(err)
	}
	type pick struct {
		e  costgate.EstimatedResource
		at time.Time
	}
	latest := map[string]pick{}
	for _, r := range recs {
		if r.Decision == costgate.OutcomeDeny || r.Context["speculative"] == "true" {
			continue
		}
		for _, e := range r.Resources {
			if p, ok := latest[e.Address]; !ok || r.Time.After(p.at) {
				latest[e.Address] = pick{e, r.Time}
			}
		}
	}
	st, err = store.Open(stDir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	oct, nov := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var estSum, actSum big.Rat
	found := map[string]string{"aws_db_instance.a": billed[0], "aws_instance.b": billed[1], "module.app.aws_instance.new": billed[2]}
	for addr, id := range found {
		p := latest[addr]
		from := oct
		if p.e.Action == costgate.ActionCreate {
			from = p.at
		}
		monthly, _ := new(big.Rat).SetString(p.e.Monthly.String())
		est := roundNanos(monthly.Mul(monthly, big.NewRat(int64(nov.Sub(from)/time.Second), int64(nov.Sub(oct)/time.Second))))
		res, err := st.Query(ctx, store.Query{Filters: []store.Filter{store.Eq("month", "2026-10"), store.Eq("ResourceId", id)}})
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("%s: %v %+v", id, err, res)
		}
		act, _ := new(big.Rat).SetString(res.Rows[0].Values[0].String())
		estSum.Add(&estSum, est)
		actSum.Add(&actSum, act)
		row := rows["estimate_resource/"+addr]
		if row == nil || row["forecast"] != est.FloatString(2) || row["current"] != act.FloatString(2) || !strings.HasPrefix(row["label"], id+" (by ") {
			t.Errorf("%s: csv %v; want %s billed %s, estimated %s", addr, row, act.FloatString(2), id, est.FloatString(2))
		}
	}
	total := rows["estimate_accuracy/total"]
	errPct := new(big.Rat).Quo(new(big.Rat).Sub(&estSum, &actSum), &actSum)
	errPct.Mul(errPct, big.NewRat(100, 1))
	if total == nil || total["forecast"] != estSum.FloatString(2) || total["current"] != actSum.FloatString(2) || total["count"] != "3" ||
		total["delta_pct"] != errPct.FloatString(2) {
		t.Errorf("total %v; want estimated %s, actual %s, 3 resources, error %s%%", total, estSum.FloatString(2), actSum.FloatString(2), errPct.FloatString(2))
	}
	if r := rows["estimate_accuracy/not_found"]; r == nil || r["count"] != "1" {
		t.Errorf("not found: %v", r)
	}
	if r := rows["estimate_not_found/aws_instance.ghost"]; r == nil {
		t.Errorf("aws_instance.ghost is not listed as not found")
	}
	if r := rows["estimate_accuracy/match:inventory address"]; r == nil || r["count"] != "1" {
		t.Errorf("by inventory address: %v", r)
	}
	txt, _ := os.ReadFile(filepath.Join(out, "report.txt"))
	if !strings.Contains(string(txt), "3 of 4 resources priced at plan time found in billing") {
		t.Errorf("report.txt:\n%s", txt)
	}
}

// roundNanos rounds x to nano-units, half away from zero.
func roundNanos(x *big.Rat) *big.Rat {
	n := new(big.Rat).Mul(x, big.NewRat(costgate.NanosPerUnit, 1))
	q, r := new(big.Int).QuoRem(n.Num(), n.Denom(), new(big.Int))
	if new(big.Int).Mul(r.Abs(r), big.NewInt(2)).Cmp(n.Denom()) >= 0 {
		q.Add(q, big.NewInt(int64(n.Sign())))
	}
	return new(big.Rat).SetFrac(q, big.NewInt(costgate.NanosPerUnit))
}

// readReportCSV reads report.csv into rows keyed by "section/key", each a
// map of column to value.
func readReportCSV(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("read %s: %v", path, err)
	}
	out := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		out[row["section"]+"/"+row["key"]] = row
	}
	return out
}
