package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/costgate/costgate"
)

// genConfig shapes synthetic FOCUS data like STORE.md's data set: a few
// accounts, dozens of services, hundreds of SKUs, many resources, teams
// with some untagged resources, log-normal costs and a few credits.
type genConfig struct {
	Seed      uint64
	Source    string
	Accounts  int
	Months    []costgate.Month
	RowsPer   int // rows per partition (account, month)
	Services  int
	Regions   int
	SKUs      int
	Resources int // per account
	Teams     int
	Untagged  float64 // share of resources without a team tag
	Credits   float64 // share of rows with a negative cost
	Hourly    bool    // charge periods of an hour instead of a day
}

func (c genConfig) partitions() []costgate.Partition {
	var ps []costgate.Partition
	for a := 0; a < c.Accounts; a++ {
		for _, m := range c.Months {
			ps = append(ps, costgate.Partition{Source: c.Source, BillingAccountID: accountID(a), BillingPeriod: m})
		}
	}
	return ps
}

func accountID(a int) string { return fmt.Sprintf("acct-%03d", a) }

type genResource struct {
	id, name, typ, service, category, region string
	tags                                     map[string]string
	skus                                     []int
}

// generate returns the rows of partition p; the same (config, partition,
// version) always gives the same rows.
func (c genConfig) generate(p costgate.Partition, version int) []costgate.LineItem {
	var acct int
	fmt.Sscanf(p.BillingAccountID, "acct-%d", &acct)
	// Resources depend on the account only, rows on the partition too.
	rr := rand.New(rand.NewPCG(c.Seed, uint64(acct)))
	resources := make([]genResource, c.Resources)
	for i := range resources {
		svc := rr.IntN(c.Services)
		r := genResource{
			id:       fmt.Sprintf("arn:aws:svc%02d:%s:res-%d-%06d", svc, accountID(acct), acct, i),
			name:     fmt.Sprintf("res-%d-%d", acct, i),
			typ:      fmt.Sprintf("type-%02d", svc%25),
			service:  fmt.Sprintf("Service %02d", svc),
			category: fmt.Sprintf("Category %d", svc%8),
			region:   fmt.Sprintf("region-%02d", rr.IntN(c.Regions)),
		}
		if rr.Float64() >= c.Untagged {
			r.tags = map[string]string{"team": fmt.Sprintf("team-%02d", rr.IntN(c.Teams))}
			if rr.IntN(3) == 0 {
				r.tags["env"] = []string{"prod", "staging", "dev"}[rr.IntN(3)]
			}
		}
		for k := 0; k < 1+rr.IntN(3); k++ {
			r.skus = append(r.skus, (svc*c.SKUs/c.Services+rr.IntN(max(1, c.SKUs/c.Services)))%c.SKUs)
		}
		resources[i] = r
	}
	rng := rand.New(rand.NewPCG(c.Seed^uint64(version)*0x9e3779b97f4a7c15, uint64(acct)<<32|uint64(p.BillingPeriod.Year*12+int(p.BillingPeriod.Month))))
	start, end := p.BillingPeriod.Start(), p.BillingPeriod.End()
	days := int(end.Sub(start).Hours() / 24)
	rows := make([]costgate.LineItem, c.RowsPer)
	for i := range rows {
		r := &resources[rng.IntN(len(resources))]
		day := rng.IntN(days)
		cs := start.AddDate(0, 0, day)
		ce := cs.AddDate(0, 0, 1)
		if c.Hourly {
			cs = cs.Add(time.Duration(rng.IntN(24)) * time.Hour)
			ce = cs.Add(time.Hour)
		}
		cost := int64(math.Exp(rng.NormFloat64()*1.5+math.Log(0.4)) * costgate.NanosPerUnit)
		cat := "Usage"
		if rng.Float64() < c.Credits {
			cost, cat = -cost, "Credit"
		}
		sku := r.skus[rng.IntN(len(r.skus))]
		qty := costgate.Quantity(rng.Int64N(1000 * costgate.NanosPerUnit))
		rows[i] = costgate.LineItem{
			ChargePeriodStart:  cs,
			ChargePeriodEnd:    ce,
			BillingPeriodStart: start,
			BillingPeriodEnd:   end,
			BillingAccountID:   p.BillingAccountID,
			BillingAccountName: "Account " + p.BillingAccountID,
			SubAccountID:       p.BillingAccountID,
			ProviderName:       "AWS",
			PublisherName:      "Amazon Web Services",
			InvoiceIssuerName:  "Amazon Web Services",
			ServiceName:        r.service,
			ServiceCategory:    r.category,
			RegionID:           r.region,
			ResourceID:         r.id,
			ResourceName:       r.name,
			ResourceType:       r.typ,
			SkuID:              fmt.Sprintf("SKU%04d", sku),
			SkuPriceID:         fmt.Sprintf("SKU%04d-P", sku),
			ChargeCategory:     cat,
			ChargeClass:        "",
			ChargeFrequency:    "Usage-Based",
			ChargeDescription:  "usage of " + r.service,
			PricingCategory:    "Standard",
			PricingUnit:        "Hours",
			PricingQuantity:    qty,
			ConsumedUnit:       "Hours",
			ConsumedQuantity:   qty,
			BillingCurrency:    "USD",
			BilledCost:         costgate.Money(cost),
			EffectiveCost:      costgate.Money(cost - cost/10),
			ListCost:           costgate.Money(cost + cost/5),
			ContractedCost:     costgate.Money(cost),
			Tags:               r.tags,
		}
		if i%97 == 0 {
			rows[i].Extensions = map[string]string{"x_UsageType": "BoxUsage:" + r.typ}
		}
	}
	return rows
}
