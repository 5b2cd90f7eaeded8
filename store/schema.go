package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// Column names are FOCUS column names exactly; tags are "tag:KEY",
// extension columns keep their "x_" names, and "day"/"month" are the UTC
// day and month of ChargePeriodStart.
const (
	colChargePeriodStart = "ChargePeriodStart"
	colDay               = "day"
	colMonth             = "month"
	tagPrefix            = "tag:"
	extPrefix            = "x_"
)

// strField maps a string column of LineItem.
type strField struct {
	name    string
	indexed bool
	get     func(*costgate.LineItem) string
	set     func(*costgate.LineItem, string)
}

type timeField struct {
	name string
	get  func(*costgate.LineItem) time.Time
	set  func(*costgate.LineItem, time.Time)
}

type numField struct {
	name    string
	measure bool // may be summed
	bsi     bool
	get     func(*costgate.LineItem) int64
	set     func(*costgate.LineItem, int64)
}

func sf(name string, indexed bool, get func(*costgate.LineItem) *string) strField {
	return strField{
		name:    name,
		indexed: indexed,
		get:     func(li *costgate.LineItem) string { return *get(li) },
		set:     func(li *costgate.LineItem, v string) { *get(li) = v },
	}
}

// lineItemStrings lists the string columns; indexed ones get a bitmap per
// value, the others (ids with up to millions of values, free text) are
// dictionary-coded only.
var lineItemStrings = []strField{
	sf("BillingAccountId", true, func(l *costgate.LineItem) *string { return &l.BillingAccountID }),
	sf("BillingAccountName", true, func(l *costgate.LineItem) *string { return &l.BillingAccountName }),
	sf("BillingAccountType", true, func(l *costgate.LineItem) *string { return &l.BillingAccountType }),
	sf("SubAccountId", true, func(l *costgate.LineItem) *string { return &l.SubAccountID }),
	sf("SubAccountName", true, func(l *costgate.LineItem) *string { return &l.SubAccountName }),
	sf("SubAccountType", true, func(l *costgate.LineItem) *string { return &l.SubAccountType }),
	sf("ProviderName", true, func(l *costgate.LineItem) *string { return &l.ProviderName }),
	sf("PublisherName", true, func(l *costgate.LineItem) *string { return &l.PublisherName }),
	sf("InvoiceIssuerName", true, func(l *costgate.LineItem) *string { return &l.InvoiceIssuerName }),
	sf("InvoiceId", true, func(l *costgate.LineItem) *string { return &l.InvoiceID }),
	sf("ServiceName", true, func(l *costgate.LineItem) *string { return &l.ServiceName }),
	sf("ServiceCategory", true, func(l *costgate.LineItem) *string { return &l.ServiceCategory }),
	sf("ServiceSubcategory", true, func(l *costgate.LineItem) *string { return &l.ServiceSubcategory }),
	sf("RegionId", true, func(l *costgate.LineItem) *string { return &l.RegionID }),
	sf("RegionName", true, func(l *costgate.LineItem) *string { return &l.RegionName }),
	sf("AvailabilityZone", true, func(l *costgate.LineItem) *string { return &l.AvailabilityZone }),
	sf("ResourceId", false, func(l *costgate.LineItem) *string { return &l.ResourceID }),
	sf("ResourceName", false, func(l *costgate.LineItem) *string { return &l.ResourceName }),
	sf("ResourceType", true, func(l *costgate.LineItem) *string { return &l.ResourceType }),
	sf("SkuId", true, func(l *costgate.LineItem) *string { return &l.SkuID }),
	sf("SkuPriceId", false, func(l *costgate.LineItem) *string { return &l.SkuPriceID }),
	sf("SkuMeter", true, func(l *costgate.LineItem) *string { return &l.SkuMeter }),
	sf("ChargeCategory", true, func(l *costgate.LineItem) *string { return &l.ChargeCategory }),
	sf("ChargeClass", true, func(l *costgate.LineItem) *string { return &l.ChargeClass }),
	sf("ChargeFrequency", true, func(l *costgate.LineItem) *string { return &l.ChargeFrequency }),
	sf("ChargeDescription", false, func(l *costgate.LineItem) *string { return &l.ChargeDescription }),
	sf("PricingCategory", true, func(l *costgate.LineItem) *string { return &l.PricingCategory }),
	sf("PricingUnit", true, func(l *costgate.LineItem) *string { return &l.PricingUnit }),
	sf("ConsumedUnit", true, func(l *costgate.LineItem) *string { return &l.ConsumedUnit }),
	sf("CommitmentDiscountId", false, func(l *costgate.LineItem) *string { return &l.CommitmentDiscountID }),
	sf("CommitmentDiscountName", false, func(l *costgate.LineItem) *string { return &l.CommitmentDiscountName }),
	sf("CommitmentDiscountCategory", true, func(l *costgate.LineItem) *string { return &l.CommitmentDiscountCategory }),
	sf("CommitmentDiscountType", true, func(l *costgate.LineItem) *string { return &l.CommitmentDiscountType }),
	sf("CommitmentDiscountStatus", true, func(l *costgate.LineItem) *string { return &l.CommitmentDiscountStatus }),
	sf("CommitmentDiscountUnit", true, func(l *costgate.LineItem) *string { return &l.CommitmentDiscountUnit }),
	sf("CapacityReservationId", false, func(l *costgate.LineItem) *string { return &l.CapacityReservationID }),
	sf("CapacityReservationStatus", true, func(l *costgate.LineItem) *string { return &l.CapacityReservationStatus }),
	sf("BillingCurrency", true, func(l *costgate.LineItem) *string { return &l.BillingCurrency }),
}

