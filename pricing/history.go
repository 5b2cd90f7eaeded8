package pricing

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// HistoryWindowDays is how far back StoreHistory reads the bill.
const HistoryWindowDays = 30

// DefaultHistoryTags are the tags that make resources similar, in order
// of preference.
var DefaultHistoryTags = []string{"service", "app", "application", "component", "team"}

// StoreHistory prices usage-based resources from billing history in a
// costgate.CostReader: the average monthly cost of the resources billed
// under the same service that share the resource's first similarity tag
// (DefaultHistoryTags), else of all resources of that service, over the
// last 30 days, scaled from 720 to 730 hours.
type StoreHistory struct {
	r    costgate.CostReader
	now  time.Time
	tags []string

	mu    sync.Mutex
	cache map[string]historyEntry
}

type historyEntry struct {
	hc HistoryCost
	ok bool
}

// NewStoreHistory returns a History over r as of now; tags nil means
// DefaultHistoryTags.
func NewStoreHistory(r costgate.CostReader, now time.Time, tags []string) *StoreHistory {
	if tags == nil {
		tags = DefaultHistoryTags
	}
	return &StoreHistory{r: r, now: now, tags: tags, cache: map[string]historyEntry{}}
}

// MonthlyCost implements History.
func (h *StoreHistory) MonthlyCost(ctx context.Context, r *costgate.PlannedResource, family string) (HistoryCost, bool, error) {
	if family == "" {
		return HistoryCost{}, false, nil
	}
	for _, k := range h.tags {
		if v, ok := r.Tags[k]; ok && v != "" {
			hc, ok, err := h.query(ctx, family, k, v)
			if err != nil || ok {
				return hc, ok, err
			}
			break
		}
	}
	return h.query(ctx, family, "", "")
}

func (h *StoreHistory) query(ctx context.Context, family, tag, value string) (HistoryCost, bool, error) {
	key := family + "\x00" + tag + "\x00" + value
	h.mu.Lock()
	e, ok := h.cache[key]
	h.mu.Unlock()
	if ok {
		return e.hc, e.ok, nil
	}
	from := h.now.AddDate(0, 0, -HistoryWindowDays)
	filters := []costgate.CostFilter{
		{Op: costgate.FilterTimeRange, From: from, To: h.now},
		{Op: costgate.FilterIn, Column: "ServiceName", Values: []string{family}},
		{Op: costgate.FilterIn, Column: "ResourceId", Values: []string{""}, Negate: true},
	}
	match := "ServiceName " + family
	if tag != "" {
		filters = append(filters, costgate.CostFilter{Op: costgate.FilterIn, Column: "tag:" + tag, Values: []string{value}})
		match += ", tag " + tag + "=" + value
	}
	res, err := h.r.Query(ctx, costgate.CostQuery{
		Measures: []costgate.Measure{costgate.MeasureListCost, costgate.MeasureEffectiveCost},
		Filters:  filters,
		GroupBy:  []string{"ResourceId"},
	})
	if err != nil {
		return HistoryCost{}, false, fmt.Errorf("read billing history: %w", err)
	}
	var list, eff costgate.Sum
	n := 0
	for _, row := range res.Rows {
		if len(row.Values) < 2 {
			continue
		}
		list.AddSum(row.Values[0])
		eff.AddSum(row.Values[1])
		n++
	}
	e = historyEntry{}
	if n > 0 {
		// average per resource, per 730-hour month from 30 × 24 hours
		scale := new(big.Rat).SetFrac64(costgate.HoursPerMonth, int64(n)*HistoryWindowDays*24)
		l, err1 := sumTimes(list, scale)
		f, err2 := sumTimes(eff, scale)
		if err1 == nil && err2 == nil {
			e = historyEntry{hc: HistoryCost{List: l, Effective: f, Resources: n, Days: HistoryWindowDays, Match: match}, ok: true}
		}
	}
	h.mu.Lock()
	h.cache[key] = e
	h.mu.Unlock()
	return e.hc, e.ok, nil
}

func sumTimes(s costgate.Sum, r *big.Rat) (costgate.Money, error) {
	v := new(big.Rat).Mul(new(big.Rat).SetInt(s.Big()), r)
	// v is in nano-units
	return costgate.RateFromRat(v).Apply(1)
}
