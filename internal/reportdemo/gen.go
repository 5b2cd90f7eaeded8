// Package reportdemo generates deterministic demo billing data for the
// monthly cost report: FOCUS line items over several months, accounts,
// services, teams and environments, with untagged resources, resources
// that start, stop, grow and shrink (so that the report has movers),
// weekend dips, support fees and credits. `make demo`, the reports tests
// and the report benchmark use it; it writes through the root
// costgate.CostWriter, so any store takes its output. Decisions and
// PlanDecisions generate gate decisions for the report's gate section,
// the latter with per-resource estimates of billed resources and the
// inventories that match them.
package reportdemo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/costgate/costgate"
)

// Source is the partition source of generated data.
const Source = "reportdemo"

// Params shape the generated data. The same Params always give the same
// line items.
type Params struct {
	Seed uint64
	// From is the first month; Months how many follow it (From included).
	From   costgate.Month
	Months int
	// RowsPerMonth is the number of line items per month, spread over
	// the accounts.
	RowsPerMonth int
	Accounts     int
	Services     int // at most len(services) distinct names, then "Service N"
	Resources    int // in all, spread over the accounts
	Teams        int
	// UntaggedPct is the share of resources (percent) with no team tag.
	UntaggedPct int
	// NoEnvPct is the share of resources (percent) with no env tag.
	NoEnvPct int
	Currency string
	// Through, when set, ends the data: no line item is charged on or
	// after it (an open month as a collector sees it mid-month).
	Through time.Time
}

// Demo is the data set of `make demo`: 13 months (so the report has a
// same-month-last-year comparison) ending in October 2026.
func Demo() Params {
	return Params{Seed: 7, From: costgate.Month{Year: 2025, Month: time.October}, Months: 13,
		RowsPerMonth: 24_000, Accounts: 5, Services: 14, Resources: 400, Teams: 6,
		UntaggedPct: 8, NoEnvPct: 12, Currency: "USD"}
}

// Small is a quick data set for tests: 15 months from August 2025 to
// October 2026, so that October 2026 has a previous month and a
// same-month-last-year comparison.
func Small() Params {
	return Params{Seed: 1, From: costgate.Month{Year: 2025, Month: time.August}, Months: 15,
		RowsPerMonth: 1_500, Accounts: 3, Services: 8, Resources: 90, Teams: 4,
		UntaggedPct: 10, NoEnvPct: 15, Currency: "USD"}
}

// Key identifies the data set, for caches.
func (p Params) Key() string {
	h := sha256.Sum256(fmt.Appendf(nil, "v1|%+v", p))
	return hex.EncodeToString(h[:6])
}

// MonthList returns the generated months in order.
func (p Params) MonthList() []costgate.Month {
	out := make([]costgate.Month, 0, p.Months)
	m := p.From
	for i := 0; i < p.Months; i++ {
		out = append(out, m)
		m = m.Next()
	}
	return out
}

// Partitions lists every (account, month) partition in generation order.
func (p Params) Partitions() []costgate.Partition {
	var out []costgate.Partition
	for _, m := range p.MonthList() {
		for a := 0; a < p.Accounts; a++ {
			out = append(out, costgate.Partition{Source: Source, BillingAccountID: accountID(a), BillingPeriod: m})
		}
	}
	return out
}

// TeamNames returns the team tag values used.
func (p Params) TeamNames() []string {
	out := make([]string, p.Teams)
	for i := range out {
		out[i] = teamName(i)
	}
	return out
}

var teamNames = []string{"payments", "search", "checkout", "data", "platform", "mobile", "ml", "identity",
	"growth", "ads", "infra", "support"}

func teamName(i int) string {
	if i < len(teamNames) {
		return teamNames[i]
	}
	return fmt.Sprintf("team-%02d", i)
}

type service struct {
	provider, name, category, resType, prefix string
}

var services = []service{
	{"AWS", "Amazon Elastic Compute Cloud", "Compute", "Instance", "i-"},
	{"AWS", "Amazon Relational Database Service", "Databases", "DBInstance", "db-"},
	{"AWS", "Amazon Simple Storage Service", "Storage", "Bucket", "s3-"},
	{"AWS", "Amazon Elastic Kubernetes Service", "Compute", "Cluster", "eks-"},
	{"AWS", "AWS Lambda", "Compute", "Function", "fn-"},
	{"AWS", "Amazon CloudFront", "Networking", "Distribution", "cf-"},
	{"AWS", "Amazon DynamoDB", "Databases", "Table", "ddb-"},
	{"AWS", "Amazon ElastiCache", "Databases", "CacheCluster", "ec-"},
	{"AWS", "Elastic Load Balancing", "Networking", "LoadBalancer", "elb-"},
	{"AWS", "Amazon CloudWatch", "Management and Governance", "LogGroup", "cw-"},
	{"AWS", "Amazon OpenSearch Service", "Analytics", "Domain", "os-"},
	{"AWS", "Amazon Simple Queue Service", "Integration", "Queue", "sqs-"},
	{"AWS", "Amazon Elastic Block Store", "Storage", "Volume", "vol-"},
	{"AWS", "AWS Key Management Service", "Security", "Key", "kms-"},
	{"AWS", "Amazon Redshift", "Analytics", "Cluster", "rs-"},
	{"AWS", "Amazon Kinesis", "Analytics", "Stream", "kin-"},
}

