package aws

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector/tabular"
)

// decoder maps the records of one CUR file to FOCUS line items, following
// the FinOps Foundation converter's rules (testdata/billing/aws-cur/
// focus_conversion_rules_aws_cur.csv); see the package doc for where it
// departs from them.
type decoder struct {
	file   string
	header []string
	idx    map[string]int // canonical name -> field index
	tags   []tagCol
	intern map[string]*tabular.Interner
	times  map[string]*tabular.TimeCache

	tagCache  map[string]map[string]string
	tagKey    []byte
	tagVals   []string
	extKey    []byte
	extCache  map[string]map[string]string
	prodCache map[string]string
}

type tagCol struct {
	i   int
	key string
}

func newDecoder(file string, header []string) (*decoder, error) {
	d := &decoder{
		file: file, header: header, idx: map[string]int{},
		intern: map[string]*tabular.Interner{}, times: map[string]*tabular.TimeCache{},
		tagCache: map[string]map[string]string{}, extCache: map[string]map[string]string{},
		prodCache: map[string]string{},
	}
	for i, h := range header {
		name, tag, isTag, ok := canonical(h)
		switch {
		case !ok:
		case isTag:
			d.tags = append(d.tags, tagCol{i: i, key: tag})
		default:
			if _, dup := d.idx[name]; !dup {
				d.idx[name] = i
			}
		}
	}
	var missing []string
	for _, r := range required {
		if _, ok := d.idx[r.name]; !ok {
			missing = append(missing, r.legacy+" ("+r.name+")")
		}
	}
	if len(missing) > 0 {
		return nil, &tabular.FieldError{File: file, Where: "line 1", Column: strings.Join(missing, ", "),
			Err: errors.New("required CUR column missing: is this a Cost and Usage Report?")}
	}
	d.tagVals = make([]string, len(d.tags))
	return d, nil
}

// row reads the fields of one record by canonical name.
type row struct {
	d   *decoder
	rec tabular.Records
	err error
}

func (r *row) raw(col string) []byte {
	i, ok := r.d.idx[col]
	if !ok {
		return nil
	}
	b := r.rec.Field(i)
	if tabular.IsNull(b) {
		return nil
	}
	return b
}

func (r *row) fail(col string, err error) {
	if r.err == nil {
		r.err = &tabular.FieldError{File: r.d.file, Where: r.rec.Where(), Column: r.d.header[r.d.idx[col]], Err: err}
	}
}

func (r *row) str(col string) string {
	b := r.raw(col)
	if b == nil {
		return ""
	}
	in := r.d.intern[col]
	if in == nil {
		in = tabular.NewInterner(0)
		r.d.intern[col] = in
	}
	return in.String(b)
}

func (r *row) money(col string) (costgate.Money, bool) {
	b := r.raw(col)
	if b == nil {
		return 0, false
	}
	v, err := tabular.ParseMoney(b)
	if err != nil {
		r.fail(col, err)
	}
	return v, true
}

func (r *row) qty(col string) (costgate.Quantity, bool) {
	b := r.raw(col)
	if b == nil {
		return 0, false
	}
	v, err := tabular.ParseQuantity(b)
	if err != nil {
		r.fail(col, err)
	}
	return v, true
}

func (r *row) time(col string, dst *time.Time) {
	b := r.raw(col)
	if b == nil {
		return
	}
	c := r.d.times[col]
	if c == nil {
		c = &tabular.TimeCache{}
		r.d.times[col] = c
	}
	v, err := c.Parse(b)
	if err != nil {
		r.fail(col, err)
		return
	}
	*dst = v
}

func addMoney(r *row, col string, a, b costgate.Money) costgate.Money {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		r.fail(col, costgate.ErrMoneyRange)
	}
	return s
}

// Charge categories by line item type (converter rule, with Credit and
// Refund as FOCUS 1.0's Credit category).
var chargeCategory = map[string]string{
	"Tax": "Tax",
	"Fee": "Purchase", "SavingsPlanUpfrontFee": "Purchase", "RIFee": "Purchase", "SavingsPlanRecurringFee": "Purchase",
	"Usage": "Usage", "SavingsPlanCoveredUsage": "Usage", "SavingsPlanNegation": "Usage", "DiscountedUsage": "Usage",
	"BundledDiscount": "Usage", "Discount": "Usage", "PrivateRateDiscount": "Usage", "EdpDiscount": "Usage",
	"Credit": "Credit", "Refund": "Credit",
}

// chargeFrequency by line item type; the others (tax, credits, refunds)
// follow the bill type as the converter's rule does.
var chargeFrequency = map[string]string{
	"Usage": "Usage-Based", "SavingsPlanCoveredUsage": "Usage-Based", "SavingsPlanNegation": "Usage-Based",
	"DiscountedUsage": "Usage-Based", "BundledDiscount": "Usage-Based", "Discount": "Usage-Based",
	"PrivateRateDiscount": "Usage-Based", "EdpDiscount": "Usage-Based",
	"RIFee": "Recurring", "SavingsPlanRecurringFee": "Recurring",
	"SavingsPlanUpfrontFee": "One-Time", "Fee": "One-Time",
}

