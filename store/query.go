package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// The query types are the root package's, so a *Store is a
// costgate.CostReader; these names keep store code short.
type (
	// Query asks for measures of filtered line items, grouped, ordered
	// and limited.
	Query = costgate.CostQuery
	// Filter is one condition of a Query.
	Filter = costgate.CostFilter
	// Order orders result rows.
	Order = costgate.CostOrder
	// Result is a query's answer.
	Result = costgate.CostResult
	// Row is one group of a Result.
	Row = costgate.CostRow
	// Measure names what a query sums.
	Measure = costgate.Measure
)

// Measures.
const (
	EffectiveCost    = costgate.MeasureEffectiveCost
	BilledCost       = costgate.MeasureBilledCost
	ListCost         = costgate.MeasureListCost
	ContractedCost   = costgate.MeasureContractedCost
	ConsumedQuantity = costgate.MeasureConsumedQuantity
	PricingQuantity  = costgate.MeasurePricingQuantity
	Count            = costgate.MeasureCount
)

// Eq keeps rows whose column equals value. An empty value matches rows
// where a FOCUS column is null; for tags use TagAbsent.
func Eq(column, value string) Filter {
	return Filter{Op: costgate.FilterIn, Column: column, Values: []string{value}}
}

// In keeps rows whose column equals one of values.
func In(column string, values ...string) Filter {
	return Filter{Op: costgate.FilterIn, Column: column, Values: values}
}

// Not negates a filter.
func Not(f Filter) Filter {
	f.Negate = !f.Negate
	return f
}

// TagPresent keeps rows that carry the tag key (with any value).
func TagPresent(key string) Filter {
	return Filter{Op: costgate.FilterTagPresent, Column: tagPrefix + strings.TrimPrefix(key, tagPrefix)}
}

// TagAbsent keeps rows without the tag key: the untagged rows.
func TagAbsent(key string) Filter { return Not(TagPresent(key)) }

// TimeRange keeps rows with from <= ChargePeriodStart < to; a zero bound
// is open.
func TimeRange(from, to time.Time) Filter {
	return Filter{Op: costgate.FilterTimeRange, Column: colChargePeriodStart, From: from, To: to}
}

// CostRange keeps rows whose measure (a cost or quantity column) lies in
// [min, max).
func CostRange(m Measure, min, max costgate.Money) Filter {
	return Filter{Op: costgate.FilterCostRange, Measure: m, Min: min, Max: max, HasMin: true, HasMax: true}
}

// CostAtLeast keeps rows whose measure is >= min.
func CostAtLeast(m Measure, min costgate.Money) Filter {
	return Filter{Op: costgate.FilterCostRange, Measure: m, Min: min, HasMin: true}
}

// CostBelow keeps rows whose measure is < max.
func CostBelow(m Measure, max costgate.Money) Filter {
	return Filter{Op: costgate.FilterCostRange, Measure: m, Max: max, HasMax: true}
}

// table describes what a query may name in one table.
type table struct {
	kind     tableKind
	strs     map[string]bool // plain string columns (null == "")
	measures map[Measure]bool
	maps     []string // prefixes of map columns (null == absent)
	derived  map[string]bool
}

var lineItemTable = func() *table {
	t := &table{
		kind:     tableLineItems,
		strs:     map[string]bool{},
		measures: map[Measure]bool{Count: true},
		maps:     []string{tagPrefix, extPrefix},
		derived:  map[string]bool{colDay: true, colMonth: true},
	}
	for _, f := range lineItemStrings {
		t.strs[f.name] = true
	}
	for _, f := range lineItemNums {
		if f.measure {
			t.measures[Measure(f.name)] = true
		}
	}
	return t
}()

var inventoryTable = func() *table {
	t := &table{
		kind:     tableInventory,
		strs:     map[string]bool{},
		measures: map[Measure]bool{Count: true},
		maps:     []string{tagPrefix},
		derived:  map[string]bool{},
	}
	for _, f := range inventoryStrings {
		t.strs[f] = true
	}
	return t
}()

// isMap reports whether name is a tag or extension column.
func (t *table) isMap(name string) bool {
	for _, p := range t.maps {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

func (t *table) checkColumn(name string) error {
	if t.strs[name] || t.derived[name] || t.isMap(name) {
		return nil
	}
	return fmt.Errorf("unknown column %q: use a FOCUS dimension name (ServiceName, BillingAccountId, ...), tag:KEY, x_NAME, day or month", name)
}

// normalize validates q for t and fills defaults.
func (t *table) normalize(q Query) (Query, error) {
	if len(q.Measures) == 0 {
		if t.kind == tableInventory {
			q.Measures = []Measure{Count}
		} else {
			q.Measures = []Measure{EffectiveCost}
		}
	}
	for _, m := range q.Measures {
		if !t.measures[m] {
			return q, fmt.Errorf("measure %q: not a measure of %s", m, t.kind)
		}
	}
	for _, g := range q.GroupBy {
		if err := t.checkColumn(g); err != nil {
			return q, fmt.Errorf("group by: %w", err)
		}
	}
	if dup := duplicate(q.GroupBy); dup != "" {
		return q, fmt.Errorf("group by: %q twice", dup)
	}
	for i, f := range q.Filters {
		if err := t.checkFilter(f); err != nil {
			return q, fmt.Errorf("filter %d (%s): %w", i+1, f, err)
		}
	}
	for _, o := range q.OrderBy {
		if !slices.Contains(q.GroupBy, o.By) && !slices.Contains(q.Measures, Measure(o.By)) {
			return q, fmt.Errorf("order by %q: not a group-by column or a measure of the query", o.By)
		}
	}
	if q.Limit < 0 {
		return q, fmt.Errorf("limit %d: must be >= 0", q.Limit)
	}
	return q, nil
}

func duplicate(s []string) string {
	seen := map[string]bool{}
	for _, x := range s {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

func (t *table) checkFilter(f Filter) error {
	switch f.Op {
	case costgate.FilterIn:
		if len(f.Values) == 0 {
			return fmt.Errorf("no values")
		}
		return t.checkColumn(f.Column)
	case costgate.FilterTagPresent:
		if !strings.HasPrefix(f.Column, tagPrefix) || len(f.Column) == len(tagPrefix) {
			return fmt.Errorf("column %q: tag filters take tag:KEY", f.Column)
		}
	case costgate.FilterTimeRange:
		if t.kind != tableLineItems {
			return fmt.Errorf("time ranges apply to line items")
		}
		if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
			return fmt.Errorf("empty time range")
		}
	case costgate.FilterCostRange:
		if f.Measure == Count || !t.measures[f.Measure] {
			return fmt.Errorf("measure %q: cost ranges take a cost or quantity measure", f.Measure)
		}
		if !f.HasMin && !f.HasMax {
			return fmt.Errorf("cost range without bounds")
		}
	default:
		return fmt.Errorf("unknown filter op %d", f.Op)
	}
	return nil
}
