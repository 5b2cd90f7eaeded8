// Package billgen writes synthetic FOCUS 1.0 billing data: several
// months of cloud spend of a company with teams, environments and
// accounts on AWS and Google Cloud, deterministic for a seed. It feeds
// the demo, the collector's benchmarks and load tests.
//
// The data is shaped like real exports: daily usage rows per resource
// (instances, volumes, buckets, databases, functions, clusters, data
// transfer), Savings Plan coverage with amortised EffectiveCost, a
// monthly Savings Plan fee, tax and the odd credit, tags as a JSON object
// (team, env, cost-center, with some resources untagged), and one
// extension column. Amounts are exact decimals with up to nine places.
package billgen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/costgate/costgate"
)

// Options shape the data.
type Options struct {
	// Seed picks the data; the same Options give the same bytes.
	Seed uint64
	// Start is the first billing period (default 2026-05).
	Start costgate.Month
	// Months is the number of billing periods (default 6).
	Months int
	// Rows is about how many usage rows to write in all (default
	// 100,000); monthly charges (fees, tax, credits) come on top.
	Rows int
}

func (o Options) withDefaults() Options {
	if o.Start.IsZero() {
		o.Start = costgate.Month{Year: 2026, Month: time.May}
	}
	if o.Months <= 0 {
		o.Months = 6
	}
	if o.Rows <= 0 {
		o.Rows = 100_000
	}
	return o
}

// Columns is the header written, FOCUS 1.0 names plus x_UsageType.
var Columns = []string{
	"BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
	"ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
	"ProviderName", "PublisherName", "InvoiceIssuerName", "SubAccountId", "SubAccountName",
	"ServiceName", "ServiceCategory", "RegionId", "RegionName", "AvailabilityZone",
	"ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuPriceId",
	"PricingCategory", "PricingUnit", "PricingQuantity", "ConsumedUnit", "ConsumedQuantity",
	"ListUnitPrice", "ContractedUnitPrice", "ListCost", "ContractedCost", "BilledCost", "EffectiveCost",
	"CommitmentDiscountId", "CommitmentDiscountCategory", "CommitmentDiscountType", "CommitmentDiscountStatus",
	"Tags", "x_UsageType",
}

type cloud struct {
	provider, billingID, billingName, issuer string
	accounts                                 []account
	regions                                  [][2]string // id, name
	services                                 []service
	spID                                     string
}

type account struct{ id, name string }

type service struct {
	name, category, resType, unit, sku, usageType, desc string
	price                                               int64 // list price per unit, nanos
	qtyMin, qtyMax                                      int64 // consumed units per day, whole units
	weight                                              int   // share of resources
	spEligible                                          bool
}

var teams = []struct{ name, cc string }{
	{"storefront", "cc-100"}, {"payments", "cc-110"}, {"search", "cc-120"}, {"data", "cc-200"},
	{"platform", "cc-300"}, {"ml", "cc-210"}, {"mobile", "cc-130"}, {"identity", "cc-310"},
}

var envs = []string{"prod", "prod", "staging", "dev"}

