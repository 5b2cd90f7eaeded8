package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costgate/costgate"
)

func plan(name string) string { return filepath.Join("..", "..", "testdata", "plans", name) }

// runCLI runs one command line in-process.
func runCLI(tb testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "costgate.yaml", "tags:\n  required: [team]\n")
	warnCfg := writeFile(t, dir, "warn.yaml", "tags:\n  required: [team]\nrules:\n  tags.required: {severity: warn}\n")
	tests := map[string]struct {
		args     []string
		stdin    string
		code     int
		inStdout []string
		inStderr []string
	}{
		"denied":             {args: []string{"check", "--config", cfg, plan("aws_instance_lambda_s3.json")}, code: 1, inStdout: []string{"tags.required", "deny:"}},
		"allowed":            {args: []string{"check", "--config", cfg, plan("aws_delete_only.json")}, code: 0, inStdout: []string{"allow:"}},
		"no config allowed":  {args: []string{"check", plan("aws_instance_lambda_s3.json")}, code: 0},
		"warn allowed":       {args: []string{"check", "--config", warnCfg, plan("aws_instance_lambda_s3.json")}, code: 0, inStdout: []string{"warn:"}},
		"fail on warn":       {args: []string{"check", "--fail-on-warn", "--config", warnCfg, plan("aws_instance_lambda_s3.json")}, code: 1},
		"stdin":              {args: []string{"check", "--config", cfg, "-"}, stdin: mustRead(t, plan("aws_instance_lambda_s3.json")), code: 1},
		"binary plan":        {args: []string{"check", "-"}, stdin: "PK\x03\x04xx", code: 2, inStderr: []string{"terraform show -json PLAN > plan.json"}},
		"wrapper":            {args: []string{"check", plan("negative_gha_terraform_wrapper_stdout.json")}, code: 2, inStderr: []string{"terraform_wrapper: false"}},
		"missing plan":       {args: []string{"check", filepath.Join(dir, "nope.json")}, code: 2, inStderr: []string{"nope.json"}},
		"unknown format":     {args: []string{"check", "--format", "yaml", plan("aws_delete_only.json")}, code: 2, inStderr: []string{"unknown format", "sarif"}},
		"unknown flag":       {args: []string{"check", "--nope"}, code: 2, inStderr: []string{"unknown flag"}},
		"bad context":        {args: []string{"check", "--context", "novalue", plan("aws_delete_only.json")}, code: 2, inStderr: []string{"key=value"}},
		"bad rego version":   {args: []string{"check", "--rego-version", "v2", plan("aws_delete_only.json")}, code: 2, inStderr: []string{"v1 or v0"}},
		"missing config":     {args: []string{"check", "--config", filepath.Join(dir, "none.yaml"), plan("aws_delete_only.json")}, code: 2, inStderr: []string{"none.yaml", "no such file"}},
		"unknown config key": {args: []string{"check", "--config", writeFile(t, dir, "typo.yaml", "tag:\n  required: [team]\n"), plan("aws_delete_only.json")}, code: 2, inStderr: []string{`unknown key "tag"`}},
		"waiver no expiry": {args: []string{"check", "--config", writeFile(t, dir, "w.yaml", "waivers:\n  - {rule_id: tags.required, address: '*', reason: r, owner: o}\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"waivers[0].expires: required"}},
		"bad regexp": {args: []string{"check", "--config", writeFile(t, dir, "re.yaml", "tags:\n  allowed_values:\n    env: '^(prod'\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"tags.allowed_values.env: invalid regular expression"}},
		"broken policy": {args: []string{"check", "--policy", writeFile(t, dir, "pol/bad.rego", "package costgate.x\n\ndeny contains msg if {\n\tmsg := nope(1)\n}\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"bad.rego:4:9"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.inStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.inStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestCheckJSONOutAndData(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "costgate.yaml", "tags:\n  required: [team]\n")
	data := writeFile(t, dir, "extra.json", `{"tags": {"required": ["owner"]}, "waivers": [{"rule_id": "tags.required", "address": "aws_s3_bucket.*", "reason": "r", "owner": "o", "expires": "2999-01-01"}]}`)
	out := filepath.Join(dir, "decision.json")
	code, stdout, stderr := runCLI(t, "", "check", "--config", cfg, "--data", data, "--format", "json", "--out", out,
		"--context", "team=payments", plan("aws_instance_lambda_s3.json"))
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	file := mustRead(t, out)
	if file != stdout {
		t.Error("--out file differs from stdout")
	}
	var d costgate.Decision
	if err := json.Unmarshal([]byte(file), &d); err != nil {
		t.Fatal(err)
	}
	var team, owner, waived int
	for _, f := range d.Findings {
		switch {
		case f.Waived:
			waived++
		case strings.Contains(f.Message, `"team"`):
			team++
		case strings.Contains(f.Message, `"owner"`):
			owner++
		}
	}
	// The data file's required list is appended to the config's; its
	// waiver covers the S3 bucket.
	if team == 0 || owner == 0 || waived != 2 {
		t.Errorf("team=%d owner=%d waived=%d: %+v", team, owner, waived, d.Findings)
	}
}

func TestPolicyCommands(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "policy", "test")
	if code != 0 || !strings.Contains(stdout, "PASS") {
		t.Fatalf("policy test: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	writeFile(t, dir, "p/fail_test.rego", "package costgate.mine_test\n\ntest_fails if {\n\t1 == 2\n}\n")
	code, stdout, _ = runCLI(t, "", "policy", "test", "--no-default-policies", filepath.Join(dir, "p"))
	if code != 1 || !strings.Contains(stdout, "FAIL") {
		t.Fatalf("failing test: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = runCLI(t, "", "policy", "input", "--context", "team=web", plan("aws_default_tags_aliased_provider_sqs.json"))
	if code != 0 {
		t.Fatalf("policy input: exit %d: %s", code, stderr)
	}
	var in struct {
		Plan      map[string]any
		Resources []struct {
			Address string
			Tags    map[string]any
		}
		Context map[string]string
	}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatalf("policy input is not JSON: %v", err)
	}
	if in.Plan["format_version"] != "1.2" || len(in.Resources) != 1 || in.Resources[0].Tags["DefaultNotOverride"] != "defaultnotoverride" || in.Context["team"] != "web" {
		t.Errorf("input %+v", in)
	}
	if _, ok := in.Plan["configuration"].(map[string]any); !ok {
		t.Error("input.plan.configuration was not rendered as an object")
	}
}

func TestHelpIsComplete(t *testing.T) {
	code, stdout, _ := runCLI(t, "", "check", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"--config", "--policy", "--no-default-policies", "--data", "--format", "--out", "--tf-dir", "--context", "--fail-on-warn", "--rego-version", "Exit codes"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("check --help does not mention %s", flag)
		}
	}
}

func TestCheckTFDirSources(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "infra/main.tf", "provider \"aws\" {}\n\nresource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n}\n")
	planJSON := `{"format_version":"1.2","resource_changes":[{"address":"aws_sqs_queue.q","mode":"managed","type":"aws_sqs_queue","name":"q",
	 "provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["create"],"before":null,"after":{"name":"q","tags":null,"tags_all":{}},"after_unknown":{}}}]}`
	cfg := writeFile(t, dir, "c.yaml", "tags:\n  required: [team]\n")
	code, stdout, stderr := runCLI(t, planJSON, "check", "--config", cfg, "--format", "github", "--tf-dir", filepath.Join(dir, "infra"), "-")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "file=" + filepath.ToSlash(filepath.Join(dir, "infra", "main.tf")) + ",line=3"
	if !strings.Contains(stdout, want) {
		t.Errorf("annotation lacks %q:\n%s", want, stdout)
	}
}

func TestUnknownConfigKeyListsKnownKeys(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "tagz: {}\n")
	code, _, stderr := runCLI(t, "", "check", "--config", cfg, plan("aws_delete_only.json"))
	if code != 2 || !strings.Contains(stderr, "tags") || !strings.Contains(stderr, "waivers") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestPolicyInputCarriesTheEstimate: `policy input` shows the costs and
// the index `check` gives the policies, and --no-cost leaves costs out.
func TestPolicyInputCarriesTheEstimate(t *testing.T) {
	type doc struct {
		Resources []struct {
			Address string
			Cost    *struct {
				Priced       bool
				MonthlyAfter json.Number `json:"monthly_after"`
			}
		}
		Index struct {
			Changed   []int
			TagJudged []int `json:"tag_judged"`
		}
		Cost *struct {
			MonthlyAfter json.Number `json:"monthly_after"`
		}
	}
	p := plan("aws_instance_lambda_s3.json")
	code, stdout, stderr := runCLI(t, "", "policy", "input", "--no-calibration", p)
	if code != 0 {
		t.Fatalf("policy input: exit %d: %s", code, stderr)
	}
	var in doc
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatal(err)
	}
	if in.Cost == nil || in.Cost.MonthlyAfter == "" || in.Cost.MonthlyAfter == "0" {
		t.Fatalf("input.cost %+v, want the plan's monthly total", in.Cost)
	}
	priced := 0
	for _, r := range in.Resources {
		if r.Cost == nil {
			t.Fatalf("%s has no cost", r.Address)
		}
		if r.Cost.Priced {
			priced++
		}
	}
	if priced == 0 || len(in.Index.Changed) == 0 {
		t.Errorf("%d priced resources, index %+v", priced, in.Index)
	}
	// check --format json reports the same total.
	code, stdout, stderr = runCLI(t, "", "check", "--no-calibration", "--format", "json", p)
	if code > 1 {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	var d struct {
		Cost struct {
			MonthlyAfter json.Number `json:"monthly_after"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.Cost.MonthlyAfter != in.Cost.MonthlyAfter {
		t.Errorf("check's monthly_after %s, policy input's %s", d.Cost.MonthlyAfter, in.Cost.MonthlyAfter)
	}
	code, stdout, stderr = runCLI(t, "", "policy", "input", "--no-cost", p)
	if code != 0 {
		t.Fatalf("policy input --no-cost: exit %d: %s", code, stderr)
	}
	in = doc{}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatal(err)
	}
	if in.Cost != nil || in.Resources[0].Cost != nil {
		t.Errorf("--no-cost: input.cost %+v, resources[0].cost %+v", in.Cost, in.Resources[0].Cost)
	}
}
