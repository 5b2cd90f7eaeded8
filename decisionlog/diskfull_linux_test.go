package decisionlog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/internal/testdisk"
)

// TestSQLiteFullDisk: on a full disk (a real tmpfs) appending fails with
// an error that says so and how to fix it, the records already there
// stay readable and whole, and appends work again once there is room.
func TestSQLiteFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := testdisk.Small(t, 4<<20)
	l, err := decisionlog.Open(ctx, filepath.Join(dir, "decisions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	recs := fixture(t, l)
	// A record too big for what is left: every finding a long message.
	var fs []costgate.Finding
	for i := range 2000 {
		fs = append(fs, costgate.Finding{RuleID: "tags.required", Severity: costgate.SeverityDeny,
			Address: "aws_s3_bucket.b" + strings.Repeat("x", i%50), Message: strings.Repeat("missing tag team; ", 20)})
	}
	big := decisionlog.NewRecord(t0.Add(5*time.Hour), decisionlog.SurfaceAPI, map[string]string{"team": "payments"}, decision(costgate.OutcomeDeny, fs...))
	filler := testdisk.Fill(t, dir, 0)
	_, err = l.Append(ctx, big)
	if err == nil {
		t.Fatal("append on a full disk: no error")
	}
	for _, want := range []string{"full", "free space"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("append on a full disk: %q lacks %q", err, want)
		}
	}
	got, err := l.Query(ctx, decisionlog.Filter{})
	if err != nil || len(got) != len(recs) {
		t.Fatalf("after the failed append: %d records, %v; want the %d before", len(got), err, len(recs))
	}
	os.Remove(filler)
	id, err := l.Append(ctx, big)
	if err != nil {
		t.Fatalf("append with room again: %v", err)
	}
	got, err = l.Query(ctx, decisionlog.Filter{})
	if err != nil || len(got) != len(recs)+1 || got[0].ID != id || len(got[0].Findings) != len(fs) {
		t.Fatalf("after the append: %d records (newest %d with %d findings), %v", len(got), got[0].ID, len(got[0].Findings), err)
	}
}
