package pricing

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/costgate/costgate"
)

// Pricer looks up list prices and turns quantities into cost components.
// The pricing files of the provider packages take a Pricer and typed
// attributes; they never see plan values.
type Pricer struct {
	cat *Catalog
}

// NewPricer returns a Pricer over a catalog.
func NewPricer(cat *Catalog) Pricer { return Pricer{cat: cat} }

// Catalog returns the catalog behind p.
func (p Pricer) Catalog() *Catalog { return p.cat }

// Line describes one cost component to price.
type Line struct {
	Name        string
	Subresource string
	// Unit is the component's unit as shown ("hours", "GB-months", "1M
	// requests").
	Unit string
	// Quantity per month; nil when usage-based and unknown.
	Quantity *costgate.Quantity
	// Query selects the catalog price of one catalog unit.
	Query Query
	// Scale converts the catalog unit to the component's unit: the unit
	// price is the catalog price times Scale (1,000,000 for "1M requests"
	// priced per request). 0 means 1.
	Scale int64
	// Divide converts the other way: the unit price is the catalog price
	// divided by Divide (a per-GB-month price shown per GB-hour). 0 means 1.
	Divide int64
	// UsageBased marks a quantity that depends on usage.
	UsageBased  bool
	UsageSource string
}

// Component prices one line at list price; the effective figures are
// set equal to the list ones (calibration adjusts them later).
func (p Pricer) Component(l Line) (costgate.CostComponent, error) {
	pr, err := p.cat.Lookup(l.Query)
	if err != nil {
		return costgate.CostComponent{}, unpriced(err)
	}
	unit := pr.Price
	if l.Scale > 1 {
		unit = unit.MulInt(l.Scale)
	}
	if l.Divide > 1 {
		unit = unit.Mul(costgate.RateOf(1, l.Divide))
	}
	return p.component(l, unit, pr.PriceID(), ServiceFamily(l.Query.Provider, l.Query.Service))
}

// Fixed prices a line at a unit price known without the catalog (a
// price of 0 for a reserved instance's hours, say).
func (p Pricer) Fixed(l Line, unit costgate.Rate, priceID string) (costgate.CostComponent, error) {
	return p.component(l, unit, priceID, ServiceFamily(l.Query.Provider, l.Query.Service))
}

func (p Pricer) component(l Line, unit costgate.Rate, priceID, family string) (costgate.CostComponent, error) {
	c := costgate.CostComponent{
		Name: l.Name, Subresource: l.Subresource, Unit: l.Unit,
		ListUnitPrice: unit, UnitPrice: unit,
		UsageBased: l.UsageBased, UsageSource: l.UsageSource,
		PriceID: priceID, ServiceFamily: family,
	}
	if l.Quantity != nil {
		q := *l.Quantity
		c.MonthlyQuantity = &q
		m, err := unit.Cost(q)
		if err != nil {
			return c, fmt.Errorf("%s: %s × %s: %w", l.Name, q, unit, err)
		}
		m2 := m
		c.ListMonthly, c.Monthly = &m, &m2
	}
	return c, nil
}

// Tiered prices a quantity across the usage tiers the query selects
// (S3 storage, io2 IOPS, Lambda duration): one component per tier used,
// named name plus the tier suffix. With no quantity it returns one
// usage-based component at the first tier's price.
func (p Pricer) Tiered(l Line, tierName func(start, end *costgate.Rate) string) ([]costgate.CostComponent, error) {
	tiers, err := p.cat.LookupTiers(l.Query)
	if err != nil {
		return nil, unpriced(err)
	}
	family := ServiceFamily(l.Query.Provider, l.Query.Service)
	scale := func(r costgate.Rate) costgate.Rate {
		if l.Scale > 1 {
			r = r.MulInt(l.Scale)
		}
		if l.Divide > 1 {
			r = r.Mul(costgate.RateOf(1, l.Divide))
		}
		return r
	}
	if l.Quantity == nil || len(tiers) == 1 {
		one := l
		if len(tiers) > 1 {
			one.Name = l.Name + tierName(nil, tierEnd(tiers, 0))
		}
		c, err := p.component(one, scale(tiers[0].Price), tiers[0].PriceID(), family)
		if err != nil {
			return nil, err
		}
		return []costgate.CostComponent{c}, nil
	}
	left := l.Quantity.Rate()
	var out []costgate.CostComponent
	for i, t := range tiers {
		if left.Sign() <= 0 {
			break
		}
		take := left
		if end := tierEnd(tiers, i); end != nil {
			width := end.Add(tierStart(t).Mul(costgate.RateOf(-1, 1)))
			if take.Cmp(width) > 0 {
				take = width
			}
		}
		q, err := costgate.QuantityOf(take)
		if err != nil {
			return nil, err
		}
		one := l
		one.Quantity = &q
		start := tierStart(t)
		one.Name = l.Name + tierName(&start, tierEnd(tiers, i))
		c, err := p.component(one, scale(t.Price), t.PriceID(), family)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		left = left.Add(take.Mul(costgate.RateOf(-1, 1)))
	}
	return out, nil
}

