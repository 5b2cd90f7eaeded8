package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/testdisk"
)

// TestReplaceOnFullDisk: a replace that runs out of disk space, at any
// point of its writes (the segment, its sync, the manifest), fails with
// ENOSPC, names the file it was writing and says how to fix it; the
// partition keeps its old rows, the store stays consistent and open, no
// file is left behind, and once there is room the same replace succeeds.
func TestReplaceOnFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := testdisk.Small(t, 8<<20)
	s, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	cfg := smallConfig(3)
	parts := cfg.partitions()
	p, other := parts[0], parts[1]
	for _, q := range []costgate.Partition{p, other} {
		if _, err := s.Replace(ctx, q, cfg.generate(q, 0), "v0", "h0-"+q.String()); err != nil {
			t.Fatal(err)
		}
	}
	total := func(q costgate.Partition) costgate.Sum {
		t.Helper()
		r, err := s.Query(ctx, Query{Measures: []Measure{BilledCost},
			Filters: []Filter{Eq("BillingAccountId", q.BillingAccountID), Eq(colMonth, q.BillingPeriod.String())}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Rows[0].Values[0]
	}
	sum := func(rows []costgate.LineItem) costgate.Sum {
		var s costgate.Sum
		for _, r := range rows {
			s.Add(r.BilledCost)
		}
		return s
	}
	v0, otherV0 := total(p), total(other)
	rows := cfg.generate(p, 1)
	v1 := sum(rows)
	if v0 == v1 {
		t.Fatal("versions 0 and 1 have the same total: the test could not tell them apart")
	}
	seg := s.Partitions()[0].Bytes
	// Free space from none to more than a segment, page by page near its
	// size, so that the replace fails at each of its writes (the
	// segment, then the manifest once the segment fits) until it has room.
	steps := []int64{0, 4 << 10, seg / 4, seg / 2}
	for free := seg - 16<<10; free < seg+64<<10; free += 4 << 10 {
		steps = append(steps, free)
	}
	failed, manifestFull := 0, false
	for _, free := range steps {
		filler := testdisk.Fill(t, dir, free)
		_, err := s.Replace(ctx, p, rows, "v1", fmt.Sprintf("h1-%d", free))
		os.Remove(filler)
		if err == nil {
			if got := total(p); got != v1 {
				t.Fatalf("free %d: replace succeeded but the total is %s, want %s", free, got, v1)
			}
			break
		}
		failed++
		manifestFull = manifestFull || strings.Contains(err.Error(), "manifest")
		msg := err.Error()
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(msg, dir) || !strings.Contains(msg, "free") {
			t.Fatalf("free %d: error %q; want ENOSPC naming the file under %s and the fix", free, msg, dir)
		}
		if got := total(p); got != v0 {
			t.Fatalf("free %d: after the failed replace the total is %s, want the old %s", free, got, v0)
		}
		if got := total(other); got != otherV0 {
			t.Fatalf("free %d: another partition changed: %s, want %s", free, got, otherV0)
		}
		assertOnlyLive(t, s, dir)
	}
	if failed < 3 || !manifestFull {
		t.Fatalf("%d replaces ran out of space, manifest write among them: %v; the free-space steps no longer reach each write", failed, manifestFull)
	}
	if total(p) != v1 {
		// The last step has room for the whole segment.
		t.Fatalf("with room to spare the replace still failed; total %s", total(p))
	}
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir, Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if total(p) != v1 || total(other) != otherV0 {
		t.Fatalf("after reopen: %s and %s, want %s and %s", total(p), total(other), v1, otherV0)
	}
	assertOnlyLive(t, s, dir)
}

// TestTxnOnFullDisk: a transaction whose second partition runs out of
// space is aborted and changes nothing; one whose commit (the manifest)
// runs out of space changes nothing and leaves no segment behind.
func TestTxnOnFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := testdisk.Small(t, 8<<20)
	s, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := smallConfig(5)
	parts := cfg.partitions()
	a, b := parts[0], parts[1]
	for _, p := range []costgate.Partition{a, b} {
		if _, err := s.Replace(ctx, p, cfg.generate(p, 0), "v0", "h0"+p.String()); err != nil {
			t.Fatal(err)
		}
	}
	oldA, oldB := partitionTotal(t, s, a), partitionTotal(t, s, b)
	unchanged := func(what string) {
		t.Helper()
		if partitionTotal(t, s, a) != oldA || partitionTotal(t, s, b) != oldB {
			t.Fatalf("%s: the store changed", what)
		}
		assertOnlyLive(t, s, dir)
	}

	// The second replace fails: the caller aborts.
	tx := s.Begin()
	if _, err := tx.Replace(ctx, a, cfg.generate(a, 1), "v1", "h1a"); err != nil {
		t.Fatal(err)
	}
	filler := testdisk.Fill(t, dir, 0)
	_, err = tx.Replace(ctx, b, cfg.generate(b, 1), "v1", "h1b")
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "free space") {
		t.Fatalf("replace on a full disk: %v", err)
	}
	tx.Abort()
	os.Remove(filler)
	unchanged("aborted after a failed replace")

	// Both staged, then the disk fills: the commit's manifest fails.
	tx = s.Begin()
	for _, p := range []costgate.Partition{a, b} {
		if _, err := tx.Replace(ctx, p, cfg.generate(p, 1), "v1", "h1"+p.String()); err != nil {
			t.Fatal(err)
		}
	}
	filler = testdisk.Fill(t, dir, 0)
	n, err := tx.Commit(ctx)
	os.Remove(filler)
	if n != 0 || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "manifest") || !strings.Contains(err.Error(), "free space") {
		t.Fatalf("commit on a full disk: %d, %v", n, err)
	}
	unchanged("failed commit")

	// With room, the same transaction goes through.
	tx = s.Begin()
	for _, p := range []costgate.Partition{a, b} {
		if _, err := tx.Replace(ctx, p, cfg.generate(p, 1), "v1", "h1"+p.String()); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := tx.Commit(ctx); n != 2 || err != nil {
		t.Fatalf("commit with room: %d, %v", n, err)
	}
	if partitionTotal(t, s, a) != rowsTotal(cfg.generate(a, 1)) || partitionTotal(t, s, b) != rowsTotal(cfg.generate(b, 1)) {
		t.Fatal("the committed transaction did not replace both partitions")
	}
	assertOnlyLive(t, s, dir)
}
