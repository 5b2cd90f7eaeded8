package gate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/plangen"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

func requiredTagsConfig(keys ...any) map[string]any {
	return map[string]any{"tags": map[string]any{"required": keys}}
}

func newEngine(tb testing.TB, opts Options) *Engine {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	e, err := New(context.Background(), opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return e
}

func evaluate(tb testing.TB, e *Engine, p *Plan) *costgate.Decision {
	tb.Helper()
	d, err := e.Evaluate(context.Background(), BuildInput(p, InputOptions{}))
	if err != nil {
		tb.Fatalf("Evaluate: %v", err)
	}
	return d
}

func writeFiles(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestEngineRequiredTags(t *testing.T) {
	e := newEngine(t, Options{Config: requiredTagsConfig("team", "DefaultNotOverride")})
	d := evaluate(t, e, loadFixture(t, "aws_default_tags_aliased_provider_sqs_x20.json"))
	// Every queue has DefaultNotOverride through default_tags, none has team.
	if d.Decision != costgate.OutcomeDeny || len(d.Findings) != 20 {
		t.Fatalf("decision %s with %d findings, want deny with 20", d.Decision, len(d.Findings))
	}
	for _, f := range d.Findings {
		if f.RuleID != "tags.required" || f.Severity != costgate.SeverityDeny || !strings.Contains(f.Message, `"team"`) || f.Address == "" {
			t.Errorf("finding %+v", f)
		}
	}
	if d.Version != 1 || !strings.HasPrefix(d.PolicyRevision, "sha256:") || len(d.InputSHA256) != 64 || d.Summary.Create != 20 {
		t.Errorf("decision header %+v", d)
	}
}

func TestEngineUnconfiguredFindsNothing(t *testing.T) {
	e := newEngine(t, Options{})
	for _, path := range fixturePlans(t) {
		p := loadFixture(t, filepath.Base(path))
		d := evaluate(t, e, p)
		if len(d.Findings) != 0 || d.Decision != costgate.OutcomeAllow {
			t.Errorf("%s: %d findings with no parameters configured", path, len(d.Findings))
		}
	}
}

func TestEngineConftestPolicyUnchanged(t *testing.T) {
	dir := writeFiles(t, map[string]string{"deny.rego": `package main

deny contains msg if {
	some rc in input.plan.resource_changes
	rc.type == "aws_sqs_queue"
	not rc.change.after.tags.owner
	msg := sprintf("%s has no owner tag", [rc.address])
}

warn contains msg if {
	some rc in input.plan.resource_changes
	rc.change.actions[_] == "create"
	msg := sprintf("%s is new", [rc.address])
}
`})
	e := newEngine(t, Options{PolicyPaths: []string{dir}})
	d := evaluate(t, e, loadFixture(t, "aws_default_tags_aliased_provider_sqs.json"))
	deny, warn, _ := d.Counts()
	if deny != 1 || warn != 1 || d.Decision != costgate.OutcomeDeny {
		t.Fatalf("deny=%d warn=%d decision=%s: %+v", deny, warn, d.Decision, d.Findings)
	}
	for _, f := range d.Findings {
		if f.Package != "main" || (f.RuleID != "main.deny" && f.RuleID != "main.warn") {
			t.Errorf("finding %+v", f)
		}
	}
}

func TestEngineRegoV0(t *testing.T) {
	dir := writeFiles(t, map[string]string{"old.rego": `package main

deny[msg] {
	rc := input.resource_changes[_]
	rc.type == "aws_sqs_queue"
	msg := "queues are not allowed"
}
`})
	if _, err := New(context.Background(), Options{PolicyPaths: []string{dir}}); err == nil {
		t.Fatal("a v0 policy compiled as v1")
	}
	e := newEngine(t, Options{PolicyPaths: []string{dir}, RegoVersion: ast.RegoV0})
	// input.resource_changes is not part of the input: conftest policies
	// that read the plan at the top level must use input.plan.
	d := evaluate(t, e, loadFixture(t, "aws_default_tags_aliased_provider_sqs.json"))
	if len(d.Findings) != 0 {
		t.Fatalf("findings %+v", d.Findings)
	}
}

func TestEngineBrokenPolicy(t *testing.T) {
	tests := map[string]struct {
		src  string
		want string
	}{
		"syntax":  {"package costgate.custom\n\ndeny contains msg if {\n\tmsg := \n}\n", "broken.rego:5:1"},
		"compile": {"package costgate.custom\n\ndeny contains msg if {\n\tmsg := undefined_fn(1)\n}\n", "broken.rego:4:9"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"broken.rego": tc.src})
			_, err := New(context.Background(), Options{PolicyPaths: []string{dir}})
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PolicyError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestEngineWaiversAndSeverity(t *testing.T) {
	plan := loadFixture(t, "aws_default_tags_aliased_provider_sqs_x20.json")
	expires := func(s string) costgate.Date { d, _ := costgate.ParseDate(s); return d }
	e := newEngine(t, Options{
		Config: requiredTagsConfig("team"),
		Waivers: []costgate.Waiver{
			{RuleID: "tags.required", Address: "module.mymod_own.*", Reason: "legacy", Owner: "alice", Ticket: "FIN-1", Expires: expires("2026-11-25")},
			{RuleID: "tags.required", Address: "module.mymod_implicit.*", Reason: "old", Owner: "bob", Ticket: "FIN-2", Expires: expires("2026-11-24")},
		},
	})
	d := evaluate(t, e, plan)
	deny, warn, waived := d.Counts()
	// 8 queues live under module.mymod_own (active waiver, expiring today),
	// 4 under module.mymod_implicit (expired yesterday: still denied).
	if waived != 8 || deny != 12 || warn != 1 {
		t.Fatalf("deny=%d warn=%d waived=%d", deny, warn, waived)
	}
	for _, f := range d.Findings {
		if f.Waived && (f.Waiver == nil || f.Waiver.Owner != "alice" || !strings.HasPrefix(f.Address, "module.mymod_own.")) {
			t.Errorf("waived finding %+v", f)
		}
		if f.RuleID == RuleWaiverExpired && (!strings.Contains(f.Message, "bob") || !strings.Contains(f.Message, "2026-11-24")) {
			t.Errorf("expired waiver warning %q does not name it", f.Message)
		}
	}
	e = newEngine(t, Options{Config: requiredTagsConfig("team"), Severities: map[string]costgate.Severity{"tags.required": costgate.SeverityWarn}})
	d = evaluate(t, e, plan)
	if deny, warn, _ := d.Counts(); deny != 0 || warn != 20 || d.Decision != costgate.OutcomeWarn {
		t.Fatalf("lowered to warn: deny=%d warn=%d decision=%s", deny, warn, d.Decision)
	}
}

func TestEngineAllowedValuesAndTypes(t *testing.T) {
	e := newEngine(t, Options{Config: map[string]any{
		"tags": map[string]any{"allowed_values": map[string]any{
			"DefaultOverride": []any{"prod"},
			"ResourceTag":     "^sqs-[a-z]+$",
		}},
	}})
	d := evaluate(t, e, loadFixture(t, "aws_default_tags_aliased_provider_sqs.json"))
	if len(d.Findings) != 1 || d.Findings[0].RuleID != "tags.allowed_values" || !strings.Contains(d.Findings[0].Message, "sqs-def") {
		t.Fatalf("findings %+v", d.Findings)
	}
	e = newEngine(t, Options{Config: map[string]any{
		"compute": map[string]any{"allowed_types": map[string]any{"*": []any{"t3.*"}}},
	}})
	d = evaluate(t, e, loadFixture(t, "aws_instance_lambda_s3.json"))
	if len(d.Findings) == 0 {
		t.Fatal("no compute.allowed_types findings for m5 instances")
	}
	for _, f := range d.Findings {
		if f.RuleID != "compute.allowed_types" {
			t.Errorf("finding %+v", f)
		}
	}
}

func TestWaiverGlob(t *testing.T) {
	tests := map[string]struct {
		pattern, addr string
		want          bool
	}{
		"star crosses dots":   {"module.legacy.*", "module.legacy.aws_instance.web[0]", true},
		"literal brackets":    {`aws_instance.web["a"]`, `aws_instance.web["a"]`, true},
		"question mark":       {"aws_instance.web[?]", "aws_instance.web[3]", true},
		"prefix only":         {"module.legacy.*", "module.legacy2.aws_instance.web", false},
		"everything":          {"*", "aws_s3_bucket.x", true},
		"exact mismatch":      {"aws_s3_bucket.x", "aws_s3_bucket.xy", false},
		"star in middle":      {"module.*.aws_s3_bucket.logs", "module.a.module.b.aws_s3_bucket.logs", true},
		"star in middle miss": {"module.*.aws_s3_bucket.logs", "module.a.aws_s3_bucket.data", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := costgate.Waiver{RuleID: "r", Address: tc.pattern}
			if got := w.Matches("r", tc.addr); got != tc.want {
				t.Errorf("Matches(%q, %q) = %v", tc.pattern, tc.addr, got)
			}
		})
	}
}

// TestSlimInputSameFindings checks the fast path: with only the embedded
// library loaded, the engine leaves out values the library does not read;
// its findings must be exactly those of the full input document.
// The generated plan is large enough (more than two chunks of 2,000) for
// BuildInput and the input document to be built in parallel, so -race
// covers that too.
func TestSlimInputSameFindings(t *testing.T) {
	cfg := map[string]any{
		"tags": map[string]any{
			"required":       []any{"team", "cost-center"},
			"allowed_values": map[string]any{"env": []any{"prod", "dev"}, "DefaultOverride": "^sqs-"},
		},
		"compute": map[string]any{"allowed_types": map[string]any{"*": []any{"t3.*", "e2-*"}}},
	}
	slim := newEngine(t, Options{Config: cfg})
	if !slim.slim {
		t.Fatal("the embedded library alone did not get the slim input")
	}
	full := newEngine(t, Options{Config: cfg})
	full.slim = false
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: 4200, Seed: 7, UntaggedPercent: 20}); err != nil {
		t.Fatal(err)
	}
	generated, err := ParsePlan(buf.Bytes(), "generated.json")
	if err != nil {
		t.Fatal(err)
	}
	plans := []*Plan{generated}
	for _, path := range fixturePlans(t) {
		plans = append(plans, loadFixture(t, filepath.Base(path)))
	}
	var total int
	for _, p := range plans {
		a, b := evaluate(t, slim, p), evaluate(t, full, p)
		if !reflect.DeepEqual(a.Findings, b.Findings) {
			t.Errorf("%s: slim findings differ from full:\nslim %+v\nfull %+v", p.Name, a.Findings, b.Findings)
		}
		total += len(a.Findings)
	}
	if total == 0 {
		t.Fatal("no findings at all: the comparison proves nothing")
	}
	// A user policy switches the fast path off.
	dir := writeFiles(t, map[string]string{"p.rego": "package costgate.custom\n\nwarn contains \"x\" if false\n"})
	if e := newEngine(t, Options{Config: cfg, PolicyPaths: []string{dir}}); e.slim {
		t.Error("slim input with a user policy loaded")
	}
}