func serviceOf(i int) service {
	if i < len(services) {
		return services[i]
	}
	return service{"AWS", fmt.Sprintf("Service %d", i), "Other", "Resource", fmt.Sprintf("s%d-", i)}
}

var regions = []string{"us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-1"}

var envs = []string{"prod", "prod", "prod", "staging", "dev"}

func accountID(a int) string { return fmt.Sprintf("%012d", 210987654300+a) }

var accountNames = []string{"prod-core", "prod-data", "staging", "dev-sandbox", "shared-services", "ml-research",
	"edge", "security", "analytics", "legacy"}

func accountName(a int) string {
	if a < len(accountNames) {
		return accountNames[a]
	}
	return fmt.Sprintf("account-%02d", a)
}

type resource struct {
	id, name string
	account  int
	svc      service
	region   string
	tags     map[string]string
	daily    float64 // base daily cost in currency units
	drift    float64 // per-month factor over the whole range
	growth   float64 // per-month factor from month change on
	change   int     // first month index of growth
	offset   int     // day offset of the resource's rows
	start    int     // first month index with cost
	end      int     // last month index with cost
	weekend  float64 // weekend factor
}

// resources builds the whole resource population; it depends on p only.
func (p Params) resources() [][]resource {
	r := rand.New(rand.NewPCG(p.Seed, 0x5eed))
	byAccount := make([][]resource, p.Accounts)
	for i := 0; i < p.Resources; i++ {
		a := i % p.Accounts
		svcIdx := int(math.Min(float64(p.Services-1), math.Floor(r.ExpFloat64()*float64(p.Services)/3)))
		svc := serviceOf(svcIdx)
		team := teamName(r.IntN(max(p.Teams, 1)))
		res := resource{
			account: a,
			svc:     svc,
			region:  regions[r.IntN(len(regions))],
			tags:    map[string]string{},
			daily:   math.Exp(r.NormFloat64()*1.1 + 1.5),
			drift:   1 + r.NormFloat64()*0.015,
			growth:  1,
			change:  max(0, p.Months-1-r.IntN(3)),
			offset:  r.IntN(31),
			start:   0,
			end:     p.Months - 1,
			weekend: 1,
		}
		res.id = fmt.Sprintf("%s%s-%s%06x", svc.prefix, accountID(a)[8:], team[:2], i)
		res.name = fmt.Sprintf("%s-%s-%03d", team, svc.resType, i%1000)
		if r.IntN(100) >= p.UntaggedPct {
			res.tags["team"] = team
			res.tags["cost-center"] = fmt.Sprintf("cc-%03d", 100+r.IntN(5))
		}
		if r.IntN(100) >= p.NoEnvPct {
			res.tags["env"] = envs[r.IntN(len(envs))]
		}
		switch x := r.IntN(100); {
		case x < 6: // grows fast in the last months
			res.growth = 1.2 + r.Float64()*0.4
		case x < 11: // shrinks in the last months
			res.growth = 0.5 + r.Float64()*0.3
		case x < 15 && p.Months > 1: // new in a later month
			res.start = 1 + r.IntN(p.Months-1)
			res.daily *= 2
		case x < 18 && p.Months > 1: // switched off
			res.end = r.IntN(p.Months - 1)
		}
		if svc.category == "Compute" {
			res.weekend = 0.8
		}
		byAccount[a] = append(byAccount[a], res)
	}
	return byAccount
}

