package gate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/costgate/costgate"
)

// trickyMessage has every character some output format must escape.
const trickyMessage = "100% over budget, limit: 5|6 <&> \"q\"\nsecond line\r\n::error::injected ##[error]legacy \x1b[31mred"

func formatTestReports(tb testing.TB) map[string]*Report {
	tb.Helper()
	expires, err := costgate.ParseDate("2026-12-31")
	if err != nil {
		tb.Fatal(err)
	}
	waiver := &costgate.Waiver{RuleID: "tags.required", Address: "module.legacy.*", Reason: "legacy stack, moving in Q3",
		Owner: "platform-team", Ticket: "FIN-42", Expires: expires}
	report := func(d costgate.Decision) *Report {
		d.Version, d.PolicyRevision = costgate.DecisionVersion, "policies@3f2a9c1"
		d.InputSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		return &Report{Decision: &d, PlanPath: "plan.json", Version: "v0.1.0-test"}
	}
	return map[string]*Report{
		"empty": report(costgate.Decision{
			Decision: costgate.OutcomeAllow,
			Summary:  costgate.Summary{Create: 2, NoOp: 3, Total: 5},
		}),
		"warn": report(costgate.Decision{
			Decision: costgate.OutcomeWarn,
			Findings: []costgate.Finding{{RuleID: "tags.allowed_values", Severity: costgate.SeverityWarn,
				Address: "aws_instance.web", Message: `tag env is "production": allowed values are prod, staging, dev`,
				Source: "main.tf:12"}},
			Summary: costgate.Summary{Update: 1, Total: 1},
		}),
		"mixed": report(costgate.Decision{
			Decision: costgate.OutcomeDeny,
			Findings: []costgate.Finding{
				{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "aws_instance.web",
					Message: "missing required tags: team, cost-center", Source: "main.tf:12"},
				{RuleID: "budget.monthly", Severity: costgate.SeverityDeny,
					Message: "monthly cost rises by 1200.00 USD, over the 500.00 limit"},
				{RuleID: "compute.allowed_types", Severity: costgate.SeverityWarn, Address: "module.app.aws_db_instance.db",
					Message: "instance_class db.r6g.4xlarge is not allowed in dev", Source: "modules/app/db.tf:3"},
				{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "module.legacy.aws_s3_bucket.logs",
					Message: "missing required tags: team", Source: "legacy/s3.tf:40", Waived: true, Waiver: waiver},
				{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "module.legacy.aws_sqs_queue.q",
					Message: "missing required tags: cost-center", Waived: true, Waiver: waiver},
			},
			Summary: costgate.Summary{Create: 5, Update: 3, Delete: 2, Replace: 2, NoOp: 7, Total: 19},
			Cost: &costgate.CostTotals{Currency: "USD", MonthlyBefore: costgate.MustMoney("812.5"),
				MonthlyAfter: costgate.MustMoney("2012.504"), MonthlyDelta: costgate.MustMoney("1200.004"),
				Unpriced: []string{"aws_lambda_function.f", "module.app.aws_sqs_queue.jobs"}},
		}),
		"special": report(costgate.Decision{
			Decision: costgate.OutcomeDeny,
			Findings: []costgate.Finding{
				{RuleID: "acme:cost,limit", Severity: costgate.SeverityDeny, Address: `aws_s3_bucket.b["a|b,c:d<&>"]`,
					Message: trickyMessage, Source: "my dir/main%1.tf:7"},
				{Severity: costgate.SeverityWarn, Address: "aws_instance.x", Message: "*bold* _em_ [link](x) `code` @here",
					Source: "not-a-line", Package: "main"},
				{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "aws_instance.y", Message: trickyMessage + "\x00",
					Waived: true},
			},
			Summary: costgate.Summary{Create: 1, Replace: 1, Total: 2},
			Cost:    &costgate.CostTotals{Currency: "EUR", MonthlyBefore: costgate.MustMoney("10"), MonthlyDelta: costgate.MustMoney("-10")},
		}),
	}
}

func TestFormatGolden(t *testing.T) {
	variants := map[string]struct {
		format string
		opts   FormatOptions
		ext    string
	}{
		"text":       {format: "text", ext: "txt"},
		"text-color": {format: "text", opts: FormatOptions{Color: true}, ext: "txt"},
		"json":       {format: "json", ext: "json"},
		"junit":      {format: "junit", ext: "xml"},
		"sarif":      {format: "sarif", ext: "sarif"},
		"github":     {format: "github", ext: "txt"},
		"markdown":   {format: "markdown", ext: "md"},
	}
	for vname, v := range variants {
		t.Run(vname, func(t *testing.T) {
			for cname, r := range formatTestReports(t) {
				t.Run(cname, func(t *testing.T) {
					got := renderFormat(t, v.format, v.opts, r)
					if !bytes.HasSuffix(got, []byte("\n")) {
						t.Errorf("output does not end in a newline")
					}
					if hasESC := bytes.Contains(got, []byte("\x1b")); hasESC != v.opts.Color {
						t.Errorf("color %v, but ESC in output: %v", v.opts.Color, hasESC)
					}
					assertGolden(t, filepath.Join("testdata", "golden", "format", vname+"_"+cname+"."+v.ext), got)
				})
			}
		})
	}
}

