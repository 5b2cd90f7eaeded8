package main

import (
	"context"
	"fmt"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

// costgate's store: one Replace per (account, month) partition, rows
// handed over as []costgate.LineItem (the store's only ingest API).

const cgSource = "bench"

// lineItemMaker turns generated rows into LineItems. Strings come from
// the dictionaries and tag maps are shared per resource, so a LineItem
// costs no string allocation, like a parser that interns values.
type lineItemMaker struct {
	d    *Data
	tags []map[string]string // per resource code; nil when untagged
}

func newLineItemMaker(d *Data) *lineItemMaker {
	m := &lineItemMaker{d: d, tags: make([]map[string]string, nResources)}
	// A resource's tags are the same on every row: build them once.
	for i := 0; i < d.N; i++ {
		r := d.Resource[i]
		if m.tags[r] != nil || d.Team[i] == 0 {
			continue
		}
		t := map[string]string{"team": d.D.Teams[d.Team[i]]}
		if d.Env[i] != 0 {
			t["env"] = d.D.Envs[d.Env[i]]
		}
		m.tags[r] = t
	}
	return m
}

func (m *lineItemMaker) partition(p Part) costgate.Partition {
	return costgate.Partition{Source: cgSource, BillingAccountID: m.d.D.Accounts[p.Account],
		BillingPeriod: costgate.MonthOf(firstDay.AddDate(0, 0, monthStartDay[p.Month]))}
}

// rows fills buf with the LineItems of p.
func (m *lineItemMaker) rows(p Part, buf []costgate.LineItem) []costgate.LineItem {
	d, dc := m.d, m.d.D
	bpStart := dc.DayTimes[monthStartDay[p.Month]]
	bpEnd := dc.DayTimes[monthStartDay[p.Month+1]]
	buf = buf[:0]
	for i := p.Lo; i < p.Hi; i++ {
		s := d.Service[i]
		buf = append(buf, costgate.LineItem{
			ChargePeriodStart:  dc.DayTimes[d.Day[i]],
			ChargePeriodEnd:    dc.DayTimes[d.Day[i]+1],
			BillingPeriodStart: bpStart,
			BillingPeriodEnd:   bpEnd,
			BillingAccountID:   dc.Accounts[d.Account[i]],
			BillingAccountName: dc.AccountNames[d.Account[i]],
			SubAccountID:       dc.Accounts[d.Account[i]],
			ProviderName:       "AWS",
			ServiceName:        dc.Services[s],
			ServiceCategory:    dc.Categories[s],
			RegionID:           dc.Regions[d.Region[i]],
			ResourceID:         dc.Resources[d.Resource[i]],
			ResourceType:       dc.ResTypes[d.ResType[i]],
			SkuID:              dc.SKUs[d.SKU[i]],
			ChargeCategory:     dc.ChargeCats[d.ChargeCat[i]],
			PricingCategory:    dc.PricingCats[d.PriceCat[i]],
			BillingCurrency:    "USD",
			ConsumedQuantity:   costgate.Quantity(d.Qty[i]),
			BilledCost:         costgate.Money(d.Billed[i]),
			EffectiveCost:      costgate.Money(d.Effective[i]),
			ListCost:           costgate.Money(d.List[i]),
			Tags:               m.tags[d.Resource[i]],
		})
	}
	return buf
}

type ingestStats struct {
	rows          int
	wall, cpu     time.Duration // the engine's own work (Replace, or append+flush)
	sys           time.Duration // of cpu, system time (page faults, writes)
	prepWall      time.Duration // building its input (LineItems), not in wall/cpu
	peakRSS       int64         // VmHWM during the phase (reset before it), bytes
	diskBytes     int64
	openTime      time.Duration
	firstQueryAll time.Duration
}

// ingestCostgate replaces every partition, one at a time (the store
// builds each segment with opts.Parallelism goroutines).
func ingestCostgate(ctx context.Context, dir string, d *Data, opts store.Options) (ingestStats, error) {
	st := ingestStats{rows: d.N}
	s, err := store.Open(dir, opts)
	if err != nil {
		return st, err
	}
	defer s.Close()
	m := newLineItemMaker(d)
	var buf []costgate.LineItem
	for _, p := range d.Parts {
		t0 := time.Now()
		buf = m.rows(p, buf)
		st.prepWall += time.Since(t0)

		err := timedReplace(&st, m.partition(p), func() (bool, error) {
			return s.Replace(ctx, m.partition(p), buf, "bench-export", partHash(d, p))
		})
		if err != nil {
			return st, err
		}
	}
	st.diskBytes = s.Info().Bytes
	// The same content hash again must be a no-op (not timed).
	p := d.Parts[0]
	buf = m.rows(p, buf)
	if changed, err := s.Replace(ctx, m.partition(p), buf, "bench-export", partHash(d, p)); err != nil || changed {
		return st, fmt.Errorf("replace %s again with the same content hash: changed=%v, err=%v (want a no-op)", m.partition(p), changed, err)
	}
	clear(buf[:cap(buf)]) // drop references before the buffer is collected
	return st, s.Close()
}

// timedReplace runs replace, adds its wall and CPU time to st, and
// checks it reported a change.
func timedReplace(st *ingestStats, p costgate.Partition, replace func() (bool, error)) error {
	u0, s0 := cpuTimes()
	t1 := time.Now()
	changed, err := replace()
	st.wall += time.Since(t1)
	u1, s1 := cpuTimes()
	st.cpu += u1 - u0 + s1 - s0
	st.sys += s1 - s0
	if err != nil {
		return err
	}
	if !changed {
		return fmt.Errorf("replace %s: reported unchanged for a new partition", p)
	}
	return nil
}

// partHash stands for an export's content hash: the data set is a
// function of (rows, seed).
func partHash(d *Data, p Part) string {
	return fmt.Sprintf("rows=%d/seed=%d/%d-%d", d.N, d.Seed, p.Lo, p.Hi)
}

// checkTotals compares the store's per-partition totals (every cost
// measure, row count) with the generator's own: "a sum over a billing
// period equals the source file's own total exactly".
func checkTotals(ctx context.Context, s *store.Store, d *Data) error {
	ms := []store.Measure{store.EffectiveCost, store.BilledCost, store.ListCost, store.ConsumedQuantity}
	res, err := s.Query(ctx, store.Query{Measures: ms, GroupBy: []string{"BillingAccountId", "month"}})
	if err != nil {
		return err
	}
	got := map[string]store.Row{}
	for _, r := range res.Rows {
		got[r.Keys[0]+"/"+r.Keys[1]] = r
	}
	if len(got) != len(d.Parts) {
		return fmt.Errorf("store has %d (account, month) groups, generator %d", len(got), len(d.Parts))
	}
	for _, p := range d.Parts {
		var want [4]costgate.Sum
		for i := p.Lo; i < p.Hi; i++ {
			want[0].Add(costgate.Money(d.Effective[i]))
			want[1].Add(costgate.Money(d.Billed[i]))
			want[2].Add(costgate.Money(d.List[i]))
			want[3].Add(costgate.Money(d.Qty[i]))
		}
		key := d.D.Accounts[p.Account] + "/" + monthNames[p.Month]
		r, ok := got[key]
		if !ok {
			return fmt.Errorf("partition %s missing", key)
		}
		if r.Count != int64(p.Hi-p.Lo) {
			return fmt.Errorf("partition %s: %d rows, generator %d", key, r.Count, p.Hi-p.Lo)
		}
		for i, m := range ms {
			if r.Values[i].Cmp(want[i]) != 0 {
				return fmt.Errorf("partition %s: %s %s, generator %s", key, m, r.Values[i], want[i])
			}
		}
	}
	return nil
}

type cgEngine struct {
	s *store.Store
}

func (e *cgEngine) Run(ctx context.Context, q *QuerySpec) (any, error) {
	return e.s.Query(ctx, q.CG)
}

func decodeCG(raw any) Result {
	res := raw.(*store.Result)
	out := make(Result, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = Row{Keys: r.Keys, Sum: r.Values[0], Count: r.Count}
	}
	return out
}