var billTypeFrequency = map[string]string{"Refund": "One-Time", "Purchase": "One-Time", "Anniversary": "Recurring"}

var pricingCategory = map[string]string{
	"On-Demand": "Standard", "Reserved Instances": "Committed", "Spot Instances": "Dynamic", "Dedicated Hosts": "Standard",
	// pricing/term, when the purchase option is absent (it is in most
	// reports).
	"OnDemand": "Standard", "Reserved": "Committed", "Spot": "Dynamic",
}

// decode fills li from the current record.
func (d *decoder) decode(rec tabular.Records, li *costgate.LineItem) error {
	*li = costgate.LineItem{}
	r := &row{d: d, rec: rec}

	lit := r.str(colLineItemType)
	li.BillingAccountID = r.str(colPayerAccountID)
	li.BillingAccountName = r.str(colPayerAccountName)
	li.SubAccountID = r.str(colUsageAccountID)
	li.SubAccountName = r.str(colUsageAccountName)
	li.ProviderName = "AWS"
	li.PublisherName = r.str(colLegalEntity)
	li.InvoiceIssuerName = r.str(colInvoicingEntity)
	li.InvoiceID = r.str(colInvoiceID)
	r.time(colBillingPeriodStart, &li.BillingPeriodStart)
	r.time(colBillingPeriodEnd, &li.BillingPeriodEnd)
	r.time(colUsageStart, &li.ChargePeriodStart)
	r.time(colUsageEnd, &li.ChargePeriodEnd)

	code := r.str(colProductCode)
	li.ServiceName = code
	li.ServiceCategory = categoryOf(code)
	li.RegionID = r.str(colRegionCode)
	if li.RegionID == "" {
		li.RegionID = r.str(colRegion)
	}
	if li.RegionID == "" {
		li.RegionID = d.productRegion(r)
	}
	li.RegionName = r.str(colLocation)
	li.AvailabilityZone = r.str(colAvailabilityZone)
	li.ResourceID = r.str(colResourceID)
	li.ResourceType, li.ResourceName = resourceParts(li.ResourceID)
	li.SkuID = r.str(colSku)
	li.SkuPriceID = r.str(colRateCode)
	if li.SkuPriceID == "" {
		li.SkuPriceID = r.str(colRateID)
	}

	li.ChargeCategory = chargeCategory[lit]
	if lit == "Refund" {
		li.ChargeClass = "Correction"
	}
	li.ChargeFrequency = chargeFrequency[lit]
	if li.ChargeFrequency == "" {
		li.ChargeFrequency = billTypeFrequency[r.str(colBillType)]
	}
	li.ChargeDescription = r.str(colDescription)
	li.PricingCategory = pricingCategory[r.str(colPurchaseOption)]
	if li.PricingCategory == "" {
		li.PricingCategory = pricingCategory[r.str(colTerm)]
	}

	usage, _ := r.qty(colUsageAmount)
	li.ConsumedQuantity = usage
	li.ConsumedUnit = r.str(colPricingUnit)
	li.PricingUnit = li.ConsumedUnit
	li.PricingQuantity = usage
	if q, ok := r.qty(colRITotalUnits); ok {
		li.PricingQuantity = q
	}

	spARN, riARN := r.str(colSavingsPlanARN), r.str(colReservationARN)
	switch {
	case spARN != "":
		li.CommitmentDiscountID, li.CommitmentDiscountCategory, li.CommitmentDiscountType = spARN, "Spend", "Savings Plan"
	case riARN != "":
		li.CommitmentDiscountID, li.CommitmentDiscountCategory, li.CommitmentDiscountType = riARN, "Usage", "Reserved Instances (RI)"
	}
	if lit == "SavingsPlanCoveredUsage" || lit == "DiscountedUsage" {
		li.CommitmentDiscountStatus = "Used"
	}
	li.BillingCurrency = r.str(colCurrency)

	unblended, _ := r.money(colUnblendedCost)
	li.BilledCost = unblended
	if net, ok := r.money(colNetUnblendedCost); ok {
		li.BilledCost = net
	}
	li.ContractedCost = unblended
	switch lit {
	case "SavingsPlanCoveredUsage":
		li.EffectiveCost, _ = r.money(colSPEffective)
	case "SavingsPlanRecurringFee":
		total, _ := r.money(colSPCommitmentToDate)
		used, _ := r.money(colSPUsedCommitment)
		li.EffectiveCost = addMoney(r, colSPUsedCommitment, total, -used)
	case "SavingsPlanNegation", "SavingsPlanUpfrontFee":
		li.EffectiveCost = 0
	case "DiscountedUsage":
		li.EffectiveCost, _ = r.money(colReservationEffective)
	case "RIFee":
		upfront, _ := r.money(colRIUnusedUpfront)
		recurring, _ := r.money(colRIUnusedRecurring)
		li.EffectiveCost = addMoney(r, colRIUnusedRecurring, upfront, recurring)
	case "Fee":
		li.EffectiveCost = unblended
		if riARN != "" {
			li.EffectiveCost = 0 // an RI's upfront fee: amortised in RIFee and DiscountedUsage
		}
	default:
		li.EffectiveCost = unblended
	}
	if rate, ok := r.money(colOnDemandRate); ok {
		li.ListUnitPrice = rate
		lc, err := rate.MulRat(int64(usage), costgate.NanosPerUnit)
		if err != nil {
			r.fail(colOnDemandRate, fmt.Errorf("rate x usage: %w", err))
		}
		li.ListCost = lc
	} else {
		li.ListCost, _ = r.money(colOnDemandCost)
	}

	li.Tags = d.tagsOf(r)
	li.Extensions = d.extensions(r, lit)
	if r.err != nil {
		return r.err
	}
	for _, req := range [...]struct {
		ok  bool
		col string
	}{
		{li.BillingAccountID != "", colPayerAccountID},
		{!li.BillingPeriodStart.IsZero(), colBillingPeriodStart},
		{!li.ChargePeriodStart.IsZero(), colUsageStart},
	} {
		if !req.ok {
			return &tabular.FieldError{File: d.file, Where: rec.Where(), Column: d.header[d.idx[req.col]], Err: errors.New("null, but every row needs one")}
		}
	}
	return nil
}

