package focus

import (
	"strings"
	"time"

	"github.com/costgate/costgate"
)

type kind uint8

const (
	kString kind = iota + 1
	kTime
	kMoney
	kQuantity
	kTags
)

// column maps one FOCUS column onto a LineItem field.
type column struct {
	name  string
	kind  kind
	str   func(*costgate.LineItem) *string
	tm    func(*costgate.LineItem) *time.Time
	money func(*costgate.LineItem) *costgate.Money
	qty   func(*costgate.LineItem) *costgate.Quantity
}

func s(name string, f func(*costgate.LineItem) *string) column {
	return column{name: name, kind: kString, str: f}
}

func t(name string, f func(*costgate.LineItem) *time.Time) column {
	return column{name: name, kind: kTime, tm: f}
}

func m(name string, f func(*costgate.LineItem) *costgate.Money) column {
	return column{name: name, kind: kMoney, money: f}
}

func q(name string, f func(*costgate.LineItem) *costgate.Quantity) column {
	return column{name: name, kind: kQuantity, qty: f}
}

// columns lists the FOCUS 1.0–1.2 columns the store keeps.
var columns = []column{
	t("ChargePeriodStart", func(l *costgate.LineItem) *time.Time { return &l.ChargePeriodStart }),
	t("ChargePeriodEnd", func(l *costgate.LineItem) *time.Time { return &l.ChargePeriodEnd }),
	t("BillingPeriodStart", func(l *costgate.LineItem) *time.Time { return &l.BillingPeriodStart }),
	t("BillingPeriodEnd", func(l *costgate.LineItem) *time.Time { return &l.BillingPeriodEnd }),

	s("BillingAccountId", func(l *costgate.LineItem) *string { return &l.BillingAccountID }),
	s("BillingAccountName", func(l *costgate.LineItem) *string { return &l.BillingAccountName }),
	s("BillingAccountType", func(l *costgate.LineItem) *string { return &l.BillingAccountType }),
	s("SubAccountId", func(l *costgate.LineItem) *string { return &l.SubAccountID }),
	s("SubAccountName", func(l *costgate.LineItem) *string { return &l.SubAccountName }),
	s("SubAccountType", func(l *costgate.LineItem) *string { return &l.SubAccountType }),
	s("ProviderName", func(l *costgate.LineItem) *string { return &l.ProviderName }),
	s("PublisherName", func(l *costgate.LineItem) *string { return &l.PublisherName }),
	s("InvoiceIssuerName", func(l *costgate.LineItem) *string { return &l.InvoiceIssuerName }),
	s("InvoiceId", func(l *costgate.LineItem) *string { return &l.InvoiceID }),

	s("ServiceName", func(l *costgate.LineItem) *string { return &l.ServiceName }),
	s("ServiceCategory", func(l *costgate.LineItem) *string { return &l.ServiceCategory }),
	s("ServiceSubcategory", func(l *costgate.LineItem) *string { return &l.ServiceSubcategory }),
	s("RegionId", func(l *costgate.LineItem) *string { return &l.RegionID }),
	s("RegionName", func(l *costgate.LineItem) *string { return &l.RegionName }),
	s("AvailabilityZone", func(l *costgate.LineItem) *string { return &l.AvailabilityZone }),
	s("ResourceId", func(l *costgate.LineItem) *string { return &l.ResourceID }),
	s("ResourceName", func(l *costgate.LineItem) *string { return &l.ResourceName }),
	s("ResourceType", func(l *costgate.LineItem) *string { return &l.ResourceType }),

	s("SkuId", func(l *costgate.LineItem) *string { return &l.SkuID }),
	s("SkuPriceId", func(l *costgate.LineItem) *string { return &l.SkuPriceID }),
	s("SkuMeter", func(l *costgate.LineItem) *string { return &l.SkuMeter }),
	s("ChargeCategory", func(l *costgate.LineItem) *string { return &l.ChargeCategory }),
	s("ChargeClass", func(l *costgate.LineItem) *string { return &l.ChargeClass }),
	s("ChargeFrequency", func(l *costgate.LineItem) *string { return &l.ChargeFrequency }),
	s("ChargeDescription", func(l *costgate.LineItem) *string { return &l.ChargeDescription }),

	s("PricingCategory", func(l *costgate.LineItem) *string { return &l.PricingCategory }),
	s("PricingUnit", func(l *costgate.LineItem) *string { return &l.PricingUnit }),
	q("PricingQuantity", func(l *costgate.LineItem) *costgate.Quantity { return &l.PricingQuantity }),
	s("ConsumedUnit", func(l *costgate.LineItem) *string { return &l.ConsumedUnit }),
	q("ConsumedQuantity", func(l *costgate.LineItem) *costgate.Quantity { return &l.ConsumedQuantity }),

	s("CommitmentDiscountId", func(l *costgate.LineItem) *string { return &l.CommitmentDiscountID }),
	s("CommitmentDiscountName", func(l *costgate.LineItem) *string { return &l.CommitmentDiscountName }),
	s("CommitmentDiscountCategory", func(l *costgate.LineItem) *string { return &l.CommitmentDiscountCategory }),
	s("CommitmentDiscountType", func(l *costgate.LineItem) *string { return &l.CommitmentDiscountType }),
	s("CommitmentDiscountStatus", func(l *costgate.LineItem) *string { return &l.CommitmentDiscountStatus }),
	q("CommitmentDiscountQuantity", func(l *costgate.LineItem) *costgate.Quantity { return &l.CommitmentDiscountQuantity }),
	s("CommitmentDiscountUnit", func(l *costgate.LineItem) *string { return &l.CommitmentDiscountUnit }),
	s("CapacityReservationId", func(l *costgate.LineItem) *string { return &l.CapacityReservationID }),
	s("CapacityReservationStatus", func(l *costgate.LineItem) *string { return &l.CapacityReservationStatus }),

	s("BillingCurrency", func(l *costgate.LineItem) *string { return &l.BillingCurrency }),
	m("BilledCost", func(l *costgate.LineItem) *costgate.Money { return &l.BilledCost }),
	m("EffectiveCost", func(l *costgate.LineItem) *costgate.Money { return &l.EffectiveCost }),
	m("ListCost", func(l *costgate.LineItem) *costgate.Money { return &l.ListCost }),
	m("ContractedCost", func(l *costgate.LineItem) *costgate.Money { return &l.ContractedCost }),
	m("ListUnitPrice", func(l *costgate.LineItem) *costgate.Money { return &l.ListUnitPrice }),
	m("ContractedUnitPrice", func(l *costgate.LineItem) *costgate.Money { return &l.ContractedUnitPrice }),

	{name: "Tags", kind: kTags},
}