func tierEnd(tiers []Price, i int) *costgate.Rate {
	if i+1 < len(tiers) {
		e := tierStart(tiers[i+1])
		return &e
	}
	return nil
}

// UnpricedError says why a resource (or one side of it) cannot be priced.
type UnpricedError struct{ Reason string }

func (e *UnpricedError) Error() string { return e.Reason }

// Is makes errors.Is(err, costgate.ErrUnpriced) true.
func (e *UnpricedError) Is(target error) bool { return target == costgate.ErrUnpriced }

// Unpriced returns an error that marks a resource unpriced, with a reason
// for people.
func Unpriced(format string, args ...any) error {
	return &UnpricedError{Reason: fmt.Sprintf(format, args...)}
}

func unpriced(err error) error {
	if errors.Is(err, costgate.ErrUnpriced) {
		return err
	}
	return &UnpricedError{Reason: err.Error()}
}

// Qty returns a pointer to a Quantity of n whole units (for Line).
func Qty(n int64) *costgate.Quantity {
	q, err := costgate.QuantityFromInt(n)
	if err != nil {
		return nil
	}
	return &q
}

// QtyRate returns a pointer to the Quantity r (rounded to the nano-unit).
func QtyRate(r costgate.Rate) *costgate.Quantity {
	q, err := costgate.QuantityOf(r)
	if err != nil {
		return nil
	}
	return &q
}

// Hours returns a pointer to n × 730 hours.
func Hours(n int64) *costgate.Quantity { return Qty(n * costgate.HoursPerMonth) }

// serviceFamilies maps catalog services to the FOCUS ServiceName the
// providers bill them under; calibration ratios are keyed on it.
var serviceFamilies = map[string]string{
	"aws/AmazonEC2":            "Amazon Elastic Compute Cloud",
	"aws/AmazonRDS":            "Amazon Relational Database Service",
	"aws/AmazonElastiCache":    "Amazon ElastiCache",
	"aws/AmazonES":             "Amazon OpenSearch Service",
	"aws/AmazonDynamoDB":       "Amazon DynamoDB",
	"aws/AWSLambda":            "AWS Lambda",
	"aws/AmazonS3":             "Amazon Simple Storage Service",
	"aws/AWSELB":               "Elastic Load Balancing",
	"aws/AmazonEKS":            "Amazon Elastic Kubernetes Service",
	"aws/AmazonCloudWatch":     "AmazonCloudWatch",
	"google/Compute Engine":    "Compute Engine",
	"google/Cloud SQL":         "Cloud SQL",
	"google/Kubernetes Engine": "Kubernetes Engine",
	"azure/Virtual Machines":   "Virtual Machines",
	"azure/Storage":            "Storage",
	"azure/Azure Firewall":     "Azure Firewall",
	"azure/Virtual Network":    "Virtual Network",
	"azure/ExpressRoute":       "ExpressRoute",
	"azure/Azure DNS":          "Azure DNS",
	"google/Cloud Storage":     "Cloud Storage",
	"google/Networking":        "Networking",
	"aws/AmazonVPC":            "Amazon Virtual Private Cloud",
}

// ServiceFamily returns the FOCUS ServiceName a catalog service is billed
// under (the service itself when not known).
func ServiceFamily(provider, service string) string {
	if f, ok := serviceFamilies[provider+"/"+service]; ok {
		return f
	}
	return service
}

// familyKey normalises a service name for matching the store's
// ServiceName values: case and punctuation do not matter, and AWS
// service codes match their names.
//
// Keys are remembered (up to maxFamilyKeys names): the estimators ask for
// the same few services for every resource of every plan.
func familyKey(s string) string {
	if k, ok := familyKeys.Load(s); ok {
		return k.(string)
	}
	k := normalizeFamily(s)
	if familyKeyCount.Add(1) <= maxFamilyKeys {
		familyKeys.Store(s, k)
	}
	return k
}

// maxFamilyKeys bounds familyKey's memory.
const maxFamilyKeys = 4096

var (
	familyKeys     sync.Map // service name -> key
	familyKeyCount atomic.Int64
)

func normalizeFamily(s string) string {
	if f, ok := serviceFamilies["aws/"+s]; ok {
		s = f
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
