package costgate

import (
	"fmt"
	"time"
)

// LineItem is one billing line item in FOCUS terms: the FOCUS 1.0
// columns and the 1.1/1.2 additions that providers fill today. Go field
// names are the FOCUS column names with Go's initialisms (BillingAccountId
// is BillingAccountID); the JSON names are the FOCUS names exactly.
//
// Strings are empty where FOCUS allows null. Amounts are exact Money,
// quantities exact Quantity; times are UTC.
type LineItem struct {
	// Time.
	ChargePeriodStart  time.Time `json:"ChargePeriodStart"`
	ChargePeriodEnd    time.Time `json:"ChargePeriodEnd"`
	BillingPeriodStart time.Time `json:"BillingPeriodStart"`
	BillingPeriodEnd   time.Time `json:"BillingPeriodEnd"`

	// Accounts and parties.
	BillingAccountID   string `json:"BillingAccountId"`
	BillingAccountName string `json:"BillingAccountName,omitempty"`
	BillingAccountType string `json:"BillingAccountType,omitempty"` // FOCUS 1.2
	SubAccountID       string `json:"SubAccountId,omitempty"`
	SubAccountName     string `json:"SubAccountName,omitempty"`
	SubAccountType     string `json:"SubAccountType,omitempty"` // FOCUS 1.2
	ProviderName       string `json:"ProviderName"`
	PublisherName      string `json:"PublisherName,omitempty"`
	InvoiceIssuerName  string `json:"InvoiceIssuerName,omitempty"`
	InvoiceID          string `json:"InvoiceId,omitempty"` // FOCUS 1.2

	// Service, location and resource.
	ServiceName        string `json:"ServiceName"`
	ServiceCategory    string `json:"ServiceCategory,omitempty"`
	ServiceSubcategory string `json:"ServiceSubcategory,omitempty"` // FOCUS 1.1
	RegionID           string `json:"RegionId,omitempty"`
	RegionName         string `json:"RegionName,omitempty"`
	AvailabilityZone   string `json:"AvailabilityZone,omitempty"`
	ResourceID         string `json:"ResourceId,omitempty"`
	ResourceName       string `json:"ResourceName,omitempty"`
	ResourceType       string `json:"ResourceType,omitempty"`

	// SKU and charge.
	SkuID             string `json:"SkuId,omitempty"`
	SkuPriceID        string `json:"SkuPriceId,omitempty"`
	SkuMeter          string `json:"SkuMeter,omitempty"` // FOCUS 1.1
	ChargeCategory    string `json:"ChargeCategory"`
	ChargeClass       string `json:"ChargeClass,omitempty"`
	ChargeFrequency   string `json:"ChargeFrequency,omitempty"`
	ChargeDescription string `json:"ChargeDescription,omitempty"`

	// Pricing and usage.
	PricingCategory  string   `json:"PricingCategory,omitempty"`
	PricingUnit      string   `json:"PricingUnit,omitempty"`
	PricingQuantity  Quantity `json:"PricingQuantity"`
	ConsumedUnit     string   `json:"ConsumedUnit,omitempty"`
	ConsumedQuantity Quantity `json:"ConsumedQuantity"`

	// Commitment discounts and capacity reservations.
	CommitmentDiscountID       string   `json:"CommitmentDiscountId,omitempty"`
	CommitmentDiscountName     string   `json:"CommitmentDiscountName,omitempty"`
	CommitmentDiscountCategory string   `json:"CommitmentDiscountCategory,omitempty"`
	CommitmentDiscountType     string   `json:"CommitmentDiscountType,omitempty"`
	CommitmentDiscountStatus   string   `json:"CommitmentDiscountStatus,omitempty"`
	CommitmentDiscountQuantity Quantity `json:"CommitmentDiscountQuantity"`          // FOCUS 1.1
	CommitmentDiscountUnit     string   `json:"CommitmentDiscountUnit,omitempty"`    // FOCUS 1.1
	CapacityReservationID      string   `json:"CapacityReservationId,omitempty"`     // FOCUS 1.1
	CapacityReservationStatus  string   `json:"CapacityReservationStatus,omitempty"` // FOCUS 1.1

	// Money.
	BillingCurrency     string `json:"BillingCurrency"`
	BilledCost          Money  `json:"BilledCost"`
	EffectiveCost       Money  `json:"EffectiveCost"`
	ListCost            Money  `json:"ListCost"`
	ContractedCost      Money  `json:"ContractedCost"`
	ListUnitPrice       Money  `json:"ListUnitPrice"`
	ContractedUnitPrice Money  `json:"ContractedUnitPrice"`

	// Tags are the resource's tags (FOCUS Tags), key to value.
	Tags map[string]string `json:"Tags,omitempty"`
	// Extensions holds provider x_ columns as strings, keyed by the full
	// column name ("x_UsageType").
	Extensions map[string]string `json:"Extensions,omitempty"`
}

// Quantity is an exact usage quantity in nano-units (1e-9), the same
// fixed point as Money, so ConsumedQuantity sums are exact too.
type Quantity int64

// ParseQuantity parses a decimal quantity such as "730", "0.5" or
// "1.2e-3"; more than nine fractional digits round half away from zero.
func ParseQuantity(s string) (Quantity, error) {
	v, err := parseNanos(s)
	if err != nil {
		return 0, fmt.Errorf("parse quantity %q: %w", s, err)
	}
	return Quantity(v), nil
}

// String formats q with trailing fractional zeros trimmed ("730", "0.5").
func (q Quantity) String() string { return Money(q).String() }

// MarshalText encodes q as an exact decimal string.
func (q Quantity) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText parses a decimal string.
func (q *Quantity) UnmarshalText(b []byte) error {
	v, err := ParseQuantity(string(b))
	if err != nil {
		return err
	}
	*q = v
	return nil
}
