package main

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// The data set of STORE.md: FOCUS-like line items over 92 days (three
// billing months), 20 billing accounts, 60 services, 15 regions, 600 SKUs,
// 200k resources, 30 teams with ~8% of resources untagged, log-normal
// costs held as exact nano-unit integers, and list >= billed >= effective
// (negotiated and commitment discounts).
//
// Generation is deterministic for a (rows, seed) pair: every partition has
// its own PCG stream seeded from (seed, partition index), so the result
// does not depend on goroutine scheduling.
//
// The data is held once, column-wise, integer-coded (this is also the
// "plain columnar" engine). Resource codes follow string order, so a
// top-N tie broken by resource id orders the same way in every engine.

const (
	nDays      = 92
	nAccounts  = 20
	nServices  = 60
	nRegions   = 15
	nSKUs      = 600 // 10 per service
	nResources = 200_000
	nTeams     = 30
	untagged   = 0.08
)

var (
	firstDay = time.Date(2026, time.August, 1, 0, 0, 0, 0, time.UTC)
	// months of the data set: day index ranges [monthStartDay[m], monthStartDay[m+1]).
	monthStartDay = [4]int{0, 31, 61, 92}
	monthNames    = [3]string{"2026-08", "2026-09", "2026-10"}
)

// Dicts holds the dictionaries: code -> string. Code 0 of team and env is
// "absent" ("").
type Dicts struct {
	Accounts     []string
	AccountNames []string
	Services     []string
	Categories   []string // ServiceCategory per service code
	Regions      []string
	SKUs         []string
	Resources    []string
	ResTypes     []string
	ChargeCats   []string
	PricingCats  []string
	Teams        []string // [0] = "" (untagged)
	Envs         []string // [0] = "" (no env tag)
	Days         []string // "2026-08-01" ...
	DayTimes     []time.Time
	MonthOfDay   []uint8
}

// Data is the generated data set, column-wise. Rows are grouped by
// partition (account-major, then month) and sorted by (day, service,
// resource) inside a partition, the order costgate's store uses inside a
// segment; every engine gets the rows in this order.
type Data struct {
	N    int
	Seed uint64
	D    *Dicts

	Day       []uint8 // 0..91
	Account   []uint8
	Service   []uint8
	Region    []uint8
	ResType   []uint8
	ChargeCat []uint8
	PriceCat  []uint8
	Team      []uint8 // 0 = untagged
	Env       []uint8 // 0 = no env tag
	SKU       []uint16
	Resource  []uint32
	Qty       []int64 // ConsumedQuantity, nano-units
	List      []int64 // ListCost, nano-units
	Billed    []int64
	Effective []int64

	Parts []Part
}

// Part is one (account, month) partition: rows [Lo, Hi).
type Part struct {
	Account, Month int
	Lo, Hi         int
}

// Bytes is the size of the column data (what the plain scan keeps resident).
func (d *Data) Bytes() int64 {
	return int64(d.N) * (9*1 + 2 + 4 + 4*8)
}

type resource struct {
	account, service, region, rtype, team, env uint8
	nsku                                       uint8
	skus                                       [3]uint16
	scale                                      float64 // hourly list price, log-normal
}

var serviceNames = []string{
	"AWS Backup", "AWS CloudTrail", "AWS CodeBuild", "AWS Config", "AWS Data Transfer",
	"AWS Direct Connect", "AWS Elemental MediaConvert", "AWS Glue", "AWS Key Management Service", "AWS Lambda",
	"AWS Network Firewall", "AWS Secrets Manager", "AWS Shield", "AWS Step Functions", "AWS Systems Manager",
	"AWS Transfer Family", "AWS WAF", "AWS X-Ray", "Amazon API Gateway", "Amazon AppFlow",
	"Amazon Athena", "Amazon Aurora", "Amazon Bedrock", "Amazon CloudFront", "Amazon CloudWatch",
	"Amazon Cognito", "Amazon DocumentDB", "Amazon DynamoDB", "Amazon EC2 Container Registry", "Amazon EMR",
	"Amazon Elastic Block Store", "Amazon Elastic Compute Cloud", "Amazon Elastic Container Service", "Amazon Elastic File System", "Amazon Elastic Kubernetes Service",
	"Amazon ElastiCache", "Amazon FSx", "Amazon GuardDuty", "Amazon Inspector", "Amazon Kinesis",
	"Amazon Lightsail", "Amazon MQ", "Amazon Managed Streaming for Apache Kafka", "Amazon Neptune", "Amazon OpenSearch Service",
	"Amazon QuickSight", "Amazon Redshift", "Amazon Relational Database Service", "Amazon Route 53", "Amazon S3 Glacier",
	"Amazon SageMaker", "Amazon Simple Email Service", "Amazon Simple Notification Service", "Amazon Simple Queue Service", "Amazon Simple Storage Service",
	"Amazon Timestream", "Amazon VPC", "Amazon WorkSpaces", "Elastic Load Balancing", "Savings Plans for AWS Compute usage",
}