var clouds = []cloud{
	{
		provider: "AWS", billingID: "111111111111", billingName: "Acme AWS Organization", issuer: "Amazon Web Services, Inc.",
		accounts: []account{{"210987654321", "acme-prod"}, {"210987654322", "acme-staging"}, {"210987654323", "acme-dev"},
			{"210987654324", "acme-data"}, {"210987654325", "acme-shared"}, {"210987654326", "acme-ml"}},
		regions: [][2]string{{"us-east-1", "US East (N. Virginia)"}, {"eu-west-1", "EU (Ireland)"}, {"us-west-2", "US West (Oregon)"}},
		spID:    "arn:aws:savingsplans::111111111111:savingsplan/0a1b2c3d-0000-4000-8000-000000000001",
		services: []service{
			{"Amazon Elastic Compute Cloud", "Compute", "Instance", "Hours", "EC2-m6i.large", "BoxUsage:m6i.large", "$0.096 per On Demand Linux m6i.large Instance Hour", 96_000_000, 24, 24, 30, true},
			{"Amazon Elastic Compute Cloud", "Compute", "Instance", "Hours", "EC2-c6g.xlarge", "BoxUsage:c6g.xlarge", "$0.136 per On Demand Linux c6g.xlarge Instance Hour", 136_000_000, 8, 24, 12, true},
			{"Amazon Elastic Block Store", "Storage", "Volume", "GB-Mo", "EBS-gp3", "EBS:VolumeUsage.gp3", "$0.08 per GB-month of General Purpose (gp3) provisioned storage", 2_666_667, 50, 500, 20, false},
			{"Amazon Simple Storage Service", "Storage", "Bucket", "GB-Mo", "S3-Standard", "TimedStorage-ByteHrs", "$0.023 per GB - first 50 TB / month of storage used", 766_667, 100, 20000, 10, false},
			{"Amazon Relational Database Service", "Databases", "DB Instance", "Hours", "RDS-db.r6g.large", "InstanceUsage:db.r6g.large", "$0.225 per RDS db.r6g.large Multi-AZ instance hour", 225_000_000, 24, 24, 6, false},
			{"AWS Lambda", "Compute", "Function", "Lambda-GB-Second", "Lambda-GBs", "Lambda-GB-Second", "AWS Lambda - Total Compute", 16_667, 1000, 400000, 10, true},
			{"Amazon DynamoDB", "Databases", "Table", "ReadRequestUnits", "DDB-RRU", "ReadRequestUnits", "$0.25 per million read request units", 250, 10000, 5000000, 5, false},
			{"Amazon CloudWatch", "Management and Governance", "Log Group", "GB", "CW-Logs", "DataProcessing-Bytes", "$0.50 per GB custom log data ingested", 500_000_000, 1, 40, 6, false},
			{"Amazon Elastic Kubernetes Service", "Compute", "Cluster", "Hours", "EKS-Cluster", "AmazonEKS-Hours:perCluster", "$0.10 per hour per EKS cluster", 100_000_000, 24, 24, 2, false},
			{"AWS Data Transfer", "Networking", "Data Transfer", "GB", "DT-Out", "DataTransfer-Out-Bytes", "$0.09 per GB - first 10 TB / month data transfer out", 90_000_000, 1, 300, 6, false},
		},
	},
	{
		provider: "Google Cloud", billingID: "01A2B3-C4D5E6-F7A8B9", billingName: "Acme GCP Billing", issuer: "Google",
		accounts: []account{{"acme-analytics", "Acme Analytics"}, {"acme-web-prod", "Acme Web Prod"}, {"acme-sandbox", "Acme Sandbox"}},
		regions:  [][2]string{{"europe-west1", "Belgium"}, {"us-central1", "Iowa"}},
		services: []service{
			{"Compute Engine", "Compute", "Instance", "hour", "GCE-N2-Std-4", "N2 Instance Core", "N2 Instance Core running in Belgium", 194_236_000, 24, 24, 12, false},
			{"Cloud Storage", "Storage", "Bucket", "gibibyte month", "GCS-Standard", "Standard Storage", "Standard Storage Belgium", 666_667, 100, 30000, 6, false},
			{"BigQuery", "Analytics", "Dataset", "tebibyte", "BQ-Analysis", "Analysis", "Analysis", 6_250_000_000, 1, 4, 5, false},
			{"Cloud SQL", "Databases", "Instance", "hour", "SQL-PG-Std", "Cloud SQL for PostgreSQL", "Cloud SQL for PostgreSQL: Regional - vCPU", 82_000_000, 24, 24, 3, false},
			{"Kubernetes Engine", "Compute", "Cluster", "hour", "GKE-Cluster", "Regional Kubernetes Clusters", "Regional Kubernetes Clusters", 100_000_000, 24, 24, 2, false},
		},
	},
}

type resource struct {
	cloud   *cloud
	account account
	svc     *service
	region  [2]string
	az      string
	id      string
	name    string
	tags    string // JSON, "" when untagged
	covered bool   // by the Savings Plan
	scale   int64  // per-resource size multiplier, percent
}

