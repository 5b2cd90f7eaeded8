package decisionlog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
)

var t0 = time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)

func decision(outcome costgate.Outcome, findings ...costgate.Finding) *costgate.Decision {
	return &costgate.Decision{
		Version: 1, Decision: outcome, Findings: findings,
		PolicyRevision: "sha256:rev", InputSHA256: "abc123",
	}
}

// fixture appends a known set of records and returns them.
func fixture(tb testing.TB, l decisionlog.Log) []decisionlog.Record {
	tb.Helper()
	w := &costgate.Waiver{RuleID: "tags.required", Address: "module.legacy.*", Reason: "migrating", Owner: "ops@example.com", Expires: costgate.Date{Time: t0.AddDate(0, 1, 0).Truncate(24 * time.Hour)}}
	recs := []decisionlog.Record{
		decisionlog.NewRecord(t0, decisionlog.SurfaceCLI, map[string]string{"team": "payments", "repository": "acme/infra"},
			decision(costgate.OutcomeDeny,
				costgate.Finding{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "aws_s3_bucket.a", Message: "missing team"},
				costgate.Finding{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "module.legacy.aws_s3_bucket.b", Message: "missing team", Waived: true, Waiver: w},
			)),
		decisionlog.NewRecord(t0.Add(time.Hour), decisionlog.SurfaceAPI, map[string]string{"team": "search"},
			decision(costgate.OutcomeWarn, costgate.Finding{RuleID: "compute.allowed_types", Severity: costgate.SeverityWarn, Address: "aws_instance.x", Message: "big"})),
		decisionlog.NewRecord(t0.Add(2*time.Hour), decisionlog.SurfaceAdmission, map[string]string{"team": "payments", "namespace": "pay"},
			decision(costgate.OutcomeAllow)),
		decisionlog.NewRecord(t0.Add(3*time.Hour), decisionlog.SurfaceRunTask, map[string]string{"workspace": "prod"},
			decision(costgate.OutcomeDeny, costgate.Finding{RuleID: "kubernetes.max_monthly_cost", Severity: costgate.SeverityDeny, Message: "too dear"})),
	}
	recs[3].Cost = &costgate.CostTotals{Currency: "USD", MonthlyAfter: costgate.MustMoney("1234.567890123"), MonthlyDelta: costgate.MustMoney("-0.000000001"), Unpriced: []string{"x"}}
	recs[3].PriceSnapshot = "snap-2026-10"
	recs[3].Resources = estimates()
	for i := range recs {
		id, err := l.Append(context.Background(), recs[i])
		if err != nil {
			tb.Fatalf("append %d: %v", i, err)
		}
		recs[i].ID = id
	}
	return recs
}

// estimates are per-resource estimates with every field set, amounts that
// a float would not keep exactly, and one resource with nothing known but
// its address.
func estimates() []costgate.EstimatedResource {
	return []costgate.EstimatedResource{
		{Address: "module.db.aws_db_instance.main[0]", Type: "aws_db_instance", Action: costgate.ActionUpdate,
			Provider: "registry.terraform.io/hashicorp/aws", Region: "eu-west-1", Account: "123456789012",
			Monthly: costgate.MustMoney("1234.567890123"), IDs: []string{"arn:aws:rds:eu-west-1:123456789012:db:main", "main"},
			Tags: map[string]string{"team": "payments", "Name": "main db", "quote\"": "ü"}},
		{Address: `aws_instance.web["a"]`, Type: "aws_instance", Action: costgate.ActionCreate,
			Provider: "registry.terraform.io/hashicorp/aws", Monthly: costgate.Money(9_223_372_036_854_775_807)},
		{Address: "google_compute_instance.vm", Type: "google_compute_instance", Action: costgate.ActionNoOp,
			Monthly: costgate.MustMoney("-0.000000001"), IDs: []string{"https://www.googleapis.com/compute/v1/projects/p/zones/europe-west1-b/instances/vm"}},
	}
}

// manyEstimates are more resources than one INSERT batch holds.
func manyEstimates(n int) []costgate.EstimatedResource {
	out := make([]costgate.EstimatedResource, n)
	for i := range out {
		out[i] = costgate.EstimatedResource{Address: fmt.Sprintf("aws_instance.n[%d]", i), Type: "aws_instance", Action: costgate.ActionCreate,
			Monthly: costgate.Money(int64(i)*1_000_000_007 + 1), Tags: map[string]string{"i": fmt.Sprint(i)}}
	}
	return out
}

