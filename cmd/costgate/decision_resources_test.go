package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/estimators"
)

// Values Terraform marks sensitive never reach the decision log's
// per-resource records: a sensitive tag is dropped, a tag map marked
// sensitive as a whole keeps nothing, a sensitive id is not used.
func TestEstimatedResourcesDropSensitive(t *testing.T) {
	const addr = "module.db.module.db_1.module.db_instance.aws_db_instance.this[0]"
	raw, err := os.ReadFile("../../testdata/plans/aws_tf014_modules_rds_ec2_mixed_actions.json")
	if err != nil {
		t.Fatal(err)
	}
	records := func(mark func(change map[string]any)) costgate.EstimatedResource {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, rc := range doc["resource_changes"].([]any) {
			rc := rc.(map[string]any)
			if rc["address"] == addr && mark != nil {
				mark(rc["change"].(map[string]any))
			}
		}
		data, _ := json.Marshal(doc)
		plan, err := gate.ParsePlan(data, "plan.json")
		if err != nil {
			t.Fatal(err)
		}
		in := gate.BuildInput(plan, gate.InputOptions{})
		reg := estimators.Registry()
		planned, err := plannedResources(in, func(r *gate.Resource) bool { return r.Mode != "data" && reg.NeedsValues(r.Type) })
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		est, err := estimators.New(pricing.Default(), pricing.Options{Now: func() time.Time { return now }}).Estimate(t.Context(), planned)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range estimatedResources(in, planned, est) {
			if e.Address == addr {
				return e
			}
		}
		t.Fatalf("%s has no record", addr)
		return costgate.EstimatedResource{}
	}

	plain := records(nil)
	if plain.Tags["Owner"] == "" || plain.Tags["Name"] == "" || len(plain.IDs) == 0 {
		t.Fatalf("unmarked plan: tags %v ids %v; the fixture no longer has what the test needs", plain.Tags, plain.IDs)
	}
	id := plain.IDs[0]

	marked := records(func(c map[string]any) {
		c["after_sensitive"] = map[string]any{"tags": map[string]any{"Owner": true}, "tags_all": map[string]any{"Owner": true}}
		c["before_sensitive"] = map[string]any{"id": true, "arn": true, "tags": map[string]any{"Owner": true}}
	})
	if _, ok := marked.Tags["Owner"]; ok {
		t.Errorf("sensitive tag Owner kept: %v", marked.Tags)
	}
	if marked.Tags["Name"] != plain.Tags["Name"] {
		t.Errorf("tag Name lost: %v", marked.Tags)
	}
	// The after side still knows the id (an update keeps it), unmarked.
	if !slices.Contains(marked.IDs, id) {
		t.Errorf("id %s known on the unmarked after side was dropped: %v", id, marked.IDs)
	}

	whole := records(func(c map[string]any) {
		c["after_sensitive"] = map[string]any{"tags": true, "tags_all": true, "id": true, "arn": true}
		c["before_sensitive"] = map[string]any{"id": true, "arn": true}
	})
	if len(whole.Tags) != 0 {
		t.Errorf("tags marked sensitive as a whole kept: %v", whole.Tags)
	}
	if len(whole.IDs) != 0 {
		t.Errorf("sensitive ids kept: %v", whole.IDs)
	}
}
