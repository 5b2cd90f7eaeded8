package gate

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func parseTestModules(t *testing.T, srcs map[string]string) map[string]*ast.Module {
	t.Helper()
	var files []policyFile
	for name, src := range srcs {
		files = append(files, policyFile{name: name, src: src})
	}
	mods, err := parsePolicies(files, ast.RegoV1)
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

func sortedSet(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// TestPlanOnlyEmbedded: of the embedded packages, those judging plans
// (tags, compute, cost, and the library they share) read only a plan's
// input; the kubernetes ones are judged on admission requests.
func TestPlanOnlyEmbedded(t *testing.T) {
	def, err := defaultPolicies()
	if err != nil {
		t.Fatal(err)
	}
	mods, err := parsePolicies(nonTest(def), ast.RegoV1)
	if err != nil {
		t.Fatal(err)
	}
	got := planOnlyPackages(mods)
	want := []string{
		"costgate.compute.allowed_types", "costgate.cost.budget", "costgate.cost.expensive_resource",
		"costgate.cost.max_monthly_increase", "costgate.cost.unpriced", "costgate.lib",
		"costgate.tags.allowed_values", "costgate.tags.required",
	}
	if !slices.Equal(sortedSet(got), want) {
		t.Errorf("plan-only packages %v\nwant %v", sortedSet(got), want)
	}
}

// TestPlanOnlyAnalysis: a package is left out of admission only when
// everything it reads of the input, itself or through the packages it
// uses, is a plan member; whatever the analysis cannot pin down keeps it
// in.
func TestPlanOnlyAnalysis(t *testing.T) {
	lib := `package costgate.mylib
changed contains r if { some r in input.resources; r.action != "no-op" }
`
	kubelib := `package costgate.kubelib
deployment if input.kubernetes.kind.kind == "Deployment"
`
	tests := map[string]struct {
		src      string
		planOnly bool
	}{
		"plan member":            {`deny contains "x" if count(input.resources) > 100`, true},
		"plan via library":       {"import data.costgate.mylib\ndeny contains r.address if some r in mylib.changed", true},
		"plan via data ref":      {`deny contains "x" if count(data.costgate.mylib.changed) == 0`, true},
		"plan and context":       {`deny contains "x" if { input.context.branch == "main"; input.cost.monthly_delta > 10 }`, true},
		"cost and config":        {`deny contains "x" if input.cost.monthly_delta > data.costgate.config.limit`, true},
		"config with a var key":  {`deny contains k if { some k; data.costgate.config.limits[k]; input.cost.monthly_delta > 1 }`, true},
		"kubernetes":             {`deny contains "x" if input.kubernetes.operation == "CREATE"`, false},
		"kubernetes via library": {"import data.costgate.kubelib\ndeny contains \"x\" if { kubelib.deployment; count(input.resources) > 0 }", false},
		"kubernetes by import":   {"import input.kubernetes as k\ndeny contains \"x\" if { k.operation == \"CREATE\"; count(input.resources) > 0 }", false},
		"input as a whole":       {`deny contains "x" if { count(json.marshal(input)) > 2; input.plan }`, false},
		"computed member":        {`deny contains "x" if { some k in ["resources"]; input[k]; input.plan }`, false},
		"unknown member":         {`deny contains "x" if { input.terraform_version; input.plan }`, false},
		"with input":             {"import data.costgate.mylib\ndeny contains \"x\" if { count(mylib.changed) == 0 with input as {} }", false},
		"all of data":            {`deny contains "x" if { data.costgate[_]; input.plan }`, false},
		"reads no input":         {`deny contains "x" if data.costgate.config.always`, false},
		"context only":           {`deny contains "x" if input.context.branch == "main"`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mods := parseTestModules(t, map[string]string{
				"mylib.rego":   lib,
				"kubelib.rego": kubelib,
				"p.rego":       "package costgate.p\n" + tc.src + "\n",
			})
			got := planOnlyPackages(mods)
			if got["costgate.p"] != tc.planOnly {
				t.Errorf("plan-only %v, want %v (plan-only: %v)", got["costgate.p"], tc.planOnly, sortedSet(got))
			}
			if !got["costgate.mylib"] || got["costgate.kubelib"] {
				t.Errorf("libraries misjudged: %v", sortedSet(got))
			}
		})
	}
}

// TestAdmissionQueryLeavesOutPlanPackages: a plan rule that fires on any
// input without resources judges plans but not admission requests, and
// a kubernetes rule judges both.
func TestAdmissionQueryLeavesOutPlanPackages(t *testing.T) {
	dir := t.TempDir()
	src := `package costgate.custom
import data.costgate.lib
deny contains "the plan changes nothing" if count(lib.changed_resources) == 0
`
	kube := `package costgate.custom_kube
deny contains "no kubernetes object" if not input.kubernetes.object
`
	for name, s := range map[string]string{"custom.rego": src, "kube.rego": kube} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := New(context.Background(), Options{PolicyPaths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	input, err := ast.InterfaceToValue(map[string]any{"kubernetes": map[string]any{"operation": "CREATE"}})
	if err != nil {
		t.Fatal(err)
	}
	rules := func(admission bool) []string {
		d, err := eng.EvaluateValue(context.Background(), input, EvalMeta{Name: "review", Admission: admission})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range d.Findings {
			out = append(out, f.RuleID)
		}
		sort.Strings(out)
		return out
	}
	if got, want := rules(false), []string{"costgate.custom.deny", "costgate.custom_kube.deny"}; !slices.Equal(got, want) {
		t.Errorf("all rule sets: %v, want %v", got, want)
	}
	if got, want := rules(true), []string{"costgate.custom_kube.deny"}; !slices.Equal(got, want) {
		t.Errorf("admission: %v, want %v", got, want)
	}
}

// TestAdmissionPartialEval: the admission query is partially evaluated
// with the data: a rule that reads only data is computed once, rules on
// input still see each request, and a data-only conflict is reported by
// PrepareAdmission instead of on the first request.
func TestAdmissionPartialEval(t *testing.T) {
	write := func(src string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	ok := write(`package costgate.pe
limit := data.costgate.config.pe.limit
deny contains sprintf("%s over %d", [input.kubernetes.name, limit]) if input.kubernetes.replicas > limit
`)
	eng, err := New(context.Background(), Options{PolicyPaths: []string{ok}, Config: map[string]any{"pe": map[string]any{"limit": 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.PrepareAdmission(); err != nil {
		t.Fatal(err)
	}
	for replicas, want := range map[int][]string{2: nil, 5: {"web over 3"}} {
		input, err := ast.InterfaceToValue(map[string]any{"kubernetes": map[string]any{"name": "web", "replicas": replicas}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := eng.EvaluateValue(context.Background(), input, EvalMeta{Name: "review", Admission: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range d.Findings {
			got = append(got, f.Message)
		}
		if !slices.Equal(got, want) {
			t.Errorf("replicas %d: findings %q, want %q", replicas, got, want)
		}
	}

	conflict := write(`package costgate.pe
v := x if x := data.costgate.config.pe.a
v := x if x := data.costgate.config.pe.b
deny contains "v" if { input.kubernetes; v > 0 }
`)
	eng, err = New(context.Background(), Options{PolicyPaths: []string{conflict}, Config: map[string]any{"pe": map[string]any{"a": 1, "b": 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.PrepareAdmission(); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Errorf("PrepareAdmission with conflicting values: %v, want a conflict error", err)
	}
}