// aliases are column names of FOCUS drafts before 1.0 that mean the same.
var aliases = map[string]string{
	"provider":      "ProviderName",
	"publisher":     "PublisherName",
	"invoiceissuer": "InvoiceIssuerName",
	"region":        "RegionId",
	"usagequantity": "ConsumedQuantity",
	"usageunit":     "ConsumedUnit",
	"amortizedcost": "EffectiveCost",
	"chargetype":    "ChargeCategory",
}

// known lists FOCUS columns the store has no field for; they are dropped
// without a notice.
var known = map[string]bool{
	"skupricedetails": true, "pricingcurrency": true, "pricingcurrencycontractedunitprice": true,
	"pricingcurrencyeffectivecost": true, "pricingcurrencylistunitprice": true,
	"contractapplied": true, "allocatedmethoddetails": true,
	"allocatedmethodid": true, "allocatedresourceid": true, "allocatedresourcename": true, "allocatedtags": true,
}

// required columns: without them a row cannot be placed in a partition
// or summed.
var required = []string{"BillingAccountId", "BillingPeriodStart", "ChargePeriodStart", "BilledCost", "EffectiveCost"}

var byLower = func() map[string]*column {
	out := make(map[string]*column, len(columns))
	for i := range columns {
		out[strings.ToLower(columns[i].name)] = &columns[i]
	}
	for a, target := range aliases {
		out[a] = out[strings.ToLower(target)]
	}
	return out
}()

// lookup finds the column a header name means: FOCUS names match
// case-insensitively (exporters and spreadsheets vary the case).
func lookup(name string) *column { return byLower[strings.ToLower(name)] }