// plan builds the resources: about Rows/(days) usage rows a day, one per
// resource per day.
func (o Options) plan(r *rand.Rand, days int) []resource {
	perDay := max(1, o.Rows/days)
	var weights []int
	var svcs []struct {
		c *cloud
		s *service
	}
	total := 0
	for ci := range clouds {
		for si := range clouds[ci].services {
			s := &clouds[ci].services[si]
			w := s.weight
			if clouds[ci].provider != "AWS" {
				w = w * 2 / 3
			}
			weights = append(weights, w)
			svcs = append(svcs, struct {
				c *cloud
				s *service
			}{&clouds[ci], s})
			total += w
		}
	}
	out := make([]resource, 0, perDay)
	for i := 0; i < perDay; i++ {
		pick := r.IntN(total)
		k := 0
		for pick >= weights[k] {
			pick -= weights[k]
			k++
		}
		c, s := svcs[k].c, svcs[k].s
		acct := c.accounts[r.IntN(len(c.accounts))]
		reg := c.regions[r.IntN(len(c.regions))]
		team := teams[r.IntN(len(teams))]
		env := envs[r.IntN(len(envs))]
		res := resource{cloud: c, account: acct, svc: s, region: reg, scale: 50 + int64(r.IntN(250))}
		res.az = reg[0] + string(rune('a'+r.IntN(3)))
		if c.provider != "AWS" {
			res.az = reg[0] + "-" + string(rune('b'+r.IntN(3)))
		}
		res.name = fmt.Sprintf("%s-%s-%s-%d", team.name, env, shortType(s.resType), i)
		if c.provider == "AWS" {
			res.id = fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", awsService(s.category), reg[0], acct.id, shortType(s.resType), res.name)
		} else {
			res.id = fmt.Sprintf("//%s/projects/%s/%s/%s", gcpAPI(s.name), acct.id, shortType(s.resType)+"s", res.name)
		}
		switch {
		case r.IntN(100) < 8: // untagged
		case r.IntN(100) < 5: // tagged, but without a team
			res.tags = fmt.Sprintf(`{"env": "%s"}`, env)
		default:
			res.tags = fmt.Sprintf(`{"team": "%s", "env": "%s", "cost-center": "%s"}`, team.name, env, team.cc)
		}
		res.covered = s.spEligible && env == "prod" && r.IntN(100) < 70
		out = append(out, res)
	}
	return out
}

func shortType(t string) string {
	switch t {
	case "DB Instance":
		return "db"
	case "Log Group":
		return "log-group"
	case "Data Transfer":
		return "transfer"
	}
	b := []byte(t)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func awsService(category string) string {
	switch category {
	case "Storage":
		return "s3"
	case "Databases":
		return "rds"
	case "Networking":
		return "ec2"
	case "Management and Governance":
		return "logs"
	}
	return "ec2"
}

func gcpAPI(name string) string {
	switch name {
	case "Cloud Storage":
		return "storage.googleapis.com"
	case "BigQuery":
		return "bigquery.googleapis.com"
	case "Cloud SQL":
		return "sqladmin.googleapis.com"
	case "Kubernetes Engine":
		return "container.googleapis.com"
	}
	return "compute.googleapis.com"
}

// Totals are exact sums of what was written, for checks.
type Totals struct {
	Rows                                int64
	BilledCost, EffectiveCost, ListCost costgate.Sum
	ByMonth                             map[costgate.Month]costgate.Sum // EffectiveCost
	Partitions                          map[costgate.Partition]int64    // rows (Source empty)
}

// WriteCSV writes all months as one FOCUS CSV (chronological, the
// header first) and returns what it wrote.
func WriteCSV(w io.Writer, o Options) (*Totals, error) {
	o = o.withDefaults()
	bw := bufio.NewWriterSize(w, 1<<20)
	t := &Totals{ByMonth: map[costgate.Month]costgate.Sum{}, Partitions: map[costgate.Partition]int64{}}
	g := newGen(o, t)
	g.header(bw)
	for m := 0; m < o.Months; m++ {
		if err := g.month(bw, o.Start, m); err != nil {
			return nil, err
		}
	}
	return t, bw.Flush()
}

// WriteMonthly writes one gzip-compressed CSV per month into dir
// (focus-2026-05.csv.gz, ...), as a monthly export would, and returns
// the file paths.
func WriteMonthly(dir string, o Options) ([]string, *Totals, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	t := &Totals{ByMonth: map[costgate.Month]costgate.Sum{}, Partitions: map[costgate.Partition]int64{}}
	g := newGen(o, t)
	var paths []string
	for m := 0; m < o.Months; m++ {
		month := addMonths(o.Start, m)
		p := filepath.Join(dir, "focus-"+month.String()+".csv.gz")
		if err := writeGz(p, func(w io.Writer) error {
			g.header(w)
			return g.month(w, o.Start, m)
		}); err != nil {
			return nil, nil, err
		}
		paths = append(paths, p)
	}
	return paths, t, nil
}

func writeGz(path string, body func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	// The gzip header carries no name or time: same options, same bytes.
	bw := bufio.NewWriterSize(zw, 1<<20)
	err = body(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteCSVGz writes all months as one gzip-compressed CSV file.
func WriteCSVGz(path string, o Options) (*Totals, error) {
	var t *Totals
	err := writeGz(path, func(w io.Writer) error {
		var err error
		t, err = WriteCSV(w, o)
		return err
	})
	return t, err
}

func addMonths(m costgate.Month, n int) costgate.Month {
	return costgate.MonthOf(m.Start().AddDate(0, n, 0))
}

// gen holds the state of one generation.
type gen struct {
	o    Options
	r    *rand.Rand
	res  []resource
	t    *Totals
	line []byte
}

func newGen(o Options, t *Totals) *gen {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9E3779B97F4A7C15))
	days := 0
	for m := 0; m < o.Months; m++ {
		mo := addMonths(o.Start, m)
		days += int(mo.End().Sub(mo.Start()).Hours() / 24)
	}
	return &gen{o: o, r: r, res: o.plan(r, days), t: t}
}

func (g *gen) header(w io.Writer) {
	for i, c := range Columns {
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, c)
	}
	io.WriteString(w, "\n")
}

