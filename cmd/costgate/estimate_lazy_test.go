package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/internal/plangen"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/estimators"
)

// resolveAll decodes every raw plan value of a resource's maps, as a
// reader that decodes whole resources would give them.
func resolveAll(v any) any {
	switch x := pricing.Value(v).(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolveAll(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveAll(e)
		}
		return out
	default:
		return x
	}
}

func fullyDecoded(rs []costgate.PlannedResource) {
	for i := range rs {
		for _, m := range []*map[string]any{&rs[i].Before, &rs[i].After, &rs[i].AfterUnknown} {
			if *m != nil {
				*m = resolveAll(*m).(map[string]any)
			}
		}
	}
}

// The estimate check computes from raw attribute values, with references
// collected only for the types the estimators follow and only identity
// attributes for the types whose estimators read no values, equals the estimate
// from fully decoded values and every reference, on every fixture plan
// and on a generated plan with every priced type.
func TestLazyPlanValuesSameEstimates(t *testing.T) {
	var plans []string
	for _, glob := range []string{"../../testdata/plans/*.json", "../../testdata/infracost/*/*.json"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, m...)
	}
	if len(plans) < 40 {
		t.Fatalf("only %d fixture plans found", len(plans))
	}
	reg := estimators.Registry()
	need := func(r *gate.Resource) bool { return r.Mode != "data" && reg.NeedsValues(r.Type) }
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	est := estimators.New(pricing.Default(), pricing.Options{Now: func() time.Time { return now }})
	compared, withRefs := 0, 0
	check := func(name string, data []byte) {
		plan, err := gate.ParsePlan(data, name)
		if err != nil {
			return // negative fixtures and non-plans
		}
		in := gate.BuildInput(plan, gate.InputOptions{})
		lazy, err := plannedResources(in, need)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		full, err := plannedResourcesFor(in, need, nil, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fullyDecoded(full)
		for _, r := range full {
			if len(r.References) > 0 {
				withRefs++
				break
			}
		}
		a, errA := est.Estimate(t.Context(), lazy)
		b, errB := est.Estimate(t.Context(), full)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%s: errors differ: %v / %v", name, errA, errB)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: estimates differ\nlazy: %s\nfull: %s", name, ja, jb)
		}
		compared++
	}
	for _, p := range plans {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(strings.TrimPrefix(p, "../../"), data)
	}
	var buf strings.Builder
	if err := plangen.Write(&buf, plangen.Options{Resources: 3000, Seed: 7, UntaggedPercent: 5}); err != nil {
		t.Fatal(err)
	}
	check("plangen", []byte(buf.String()))
	if compared < 40 || withRefs < 3 {
		t.Fatalf("compared %d plans, %d with references followed: the fixtures no longer cover the paths", compared, withRefs)
	}
	t.Logf("%d plans compared, %d with references", compared, withRefs)
}
