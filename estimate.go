package costgate

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// HoursPerMonth is the length of the estimation month in hours: 365 days
// × 24 hours / 12 months, the month AWS, Google Cloud, Azure and
// Infracost use for monthly prices.
const HoursPerMonth = 730

// Estimator prices the resources of a plan: it turns each planned
// resource into cost components, before and after the change. The pricing
// package implements it from a price catalog; the gate asks it for costs.
//
// An Estimator never silently prices what it does not know at zero: a
// resource it cannot price has Priced false and a Reason, and its
// address is listed in PlanEstimate.Unpriced.
type Estimator interface {
	Estimate(ctx context.Context, resources []PlannedResource) (*PlanEstimate, error)
}

// Planned-resource actions, as folded from Terraform's action lists.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionReplace = "replace"
	ActionRead    = "read"
	ActionNoOp    = "no-op"
)

// PlannedResource is one resource change of a plan as the estimators see
// it: the plan values before and after the change, and what the plan
// says about where the resource lives.
type PlannedResource struct {
	// Address is the full resource address
	// ("module.db.aws_db_instance.this[0]").
	Address string
	// Module is the module address, instance keys included ("" for the
	// root module).
	Module string
	// Type and Name are the resource type and name ("aws_instance",
	// "web").
	Type string
	Name string
	// Mode is "managed" or "data"; data sources cost nothing.
	Mode string
	// ProviderName is the provider source address
	// ("registry.terraform.io/hashicorp/aws").
	ProviderName string
	// Action is one of the Action constants.
	Action string
	// Before and After are the plan values (nil where the resource does
	// not exist on that side); numbers are json.Number.
	Before, After map[string]any
	// AfterUnknown marks the after values known only after apply
	// (Terraform's after_unknown: true at a key, or nested maps/lists).
	AfterUnknown map[string]any
	// Region is where the resource runs: the resource's own region,
	// location or zone when the plan has it, else the provider
	// configuration's region (an AWS region, a Google region, an Azure
	// location); empty when unknown.
	Region string
	// Account is the cloud account (AWS account ID, Google project,
	// Azure subscription) when the plan shows it; calibration uses it.
	Account string
	// Tags are the effective tags (labels on Google Cloud); a tag whose
	// value is known only after apply is left out.
	Tags map[string]string
	// References maps a top-level attribute to the addresses of the
	// resources its configuration expression refers to (module path plus
	// type.name, no instance key): an aws_autoscaling_group's
	// launch_template -> ["module.app.aws_launch_template.web"].
	References map[string][]string
}

// CostComponent is one priced line of a resource: a quantity per month
// times a unit price. List figures are the provider's public on-demand
// prices; UnitPrice and Monthly are the effective figures after
// calibration to the bill (equal to the list figures when there is no
// calibration).
type CostComponent struct {
	// Name says what is charged ("Instance usage (Linux/UNIX, on-demand,
	// m5.large)").
	Name string `json:"name"`
	// Subresource names the part of the resource it belongs to
	// ("root_block_device", "ebs_block_device[0]"), if any.
	Subresource string `json:"subresource,omitempty"`
	// Unit is the unit of the quantity and the price ("hours",
	// "GB-months", "IOPS-months", "1M requests", "GB-seconds").
	Unit string `json:"unit"`
	// MonthlyQuantity is the quantity per month; nil when the component is
	// usage-based and no usage is known.
	MonthlyQuantity *Quantity `json:"monthly_quantity"`
	// ListUnitPrice is the public list price of one Unit.
	ListUnitPrice Rate `json:"list_unit_price"`
	// UnitPrice is the effective price of one Unit.
	UnitPrice Rate `json:"unit_price"`
	// ListMonthly and Monthly are MonthlyQuantity times the prices,
	// rounded half away from zero to Money's nano-units; nil when the
	// quantity is unknown.
	ListMonthly *Money `json:"list_monthly"`
	Monthly     *Money `json:"monthly"`
	// UsageBased marks a quantity that depends on usage (requests, data
	// processed, storage used) rather than on the configuration.
	UsageBased bool `json:"usage_based,omitempty"`
	// UsageSource says where a usage-based quantity came from ("usage
	// file", "history: 3 similar resources, 30 days").
	UsageSource string `json:"usage_source,omitempty"`
	// PriceID names the catalog price used, so a decision can be
	// replayed against the same snapshot.
	PriceID string `json:"price_id,omitempty"`
	// ServiceFamily is the billing service the charge falls under, as
	// FOCUS ServiceName ("Amazon Elastic Compute Cloud"); calibration is
	// keyed on it.
	ServiceFamily string `json:"service_family,omitempty"`
}