// row is one line item as text fields, written in Columns order.
type row struct {
	c                                   *cloud
	acct                                account
	month                               costgate.Month
	start, end                          time.Time
	category, frequency, desc           string
	svc, svcCategory                    string
	region, regionName, az              string
	resID, resName, resType             string
	sku, pricingCategory, unit          string
	qty                                 int64 // whole units
	listPrice, contractedPrice          int64 // nanos per unit
	list, contracted, billed, effective int64
	cdID, cdCategory, cdType, cdStatus  string
	tags, usageType                     string
}

func (g *gen) month(w io.Writer, first costgate.Month, idx int) error {
	m := addMonths(first, idx)
	days := int(m.End().Sub(m.Start()).Hours() / 24)
	// Growth of a few percent a month, so month-over-month differs.
	growth := int64(100 + 3*idx)
	for d := 0; d < days; d++ {
		day := m.Start().AddDate(0, 0, d)
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		for i := range g.res {
			res := &g.res[i]
			s := res.svc
			qty := s.qtyMin
			if s.qtyMax > s.qtyMin {
				qty += g.r.Int64N(s.qtyMax - s.qtyMin + 1)
			}
			qty = max(1, qty*res.scale/100*growth/100)
			if weekend && s.unit != "Hours" && s.unit != "hour" && s.unit != "GB-Mo" {
				qty = max(1, qty*6/10)
			}
			list := mulNanos(s.price, qty)
			contracted := list * 94 / 100 // an enterprise discount
			rw := row{c: res.cloud, acct: res.account, month: m, start: day, end: day.AddDate(0, 0, 1),
				category: "Usage", frequency: "Usage-Based", desc: s.desc, svc: s.name, svcCategory: s.category,
				region: res.region[0], regionName: res.region[1], az: res.az, resID: res.id, resName: res.name, resType: s.resType,
				sku: s.sku, pricingCategory: "Standard", unit: s.unit, qty: qty, listPrice: s.price, contractedPrice: s.price * 94 / 100,
				list: list, contracted: contracted, billed: contracted, effective: contracted, tags: res.tags, usageType: s.usageType}
			if res.covered {
				rw.pricingCategory = "Committed"
				rw.billed = 0
				rw.effective = list * 72 / 100
				rw.cdID, rw.cdCategory, rw.cdType, rw.cdStatus = res.cloud.spID, "Spend", "Savings Plan", "Used"
			}
			g.write(w, &rw)
		}
	}
	// Monthly charges per account: the Savings Plan fee, tax, a credit.
	for ci := range clouds {
		c := &clouds[ci]
		for ai, a := range c.accounts {
			start, end := m.Start(), m.End()
			base := row{c: c, acct: a, month: m, start: start, end: end, svcCategory: "Other", unit: "", tags: ""}
			if c.spID != "" && ai == 0 {
				fee := int64(2_000_000_000_000) * growth / 100 // 2,000 a month
				rw := base
				rw.category, rw.frequency, rw.desc = "Purchase", "Recurring", "Savings Plan recurring fee"
				rw.svc, rw.svcCategory, rw.pricingCategory = "Savings Plans for AWS Compute usage", "Compute", "Committed"
				rw.billed, rw.effective = fee, fee/10 // the unused part; the rest is amortised into usage
				rw.cdID, rw.cdCategory, rw.cdType = c.spID, "Spend", "Savings Plan"
				g.write(w, &rw)
			}
			rw := base
			rw.category, rw.frequency, rw.desc, rw.svc = "Tax", "Recurring", "Sales tax", "Tax"
			tax := int64(40_000_000_000+g.r.Int64N(20_000_000_000)) * growth / 100
			rw.billed, rw.effective = tax, tax
			g.write(w, &rw)
			if g.r.IntN(4) == 0 {
				rw := base
				rw.category, rw.frequency, rw.desc, rw.svc = "Credit", "One-Time", "Promotional credit", "Credits"
				credit := -int64(25_000_000_000 + g.r.Int64N(75_000_000_000))
				rw.billed, rw.effective = credit, credit
				g.write(w, &rw)
			}
		}
	}
	return nil
}

