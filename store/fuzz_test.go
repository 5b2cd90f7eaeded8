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
	if _, _, err := writeSegment(path, t, true); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// querySegment runs q on one segment the way a snapshot would.
func querySegment(seg *segment, q Query) (*Result, error) {
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
	for range p.keys {
		p.gds = append(p.gds, &globalDict{ids: map[string]uint32{}, vals: []string{""}})
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
	queries := []Query{
		{Measures: []Measure{EffectiveCost, BilledCost, Count}, GroupBy: []string{"ServiceName", "tag:team"}},
		{Filters: []Filter{Eq("tag:team", "team-01"), CostAtLeast(EffectiveCost, 1)}, GroupBy: []string{colDay}},
		{Filters: []Filter{TimeRange(p.BillingPeriod.Start().Add(36e11), p.BillingPeriod.End()), Not(Eq("ResourceId", "x"))}},
		{Filters: []Filter{CostRange(BilledCost, -5e8, 5e8), TagAbsent("env")}, GroupBy: []string{"ResourceId", colMonth}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, noChecksums := range []bool{false, true} {
			seg, err := parseSegment("fuzz.seg", data, noChecksums)
			if err != nil {
				continue
			}
			seg.verify()
			readLineItems(seg, nil)
			for _, q := range queries {
				querySegment(seg, q)
			}
		}
	})
}
