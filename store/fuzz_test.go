package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/costgate/costgate"
)

// segmentBytes builds a small segment and returns its bytes.
func segmentBytes(tb testing.TB, rows []costgate.LineItem) []byte {
	tb.Helper()
	t, err := build(lineItemSpec(rows))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "seed.seg")
	p, err := writeSegment(path, t, true)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.sync(true); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// querySegment runs q on one segment the way a snapshot would. gds holds
// the global dictionary of each grouped column: a segment column keeps
// the remap into the first one it met, as a store's do.
func querySegment(seg *segment, q Query, gds map[string]*globalDict) (*Result, error) {
	q, err := lineItemTable.normalize(q)
	if err != nil {
		return nil, err
	}
	p := &plan{t: lineItemTable, q: q, keys: q.GroupBy}
	for _, m := range q.Measures {
		if m != Count {
			p.measures = append(p.measures, string(m))
		}
	}
	for _, k := range p.keys {
		if gds[k] == nil {
			gds[k] = &globalDict{ids: map[string]uint32{}, vals: []string{""}}
		}
		p.gds = append(p.gds, gds[k])
	}
	a := newAgg(len(p.keys), len(p.measures))
	if err := p.runSegment(seg, a, &scratch{}); err != nil {
		return nil, err
	}
	return p.result(a, 0), nil
}

// FuzzSegmentDecode feeds arbitrary bytes to the segment decoder, once
// with checksums (nearly every input must fail cleanly) and once without
// them, so the structural checks behind the checksums are exercised too.
// Nothing may panic. Inputs are a few KB and each run decodes and queries
// the whole segment, so keep minimization short:
//
//	go test ./store -run '^$' -fuzz FuzzSegmentDecode -fuzztime 60s -fuzzminimizetime 3s
func FuzzSegmentDecode(f *testing.F) {
	cfg := smallConfig(5)
	cfg.RowsPer = 40
	p := cfg.partitions()[0]
	valid := segmentBytes(f, cfg.generate(p, 0))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(valid[:headerSize+trailerSize])
	empty := segmentBytes(f, nil)
	f.Add(empty)
	// Two days and two services: a segment with a run index.
	runRows := cfg.generate(p, 1)
	for i := range runRows {
		r := &runRows[i]
		r.ChargePeriodStart = p.BillingPeriod.Start().AddDate(0, 0, i%2)
		r.ChargePeriodEnd = r.ChargePeriodStart.AddDate(0, 0, 1)
		r.ServiceName = []string{"svc-a", "svc-b"}[i/2%2]
	}
	withRuns := segmentBytes(f, runRows)
	if seg, err := parseSegment("runs.seg", withRuns, false); err != nil || seg.f.runs.runs == 0 {
		f.Fatalf("the run-index seed has no run index (%v)", err)
	}
	f.Add(withRuns)
	queries := []Query{
		{Measures: []Measure{EffectiveCost, BilledCost, Count}, GroupBy: []string{"ServiceName", "tag:team"}},
		{Filters: []Filter{Eq("tag:team", "team-01"), CostAtLeast(EffectiveCost, 1)}, GroupBy: []string{colDay}},
		{Filters: []Filter{TimeRange(p.BillingPeriod.Start().Add(36e11), p.BillingPeriod.End()), Not(Eq("ResourceId", "x"))}},
		{Filters: []Filter{CostRange(BilledCost, -5e8, 5e8), TagAbsent("env")}, GroupBy: []string{"ResourceId", colMonth}},
		{Filters: []Filter{TimeRange(p.BillingPeriod.Start(), p.BillingPeriod.Start().AddDate(0, 0, 1))}, GroupBy: []string{colDay, "ServiceName"}, Measures: []Measure{EffectiveCost, Count}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, noChecksums := range []bool{false, true} {
			seg, err := parseSegment("fuzz.seg", data, noChecksums)
			if err != nil {
				continue
			}
			seg.verify()
			readLineItems(seg, nil)
			gds := map[string]*globalDict{}
			for _, q := range queries {
				querySegment(seg, q, gds)
			}
		}
	})
}