// resourceParts splits an ARN into the converter's ResourceType (the
// sixth ':' field) and ResourceName (the seventh), also for ARNs that put
// type and name in one field ("instance/i-0abc"). Plain ids give nothing.
// The converter title-cases the name; an identifier is kept as it is.
func resourceParts(id string) (typ, name string) {
	if !strings.HasPrefix(id, "arn:") {
		return "", ""
	}
	parts := strings.SplitN(id, ":", 7)
	switch len(parts) {
	case 7:
		return parts[5], parts[6]
	case 6:
		if t, n, ok := strings.Cut(parts[5], "/"); ok {
			return t, n
		}
	}
	return "", ""
}

// tagsOf collects the row's resource tags: legacy resourceTags/ columns
// and the CUR 2.0 resource_tags map, sharing maps between equal rows.
func (d *decoder) tagsOf(r *row) map[string]string {
	if i, ok := d.idx[colResourceTags]; ok {
		b := r.rec.Field(i)
		if tabular.IsNull(b) || string(b) == "{}" {
			return nil
		}
		if m, ok := d.tagCache[string(b)]; ok {
			return m
		}
		var raw map[string]string
		if err := json.Unmarshal(b, &raw); err != nil {
			r.fail(colResourceTags, fmt.Errorf("want a map of tags: %w", err))
			return nil
		}
		m := make(map[string]string, len(raw))
		for k, v := range raw {
			m[strings.TrimPrefix(tagKey(k), "user_")] = v
		}
		d.cache(d.tagCache, string(b), m)
		return m
	}
	if len(d.tags) == 0 {
		return nil
	}
	d.tagKey = d.tagKey[:0]
	present := false
	for k, tc := range d.tags {
		b := r.rec.Field(tc.i)
		d.tagVals[k] = ""
		if !tabular.IsNull(b) {
			d.tagVals[k] = string(b)
			present = true
		}
		d.tagKey = append(d.tagKey, b...)
		d.tagKey = append(d.tagKey, 0)
	}
	if !present {
		return nil
	}
	if m, ok := d.tagCache[string(d.tagKey)]; ok {
		return m
	}
	m := map[string]string{}
	for k, tc := range d.tags {
		if d.tagVals[k] != "" {
			m[tc.key] = d.tagVals[k]
		}
	}
	d.cache(d.tagCache, string(d.tagKey), m)
	return m
}

func (d *decoder) cache(c map[string]map[string]string, k string, m map[string]string) {
	if len(c) >= 1<<16 {
		clear(c)
	}
	c[k] = m
}

// extensions keeps the CUR columns FOCUS has no place for but cost work
// needs: x_UsageType, x_Operation and x_LineItemType.
func (d *decoder) extensions(r *row, lit string) map[string]string {
	ut, op := r.str(colUsageType), r.str(colOperation)
	d.extKey = append(append(append(append(append(d.extKey[:0], ut...), 0), op...), 0), lit...)
	if m, ok := d.extCache[string(d.extKey)]; ok {
		return m
	}
	m := map[string]string{}
	for k, v := range map[string]string{"x_UsageType": ut, "x_Operation": op, "x_LineItemType": lit} {
		if v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		m = nil
	}
	d.cache(d.extCache, string(d.extKey), m)
	return m
}

// productRegion reads the region from the CUR 2.0 product map.
func (d *decoder) productRegion(r *row) string {
	b := r.raw(colProduct)
	if b == nil {
		return ""
	}
	if v, ok := d.prodCache[string(b)]; ok {
		return v
	}
	var m map[string]string
	_ = json.Unmarshal(b, &m) // a malformed product map only loses the region
	v := m["region_code"]
	if v == "" {
		v = m["region"]
	}
	if len(d.prodCache) >= 1<<16 {
		clear(d.prodCache)
	}
	d.prodCache[string(b)] = v
	return v
}
