package gate

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/costgate/costgate/policies"
)

// TestIndexMatchesLibrary checks input.index against the library's own
// definitions: on every fixture plan, lib.changed_resources,
// lib.tag_judged_resources and lib.tag_blank_resources read through the
// index equal what the
// library's filters select from input.resources when the index is absent
// (a hand-written input), and the positions are the right ones.
func TestIndexMatchesLibrary(t *testing.T) {
	ctx := context.Background()
	src, err := policies.Files()
	if err != nil {
		t.Fatal(err)
	}
	lib := src["lib/costgate.rego"]
	if lib == "" {
		t.Fatal("lib/costgate.rego not in the embedded library")
	}
	pq, err := rego.New(
		rego.Query("changed = data.costgate.lib.changed_resources; judged = data.costgate.lib.tag_judged_resources; blank = data.costgate.lib.tag_blank_resources"),
		rego.Module("lib/costgate.rego", lib),
	).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eval := func(t *testing.T, input ast.Value) (changed, judged, blank []any) {
		t.Helper()
		rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil || len(rs) != 1 {
			t.Fatalf("eval: %v (%d results)", err, len(rs))
		}
		changed, _ = rs[0].Bindings["changed"].([]any)
		judged, _ = rs[0].Bindings["judged"].([]any)
		blank, _ = rs[0].Bindings["blank"].([]any)
		return changed, judged, blank
	}
	addresses := func(rs []any) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i], _ = r.(map[string]any)["address"].(string)
		}
		return out
	}
	// Beside the fixtures, one plan with every kind of resource the
	// selections leave out: a data source, a delete, a no-op, a resource
	// that cannot be tagged and one whose tags are wholly unknown.
	mixed, err := ParsePlan([]byte(`{"format_version":"1.2","resource_changes":[
	  {"address":"aws_s3_bucket.a","mode":"managed","type":"aws_s3_bucket","name":"a","change":{"actions":["create"],"before":null,"after":{"tags":{"team":"x"}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.unknown","mode":"managed","type":"aws_s3_bucket","name":"unknown","change":{"actions":["create"],"before":null,"after":{},"after_unknown":{"tags":true,"tags_all":true}}},
	  {"address":"aws_iam_role_policy.p","mode":"managed","type":"aws_iam_role_policy","name":"p","change":{"actions":["update"],"before":{},"after":{"policy":"{}"},"after_unknown":{}}},
	  {"address":"aws_instance.gone","mode":"managed","type":"aws_instance","name":"gone","change":{"actions":["delete"],"before":{"tags":{}},"after":null}},
	  {"address":"aws_instance.same","mode":"managed","type":"aws_instance","name":"same","change":{"actions":["no-op"],"before":{"tags":{}},"after":{"tags":{}}}},
	  {"address":"data.aws_ami.x","mode":"data","type":"aws_ami","name":"x","change":{"actions":["read"],"before":null,"after":{"tags":{}}}},
	  {"address":"aws_instance.r","mode":"managed","type":"aws_instance","name":"r","change":{"actions":["delete","create"],"before":{"tags":{}},"after":{"tags":{"team":"y"}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.blank","mode":"managed","type":"aws_s3_bucket","name":"blank","change":{"actions":["create"],"before":null,"after":{"tags":{"team":" \t"}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.empty","mode":"managed","type":"aws_s3_bucket","name":"empty","change":{"actions":["create"],"before":null,"after":{"tags":{"team":"x","env":""}},"after_unknown":{}}},
	  {"address":"aws_s3_bucket.later","mode":"managed","type":"aws_s3_bucket","name":"later","change":{"actions":["create"],"before":null,"after":{"tags":{"team":null}},"after_unknown":{"tags":{"team":true}}}},
	  {"address":"aws_s3_bucket.nbsp","mode":"managed","type":"aws_s3_bucket","name":"nbsp","change":{"actions":["create"],"before":null,"after":{"tags":{"team":"\u00a0"}},"after_unknown":{}}},
	  {"address":"aws_instance.gone_blank","mode":"managed","type":"aws_instance","name":"gone_blank","change":{"actions":["delete"],"before":{"tags":{"team":""}},"after":null}}
	]}`), "mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	if x := BuildInput(mixed, InputOptions{}).Index(); !slices.Equal(x.Changed, []int{0, 1, 2, 6, 7, 8, 9, 10}) ||
		!slices.Equal(x.TagJudged, []int{0, 6, 7, 8, 9, 10}) || !slices.Equal(x.TagBlank, []int{7, 8, 10}) {
		t.Fatalf("mixed plan index %+v, want changed [0 1 2 6 7 8 9 10], tag_judged [0 6 7 8 9 10], tag_blank [7 8 10]", x)
	}
	plans := map[string]*Plan{"mixed": mixed}
	for _, path := range fixturePlans(t) {
		plans[filepath.Base(path)] = loadFixture(t, filepath.Base(path))
	}
	var sawChanged, sawSkipped, sawBlank bool
	for name, plan := range plans {
		t.Run(name, func(t *testing.T) {
			in := BuildInput(plan, InputOptions{})
			v, err := in.Value()
			if err != nil {
				t.Fatal(err)
			}
			root := v.(ast.Object)
			if root.Get(ast.StringTerm("index")) == nil {
				t.Fatal("input has no index")
			}
			without, err := root.Filter(ast.NewObject(
				[2]*ast.Term{ast.StringTerm("resources"), ast.NullTerm()},
			))
			if err != nil {
				t.Fatal(err)
			}
			gotC, gotJ, gotB := eval(t, root)
			wantC, wantJ, wantB := eval(t, without)
			if !slices.Equal(addresses(gotC), addresses(wantC)) || !slices.Equal(addresses(gotJ), addresses(wantJ)) || !slices.Equal(addresses(gotB), addresses(wantB)) {
				t.Fatalf("through the index: changed %v judged %v blank %v\nfiltered in Rego: changed %v judged %v blank %v",
					addresses(gotC), addresses(gotJ), addresses(gotB), addresses(wantC), addresses(wantJ), addresses(wantB))
			}
			sawBlank = sawBlank || len(wantB) > 0
			x := in.Index()
			for k, i := range x.Changed {
				if in.Resources[i].Address != addresses(wantC)[k] {
					t.Errorf("index.changed[%d] = %d (%s), want %s", k, i, in.Resources[i].Address, addresses(wantC)[k])
				}
			}
			sawChanged = sawChanged || len(x.Changed) > 0
			sawSkipped = sawSkipped || len(x.Changed) < len(in.Resources) || len(x.TagJudged) < len(x.Changed)
		})
	}
	if !sawBlank {
		t.Error("no plan had a blank tag: the tag_blank comparison compared nothing")
	}
	if !sawChanged || !sawSkipped {
		t.Errorf("the fixtures should have resources the index lists and resources it leaves out (listed %v, left out %v)", sawChanged, sawSkipped)
	}
}

func TestCanonicalInt(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "7": true, "-3": true, "120": true, "007": false, "+5": false, "-0": false, "": false, "-": false} {
		if got := canonicalInt(s); got != want {
			t.Errorf("canonicalInt(%q) = %v, want %v", s, got, want)
		}
	}
}