// ResourceEstimate is the monthly cost of one planned resource before
// and after the change.
type ResourceEstimate struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	Action  string `json:"action"`
	// Priced is true when every side of the change that exists has a
	// known monthly cost (a create needs the after side, a delete the
	// before side, an update both).
	Priced bool `json:"priced"`
	// Free marks a type that costs nothing by itself (IAM, security
	// groups, subnets, ...): priced at exactly 0 with no components.
	Free bool `json:"free"`
	// UsageBased marks a resource with usage-based components.
	UsageBased bool `json:"usage_based"`
	// Partial marks a priced resource some of whose usage-based
	// components have no known usage: their cost is not in the monthly
	// figures.
	Partial bool `json:"partial,omitempty"`
	// Effective monthly figures (after calibration); nil when unpriced.
	// A side that does not exist (before a create, after a delete) is 0.
	MonthlyBefore *Money `json:"monthly_before"`
	MonthlyAfter  *Money `json:"monthly_after"`
	MonthlyDelta  *Money `json:"monthly_delta"`
	// List monthly figures (public on-demand prices).
	ListMonthlyBefore *Money `json:"list_monthly_before"`
	ListMonthlyAfter  *Money `json:"list_monthly_after"`
	ListMonthlyDelta  *Money `json:"list_monthly_delta"`
	// Components are the after side's cost components (the before side's
	// for a delete); BeforeComponents the before side's for an update or
	// replace.
	Components       []CostComponent `json:"components"`
	BeforeComponents []CostComponent `json:"before_components,omitempty"`
	// Reason says why the resource is unpriced or partial.
	Reason string `json:"reason,omitempty"`
	// Assumptions lists the defaults the estimate relied on ("root volume
	// unknown until apply: assumed 8 GB gp2").
	Assumptions []string `json:"assumptions,omitempty"`
}

// PlanEstimate is the cost of a whole plan. Totals add the priced
// resources only; the unpriced ones are listed by address.
type PlanEstimate struct {
	Currency string `json:"currency"`
	// PriceSnapshot identifies the price catalog used ("id@sha256:...").
	PriceSnapshot string `json:"price_snapshot"`
	// Calibration describes the effective-to-list ratios applied, or is
	// empty when list prices are used as they are.
	Calibration string             `json:"calibration,omitempty"`
	Resources   []ResourceEstimate `json:"resources"`
	// Effective totals.
	MonthlyBefore Money `json:"monthly_before"`
	MonthlyAfter  Money `json:"monthly_after"`
	MonthlyDelta  Money `json:"monthly_delta"`
	// List totals.
	ListMonthlyBefore Money `json:"list_monthly_before"`
	ListMonthlyAfter  Money `json:"list_monthly_after"`
	ListMonthlyDelta  Money `json:"list_monthly_delta"`
	// Unpriced lists the addresses of cost-bearing resources that could
	// not be priced.
	Unpriced []string `json:"unpriced"`
}

// Totals returns the plan's effective totals in the decision's form.
func (p *PlanEstimate) Totals() CostTotals {
	unpriced := p.Unpriced
	if unpriced == nil {
		unpriced = []string{}
	}
	return CostTotals{Currency: p.Currency, MonthlyBefore: p.MonthlyBefore, MonthlyAfter: p.MonthlyAfter,
		MonthlyDelta: p.MonthlyDelta, Unpriced: unpriced}
}

// Resource returns the estimate of the resource at address, or nil.
func (p *PlanEstimate) Resource(address string) *ResourceEstimate {
	for i := range p.Resources {
		if p.Resources[i].Address == address {
			return &p.Resources[i]
		}
	}
	return nil
}

// Rate is an exact non-integer amount: a unit price or a ratio. Unit
// prices go below Money's nano-unit (AWS Lambda charges 0.0000166667 USD
// per GB-second), and calibrated prices are list prices times a ratio,
// so a Rate is an exact rational number. The zero value is 0. Rates are
// immutable.
type Rate struct{ r *big.Rat }

// ParseRate parses a decimal ("0.0000166667", "1.5e-3") or a fraction
// ("7/10").
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Rate{}, fmt.Errorf("parse rate %q: empty", s)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return Rate{}, fmt.Errorf("parse rate %q: not a decimal number", s)
	}
	return Rate{r}, nil
}

// MustRate is ParseRate for constants; it panics on bad input.
func MustRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// RateOf returns the exact rational number num/den; den must not be 0.
func RateOf(num, den int64) Rate {
	return Rate{new(big.Rat).SetFrac64(num, den)}
}

// RateFromRat returns r as a Rate (r is copied).
func RateFromRat(r *big.Rat) Rate {
	if r == nil {
		return Rate{}
	}
	return Rate{new(big.Rat).Set(r)}
}

// RateFromMoney returns m as a Rate.
func RateFromMoney(m Money) Rate {
	return Rate{new(big.Rat).SetFrac(big.NewInt(int64(m)), big.NewInt(NanosPerUnit))}
}

var ratZero = new(big.Rat)

