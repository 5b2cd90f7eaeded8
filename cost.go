package costgate

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Month is a calendar month, the unit of a billing period.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth parses "2026-10".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return Month{}, fmt.Errorf("parse month %q: want YYYY-MM", s)
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

// MonthOf returns the UTC month of t.
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{Year: t.Year(), Month: t.Month()}
}

// Start returns the first instant of m in UTC.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End returns the first instant after m in UTC.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Next returns the following month.
func (m Month) Next() Month { return MonthOf(m.End()) }

// Prev returns the preceding month.
func (m Month) Prev() Month { return MonthOf(m.Start().AddDate(0, -1, 0)) }

// IsZero reports whether m is the zero Month.
func (m Month) IsZero() bool { return m.Year == 0 && m.Month == 0 }

// String formats m as "2026-10".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// MarshalText encodes m as "2026-10".
func (m Month) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses "2026-10".
func (m *Month) UnmarshalText(b []byte) error {
	v, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Partition is the unit in which billing data is replaced: one source's
// line items for one billing account and one billing period. A restated
// period replaces its partition whole.
type Partition struct {
	Source           string `json:"source"`
	BillingAccountID string `json:"billing_account_id"`
	BillingPeriod    Month  `json:"billing_period"`
}

func (p Partition) String() string {
	return p.Source + "/" + p.BillingAccountID + "/" + p.BillingPeriod.String()
}

// Measure names a summed quantity of line items: a FOCUS cost or quantity
// column, or the row count.
type Measure string

// Measures.
const (
	MeasureEffectiveCost    Measure = "EffectiveCost"
	MeasureBilledCost       Measure = "BilledCost"
	MeasureListCost         Measure = "ListCost"
	MeasureContractedCost   Measure = "ContractedCost"
	MeasureConsumedQuantity Measure = "ConsumedQuantity"
	MeasurePricingQuantity  Measure = "PricingQuantity"
	MeasureCount            Measure = "count"
)

// Measures lists every Measure, for flag help and validation.
func Measures() []Measure {
	return []Measure{MeasureEffectiveCost, MeasureBilledCost, MeasureListCost,
		MeasureContractedCost, MeasureConsumedQuantity, MeasurePricingQuantity, MeasureCount}
}

// ParseMeasure accepts a measure name, case-insensitively.
func ParseMeasure(s string) (Measure, error) {
	for _, m := range Measures() {
		if strings.EqualFold(s, string(m)) {
			return m, nil
		}
	}
	names := make([]string, 0, 7)
	for _, m := range Measures() {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("unknown measure %q: use one of %s", s, strings.Join(names, ", "))
}

// FilterOp is the kind of a CostFilter.
type FilterOp uint8

// Filter kinds.
const (
	// FilterIn keeps rows whose Column equals one of Values (equals is In
	// with one value).
	FilterIn FilterOp = iota + 1
	// FilterTagPresent keeps rows that carry the tag Column ("tag:KEY").
	FilterTagPresent
	// FilterTimeRange keeps rows with From <= ChargePeriodStart < To; a
	// zero bound is open.
	FilterTimeRange
	// FilterCostRange keeps rows whose Measure lies in [Min, Max) (each
	// bound only when HasMin/HasMax).
	FilterCostRange
)

// CostFilter is one condition of a CostQuery; the filters of a query are
// ANDed. Negate inverts any filter (tag absent is a negated tag present).
type CostFilter struct {
	Op     FilterOp
	Negate bool
	// Column is a FOCUS column name, "tag:KEY", an "x_" column, "day" or
	// "month".
	Column string
	Values []string
	From   time.Time
	To     time.Time

	Measure        Measure
	Min, Max       Money
	HasMin, HasMax bool
}

func (f CostFilter) String() string {
	var s string
	switch f.Op {
	case FilterIn:
		if len(f.Values) == 1 {
			s = f.Column + "=" + f.Values[0]
		} else {
			s = f.Column + " in (" + strings.Join(f.Values, ",") + ")"
		}
	case FilterTagPresent:
		s = f.Column + " present"
	case FilterTimeRange:
		s = fmt.Sprintf("ChargePeriodStart in [%s, %s)", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	case FilterCostRange:
		lo, hi := "-inf", "+inf"
		if f.HasMin {
			lo = f.Min.String()
		}
		if f.HasMax {
			hi = f.Max.String()
		}
		s = fmt.Sprintf("%s in [%s, %s)", f.Measure, lo, hi)
	default:
		s = fmt.Sprintf("filter op %d", f.Op)
	}
	if f.Negate {
		return "not " + s
	}
	return s
}

// CostOrder orders result rows by a group-by column or a measure.
type CostOrder struct {
	By   string
	Desc bool
}

// CostQuery asks for measures of the line items that pass all Filters,
// grouped by GroupBy (FOCUS column names, "tag:KEY", "day", "month"),
// ordered and cut to Limit rows (0: all).
type CostQuery struct {
	Measures []Measure
	Filters  []CostFilter
	GroupBy  []string
	OrderBy  []CostOrder
	Limit    int
}

// CostRow is one group of a CostResult: its key values in GroupBy order
// and one exact value per measure. A count measure holds the count in
// whole units (so it formats as "42"); Count is always the number of line
// items in the group.
type CostRow struct {
	Keys   []string
	Values []Sum
	Count  int64
}

// CostResult is the answer to a CostQuery.
type CostResult struct {
	GroupBy  []string
	Measures []Measure
	Rows     []CostRow
	// Generation is the store generation the query read.
	Generation uint64
}

// CostReader answers spend queries; the store implements it, and so can a
// warehouse-backed reader.
type CostReader interface {
	Query(ctx context.Context, q CostQuery) (*CostResult, error)
}

// RowError is a row a cost store refuses: it does not belong in the
// partition it came with (another billing account, a billing period
// outside it) or lacks a required field. The rows are at fault, not the
// store, so a collector fails that partition alone and loads the rest.
type RowError struct {
	Row int // the row's index in what the store was given
	Err error
}

func (e *RowError) Error() string { return e.Err.Error() }
func (e *RowError) Unwrap() error { return e.Err }

// CostWriter replaces a partition's line items in one step. The same
// content hash again is a no-op and reports changed == false.
// ReplaceSource does the same with rows read one at a time from src.
type CostWriter interface {
	Replace(ctx context.Context, p Partition, rows []LineItem, exportID, contentHash string) (changed bool, err error)
	ReplaceSource(ctx context.Context, p Partition, src LineItemSource, exportID, contentHash string) (changed bool, err error)
}

// LineItemSource is one partition's rows, read one at a time: what a
// collector that keeps decoded rows in a compact form of its own hands
// the store, so that no []LineItem of the whole partition (some 900 bytes
// a row) is ever built.
type LineItemSource interface {
	// Len is the number of rows.
	Len() int
	// LineItem sets every field of *li to row i. It is called from
	// several goroutines at once, each with its own li, and possibly more
	// than once per row; the strings and maps it sets are only read.
	// Rows may share one Tags or Extensions map (the store then reads a
	// shared map once), so a map handed out must not change until the
	// replace returns.
	LineItem(i int, li *LineItem)
	// MapKeys lists the keys of the rows' Tags and Extensions maps, in
	// any order, duplicates allowed.
	MapKeys() (tags, extensions []string)
}

// CodedLineItemSource is a LineItemSource that can also hand its rows
// over coded: string fields as ids into string tables that many rows
// share (a parser's interned values), times and amounts as the integers
// the store keeps. A reader then looks each distinct value of a table up
// once, not once a row, copies no strings and builds no LineItem; the
// store reads a collector's decoded rows this way.
type CodedLineItemSource interface {
	LineItemSource
	// CodedRow sets every field of *r to row i and returns the table its
	// IDs index (table[0] is ""). Rows may name different tables, and a
	// table may be a longer prefix of another's array; its strings never
	// change. Like LineItem, it is called from several goroutines, each
	// with its own r.
	CodedRow(i int, r *CodedRow) (table []string)
}

// CodedRow is a line item as a CodedLineItemSource gives it.
type CodedRow struct {
	// IDs[k] is the id of field StringFields[k] in the row's table; 0 for
	// an empty one.
	IDs [len(StringFields)]uint32
	// Times[k] is field TimeFields[k] in Unix nanoseconds (UTC), NullTime
	// for none.
	Times [len(TimeFields)]int64
	// Amounts[k] is field AmountFields[k] in 1e-9 units: the value of a
	// Money or a Quantity.
	Amounts    [len(AmountFields)]int64
	Tags       map[string]string
	Extensions map[string]string
	// TagsID, when not 0, names Tags among the rows that return the same
	// table: rows with one table and one TagsID have the same Tags. A
	// source that interns its Tags maps passes its own id, and the store
	// keeps the map's codes by it without reading the map again (0: the
	// store goes by the map's address).
	TagsID uint32
}

// NullTime is a CodedRow time that is not set (a zero time.Time).
const NullTime = math.MinInt64

// TimeFields names LineItem's time fields, in CodedRow.Times order.
var TimeFields = [...]string{"ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"}

// AmountFields names LineItem's Money and Quantity fields, in
// CodedRow.Amounts order.
var AmountFields = [...]string{
	"EffectiveCost", "BilledCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
	"ConsumedQuantity", "PricingQuantity", "CommitmentDiscountQuantity",
}

// StringFields names LineItem's string fields (FOCUS column names), in
// CodedRow.IDs order.
var StringFields = [...]string{
	"BillingAccountId", "BillingAccountName", "BillingAccountType", "SubAccountId", "SubAccountName", "SubAccountType",
	"ProviderName", "PublisherName", "InvoiceIssuerName", "InvoiceId",
	"ServiceName", "ServiceCategory", "ServiceSubcategory", "RegionId", "RegionName", "AvailabilityZone",
	"ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuPriceId", "SkuMeter",
	"ChargeCategory", "ChargeClass", "ChargeFrequency", "ChargeDescription",
	"PricingCategory", "PricingUnit", "ConsumedUnit",
	"CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountCategory", "CommitmentDiscountType",
	"CommitmentDiscountStatus", "CommitmentDiscountUnit", "CapacityReservationId", "CapacityReservationStatus",
	"BillingCurrency",
}

// LineItemSlice is a LineItemSource over line items in memory.
type LineItemSlice []LineItem

func (s LineItemSlice) Len() int                     { return len(s) }
func (s LineItemSlice) LineItem(i int, li *LineItem) { *li = s[i] }

func (s LineItemSlice) MapKeys() (tags, extensions []string) {
	seenT, seenX := map[string]bool{}, map[string]bool{}
	for i := range s {
		for k := range s[i].Tags {
			if !seenT[k] {
				seenT[k] = true
				tags = append(tags, k)
			}
		}
		for k := range s[i].Extensions {
			if !seenX[k] {
				seenX[k] = true
				extensions = append(extensions, k)
			}
		}
	}
	return tags, extensions
}
