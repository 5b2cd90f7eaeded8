package gate

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/plangen"
)

// goldenConfig is the config the golden decisions are made with.
func goldenConfig() map[string]any {
	return map[string]any{
		"tags": map[string]any{
			"required":       []any{"team", "cost-center"},
			"allowed_values": map[string]any{"env": []any{"prod", "staging", "dev"}, "cost-center": "^cc-[0-9]{3}$"},
		},
		"compute": map[string]any{"allowed_types": map[string]any{"dev": []any{"t3.*", "e2-*"}, "*": []any{"t3.*", "m5.*", "e2-*", "n1-*", "n2-*", "db.t3.*", "Standard_B*"}}},
	}
}

// TestCheckGolden runs every fixture plan through the default policies
// and compares the decision JSON with testdata/golden/check.
func TestCheckGolden(t *testing.T) {
	e := newEngine(t, Options{Config: goldenConfig()})
	json, err := NewFormatter("json", FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var denied int
	for _, path := range fixturePlans(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			d := evaluate(t, e, loadFixture(t, name))
			if d.Decision == costgate.OutcomeDeny {
				denied++
			}
			// The revision changes with every policy edit; it has its own test.
			d.PolicyRevision = "(golden)"
			var buf bytes.Buffer
			if err := json.Format(&buf, &Report{Decision: d, PlanPath: name, Version: "test"}); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, filepath.Join("../testdata/golden/check", name), buf.Bytes())
		})
	}
	if denied == 0 {
		t.Error("no fixture plan was denied: the golden config does not exercise the policies")
	}
}

func ExampleEngine() {
	ctx := context.Background()
	engine, err := New(ctx, Options{Config: map[string]any{
		"tags": map[string]any{"required": []any{"team"}},
	}})
	if err != nil {
		fmt.Println("compile policies:", err)
		return
	}
	plan, err := ParsePlan([]byte(`{
	  "format_version": "1.2",
	  "resource_changes": [{
	    "address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
	    "provider_name": "registry.terraform.io/hashicorp/aws",
	    "change": {"actions": ["create"], "before": null,
	               "after": {"bucket": "logs", "tags": {"env": "prod"}, "tags_all": {"env": "prod"}},
	               "after_unknown": {"id": true}}
	  }]
	}`), "plan.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := engine.Evaluate(ctx, BuildInput(plan, InputOptions{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Decision)
	for _, f := range d.Findings {
		fmt.Println(f.RuleID, f.Address)
	}
	// Output:
	// deny
	// tags.required aws_s3_bucket.logs
}

func benchmarkCheck(b *testing.B, n int) {
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: n, Seed: 1, UntaggedPercent: 10}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	e := newEngine(b, Options{Config: requiredTagsConfig("team", "cost-center")})
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var findings int
	for i := 0; i < b.N; i++ {
		p, err := ParsePlan(data, "bench.json")
		if err != nil {
			b.Fatal(err)
		}
		d, err := e.Evaluate(ctx, BuildInput(p, InputOptions{}))
		if err != nil {
			b.Fatal(err)
		}
		findings = len(d.Findings)
	}
	b.StopTimer()
	if findings == 0 {
		b.Fatal("no findings: the generated plan should have untagged resources")
	}
	b.ReportMetric(float64(findings), "findings")
}

// BenchmarkCheck measures parse + input + evaluation of generated plans
// with a required-tags policy (compile is outside the loop, as in serve).
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) { benchmarkCheck(b, n) })
	}
}

// BenchmarkPolicies10k is the policy evaluation alone (the input
// document already built) on the 10,000-resource plan with a
// required-tags policy: what OPA spends in the library's rules.
func BenchmarkPolicies10k(b *testing.B) {
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: 10000, Seed: 1, UntaggedPercent: 10}); err != nil {
		b.Fatal(err)
	}
	e := newEngine(b, Options{Config: requiredTagsConfig("team", "cost-center")})
	p, err := ParsePlan(buf.Bytes(), "bench.json")
	if err != nil {
		b.Fatal(err)
	}
	v, err := BuildInput(p, InputOptions{}).slimValue(e.valueTypes)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var findings int
	for b.Loop() {
		d, err := e.EvaluateValue(ctx, v, EvalMeta{Name: "bench.json"})
		if err != nil {
			b.Fatal(err)
		}
		findings = len(d.Findings)
	}
	if findings == 0 {
		b.Fatal("no findings: the generated plan should have untagged resources")
	}
	b.ReportMetric(float64(findings), "findings")
}

func TestContextFromEnv(t *testing.T) {
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_HEAD_REF": "feature",
		"GITHUB_SHA": "abc", "GITHUB_REF": "refs/pull/42/merge", "GITHUB_ACTOR": "octo", "TF_WORKSPACE": "prod",
	}
	ctx := ContextFromEnv(func(k string) string { return env[k] })
	want := map[string]string{"ci": "github", "repository": "acme/infra", "branch": "feature", "commit": "abc", "pull_request": "42", "actor": "octo", "workspace": "prod"}
	for k, v := range want {
		if ctx[k] != v {
			t.Errorf("%s = %q, want %q", k, ctx[k], v)
		}
	}
	gl := ContextFromEnv(func(k string) string {
		return map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "g/p", "CI_MERGE_REQUEST_IID": "7"}[k]
	})
	if gl["ci"] != "gitlab" || gl["repository"] != "g/p" || gl["pull_request"] != "7" {
		t.Errorf("gitlab context %v", gl)
	}
	if none := ContextFromEnv(func(string) string { return "" }); len(none) != 0 {
		t.Errorf("empty env gave %v", none)
	}
}

func TestPolicyRevision(t *testing.T) {
	a := newEngine(t, Options{Config: requiredTagsConfig("team")})
	b := newEngine(t, Options{Config: requiredTagsConfig("team")})
	c := newEngine(t, Options{Config: requiredTagsConfig("owner")})
	if a.Revision() != b.Revision() {
		t.Errorf("same policies and config, revisions %s and %s", a.Revision(), b.Revision())
	}
	if a.Revision() == c.Revision() {
		t.Errorf("different config, same revision %s", a.Revision())
	}
	dir := writeFiles(t, map[string]string{"p.rego": "package costgate.custom\n\nwarn contains \"x\" if false\n"})
	d := newEngine(t, Options{Config: requiredTagsConfig("team"), PolicyPaths: []string{dir}})
	if a.Revision() == d.Revision() {
		t.Errorf("extra policy, same revision %s", a.Revision())
	}
}