// emptyTable stands for a coded row's table when the source gives none.
var emptyTable = []string{""}

// acctField is BillingAccountId's index in lineItemStrings (and in
// costgate.StringFields, which lists the same fields in the same order).
var acctField = slices.IndexFunc(lineItemStrings, func(f strField) bool { return f.name == "BillingAccountId" })

// lineItemStringValues writes li's string columns in lineItemStrings
// order: direct field reads, without two indirect calls per column (a
// test keeps the order in step with lineItemStrings).
func lineItemStringValues(li *costgate.LineItem, out []string) {
	_ = out[37]
	out[0] = li.BillingAccountID
	out[1] = li.BillingAccountName
	out[2] = li.BillingAccountType
	out[3] = li.SubAccountID
	out[4] = li.SubAccountName
	out[5] = li.SubAccountType
	out[6] = li.ProviderName
	out[7] = li.PublisherName
	out[8] = li.InvoiceIssuerName
	out[9] = li.InvoiceID
	out[10] = li.ServiceName
	out[11] = li.ServiceCategory
	out[12] = li.ServiceSubcategory
	out[13] = li.RegionID
	out[14] = li.RegionName
	out[15] = li.AvailabilityZone
	out[16] = li.ResourceID
	out[17] = li.ResourceName
	out[18] = li.ResourceType
	out[19] = li.SkuID
	out[20] = li.SkuPriceID
	out[21] = li.SkuMeter
	out[22] = li.ChargeCategory
	out[23] = li.ChargeClass
	out[24] = li.ChargeFrequency
	out[25] = li.ChargeDescription
	out[26] = li.PricingCategory
	out[27] = li.PricingUnit
	out[28] = li.ConsumedUnit
	out[29] = li.CommitmentDiscountID
	out[30] = li.CommitmentDiscountName
	out[31] = li.CommitmentDiscountCategory
	out[32] = li.CommitmentDiscountType
	out[33] = li.CommitmentDiscountStatus
	out[34] = li.CommitmentDiscountUnit
	out[35] = li.CapacityReservationID
	out[36] = li.CapacityReservationStatus
	out[37] = li.BillingCurrency
}

func tf(name string, get func(*costgate.LineItem) *time.Time) timeField {
	return timeField{
		name: name,
		get:  func(li *costgate.LineItem) time.Time { return *get(li) },
		set:  func(li *costgate.LineItem, t time.Time) { *get(li) = t },
	}
}

var lineItemTimes = []timeField{
	tf(colChargePeriodStart, func(l *costgate.LineItem) *time.Time { return &l.ChargePeriodStart }),
	tf("ChargePeriodEnd", func(l *costgate.LineItem) *time.Time { return &l.ChargePeriodEnd }),
	tf("BillingPeriodStart", func(l *costgate.LineItem) *time.Time { return &l.BillingPeriodStart }),
	tf("BillingPeriodEnd", func(l *costgate.LineItem) *time.Time { return &l.BillingPeriodEnd }),
}

