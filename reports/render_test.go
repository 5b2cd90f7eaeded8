package reports_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/reports"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/reports")

const goldenDir = "../testdata/reports/golden"

// fakeDecisions is a fixed DecisionSource.
type fakeDecisions []reports.GateDecision

func (f fakeDecisions) Decisions(_ context.Context, from, to time.Time, team string) ([]reports.GateDecision, error) {
	var out []reports.GateDecision
	for _, d := range f {
		if !d.Time.Before(from) && d.Time.Before(to) && (team == "" || d.Team == team) {
			out = append(out, d)
		}
	}
	return out, nil
}

func date(s string) costgate.Date {
	d, err := costgate.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var (
	waiverLegacy = costgate.Waiver{RuleID: "tags.required", Address: "module.legacy.*", Reason: "migration", Owner: "platform@example.com", Ticket: "FIN-1", Expires: date("2026-11-20")}
	waiverGPU    = costgate.Waiver{RuleID: "compute.allowed_types", Address: "aws_instance.gpu", Reason: "training", Owner: "ml@example.com", Expires: date("2026-11-30")}
	waiverLater  = costgate.Waiver{RuleID: "tags.required", Address: "module.old.*", Reason: "later", Owner: "x@example.com", Expires: date("2027-03-01")}
	waiverPast   = costgate.Waiver{RuleID: "tags.required", Address: "module.gone.*", Reason: "over", Owner: "y@example.com", Expires: date("2026-10-01")}
)

func at(day int) time.Time { return time.Date(2026, 10, day, 12, 0, 0, 0, time.UTC) }

func cost(delta string) *costgate.CostTotals {
	return &costgate.CostTotals{Currency: "USD", MonthlyDelta: costgate.MustMoney(delta), MonthlyAfter: costgate.MustMoney(delta)}
}

// testDecisions: 2 denied (one with a cost increase), 1 let through by a
// waiver, 2 allowed, one estimate naming a billed resource.
var testDecisions = fakeDecisions{
	{Time: at(3), Team: "search", Outcome: costgate.OutcomeDeny, Cost: cost("1200.50"), Findings: []costgate.Finding{
		{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "aws_s3_bucket.a"},
		{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "aws_s3_bucket.b"}},
		// Denied: not applied, so its estimate is not compared.
		Estimates: []costgate.EstimatedResource{{Address: "aws_db_instance.denied", Type: "aws_db_instance", Action: costgate.ActionUpdate,
			IDs: []string{"db-4301-se000019"}, Monthly: costgate.MustMoney("99999")}}},
	{Time: at(4), Team: "data", Outcome: costgate.OutcomeDeny, Cost: cost("-10"), Findings: []costgate.Finding{
		{RuleID: "compute.allowed_types", Severity: costgate.SeverityDeny, Address: "aws_instance.x"}}},
	{Time: at(5), Team: "search", Outcome: costgate.OutcomeAllow, Cost: cost("300.25"), Findings: []costgate.Finding{
		{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "module.legacy.aws_s3_bucket.c", Waived: true, Waiver: &waiverLegacy}},
		// Created: the Terraform state inventory gives the id of the one;
		// the other never shows up in billing.
		Estimates: []costgate.EstimatedResource{
			{Address: "module.search.aws_instance.api", Type: "aws_instance", Action: costgate.ActionCreate,
				Provider: "registry.terraform.io/hashicorp/aws", Monthly: costgate.MustMoney("160")},
			{Address: "module.search.aws_instance.canary", Type: "aws_instance", Action: costgate.ActionCreate,
				Provider: "registry.terraform.io/hashicorp/aws", Monthly: costgate.MustMoney("45.5")}}},
	{Time: at(6), Team: "checkout", Outcome: costgate.OutcomeWarn, Cost: cost("50"), Findings: []costgate.Finding{
		{RuleID: "cost.monthly_increase", Severity: costgate.SeverityWarn, Address: "aws_db_instance.d"}},
		Estimates: []costgate.EstimatedResource{{Address: "aws_db_instance.d", Type: "aws_db_instance", Action: costgate.ActionUpdate,
			IDs: []string{"db-4301-se000001"}, Monthly: costgate.MustMoney("1200")}}},
	{Time: at(7), Team: "search", Outcome: costgate.OutcomeAllow},
	{Time: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), Team: "search", Outcome: costgate.OutcomeDeny, Cost: cost("999")}, // other month
}

