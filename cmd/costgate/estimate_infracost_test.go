package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/estimators"
)

var updateComparison = flag.Bool("update-comparison", false, "rewrite testdata/infracost/COMPARISON.md")

// infracostToday is the day Infracost's test harness pins
// (cmd/infracost/cmd_test.go: aws.Today = 2025-06-01); RDS Extended
// Support depends on it.
var infracostToday = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// expectedRecord is one record of testdata/infracost/expected.json.
type expectedRecord struct {
	Case        string  `json:"case"`
	PlanFile    string  `json:"plan_file"`
	UsageFile   *string `json:"usage_file"`
	Address     string  `json:"address"`
	Type        string  `json:"resource_type"`
	Status      string  `json:"status"`
	MonthlyCost *string `json:"monthly_cost"`
	Source      string  `json:"monthly_cost_source"`
}

// deliberate lists where costgate differs from Infracost on purpose.
var deliberate = map[string]string{
	"breakdown_format_json|aws_instance.zero_cost_instance":                            "the usage file declares a 1-year all-upfront Reserved Instance; Infracost prices its hours at $0 and omits the upfront fee. costgate prices list on-demand and leaves reservations to calibration against the bill (effective/list per account and service), which sees what the company really pays.",
	"breakdown_terraform_wrapper|*":                                                    "the plan file is the GitHub Actions terraform wrapper's stdout, not JSON; Infracost strips the wrapper lines, costgate's plan reader refuses it and says how to fix the workflow (terraform_wrapper: false).",
	"breakdown_terraform_show_skipped|azurerm_virtual_hub.virtual_hub":                 "Infracost (at HEAD) counts a Virtual Hub free; Azure bills a hub hourly (and its routing infrastructure units), so costgate reports it unpriced rather than free until it has an estimator.",
	"breakdown_terraform_show_skipped_2021_azure_firewall|azurerm_virtual_wan.example": "the 2021 golden reports Virtual WAN unsupported; a Virtual WAN costs nothing by itself (its hubs bill), so costgate counts it free, as Infracost does at HEAD.",
}

// TestInfracostComparison estimates every Infracost CLI test plan in
// testdata/infracost with costgate's list prices and checks each
// resource against Infracost's monthly cost: within 1% for priced
// resources, unpriced (never zero) for usage-only and unsupported ones,
// free for free ones. The table is written to
// testdata/infracost/COMPARISON.md (-update-comparison).
func TestInfracostComparison(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "infracost")
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var records []expectedRecord
	if err := json.Unmarshal(b, &records); err != nil {
		t.Fatal(err)
	}
	estimates := map[string]*costgate.PlanEstimate{}
	parseErrs := map[string]error{}
	var rows []string
	within, matched, differ, deliberateN := 0, 0, 0, 0
	for _, rec := range records {
		est, ok := estimates[rec.Case]
		if !ok && parseErrs[rec.Case] == nil {
			est, err = estimateFixture(t, dir, rec)
			if err != nil {
				parseErrs[rec.Case] = err
			}
			estimates[rec.Case] = est
		}
		key := rec.Case + "|" + rec.Address
		why, isDeliberate := deliberate[key]
		if !isDeliberate {
			why, isDeliberate = deliberate[rec.Case+"|*"]
		}
		theirs := "-"
		if rec.MonthlyCost != nil {
			theirs = *rec.MonthlyCost
		}
		if rec.Status != "priced" {
			theirs = rec.Status
		}
		ours, verdict, ok := compareRecord(rec, est, parseErrs[rec.Case])
		switch {
		case isDeliberate:
			deliberateN++
			verdict = "deliberate (see below)"
		case !ok:
			differ++
			t.Errorf("%s %s: Infracost %s, costgate %s: %s", rec.Case, rec.Address, theirs, ours, verdict)
		case strings.HasPrefix(verdict, "within"):
			within++
		default:
			matched++
		}
		_ = why
		rows = append(rows, fmt.Sprintf("| %s | `%s` | %s | %s | %s |", rec.Case, rec.Address, theirs, ours, verdict))
	}
	var md strings.Builder
	md.WriteString("# costgate vs Infracost: list-price monthly cost per resource\n\n")
	md.WriteString("Written by `go test ./cmd/costgate -run TestInfracostComparison -update-comparison`. ")
	md.WriteString("Infracost's figures are from its CLI goldens (`expected.json`, see `ORIGIN.md`); costgate's are ")
	md.WriteString("`costgate estimate` with the embedded price snapshot, list prices, the case's usage file, as of 2025-06-01 ")
	md.WriteString("(the day Infracost's test harness pins). Priced resources must agree within 1%; usage-only and ")
	md.WriteString("unsupported resources must be unpriced (never zero); free ones free.\n\n")
	fmt.Fprintf(&md, "%d resources: %d priced within 1%%, %d with the same status (free / unpriced), %d deliberate differences, %d other differences.\n\n",
		len(records), within, matched, deliberateN, differ)
	md.WriteString("| case | resource | Infracost | costgate | verdict |\n|---|---|---:|---:|---|\n")
	md.WriteString(strings.Join(rows, "\n"))
	md.WriteString("\n\n## Deliberate differences\n\n")
	keys := make([]string, 0, len(deliberate))
	for k := range deliberate {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c, a, _ := strings.Cut(k, "|")
		if a == "*" {
			a = "every resource"
		} else {
			a = "`" + a + "`"
		}
		fmt.Fprintf(&md, "- %s, %s: %s\n", c, a, deliberate[k])
	}
	md.WriteString("\nNot compared: Infracost's diff goldens (they round to whole dollars) and its HCL-only provider tests; " +
		"the estimators for types without a plan-JSON golden (load balancers, EKS, autoscaling groups, ElastiCache, " +
		"OpenSearch, Google Cloud, Azure VMs and disks) are checked by unit tests against prices cross-checked with Infracost's provider goldens.\n")
	t.Log("\n" + md.String())
	golden := filepath.Join(dir, "COMPARISON.md")
	if *updateComparison {
		if err := os.WriteFile(golden, []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-comparison)", err)
	}
	if string(want) != md.String() {
		t.Errorf("%s is stale: run go test ./cmd/costgate -run TestInfracostComparison -update-comparison", golden)
	}
}