func renderFormat(tb testing.TB, name string, opts FormatOptions, r *Report) []byte {
	tb.Helper()
	f, err := NewFormatter(name, opts)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Format(&buf, r); err != nil {
		tb.Fatalf("format %s: %v", name, err)
	}
	return buf.Bytes()
}

func TestFormatRegistry(t *testing.T) {
	for _, name := range []string{"github", "json", "junit", "markdown", "sarif", "text"} {
		if !slices.Contains(Formats(), name) {
			t.Errorf("Formats() = %v: missing %q", Formats(), name)
		}
		f, err := NewFormatter(name, FormatOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Format(&bytes.Buffer{}, &Report{}); err == nil {
			t.Errorf("%s: no error for a report without a decision", name)
		}
	}
	if _, err := NewFormatter("yaml", FormatOptions{}); err == nil || !strings.Contains(err.Error(), "json") {
		t.Errorf("unknown format: err = %v, want one listing the formats", err)
	}
}

func TestFormatJSONRoundTrip(t *testing.T) {
	for name, r := range formatTestReports(t) {
		t.Run(name, func(t *testing.T) {
			out := renderFormat(t, "json", FormatOptions{}, r)
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			var got costgate.Decision
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("decode: %v\n%s", err, out)
			}
			want, _ := reportDecision(r)
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, *want)
			}
			if !bytes.Contains(out, []byte(`"findings": [`)) {
				t.Errorf("findings is not an array:\n%s", out)
			}
		})
	}
}