func (r Rate) rat() *big.Rat {
	if r.r == nil {
		return ratZero
	}
	return r.r
}

// Rat returns r as a new big.Rat.
func (r Rate) Rat() *big.Rat { return new(big.Rat).Set(r.rat()) }

// AppendKey appends an exact, compact encoding of r (numerator/denominator
// in hex) to b: equal rates give equal keys, for maps keyed by values
// that hold rates. Cheaper than String.
func (r Rate) AppendKey(b []byte) []byte {
	x := r.rat()
	num := x.Num()
	// Prices are small fractions: format them without big.Int's buffers
	// (Denom even allocates a new 1 for an integer).
	if num.IsInt64() {
		b = strconv.AppendInt(b, num.Int64(), 16)
		if x.IsInt() {
			return append(b, '/', '1')
		}
		if d := x.Denom(); d.IsInt64() {
			return strconv.AppendInt(append(b, '/'), d.Int64(), 16)
		}
	} else {
		b = num.Append(b, 16)
	}
	b = append(b, '/')
	return x.Denom().Append(b, 16)
}

// Sign returns -1, 0 or +1.
func (r Rate) Sign() int { return r.rat().Sign() }

// IsZero reports whether r is 0.
func (r Rate) IsZero() bool { return r.Sign() == 0 }

// Cmp compares r and o: -1, 0 or +1.
func (r Rate) Cmp(o Rate) int { return r.rat().Cmp(o.rat()) }

// Mul returns r × o.
func (r Rate) Mul(o Rate) Rate { return Rate{new(big.Rat).Mul(r.rat(), o.rat())} }

// Add returns r + o.
func (r Rate) Add(o Rate) Rate { return Rate{new(big.Rat).Add(r.rat(), o.rat())} }

// MulInt returns r × n.
func (r Rate) MulInt(n int64) Rate {
	return Rate{new(big.Rat).Mul(r.rat(), new(big.Rat).SetInt64(n))}
}

// Cost returns q × r in Money, rounded half away from zero to the
// nano-unit; ErrMoneyRange if it does not fit.
func (r Rate) Cost(q Quantity) (Money, error) {
	// q is in nano-units of quantity, so q × r is in nano-units of money.
	p := new(big.Rat).Mul(new(big.Rat).SetInt64(int64(q)), r.rat())
	return ratToNanos(p)
}

// Apply returns m × r rounded half away from zero to the nano-unit.
func (r Rate) Apply(m Money) (Money, error) {
	p := new(big.Rat).Mul(new(big.Rat).SetInt64(int64(m)), r.rat())
	return ratToNanos(p)
}

// ratToNanos rounds a rational number of nano-units half away from zero.
func ratToNanos(p *big.Rat) (Money, error) {
	num := new(big.Int).Set(p.Num())
	den := p.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, ErrMoneyRange
	}
	return Money(q.Int64()), nil
}

// maxRateDigits bounds the fractional digits String prints for a rate
// that has no finite decimal form (a calibrated price such as 0.1 × 2/3).
const maxRateDigits = 12

// String formats r as an exact decimal ("0.0000166667", "12", "-0.5")
// when it has a finite decimal form of at most 18 fractional digits;
// otherwise it is rounded to 12 fractional digits.
func (r Rate) String() string {
	x := r.rat()
	if x.IsInt() {
		return x.Num().String()
	}
	if n, exact := x.FloatPrec(); exact && n <= 18 {
		return x.FloatString(n)
	}
	return trimZeros(x.FloatString(maxRateDigits))
}

// Format formats r rounded half away from zero to the given number of
// fractional digits.
func (r Rate) Format(places int) string {
	if places < 0 {
		return r.String()
	}
	return r.rat().FloatString(places)
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// MarshalText encodes r as its String form.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a decimal or a fraction.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// QuantityFromInt returns n whole units as a Quantity, or ErrMoneyRange.
func QuantityFromInt(n int64) (Quantity, error) {
	const limit = (1<<63 - 1) / NanosPerUnit
	if n > limit || n < -limit {
		return 0, ErrMoneyRange
	}
	return Quantity(n * NanosPerUnit), nil
}

// QuantityOf returns the quantity num/den rounded half away from zero to
// the nano-unit (730 hours × 3 nodes, 3.75 GB, 250 ms as seconds...).
func QuantityOf(r Rate) (Quantity, error) {
	m, err := ratToNanos(new(big.Rat).Mul(r.rat(), new(big.Rat).SetInt64(NanosPerUnit)))
	return Quantity(m), err
}

// Rate returns q as an exact Rate.
func (q Quantity) Rate() Rate {
	return Rate{new(big.Rat).SetFrac(big.NewInt(int64(q)), big.NewInt(NanosPerUnit))}
}

// ErrUnpriced marks an estimate that could not be made; the error text
// says why.
var ErrUnpriced = errors.New("unpriced")