func ids(rs []decisionlog.Record) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// testLog is the conformance suite every driver passes.
func testLog(t *testing.T, open func(tb testing.TB) decisionlog.Log) {
	ctx := context.Background()
	l := open(t)
	recs := fixture(t, l)
	byID := map[int64]decisionlog.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	tests := map[string]struct {
		f    decisionlog.Filter
		want []int
	}{
		"all newest first":  {decisionlog.Filter{}, []int{3, 2, 1, 0}},
		"since":             {decisionlog.Filter{Since: t0.Add(time.Hour)}, []int{3, 2, 1}},
		"until exclusive":   {decisionlog.Filter{Until: t0.Add(time.Hour)}, []int{0}},
		"decision deny":     {decisionlog.Filter{Decision: costgate.OutcomeDeny}, []int{3, 0}},
		"surface admission": {decisionlog.Filter{Surface: decisionlog.SurfaceAdmission}, []int{2}},
		"team":              {decisionlog.Filter{Team: "payments"}, []int{2, 0}},
		"rule":              {decisionlog.Filter{Rule: "tags.required"}, []int{0}},
		"rule and decision": {decisionlog.Filter{Rule: "kubernetes.max_monthly_cost", Decision: costgate.OutcomeDeny}, []int{3}},
		"no match":          {decisionlog.Filter{Rule: "nope"}, []int{}},
		"limit":             {decisionlog.Filter{Limit: 2}, []int{3, 2}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := l.Query(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			want := []int64{}
			for _, i := range tc.want {
				want = append(want, recs[i].ID)
			}
			if g := ids(got); len(g) != len(want) || (len(g) > 0 && g[0] != want[0]) || !equalIDs(g, want) {
				t.Fatalf("ids %v, want %v", g, want)
			}
		})
	}
	t.Run("round trip", func(t *testing.T) {
		got, err := l.Query(ctx, decisionlog.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			w := byID[g.ID]
			if !g.Time.Equal(w.Time) || g.Surface != w.Surface || g.Team != w.Team || g.Decision != w.Decision ||
				g.InputSHA256 != w.InputSHA256 || g.PolicyRevision != w.PolicyRevision || g.PriceSnapshot != w.PriceSnapshot {
				t.Errorf("record %d: got %+v, want %+v", g.ID, g, w)
			}
			if len(g.Findings) != len(w.Findings) || len(g.WaiversUsed) != len(w.WaiversUsed) || len(g.Context) != len(w.Context) {
				t.Errorf("record %d: findings/waivers/context differ: %+v vs %+v", g.ID, g, w)
			}
			if (g.Cost == nil) != (w.Cost == nil) {
				t.Errorf("record %d: cost %v, want %v", g.ID, g.Cost, w.Cost)
			} else if g.Cost != nil && (g.Cost.MonthlyAfter != w.Cost.MonthlyAfter || g.Cost.MonthlyDelta != w.Cost.MonthlyDelta) {
				t.Errorf("record %d: cost not exact: %+v, want %+v", g.ID, g.Cost, w.Cost)
			}
		}
		first := byID[recs[0].ID]
		if len(first.WaiversUsed) != 1 || first.WaiversUsed[0].Owner != "ops@example.com" {
			t.Errorf("waivers used: %+v", first.WaiversUsed)
		}
	})
	t.Run("resources", func(t *testing.T) {
		got, err := l.Query(ctx, decisionlog.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if g.Resources != nil {
				t.Errorf("record %d: resources read without Filter.Resources: %+v", g.ID, g.Resources)
			}
		}
		got, err = l.Query(ctx, decisionlog.Filter{Resources: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if want := byID[g.ID].Resources; !reflect.DeepEqual(g.Resources, want) {
				t.Errorf("record %d: resources\n got %+v\nwant %+v", g.ID, g.Resources, want)
			}
		}
		// More rows than one INSERT batch, and paging that keeps them.
		big := decisionlog.NewRecord(t0.Add(5*time.Hour), decisionlog.SurfaceAPI, map[string]string{"team": "big"}, decision(costgate.OutcomeAllow))
		big.Resources = manyEstimates(1234)
		if big.ID, err = l.Append(ctx, big); err != nil {
			t.Fatal(err)
		}
		got, err = l.Query(ctx, decisionlog.Filter{Team: "big", Resources: true})
		if err != nil || len(got) != 1 {
			t.Fatalf("big: %d records, err %v", len(got), err)
		}
		if !reflect.DeepEqual(got[0].Resources, big.Resources) {
			t.Errorf("big: %d resources back, want %d in order", len(got[0].Resources), len(big.Resources))
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		if _, err := l.Query(ctx, decisionlog.Filter{Decision: "maybe"}); err == nil {
			t.Fatal("no error for a bad decision")
		}
	})
	t.Run("concurrent appends", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := decisionlog.NewRecord(t0.Add(time.Duration(10+i)*time.Hour), decisionlog.SurfaceAPI, map[string]string{"team": "load"}, decision(costgate.OutcomeAllow))
				_, err := l.Append(ctx, r)
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := l.Query(ctx, decisionlog.Filter{Team: "load"})
		if err != nil || len(got) != 20 {
			t.Fatalf("got %d records, err %v; want 20", len(got), err)
		}
	})
	if err := l.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Query(ctx, decisionlog.Filter{}); err == nil {
		t.Fatal("query after close: no error")
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	testLog(t, func(tb testing.TB) decisionlog.Log {
		l, err := decisionlog.Open(context.Background(), filepath.Join(dir, "sub", "decisions.db"))
		if err != nil {
			tb.Fatal(err)
		}
		return l
	})
}

// TestSQLiteReopen closes the log, opens it again and finds the records.
func TestSQLiteReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	l, err := decisionlog.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	recs := fixture(t, l)
	l.Close()
	l2, err := decisionlog.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	got, err := l2.Query(ctx, decisionlog.Filter{})
	if err != nil || len(got) != len(recs) {
		t.Fatalf("after reopen: %d records, err %v", len(got), err)
	}
	if l2.Driver() != "sqlite" {
		t.Fatalf("driver %q", l2.Driver())
	}
}

func TestSQLiteUnwritable(t *testing.T) {
	// A path under a regular file fails even for root.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := decisionlog.Open(context.Background(), filepath.Join(f, "d.db")); err == nil {
		t.Fatal("no error for a path under a file")
	}
}

func TestRedact(t *testing.T) {
	got := decisionlog.Redact("postgres://costgate:s3cret@db:5432/costgate?sslmode=disable")
	if got != "postgres://costgate:xxxxx@db:5432/costgate?sslmode=disable" {
		t.Fatal(got)
	}
	if decisionlog.Redact("/var/lib/d.db") != "/var/lib/d.db" {
		t.Fatal("path changed")
	}
}