func estimateFixture(t *testing.T, dir string, rec expectedRecord) (*costgate.PlanEstimate, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rec.PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := gate.ParsePlan(data, rec.PlanFile)
	if err != nil {
		return nil, err
	}
	resources, err := plannedResources(gate.BuildInput(plan, gate.InputOptions{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := pricing.Options{Now: func() time.Time { return infracostToday }}
	if rec.UsageFile != nil {
		u, err := pricing.LoadUsageFile(filepath.Join(dir, *rec.UsageFile))
		if err != nil {
			t.Fatal(err)
		}
		opts.Usage = u
	}
	est, err := estimators.New(pricing.Default(), opts).Estimate(t.Context(), resources)
	if err != nil {
		t.Fatal(err)
	}
	return est, nil
}

// compareRecord returns costgate's figure for the record, a verdict and
// whether it agrees.
func compareRecord(rec expectedRecord, est *costgate.PlanEstimate, parseErr error) (string, string, bool) {
	if parseErr != nil {
		return "plan refused", parseErr.Error(), false
	}
	r := est.Resource(rec.Address)
	if r == nil {
		return "missing", "not in costgate's estimate", false
	}
	ours := "unpriced"
	switch {
	case r.Free:
		ours = "free"
	case r.Priced:
		ours = r.ListMonthlyAfter.String()
	}
	switch rec.Status {
	case "priced":
		if !r.Priced || r.Free {
			return ours, "costgate could not price it: " + r.Reason, false
		}
		want, err := costgate.ParseMoney(*rec.MonthlyCost)
		if err != nil {
			return ours, err.Error(), false
		}
		got := *r.ListMonthlyAfter
		diff := got - want
		if diff < 0 {
			diff = -diff
		}
		// |got - want| <= 1% of want, in exact integers.
		if want == 0 {
			if got == 0 {
				return ours, "within 1% (both 0)", true
			}
			return ours, "Infracost 0", false
		}
		pct := costgate.RateOf(int64(diff)*100, int64(want)).Format(2)
		if int64(diff)*100 <= int64(want) {
			return ours, "within 1% (" + pct + "%)", true
		}
		return ours, "differs by " + pct + "%", false
	case "usage_only":
		if r.Priced || r.Free || !r.UsageBased {
			return ours, "want unpriced (usage-based, no usage)", false
		}
		return ours, "same: unpriced, usage-based", true
	case "free":
		if !r.Free {
			return ours, "want free", false
		}
		return ours, "same: free", true
	case "unsupported":
		if r.Priced || r.Free {
			return ours, "want unpriced", false
		}
		return ours, "same: unpriced", true
	}
	return ours, "unknown status " + rec.Status, false
}