var serviceCategories = []string{
	"AI and Machine Learning", "Analytics", "Compute", "Databases", "Developer Tools",
	"Management and Governance", "Networking", "Other", "Security", "Storage",
}

var regionIDs = []string{
	"ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1",
	"eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// weighted picks an index with probability proportional to w (cum is the
// cumulative sum of w).
func weighted(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

// split divides total into len(w) integers proportional to w that add up
// to total exactly (largest remainder).
func split(total int, w []float64) []int {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	out := make([]int, len(w))
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(w))
	got := 0
	for i, x := range w {
		exact := float64(total) * x / sum
		out[i] = int(exact)
		got += out[i]
		rems[i] = rem{i, exact - float64(out[i])}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.f, a.f) })
	for k := 0; got < total; k++ {
		out[rems[k%len(rems)].i]++
		got++
	}
	return out
}

// Generate builds the data set.
func Generate(rows int, seed uint64) *Data {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	d := &Dicts{}

	// Accounts: weights log-normal; resources and rows follow them.
	acctW := make([]float64, nAccounts)
	acctDiscountBP := make([]int64, nAccounts)
	for a := range nAccounts {
		d.Accounts = append(d.Accounts, fmt.Sprintf("%012d", 314159200000+a*104729))
		d.AccountNames = append(d.AccountNames, fmt.Sprintf("Account %02d", a))
		acctW[a] = math.Exp(r.NormFloat64() * 0.6)
		acctDiscountBP[a] = int64(r.IntN(1500)) // 0-15% negotiated discount
	}
	// Services (names sorted: code order is string order), a category
	// each, 10 SKUs each, 2 resource types each, a commitment discount.
	d.Services = slices.Clone(serviceNames)
	slices.Sort(d.Services)
	svcW := make([]float64, nServices)
	commitShare := make([]float64, nServices)
	commitBP := make([]int64, nServices)
	perm := r.Perm(nServices) // popularity rank of each service
	for s := range nServices {
		d.Categories = append(d.Categories, serviceCategories[r.IntN(len(serviceCategories))])
		svcW[s] = 1 / math.Pow(float64(perm[s]+1), 0.8)
		commitShare[s] = 0.05 + 0.45*r.Float64()
		commitBP[s] = 2000 + int64(r.IntN(2500))
	}
	for s := range nServices {
		for k := range nSKUs / nServices {
			d.SKUs = append(d.SKUs, fmt.Sprintf("SKU-%02d%02d-%08X", s, k, r.Uint32()))
		}
	}
	for s := range nServices {
		for k := range 2 {
			d.ResTypes = append(d.ResTypes, fmt.Sprintf("%s/%s", shortName(d.Services[s]), []string{"resource", "usage"}[k]))
		}
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(d.ResTypes)))); n != len(d.ResTypes) {
		panic("resource type names are not unique")
	}
	d.Regions = slices.Clone(regionIDs)
	regW := make([]float64, nRegions)
	for i := range regW {
		regW[i] = 1 / float64(r.IntN(nRegions)+1)
	}
	d.ChargeCats = []string{"Purchase", "Tax", "Usage"}
	d.PricingCats = []string{"Committed", "Standard"}
	d.Teams = []string{""}
	for t := 1; t <= nTeams; t++ {
		d.Teams = append(d.Teams, fmt.Sprintf("team-%02d", t))
	}
	d.Envs = []string{"", "dev", "prod", "staging"}
	for i := 0; i <= nDays; i++ {
		t := firstDay.AddDate(0, 0, i)
		d.DayTimes = append(d.DayTimes, t)
		d.Days = append(d.Days, t.Format(time.DateOnly))
		m := 0
		for m < 2 && i >= monthStartDay[m+1] {
			m++
		}
		d.MonthOfDay = append(d.MonthOfDay, uint8(m))
	}

	// Resources.
	svcCum, regCum := cumulative(svcW), cumulative(regW)
	perAcct := split(nResources, acctW)
	res := make([]resource, 0, nResources)
	ids := make([]string, 0, nResources)
	acctRes := make([][]int, nAccounts) // generation index, popularity order
	for a := range nAccounts {
		for range perAcct[a] {
			s := weighted(r, svcCum)
			x := resource{
				account: uint8(a), service: uint8(s), region: uint8(weighted(r, regCum)),
				rtype: uint8(2*s + r.IntN(2)),
				scale: math.Exp(r.NormFloat64()*1.4 + math.Log(0.04)),
			}
			if r.Float64() >= untagged {
				x.team = uint8(1 + r.IntN(nTeams))
				if r.IntN(2) == 0 {
					x.env = uint8(1 + r.IntN(3))
				}
			}
			x.nsku = uint8(1 + r.IntN(3))
			for k := range int(x.nsku) {
				x.skus[k] = uint16(s*(nSKUs/nServices) + r.IntN(nSKUs/nServices))
			}
			acctRes[a] = append(acctRes[a], len(res))
			// Random hex then the index: unique by construction.
			ids = append(ids, fmt.Sprintf("arn:aws:%s:%s:%s:%s/r-%08x%06x", shortName(d.Services[s]),
				d.Regions[x.region], d.Accounts[a], []string{"resource", "usage"}[int(x.rtype)%2], r.Uint32(), len(res)))
			res = append(res, x)
		}
	}
	// Resource codes in string order.
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	code := make([]uint32, len(ids))
	d.Resources = make([]string, len(ids))
	for c, i := range order {
		code[i] = uint32(c)
		d.Resources[c] = ids[i]
	}

	// Partitions: rows split over accounts by weight, then over months by
	// their number of days.
	data := &Data{N: rows, Seed: seed, D: d}
	perAcctRows := split(rows, acctW)
	if maxRows := slices.Max(perAcctRows); maxRows >= 1<<24 {
		panic(fmt.Sprintf("%d rows in one account: more than the generator's sort key allows", maxRows))
	}
	off := 0
	for a := range nAccounts {
		mw := []float64{31, 30, 31}
		for m, n := range split(perAcctRows[a], mw) {
			data.Parts = append(data.Parts, Part{Account: a, Month: m, Lo: off, Hi: off + n})
			off += n
		}
	}
	data.alloc()

	type row struct {
		day, chargeCat, priceCat uint8
		sku                      uint16
		res                      uint32 // code
		gen                      int32  // generation index
		qty, list, billed, eff   int64
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for pi, p := range data.Parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pr := rand.New(rand.NewPCG(seed, uint64(pi)+1))
			rs := acctRes[p.Account]
			d0, d1 := monthStartDay[p.Month], monthStartDay[p.Month+1]
			buf := make([]row, p.Hi-p.Lo)
			for i := range buf {
				u := pr.Float64()
				gi := rs[int(float64(len(rs))*u*u)] // popular resources first
				x := &res[gi]
				hoursMilli := int64(1 + pr.IntN(24_000))
				noise := math.Exp(pr.NormFloat64() * 0.5)
				list := int64(x.scale * noise * float64(hoursMilli) * 1e6) // nanos: price * hours * 1e9
				list = min(max(list, 1), 100_000*1_000_000_000)
				billed := list - list*acctDiscountBP[p.Account]/10000
				eff := billed
				pc := uint8(1) // Standard
				if pr.Float64() < commitShare[x.service] {
					pc = 0 // Committed
					eff = billed - billed*commitBP[x.service]/10000
				}
				cc := uint8(2) // Usage
				switch v := pr.IntN(100); {
				case v == 0:
					cc = 1 // Tax
				case v == 1:
					cc = 0 // Purchase
				}
				buf[i] = row{
					day: uint8(d0 + pr.IntN(d1-d0)), chargeCat: cc, priceCat: pc,
					sku: x.skus[pr.IntN(int(x.nsku))], res: code[gi], gen: int32(gi),
					qty: hoursMilli * 1_000_000, list: list, billed: billed, eff: eff,
				}
			}
			// Sort by (day, service, resource), stable: packed keys with
			// the row index in the low bits.
			keys := make([]uint64, len(buf))
			for i, w := range buf {
				keys[i] = uint64(w.day)<<56 | uint64(res[w.gen].service)<<48 | uint64(w.res)<<24 | uint64(i)
			}
			slices.Sort(keys)
			for i, k := range keys {
				w := &buf[k&(1<<24-1)]
				j := p.Lo + i
				x := &res[w.gen]
				data.Day[j], data.Account[j], data.Service[j] = w.day, x.account, x.service
				data.Region[j], data.ResType[j], data.ChargeCat[j] = x.region, x.rtype, w.chargeCat
				data.PriceCat[j], data.Team[j], data.Env[j] = w.priceCat, x.team, x.env
				data.SKU[j], data.Resource[j] = w.sku, w.res
				data.Qty[j], data.List[j], data.Billed[j], data.Effective[j] = w.qty, w.list, w.billed, w.eff
			}
		}()
	}
	wg.Wait()
	return data
}

func (d *Data) alloc() {
	n := d.N
	d.Day, d.Account, d.Service = make([]uint8, n), make([]uint8, n), make([]uint8, n)
	d.Region, d.ResType, d.ChargeCat = make([]uint8, n), make([]uint8, n), make([]uint8, n)
	d.PriceCat, d.Team, d.Env = make([]uint8, n), make([]uint8, n), make([]uint8, n)
	d.SKU, d.Resource = make([]uint16, n), make([]uint32, n)
	d.Qty, d.List, d.Billed, d.Effective = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
}

// shortName is a lower-case service token for ARNs and resource types.
func shortName(s string) string {
	b := make([]byte, 0, 16)
	for i := 0; i < len(s) && len(b) < 16; i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}