func mf(name string, measure, bsi bool, get func(*costgate.LineItem) *costgate.Money) numField {
	return numField{
		name: name, measure: measure, bsi: bsi,
		get: func(li *costgate.LineItem) int64 { return int64(*get(li)) },
		set: func(li *costgate.LineItem, v int64) { *get(li) = costgate.Money(v) },
	}
}

func qf(name string, measure bool, get func(*costgate.LineItem) *costgate.Quantity) numField {
	return numField{
		name: name, measure: measure,
		get: func(li *costgate.LineItem) int64 { return int64(*get(li)) },
		set: func(li *costgate.LineItem, v int64) { *get(li) = costgate.Quantity(v) },
	}
}

// lineItemNums lists the exact numeric columns. EffectiveCost and
// BilledCost carry bit-sliced indexes.
var lineItemNums = []numField{
	mf("EffectiveCost", true, true, func(l *costgate.LineItem) *costgate.Money { return &l.EffectiveCost }),
	mf("BilledCost", true, true, func(l *costgate.LineItem) *costgate.Money { return &l.BilledCost }),
	mf("ListCost", true, false, func(l *costgate.LineItem) *costgate.Money { return &l.ListCost }),
	mf("ContractedCost", true, false, func(l *costgate.LineItem) *costgate.Money { return &l.ContractedCost }),
	mf("ListUnitPrice", false, false, func(l *costgate.LineItem) *costgate.Money { return &l.ListUnitPrice }),
	mf("ContractedUnitPrice", false, false, func(l *costgate.LineItem) *costgate.Money { return &l.ContractedUnitPrice }),
	qf("ConsumedQuantity", true, func(l *costgate.LineItem) *costgate.Quantity { return &l.ConsumedQuantity }),
	qf("PricingQuantity", true, func(l *costgate.LineItem) *costgate.Quantity { return &l.PricingQuantity }),
	qf("CommitmentDiscountQuantity", false, func(l *costgate.LineItem) *costgate.Quantity { return &l.CommitmentDiscountQuantity }),
}

// lineItemNumValues writes li's numeric columns in lineItemNums order.
func lineItemNumValues(li *costgate.LineItem, out []int64) {
	_ = out[8]
	out[0] = int64(li.EffectiveCost)
	out[1] = int64(li.BilledCost)
	out[2] = int64(li.ListCost)
	out[3] = int64(li.ContractedCost)
	out[4] = int64(li.ListUnitPrice)
	out[5] = int64(li.ContractedUnitPrice)
	out[6] = int64(li.ConsumedQuantity)
	out[7] = int64(li.PricingQuantity)
	out[8] = int64(li.CommitmentDiscountQuantity)
}

// lineItemTimeValues writes li's times (unix nanoseconds, nullInt for
// zero) in lineItemTimes order.
func lineItemTimeValues(li *costgate.LineItem, out []int64) {
	_ = out[3]
	out[0] = timeNanos(li.ChargePeriodStart)
	out[1] = timeNanos(li.ChargePeriodEnd)
	out[2] = timeNanos(li.BillingPeriodStart)
	out[3] = timeNanos(li.BillingPeriodEnd)
}

var (
	lineItemStringByName = map[string]*strField{}
	lineItemNumByName    = map[string]*numField{}
)

func init() {
	for i := range lineItemStrings {
		lineItemStringByName[lineItemStrings[i].name] = &lineItemStrings[i]
	}
	for i := range lineItemNums {
		lineItemNumByName[lineItemNums[i].name] = &lineItemNums[i]
	}
}

// timeNanos converts t to unix nanoseconds; the zero time is null.
func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return nullInt
	}
	return t.UnixNano()
}

