package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

func testResources(n int, source string) []costgate.Resource {
	seen := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var rs []costgate.Resource
	for i := 0; i < n; i++ {
		r := costgate.Resource{
			Provider:  "AWS",
			AccountID: fmt.Sprintf("acct-%d", i%3),
			Region:    []string{"us-east-1", "eu-west-1"}[i%2],
			ID:        fmt.Sprintf("i-%05d", i),
			Type:      []string{"aws_instance", "aws_s3_bucket", "aws_db_instance"}[i%3],
			Name:      fmt.Sprintf("res-%d", i),
			FirstSeen: seen.AddDate(0, 0, -i%30),
			LastSeen:  seen.Add(time.Duration(i) * time.Minute),
			Source:    source,
		}
		if i%5 != 0 {
			r.Tags = map[string]string{"team": fmt.Sprintf("team-%d", i%4)}
		}
		if i%7 == 0 {
			if r.Tags == nil {
				r.Tags = map[string]string{}
			}
			r.Tags["env"] = "prod"
		}
		rs = append(rs, r)
	}
	return rs
}

func TestInventory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	want := testResources(500, "tagging-api")
	if _, err := s.ReplaceInventory(ctx, "tagging-api", want, "e1", "h1"); err != nil {
		t.Fatal(err)
	}
	other := testResources(50, "tfstate")
	if _, err := s.ReplaceInventory(ctx, "tfstate", other, "e1", "h1"); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.ReplaceInventory(ctx, "tfstate", other, "e1", "h1"); err != nil || changed {
		t.Fatalf("same hash: changed=%v err=%v", changed, err)
	}
	check := func() {
		t.Helper()
		tests := map[string]struct {
			filters []Filter
			keep    func(r *costgate.Resource) bool
		}{
			"all":        {nil, func(*costgate.Resource) bool { return true }},
			"by account": {[]Filter{Eq("AccountId", "acct-1")}, func(r *costgate.Resource) bool { return r.AccountID == "acct-1" }},
			"by type and source": {[]Filter{Eq("ResourceType", "aws_instance"), Eq("Source", "tagging-api")},
				func(r *costgate.Resource) bool { return r.Type == "aws_instance" && r.Source == "tagging-api" }},
			"by tag": {[]Filter{Eq("tag:team", "team-2")}, func(r *costgate.Resource) bool { return r.Tags["team"] == "team-2" }},
			"untagged": {[]Filter{TagAbsent("team")}, func(r *costgate.Resource) bool {
				_, ok := r.Tags["team"]
				return !ok
			}},
			"by id": {[]Filter{In("ResourceId", "i-00007", "i-00042", "nope")}, func(r *costgate.Resource) bool {
				return r.ID == "i-00007" || r.ID == "i-00042"
			}},
		}
		for name, tc := range tests {
			got, err := s.Resources(ctx, tc.filters...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var exp []costgate.Resource
			for _, r := range append(slices.Clone(want), other...) {
				if tc.keep(&r) {
					exp = append(exp, r)
				}
			}
			if d := diffResources(got, exp); d != "" {
				t.Errorf("%s: %s", name, d)
			}
		}
		res, err := s.QueryInventory(ctx, Query{GroupBy: []string{"AccountId"}, Filters: []Filter{TagAbsent("team")}})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int64{}
		for _, r := range append(slices.Clone(want), other...) {
			if _, ok := r.Tags["team"]; !ok {
				counts[r.AccountID]++
			}
		}
		for _, row := range res.Rows {
			if row.Count != counts[row.Keys[0]] || row.Values[0] != costgate.SumUnits(row.Count) {
				t.Errorf("untagged in %s: %d, want %d", row.Keys[0], row.Count, counts[row.Keys[0]])
			}
		}
		if len(res.Rows) != len(counts) {
			t.Errorf("%d accounts, want %d", len(res.Rows), len(counts))
		}
		if _, err := s.QueryInventory(ctx, Query{Measures: []Measure{EffectiveCost}}); err == nil {
			t.Error("inventory query with a cost measure: no error")
		}
	}
	check()
	// Line-item queries do not see inventory rows.
	if r, err := s.Query(ctx, Query{Measures: []Measure{Count}}); err != nil || r.Rows[0].Count != 0 {
		t.Fatalf("line items: %+v %v", r, err)
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	check()
}

func diffResources(got, want []costgate.Resource) string {
	key := func(r costgate.Resource) string { return fmt.Sprintf("%+v", r) }
	g, w := make([]string, len(got)), make([]string, len(want))
	for i := range got {
		g[i] = key(got[i])
	}
	for i := range want {
		w[i] = key(want[i])
	}
	slices.Sort(g)
	slices.Sort(w)
	if len(g) != len(w) {
		return fmt.Sprintf("%d resources, want %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			return fmt.Sprintf("got %s\nwant %s", g[i], w[i])
		}
	}
	return ""
}