// fakeInventory is a fixed InventorySource.
type fakeInventory []costgate.Resource

func (f fakeInventory) Resources(context.Context) ([]costgate.Resource, error) { return f, nil }

// testInventory is what a Terraform state inventory knows of the created
// module.search.aws_instance.api: its ARN, which bills as i-4300-se000021.
var testInventory = fakeInventory{
	{Provider: "AWS", AccountID: "210987654300", Region: "us-east-1", Type: "aws_instance", Name: "module.search.aws_instance.api",
		ID: "arn:aws:ec2:us-east-1:210987654300:instance/i-4300-se000021", Source: "state"},
}

func goldenOptions() reports.Options {
	return reports.Options{
		Month: oct2026,
		Now:   fixedClock(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)),
		Budgets: map[string]costgate.Money{"search": costgate.MustMoney("6000"), "checkout": costgate.MustMoney("7000"),
			"payments": costgate.MustMoney("3000"), "nobody": costgate.MustMoney("100")},
		Waivers:   []costgate.Waiver{waiverGPU, waiverLater, waiverPast},
		Decisions: testDecisions,
		Inventory: testInventory,
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < min(len(gl), len(wl)); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./reports -update if the change is intended)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d (run go test ./reports -update if intended)", name, len(gl), len(wl))
	}
}

func TestGolden(t *testing.T) {
	tests := map[string]reports.Options{
		"company": goldenOptions(),
		"team-search": func() reports.Options {
			o := goldenOptions()
			o.Team = "search"
			return o
		}(),
		"company-open": func() reports.Options {
			o := goldenOptions()
			o.Now = fixedClock(openNow)
			return o
		}(),
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			st := smallStore(t)
			if name == "company-open" {
				st = openMonthStore(t)
			}
			opts.Logger = quiet
			r, err := reports.Build(context.Background(), st, opts)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := reports.Render(r)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".mail.html", rd.MailHTML)
			checkGolden(t, name+".txt", rd.Text)
			checkGolden(t, name+".csv", rd.CSV)
			if name == "company" {
				checkGolden(t, name+".html", rd.FileHTML)
			}
			checkEmailHTML(t, rd)
		})
	}
}

var (
	imgSrcRE  = regexp.MustCompile(`<img [^>]*src="([^"]*)"`)
	styleTag  = regexp.MustCompile(`(?i)<(script|link|style|iframe|object|form)\b`)
	remoteRef = regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)
)

// checkEmailHTML: no scripts, no style sheets, no remote resources; every
// image is a chart by cid: in mail and by file name on disk.
func checkEmailHTML(t *testing.T, rd *reports.Rendered) {
	t.Helper()
	for form, html := range map[string][]byte{"mail": rd.MailHTML, "file": rd.FileHTML} {
		if m := styleTag.Find(html); m != nil {
			t.Errorf("%s HTML has %s", form, m)
		}
		if m := remoteRef.Find(html); m != nil {
			t.Errorf("%s HTML refers to a remote resource: %s", form, m)
		}
		srcs := imgSrcRE.FindAllSubmatch(html, -1)
		if len(srcs) != len(rd.Charts) {
			t.Errorf("%s HTML has %d images, %d charts were drawn", form, len(srcs), len(rd.Charts))
		}
		for i, m := range srcs {
			want := rd.Charts[i].Name
			if form == "mail" {
				want = "cid:" + rd.Charts[i].CID
			}
			if string(m[1]) != want {
				t.Errorf("%s HTML image %d: src %q, want %q", form, i, m[1], want)
			}
		}
	}
}

func TestWriteDir(t *testing.T) {
	rd := testRendered(t)
	dir := filepath.Join(t.TempDir(), "out")
	if err := rd.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, ","), "budgets.png,report.csv,report.html,report.txt,services.png,trend.png"; got != want {
		t.Errorf("files %s, want %s", got, want)
	}
	html, _ := os.ReadFile(filepath.Join(dir, reports.FileHTML))
	for _, m := range imgSrcRE.FindAllSubmatch(html, -1) {
		if _, err := os.Stat(filepath.Join(dir, string(m[1]))); err != nil {
			t.Errorf("report.html refers to %s: %v", m[1], err)
		}
	}
}