func nanosTime(v int64) time.Time {
	if v == nullInt {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

var (
	minTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkLineItems verifies that rows belong to p and that their times can
// be stored.
func checkLineItems(p costgate.Partition, rows []costgate.LineItem) error {
	if err := checkPartition(p); err != nil {
		return err
	}
	check := newRowCheck(p)
	for i := range rows {
		if err := check.lineItem(i, &rows[i]); err != nil {
			return &costgate.RowError{Row: i, Err: err}
		}
	}
	return nil
}

func checkPartition(p costgate.Partition) error {
	if p.BillingAccountID == "" || p.Source == "" || p.BillingPeriod.IsZero() {
		return fmt.Errorf("partition %s: source, billing account and billing period are required", p)
	}
	return nil
}

// rowCheck checks that rows belong in a partition: its billing period's
// bounds are worked out once, not once a row.
type rowCheck struct {
	p                    costgate.Partition
	start, end           time.Time // the billing period, [start, end) in UTC
	startNanos, endNanos int64     // the same in Unix nanoseconds
	minNanos, maxNanos   int64     // minTime, maxTime
}

func newRowCheck(p costgate.Partition) *rowCheck {
	c := &rowCheck{p: p, start: p.BillingPeriod.Start(), end: p.BillingPeriod.End(), minNanos: minTime.UnixNano(), maxNanos: maxTime.UnixNano()}
	c.startNanos, c.endNanos = c.start.UnixNano(), c.end.UnixNano()
	return c
}

// codedRow is lineItem for a coded row whose ids are within table.
func (c *rowCheck) codedRow(i int, cr *costgate.CodedRow, table []string) error {
	p := c.p
	acct := "" // id 0 is empty whatever table[0] holds
	if id := cr.IDs[acctField]; id != 0 {
		acct = table[id]
	}
	if acct != p.BillingAccountID {
		return fmt.Errorf("row %d: BillingAccountId %q is not the partition's %q", i, acct, p.BillingAccountID)
	}
	if cr.Times[timeChargeStart] == costgate.NullTime {
		return fmt.Errorf("row %d: ChargePeriodStart is required", i)
	}
	if bps := cr.Times[timeBillingStart]; bps == costgate.NullTime || bps < c.startNanos || bps >= c.endNanos {
		return fmt.Errorf("row %d: BillingPeriodStart %s is not in the partition's billing period %s",
			i, nanosTime(bps).Format(time.RFC3339), p.BillingPeriod)
	}
	if len(cr.Extensions) > 0 { // ranging over a nil map still costs a call
		for k := range cr.Extensions {
			if !strings.HasPrefix(k, extPrefix) || len(k) == len(extPrefix) {
				return fmt.Errorf("row %d: extension column %q must be named x_NAME", i, k)
			}
		}
	}
	for k, v := range cr.Times {
		if v != costgate.NullTime && (v < c.minNanos || v >= c.maxNanos) {
			return fmt.Errorf("row %d: %s %s is out of range", i, costgate.TimeFields[k], nanosTime(v).Format(time.RFC3339))
		}
	}
	return nil
}

// Indexes in costgate.TimeFields (and lineItemTimes).
const (
	timeChargeStart  = 0
	timeBillingStart = 2
)

// lineItem checks that row i belongs in the partition.
func (c *rowCheck) lineItem(i int, li *costgate.LineItem) error {
	p := c.p
	if li.BillingAccountID != p.BillingAccountID {
		return fmt.Errorf("row %d: BillingAccountId %q is not the partition's %q", i, li.BillingAccountID, p.BillingAccountID)
	}
	if li.ChargePeriodStart.IsZero() {
		return fmt.Errorf("row %d: ChargePeriodStart is required", i)
	}
	// In the period's month: costgate.MonthOf(t) == p.BillingPeriod.
	if bps := li.BillingPeriodStart; bps.IsZero() || bps.Before(c.start) || !bps.Before(c.end) {
		return fmt.Errorf("row %d: BillingPeriodStart %s is not in the partition's billing period %s",
			i, li.BillingPeriodStart.Format(time.RFC3339), p.BillingPeriod)
	}
	for k := range li.Extensions {
		if !strings.HasPrefix(k, extPrefix) || len(k) == len(extPrefix) {
			return fmt.Errorf("row %d: extension column %q must be named x_NAME", i, k)
		}
	}
	for _, f := range lineItemTimes {
		t := f.get(li)
		if !t.IsZero() && (t.Before(minTime) || !t.Before(maxTime)) {
			return fmt.Errorf("row %d: %s %s is out of range", i, f.name, t.Format(time.RFC3339))
		}
	}
	return nil
}

// firstRowError keeps the error of the lowest row among those reported
// from several goroutines: the error a row-by-row check would give.
type firstRowError struct {
	mu  sync.Mutex
	row int
	err error
}

func (e *firstRowError) add(row int, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil || row < e.row {
		e.row, e.err = row, &costgate.RowError{Row: row, Err: err}
	}
}

func (e *firstRowError) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// mapKeys returns the sorted union of the keys of every row's map.
func mapKeys(n int, m func(i int) map[string]string) []string {
	seen := map[string]struct{}{}
	var last map[string]string
	for i := 0; i < n; i++ {
		mi := m(i)
		if len(mi) == 0 {
			continue
		}
		if last != nil && len(mi) == len(last) && samePtr(mi, last) {
			continue
		}
		for k := range mi {
			seen[k] = struct{}{}
		}
		last = mi
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// samePtr reports whether two maps are the same map (generators and
// parsers often share one tag map between rows of a resource).
func samePtr(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// lineItemSpec describes rows as a table to build.
func lineItemSpec(rows []costgate.LineItem) *tableSpec {
	tagKeys := mapKeys(len(rows), func(i int) map[string]string { return rows[i].Tags })
	extKeys := mapKeys(len(rows), func(i int) map[string]string { return rows[i].Extensions })
	return lineItemSpecOf(len(rows), tagKeys, extKeys, nil, lineItemReader(func(i int, _ *rowBuf) *costgate.LineItem { return &rows[i] }))
}

// lineItemSourceSpec describes the rows of src as a table to build. Each
// row is checked as it is read (rowCheck); the spec's check reports
// the first failure once the rows have been read.
func lineItemSourceSpec(p costgate.Partition, src costgate.LineItemSource) *tableSpec {
	tags, exts := src.MapKeys()
	sortKeys := func(keys []string) []string {
		keys = slices.Clone(keys)
		slices.Sort(keys)
		return slices.Compact(keys)
	}
	var bad firstRowError
	check := newRowCheck(p)
	read := lineItemReader(func(i int, r *rowBuf) *costgate.LineItem {
		if r.li == nil {
			r.li = new(costgate.LineItem)
		}
		src.LineItem(i, r.li)
		if err := check.lineItem(i, r.li); err != nil {
			bad.add(i, err)
		}
		return r.li
	})
	if coded, ok := src.(costgate.CodedLineItemSource); ok {
		// The string fields come as ids into the source's tables (each
		// distinct value of a table is coded once, extractColumns), the
		// times and amounts as the integers the columns hold.
		read = func(i int, r *rowBuf) (tags, exts map[string]string) {
			if r.coded == nil {
				r.coded = new(costgate.CodedRow)
			}
			cr := r.coded
			r.table = coded.CodedRow(i, cr)
			if len(r.table) == 0 {
				r.table = emptyTable
			}
			r.ids = cr.IDs[:]
			for _, id := range r.ids {
				if int(id) >= len(r.table) {
					bad.add(i, fmt.Errorf("row %d: string id %d outside its table of %d", i, id, len(r.table)))
					clear(r.ids)
					break
				}
			}
			if err := check.codedRow(i, cr, r.table); err != nil {
				bad.add(i, err)
			}
			r.tagsID = cr.TagsID
			copy(r.ints, cr.Times[:])
			copy(r.money, cr.Amounts[:])
			return cr.Tags, cr.Extensions
		}
	}
	spec := lineItemSpecOf(src.Len(), sortKeys(tags), sortKeys(exts), &bad, read)
	spec.check = bad.get
	return spec
}

// rowReader reads row i into r: its string columns (r.strs and
// r.present, or coded in r.table and r.ids), r.ints (lineItemTimes) and
// r.money (lineItemNums); it returns the row's Tags and Extensions.
type rowReader func(i int, r *rowBuf) (tags, exts map[string]string)

// lineItemReader reads rows given as line items.
func lineItemReader(row func(i int, r *rowBuf) *costgate.LineItem) rowReader {
	return func(i int, r *rowBuf) (tags, exts map[string]string) {
		li := row(i, r)
		fixed := r.strs[:len(lineItemStrings)]
		lineItemStringValues(li, fixed)
		for j, v := range fixed {
			r.present[j] = v != ""
		}
		lineItemTimeValues(li, r.ints)
		lineItemNumValues(li, r.money)
		return li.Tags, li.Extensions
	}
}

// lineItemSpecOf describes n rows, read by read for the worker whose
// buffer is r, as a table to build. tagKeys and extKeys are sorted
// and should hold every key of the rows' Tags and Extensions: a row with
// another key is reported to bad (nil: the keys were read from the rows).
func lineItemSpecOf(n int, tagKeys, extKeys []string, bad *firstRowError, read rowReader) *tableSpec {
	spec := &tableSpec{
		kind:    tableLineItems,
		rows:    n,
		sortBy:  []string{colDay, "BillingAccountId", "ServiceName", "ResourceId"},
		runKeys: []string{colDay, "BillingAccountId", "ServiceName"},
		timeCol: colChargePeriodStart,
		derived: []derivedSpec{
			{name: colDay, from: colChargePeriodStart, unit: "day"},
			{name: colMonth, from: colChargePeriodStart, unit: "month"},
		},
	}
	for _, f := range lineItemStrings {
		spec.strs = append(spec.strs, colSpec{name: f.name, indexed: f.indexed})
	}
	fixed := len(spec.strs)
	slot := map[string]int{} // "tag:KEY" or "x_NAME" -> string column
	for _, key := range tagKeys {
		slot[tagPrefix+key] = len(spec.strs)
		spec.strs = append(spec.strs, colSpec{name: tagPrefix + key, indexed: true})
	}
	extSlot := map[string]int{}
	for _, key := range extKeys {
		extSlot[key] = len(spec.strs)
		spec.strs = append(spec.strs, colSpec{name: key})
	}
	spec.tagCols.lo, spec.tagCols.n = fixed, len(tagKeys)
	tagSlot := make(map[string]int, len(tagKeys))
	for _, key := range tagKeys {
		tagSlot[key] = slot[tagPrefix+key]
	}
	for _, f := range lineItemTimes {
		spec.ints = append(spec.ints, colSpec{name: f.name})
	}
	for _, f := range lineItemNums {
		spec.money = append(spec.money, colSpec{name: f.name, bsi: f.bsi})
	}
	spec.extract = func(i int, r *rowBuf) {
		tags, exts := read(i, r)
		switch {
		case tags == nil || r.tagCodes == nil:
		case r.tagsID != 0 && r.tagsID < maxTagsID && r.table != nil:
			// By the source's id of the map: the map is not read.
			if off, ok := r.tagIDs.get(r.table, r.tagsID); ok {
				r.tagHit = r.tagFlat[off : int(off)+len(tagKeys)]
			} else if len(tags) > 0 {
				r.tagNewID = true
			}
		default:
			// By the map's address: a cached map is not read either (its
			// header is one more cache miss a row).
			id := mapIdentity(tags)
			if off, ok := r.tagCodes.get(id); ok {
				r.tagHit = r.tagFlat[off : int(off)+len(tagKeys)]
			} else if len(tags) > 0 {
				r.tagMap = id
			}
		}
		if r.tagHit == nil && len(tags) > 0 {
			found := 0
			if len(tagKeys) <= 8 {
				// A lookup per known key beats iterating a map.
				for j, k := range tagKeys {
					if v, ok := tags[k]; ok {
						r.strs[fixed+j], r.present[fixed+j] = v, true
						found++
					}
				}
			} else {
				for k, v := range tags {
					if j, ok := tagSlot[k]; ok {
						r.strs[j], r.present[j] = v, true
						found++
					}
				}
			}
			if found < len(tags) && bad != nil {
				bad.add(i, fmt.Errorf("row %d: a tag key is missing from the row source's MapKeys", i))
			}
		}
		if len(exts) == 0 {
			return
		}
		for k, v := range exts {
			if j, ok := extSlot[k]; ok {
				r.strs[j], r.present[j] = v, true
			} else if bad != nil {
				bad.add(i, fmt.Errorf("row %d: extension column %q is missing from the row source's MapKeys", i, k))
			}
		}
	}
	return spec
}