// TestEmbeddedValueReadersDeclareTypes guards the fast path: an embedded
// package that reads a resource's before/after/after_unknown must declare
// value_types, or the slim input would hide those values from it.
func TestEmbeddedValueReadersDeclareTypes(t *testing.T) {
	files, err := defaultPolicies()
	if err != nil {
		t.Fatal(err)
	}
	reads := regexp.MustCompile(`\.(before|after|after_unknown)\b|"(before|after|after_unknown)"`)
	for _, f := range files {
		if f.test {
			continue
		}
		if reads.MatchString(stripRegoComments(f.src)) && !strings.Contains(f.src, "\nvalue_types :=") {
			t.Errorf("%s reads resource values but declares no value_types", f.name)
		}
	}
}

func stripRegoComments(src string) string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestEngineBlankRequiredTags: through the gate's input (and its
// index.tag_blank), tags.required reports required tags whose value is
// white space only (Unicode spaces included), once per key, and leaves
// alone values known only after apply, blank tags that are not required
// and resources it does not judge.
func TestEngineBlankRequiredTags(t *testing.T) {
	plan, err := ParsePlan([]byte(`{"format_version":"1.2","resource_changes":[
	  {"address":"aws_s3_bucket.ok","mode":"managed","type":"aws_s3_bucket","name":"ok","change":{"actions":["create"],"before":null,"after":{"tags":{"team":"a","env":"p"}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.spaces","mode":"managed","type":"aws_s3_bucket","name":"spaces","change":{"actions":["create"],"before":null,"after":{"tags":{"team":" \t","env":"p"}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.both","mode":"managed","type":"aws_s3_bucket","name":"both","change":{"actions":["create"],"before":null,"after":{"tags":{"team":"","env":"\u00a0"}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.other","mode":"managed","type":"aws_s3_bucket","name":"other","change":{"actions":["create"],"before":null,"after":{"tags":{"team":"a","env":"p","note":" "}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.later","mode":"managed","type":"aws_s3_bucket","name":"later","change":{"actions":["create"],"before":null,"after":{"tags":{"team":null,"env":"p"}},"after_unknown":{"tags":{"team":true}}}},
	  {"address":"aws_s3_bucket.gone","mode":"managed","type":"aws_s3_bucket","name":"gone","change":{"actions":["delete"],"before":{"tags":{"team":""}},"after":null}}
	]}`), "blank.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Options{Config: map[string]any{"tags": map[string]any{"required": []any{"team", "env"}}}})
	d := evaluate(t, e, plan)
	var got []string
	for _, f := range d.Findings {
		if f.RuleID == "tags.required" && strings.Contains(f.Message, "is empty") {
			got = append(got, f.Address+" "+strings.SplitN(f.Message, `"`, 3)[1])
		}
	}
	slices.Sort(got)
	want := []string{"aws_s3_bucket.both env", "aws_s3_bucket.both team", "aws_s3_bucket.spaces team"}
	if !slices.Equal(got, want) {
		t.Fatalf("blank-tag findings %q, want %q (all findings %+v)", got, want, d.Findings)
	}
}