// mulNanos returns price (nanos per unit) times qty units.
func mulNanos(price, qty int64) int64 {
	if qty != 0 && price > math.MaxInt64/qty {
		return math.MaxInt64
	}
	return price * qty
}

func (g *gen) write(w io.Writer, rw *row) {
	b := g.line[:0]
	field := func(s string) {
		needQuote := false
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
				needQuote = true
				break
			}
		}
		if !needQuote {
			b = append(b, s...)
		} else {
			b = append(b, '"')
			for i := 0; i < len(s); i++ {
				if s[i] == '"' {
					b = append(b, '"')
				}
				b = append(b, s[i])
			}
			b = append(b, '"')
		}
		b = append(b, ',')
	}
	num := func(n int64) { b = appendNanos(b, n); b = append(b, ',') }
	tm := func(t time.Time) { b = t.AppendFormat(b, "2006-01-02T15:04:05Z"); b = append(b, ',') }
	field(rw.c.billingID)
	field(rw.c.billingName)
	field("USD")
	tm(rw.month.Start())
	tm(rw.month.End())
	tm(rw.start)
	tm(rw.end)
	field(rw.category)
	field("")
	field(rw.desc)
	field(rw.frequency)
	field(rw.c.provider)
	field(rw.c.issuer)
	field(rw.c.issuer)
	field(rw.acct.id)
	field(rw.acct.name)
	field(rw.svc)
	field(rw.svcCategory)
	field(rw.region)
	field(rw.regionName)
	field(rw.az)
	field(rw.resID)
	field(rw.resName)
	field(rw.resType)
	field(rw.sku)
	if rw.sku != "" {
		field(rw.sku + "-" + rw.region)
	} else {
		field("")
	}
	field(rw.pricingCategory)
	field(rw.unit)
	if rw.unit != "" {
		num(rw.qty * costgate.NanosPerUnit)
		field(rw.unit)
		num(rw.qty * costgate.NanosPerUnit)
		num(rw.listPrice)
		num(rw.contractedPrice)
	} else {
		b = append(b, ",,,,,"...)
	}
	num(rw.list)
	num(rw.contracted)
	num(rw.billed)
	num(rw.effective)
	field(rw.cdID)
	field(rw.cdCategory)
	field(rw.cdType)
	field(rw.cdStatus)
	field(rw.tags)
	b = append(b, rw.usageType...)
	b = append(b, '\n')
	g.line = b
	w.Write(b)

	t := g.t
	t.Rows++
	t.BilledCost.Add(costgate.Money(rw.billed))
	t.EffectiveCost.Add(costgate.Money(rw.effective))
	t.ListCost.Add(costgate.Money(rw.list))
	s := t.ByMonth[costgate.MonthOf(rw.start)]
	s.Add(costgate.Money(rw.effective))
	t.ByMonth[costgate.MonthOf(rw.start)] = s
	t.Partitions[costgate.Partition{BillingAccountID: rw.c.billingID, BillingPeriod: rw.month}]++
}

// appendNanos formats nano-units as a decimal with trailing zeros
// trimmed ("12.5", "-0.000000001", "3").
func appendNanos(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		if n == math.MinInt64 {
			return append(b, "9223372036.854775808"...)
		}
		n = -n
	}
	b = strconv.AppendInt(b, n/costgate.NanosPerUnit, 10)
	frac := n % costgate.NanosPerUnit
	if frac == 0 {
		return b
	}
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := 9
	for end > 0 && digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}
