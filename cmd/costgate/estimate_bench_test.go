package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/internal/plangen"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/estimators"
)

// benchInput parses a generated plan of n resources and builds the
// gate's input, as `check` does before evaluating policies.
func benchInput(b *testing.B, n int) *gate.Input {
	b.Helper()
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: n, Seed: 1, UntaggedPercent: 5}); err != nil {
		b.Fatal(err)
	}
	p, err := gate.ParsePlan(buf.Bytes(), "plangen.json")
	if err != nil {
		b.Fatal(err)
	}
	return gate.BuildInput(p, gate.InputOptions{})
}

// BenchmarkEstimate10k measures what estimating adds to `check` on a
// 10,000-resource plan (internal/plangen): mapping the gate's input to
// planned resources (decoding the plan values of the types that have an
// estimator, once; check shares them) and pricing every resource. Plan
// parsing and BuildInput are check's own work and stay outside.
func BenchmarkEstimate10k(b *testing.B) {
	in := benchInput(b, 10_000)
	reg := estimators.Registry()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	est := estimators.New(pricing.Default(), pricing.Options{Registry: reg, Now: func() time.Time { return now }})
	need := func(r *gate.Resource) bool { return r.Mode != "data" && reg.NeedsValues(r.Type) }
	var priced, unpriced int
	b.ReportAllocs()
	for b.Loop() {
		rs, err := plannedResources(in, need)
		if err != nil {
			b.Fatal(err)
		}
		pe, err := est.Estimate(context.Background(), rs)
		if err != nil {
			b.Fatal(err)
		}
		priced, unpriced = len(pe.Resources)-len(pe.Unpriced), len(pe.Unpriced)
	}
	b.ReportMetric(float64(priced), "priced/op")
	b.ReportMetric(float64(unpriced), "unpriced/op")
}

// BenchmarkEstimateOnly10k is the pricing alone, on planned resources
// already mapped.
func BenchmarkEstimateOnly10k(b *testing.B) {
	in := benchInput(b, 10_000)
	reg := estimators.Registry()
	rs, err := plannedResources(in, func(r *gate.Resource) bool { return r.Mode != "data" && reg.NeedsValues(r.Type) })
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	est := estimators.New(pricing.Default(), pricing.Options{Registry: reg, Now: func() time.Time { return now }})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := est.Estimate(context.Background(), rs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanValues10k is the first decoding of the plan values
// (gate.Plan.ChangeValues) of every resource that has an estimator:
// the part of the mapping that check may already have paid for.
func BenchmarkPlanValues10k(b *testing.B) {
	reg := estimators.Registry()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		in := benchInput(b, 10_000)
		b.StartTimer()
		for i := range in.Resources {
			if reg.NeedsValues(in.Resources[i].Type) {
				if _, err := in.Plan.ChangeValues(i); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// check10k returns a function that does what `check` does with a
// generated plan of 10,000 resources after start-up (the policies
// compiled once, as in serve): parse, input, with withCost the estimate
// (mapping, pricing, attaching), evaluation of the default library. It
// returns the number of resources priced.
func check10k(b *testing.B) func(withCost bool) int {
	b.Helper()
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: 10_000, Seed: 1, UntaggedPercent: 5}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	ctx := context.Background()
	eng, err := gate.New(ctx, gate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	reg := estimators.Registry()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	return func(withCost bool) int {
		p, err := gate.ParsePlan(data, "plangen.json")
		if err != nil {
			b.Fatal(err)
		}
		in := gate.BuildInput(p, gate.InputOptions{})
		priced := 0
		if withCost {
			est := estimators.New(pricing.Default(), pricing.Options{Registry: reg, Now: func() time.Time { return now }})
			pe, _, err := estimateWith(ctx, est, in, false)
			if err != nil {
				b.Fatal(err)
			}
			in.AttachEstimate(pe, "", "")
			if priced = len(pe.Resources) - len(pe.Unpriced); priced == 0 {
				b.Fatal("nothing priced")
			}
		}
		if _, err := eng.Evaluate(ctx, in); err != nil {
			b.Fatal(err)
		}
		return priced
	}
}

// BenchmarkCheck10k is check10k with and without the cost estimate. The
// ratio of the two is the estimate's share of check's time in a warm
// process.
func BenchmarkCheck10k(b *testing.B) {
	check := check10k(b)
	for _, withCost := range []bool{false, true} {
		name := "no-cost"
		if withCost {
			name = "cost"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				check(withCost)
			}
		})
	}
}

// BenchmarkCheck10kPaired runs check10k with and without the estimate in
// turns, each iteration both (in alternating order), and reports each
// one's time and their ratio: on a shared machine whose speed drifts,
// pairs give the estimate's share more steadily than two separate
// benchmarks.
func BenchmarkCheck10kPaired(b *testing.B) {
	check := check10k(b)
	timed := func(withCost bool) time.Duration {
		start := time.Now()
		check(withCost)
		return time.Since(start)
	}
	var plain, cost time.Duration
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			plain += timed(false)
			cost += timed(true)
		} else {
			cost += timed(true)
			plain += timed(false)
		}
		n++
	}
	b.ReportMetric(float64(plain.Milliseconds())/float64(n), "no-cost-ms/op")
	b.ReportMetric(float64(cost.Milliseconds())/float64(n), "cost-ms/op")
	b.ReportMetric(float64(cost)/float64(plain), "ratio")
}