func TestFormatJUnitParses(t *testing.T) {
	for name, r := range formatTestReports(t) {
		t.Run(name, func(t *testing.T) {
			var doc struct {
				XMLName  xml.Name `xml:"testsuites"`
				Failures int      `xml:"failures,attr"`
				Suites   []struct {
					Name     string `xml:"name,attr"`
					Tests    int    `xml:"tests,attr"`
					Failures int    `xml:"failures,attr"`
					Skipped  int    `xml:"skipped,attr"`
					Cases    []struct {
						Failure *struct{} `xml:"failure"`
						Skipped *struct{} `xml:"skipped"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			out := renderFormat(t, "junit", FormatOptions{}, r)
			if err := xml.Unmarshal(out, &doc); err != nil {
				t.Fatalf("parse junit: %v\n%s", err, out)
			}
			if len(doc.Suites) != 1 || doc.Suites[0].Name != "costgate" {
				t.Fatalf("want one testsuite costgate, got %+v", doc.Suites)
			}
			s := doc.Suites[0]
			failures, skipped := 0, 0
			for _, c := range s.Cases {
				if c.Failure != nil {
					failures++
				}
				if c.Skipped != nil {
					skipped++
				}
			}
			deny, _, waived := r.Decision.Counts()
			n := max(len(r.Decision.Findings), 1)
			got := [7]int{doc.Failures, s.Failures, failures, s.Skipped, skipped, s.Tests, len(s.Cases)}
			if want := [7]int{deny, deny, deny, waived, waived, n, n}; got != want {
				t.Errorf("failures (suites, suite, elements), skipped (suite, elements), tests (suite, elements) = %v, want %v", got, want)
			}
		})
	}
}

func TestFormatJUnitInvalidXMLChars(t *testing.T) {
	f := costgate.Finding{RuleID: "r\x01", Severity: costgate.SeverityDeny, Address: "a\xff", Message: "bad \xff\uffff\x00 ]]> end"}
	out := renderFormat(t, "junit", FormatOptions{}, &Report{Decision: &costgate.Decision{Findings: []costgate.Finding{f}}})
	var doc struct {
		Text string `xml:"testsuite>testcase>failure"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("parse junit: %v\n%s", err, out)
	}
	if want := "bad \ufffd\ufffd\\x00 ]]> end\n\nrule: r\\x01\nresource: a\ufffd"; doc.Text != want {
		t.Errorf("failure text %q, want %q", doc.Text, want)
	}
}

func TestFormatSARIFParses(t *testing.T) {
	for name, r := range formatTestReports(t) {
		t.Run(name, func(t *testing.T) {
			out := renderFormat(t, "sarif", FormatOptions{}, r)
			var log struct {
				Version string `json:"version"`
				Runs    []struct {
					Tool struct {
						Driver struct {
							Name string `json:"name"`
						} `json:"driver"`
					} `json:"tool"`
					Results []struct {
						Level        string            `json:"level"`
						Suppressions []json.RawMessage `json:"suppressions"`
						Locations    []struct {
							PhysicalLocation *struct {
								Region struct{ StartLine int } `json:"region"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(out, &log); err != nil {
				t.Fatalf("parse sarif: %v\n%s", err, out)
			}
			if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "costgate" {
				t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
			}
			res := log.Runs[0].Results
			if res == nil || len(res) != len(r.Decision.Findings) {
				t.Fatalf("%d results, want %d", len(res), len(r.Decision.Findings))
			}
			for i, f := range r.Decision.Findings {
				want := map[bool]string{true: "error", false: "warning"}[f.Severity == costgate.SeverityDeny]
				if f.Waived {
					want = "note"
				}
				if res[i].Level != want || (len(res[i].Suppressions) == 1) != f.Waived {
					t.Errorf("result %d: level %q, %d suppressions; want %q, waived %v",
						i, res[i].Level, len(res[i].Suppressions), want, f.Waived)
				}
				_, line, ok := sourcePosition(f.Source)
				hasPhys := len(res[i].Locations) == 1 && res[i].Locations[0].PhysicalLocation != nil
				if hasPhys != ok || (ok && res[i].Locations[0].PhysicalLocation.Region.StartLine != line) {
					t.Errorf("result %d: physical location %v for source %q", i, hasPhys, f.Source)
				}
			}
		})
	}
}

func TestFormatGitHubEscaping(t *testing.T) {
	r := formatTestReports(t)["special"]
	out := string(renderFormat(t, "github", FormatOptions{}, r))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := `::error file=my dir/main%251.tf,line=7,title=acme%3Acost%2Climit::aws_s3_bucket.b["a|b,c:d<&>"]: ` +
		`100%25 over budget, limit: 5|6 <&> "q"%0Asecond line%0A::error::injected ##[error]legacy \x1b[31mred`
	if lines[0] != want {
		t.Errorf("annotation:\n got %s\nwant %s", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], "::warning title=main::aws_instance.x: ") {
		t.Errorf("warning without a line source: %s", lines[1])
	}
	if !strings.HasPrefix(lines[2], "::notice title=tags.required (waived)::") || !strings.HasSuffix(lines[2], "%0Awaived") {
		t.Errorf("notice: %s", lines[2])
	}
	stop := slices.IndexFunc(lines, func(s string) bool { return strings.HasPrefix(s, "::stop-commands::") })
	if stop < 0 {
		t.Fatalf("no ::stop-commands:: in\n%s", out)
	}
	resume := slices.Index(lines, "::"+strings.TrimPrefix(lines[stop], "::stop-commands::")+"::")
	if resume < stop {
		t.Fatalf("commands are not resumed after %s", lines[stop])
	}
	// Outside the stopped block, every line that the runner would parse
	// as a command must be one of ours.
	for i, l := range lines {
		if i > stop && i < resume {
			continue
		}
		trimmed := strings.TrimLeft(l, " \t")
		if strings.HasPrefix(trimmed, "::") != (i < 3 || i == stop-1 || i == stop || i == resume || i == resume+1) {
			t.Errorf("line %d is not where a command belongs: %s", i, l)
		}
		if i > resume+1 && strings.Contains(l, "##[") {
			t.Errorf("legacy command marker outside the stopped block: %s", l)
		}
	}
	if last := lines[len(lines)-1]; last != "deny: 1 denied, 1 warning, 1 waived — 2 resources changed (1 create, 1 replace)" {
		t.Errorf("summary line: %s", last)
	}
}

func TestFormatMarkdownTableCells(t *testing.T) {
	out := string(renderFormat(t, "markdown", FormatOptions{}, formatTestReports(t)["special"]))
	cells := -1 // of the current table, from its header row
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "| ") {
			cells = -1
			continue
		}
		n := -1 // unescaped pipes - 1
		for i := 0; i < len(l); i++ {
			switch l[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		if cells < 0 {
			cells = n
		}
		if n != cells || n < 2 {
			t.Errorf("row has %d cells, want %d: %s", n, cells, l)
		}
	}
	if !strings.Contains(out, `5\|6 &lt;&amp;&gt; "q"<br>second line<br>`) {
		t.Errorf("message not escaped as expected:\n%s", out)
	}
	for _, bad := range []string{"<&> \"q\"", "\x1b", "\r"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown contains raw %q", bad)
		}
	}
}

func TestShortMessage(t *testing.T) {
	tests := map[string]struct {
		f    costgate.Finding
		want string
	}{
		"prefix dropped":   {costgate.Finding{Address: "aws_s3_bucket.a", Message: "aws_s3_bucket.a: missing tag"}, "missing tag"},
		"other address":    {costgate.Finding{Address: "aws_s3_bucket.a", Message: "aws_s3_bucket.ab: missing tag"}, "aws_s3_bucket.ab: missing tag"},
		"no address":       {costgate.Finding{Message: "plan-wide"}, "plan-wide"},
		"nothing after it": {costgate.Finding{Address: "x", Message: "x: "}, "x: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := shortMessage(tc.f); got != tc.want {
				t.Errorf("shortMessage = %q, want %q", got, tc.want)
			}
		})
	}
}