// Generate calls fn with each partition's line items, in Partitions
// order. The rows slice is fn's to keep.
func (p Params) Generate(fn func(costgate.Partition, []costgate.LineItem) error) error {
	if p.Accounts <= 0 || p.Months <= 0 || p.Resources < p.Accounts || p.Services <= 0 || p.RowsPerMonth < p.Accounts {
		return fmt.Errorf("reportdemo: params %+v: need accounts, months, services > 0, resources >= accounts and rows >= accounts", p)
	}
	all := p.resources()
	for mi, m := range p.MonthList() {
		for a := 0; a < p.Accounts; a++ {
			part := costgate.Partition{Source: Source, BillingAccountID: accountID(a), BillingPeriod: m}
			if err := fn(part, p.partition(mi, m, a, all[a])); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p Params) partition(mi int, m costgate.Month, a int, res []resource) []costgate.LineItem {
	r := rand.New(rand.NewPCG(p.Seed^uint64(mi+1)<<20, uint64(a+1)))
	days := m.End().Sub(m.Start()).Hours() / 24
	nDays := int(days)
	n := p.RowsPerMonth / p.Accounts
	live := make([]int, 0, len(res))
	for i, x := range res {
		if mi >= x.start && mi <= x.end {
			live = append(live, i)
		}
	}
	rows := make([]costgate.LineItem, 0, n+2)
	base := costgate.LineItem{
		BillingPeriodStart: m.Start(), BillingPeriodEnd: m.End(),
		BillingAccountID: accountID(a), BillingAccountName: accountName(a),
		SubAccountID: accountID(a), SubAccountName: accountName(a),
		InvoiceIssuerName: "Amazon Web Services, Inc.", PublisherName: "Amazon Web Services, Inc.",
		BillingCurrency: p.Currency, ChargeFrequency: "Usage-Based", ChargeClass: "",
	}
	if len(live) > 0 {
		// Each live resource gets an equal share of the rows; the rows of a
		// resource-day carry that day's cost in parts.
		perRes := max(1, (n-2)/len(live))
		for _, i := range live {
			x := res[i]
			monthly := x.daily * math.Pow(x.drift, float64(mi)) * math.Pow(x.growth, float64(max(0, mi-x.change+1)))
			for k := 0; k < perRes && len(rows) < n-2; k++ {
				day := (k*nDays/perRes + x.offset) % nDays
				start := m.Start().AddDate(0, 0, day)
				if !p.Through.IsZero() && !start.Before(p.Through) {
					continue
				}
				f := 1.0
				if wd := start.Weekday(); wd == time.Saturday || wd == time.Sunday {
					f = x.weekend
				}
				cost := monthly * f * float64(nDays) / float64(perRes) * (0.85 + 0.3*r.Float64())
				eff := costgate.Money(math.Round(cost*1e9)) + costgate.Money(r.IntN(1000))
				li := base
				li.ChargePeriodStart, li.ChargePeriodEnd = start, start.AddDate(0, 0, 1)
				li.ProviderName = x.svc.provider
				li.ServiceName, li.ServiceCategory = x.svc.name, x.svc.category
				li.RegionID = x.region
				li.ResourceID, li.ResourceName, li.ResourceType = x.id, x.name, x.svc.resType
				li.SkuID = fmt.Sprintf("SKU-%s-%d", x.svc.prefix, k%3)
				li.ChargeCategory = "Usage"
				li.PricingCategory = "Standard"
				li.EffectiveCost = eff
				li.BilledCost = eff
				li.ListCost = eff + eff/10
				li.ContractedCost = eff
				li.ConsumedQuantity = costgate.Quantity(24 * costgate.NanosPerUnit)
				li.ConsumedUnit = "Hours"
				li.Tags = x.tags
				rows = append(rows, li)
			}
		}
	}
	if !p.Through.IsZero() && !m.Start().Before(p.Through) {
		return rows
	}
	// An account-level support fee and a credit: no resource, no tags.
	fee := base
	fee.ChargePeriodStart, fee.ChargePeriodEnd = m.Start(), m.End()
	fee.ProviderName, fee.ServiceName, fee.ServiceCategory = "AWS", "AWS Support (Business)", "Other"
	fee.ChargeCategory, fee.ChargeFrequency = "Purchase", "Recurring"
	fee.EffectiveCost = costgate.Money(int64(100+20*a)*costgate.NanosPerUnit + int64(mi)*123_456_789)
	fee.BilledCost, fee.ListCost, fee.ContractedCost = fee.EffectiveCost, fee.EffectiveCost, fee.EffectiveCost
	credit := fee
	credit.ServiceName, credit.ServiceCategory = "Amazon Elastic Compute Cloud", "Compute"
	credit.ChargeCategory, credit.ChargeFrequency = "Credit", "One-Time"
	credit.ChargeDescription = "Promotional credit"
	credit.EffectiveCost = -costgate.Money(int64(40+5*a)*costgate.NanosPerUnit + 1)
	credit.BilledCost, credit.ListCost, credit.ContractedCost = credit.EffectiveCost, 0, credit.EffectiveCost
	return append(rows, fee, credit)
}

// Write replaces every partition of p into w and returns the number of
// line items written.
func (p Params) Write(ctx context.Context, w costgate.CostWriter) (int, error) {
	total := 0
	err := p.Generate(func(part costgate.Partition, rows []costgate.LineItem) error {
		if _, err := w.Replace(ctx, part, rows, "reportdemo-"+p.Key(), p.Key()+"/"+part.String()); err != nil {
			return fmt.Errorf("replace %s: %w", part, err)
		}
		total += len(rows)
		return nil
	})
	return total, err
}
