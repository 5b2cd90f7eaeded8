package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

// The coded ingest hands the store the same rows as ingestCostgate, as a
// costgate.CodedLineItemSource: each string field is an id into one table
// of every dictionary value, the generated codes offset by where their
// dictionary starts in it. That is the form a parser's interned rows take
// (the collector's compact FOCUS rows reach the store this way), and the
// information DuckDB's integer table gets through its appender.

// codedTable is every dictionary in one table: dictionary k's code c is
// id off[k] + c.
type codedTable struct {
	strs []string
	off  map[*[]string]uint32
	once sync.Once
	days []int64
}

// dayNanos returns days as Unix nanoseconds, made once per table.
func (t *codedTable) dayNanos(days []time.Time) []int64 {
	t.once.Do(func() {
		for _, d := range days {
			t.days = append(t.days, d.UnixNano())
		}
	})
	return t.days
}

func newCodedTable(dc *Dicts) *codedTable {
	t := &codedTable{strs: []string{""}, off: map[*[]string]uint32{}}
	for _, d := range []*[]string{&dc.Accounts, &dc.AccountNames, &dc.Services, &dc.Categories, &dc.Regions,
		&dc.Resources, &dc.ResTypes, &dc.SKUs, &dc.ChargeCats, &dc.PricingCats} {
		t.off[d] = uint32(len(t.strs))
		t.strs = append(t.strs, (*d)...)
	}
	t.strs = append(t.strs, "AWS", "USD")
	return t
}

// field is a StringFields index, by FOCUS name.
func field(name string) int {
	k := slices.Index(costgate.StringFields[:], name)
	if k < 0 {
		panic("no string field " + name)
	}
	return k
}

// amount is an AmountFields index, by FOCUS name.
func amount(name string) int {
	k := slices.Index(costgate.AmountFields[:], name)
	if k < 0 {
		panic("no amount field " + name)
	}
	return k
}

var (
	aEffective, aBilled, aList, aConsumed = amount("EffectiveCost"), amount("BilledCost"), amount("ListCost"), amount("ConsumedQuantity")

	fAccount, fAccountName, fSubAccount = field("BillingAccountId"), field("BillingAccountName"), field("SubAccountId")
	fProvider, fService, fCategory      = field("ProviderName"), field("ServiceName"), field("ServiceCategory")
	fRegion, fResource, fResType        = field("RegionId"), field("ResourceId"), field("ResourceType")
	fSKU, fChargeCat, fPriceCat         = field("SkuId"), field("ChargeCategory"), field("PricingCategory")
	fCurrency                           = field("BillingCurrency")
)

// codedPart is one partition's rows as a coded source.
type codedPart struct {
	m              *lineItemMaker
	t              *codedTable
	p              Part
	bpStart, bpEnd time.Time
	// the same times as the coded rows carry them
	bpStartNanos, bpEndNanos int64
	dayNanos                 []int64
	aws, usd                 uint32
	acct, acctName           uint32
	svc, cat, region         uint32
	res, resType             uint32
	sku, charge, pc          uint32
}

func newCodedPart(m *lineItemMaker, t *codedTable, p Part) *codedPart {
	dc := m.d.D
	c := &codedPart{m: m, t: t, p: p,
		bpStart: dc.DayTimes[monthStartDay[p.Month]], bpEnd: dc.DayTimes[monthStartDay[p.Month+1]],
		aws: uint32(len(t.strs) - 2), usd: uint32(len(t.strs) - 1),
		acct: t.off[&dc.Accounts], acctName: t.off[&dc.AccountNames], svc: t.off[&dc.Services], cat: t.off[&dc.Categories],
		region: t.off[&dc.Regions], res: t.off[&dc.Resources], resType: t.off[&dc.ResTypes], sku: t.off[&dc.SKUs],
		charge: t.off[&dc.ChargeCats], pc: t.off[&dc.PricingCats]}
	c.bpStartNanos, c.bpEndNanos = c.bpStart.UnixNano(), c.bpEnd.UnixNano()
	c.dayNanos = t.dayNanos(dc.DayTimes)
	return c
}

func (c *codedPart) Len() int { return c.p.Hi - c.p.Lo }

func (c *codedPart) LineItem(i int, li *costgate.LineItem) {
	var r costgate.CodedRow
	table := c.CodedRow(i, &r)
	*li = costgate.LineItem{}
	for k, name := range costgate.StringFields {
		if r.IDs[k] != 0 {
			setString(li, name, table[r.IDs[k]])
		}
	}
	d, dc := c.m.d, c.m.d.D
	row := c.p.Lo + i
	li.ChargePeriodStart, li.ChargePeriodEnd = dc.DayTimes[d.Day[row]], dc.DayTimes[d.Day[row]+1]
	li.BillingPeriodStart, li.BillingPeriodEnd = c.bpStart, c.bpEnd
	li.ConsumedQuantity = costgate.Quantity(d.Qty[row])
	li.BilledCost, li.EffectiveCost, li.ListCost = costgate.Money(d.Billed[row]), costgate.Money(d.Effective[row]), costgate.Money(d.List[row])
	li.Tags = r.Tags
}

func (c *codedPart) MapKeys() (tags, extensions []string) { return []string{"team", "env"}, nil }

func (c *codedPart) CodedRow(i int, cr *costgate.CodedRow) []string {
	d := c.m.d
	r := c.p.Lo + i
	s := uint32(d.Service[r])
	a := uint32(d.Account[r])
	// The rows of one resource share its Tags map: the resource names it.
	*cr = costgate.CodedRow{Tags: c.m.tags[d.Resource[r]], TagsID: d.Resource[r] + 1}
	cr.Times = [...]int64{c.dayNanos[d.Day[r]], c.dayNanos[d.Day[r]+1], c.bpStartNanos, c.bpEndNanos}
	cr.Amounts[aEffective], cr.Amounts[aBilled], cr.Amounts[aList] = d.Effective[r], d.Billed[r], d.List[r]
	cr.Amounts[aConsumed] = d.Qty[r]
	ids := &cr.IDs
	ids[fAccount], ids[fAccountName], ids[fSubAccount] = c.acct+a, c.acctName+a, c.acct+a
	ids[fProvider], ids[fCurrency] = c.aws, c.usd
	ids[fService], ids[fCategory], ids[fRegion] = c.svc+s, c.cat+s, c.region+uint32(d.Region[r])
	ids[fResource], ids[fResType], ids[fSKU] = c.res+d.Resource[r], c.resType+uint32(d.ResType[r]), c.sku+uint32(d.SKU[r])
	ids[fChargeCat], ids[fPriceCat] = c.charge+uint32(d.ChargeCat[r]), c.pc+uint32(d.PriceCat[r])
	return c.t.strs
}

// setString sets the string field of li named by its FOCUS name (only
// the fields this data set fills).
func setString(li *costgate.LineItem, name, v string) {
	switch name {
	case "BillingAccountId":
		li.BillingAccountID = v
	case "BillingAccountName":
		li.BillingAccountName = v
	case "SubAccountId":
		li.SubAccountID = v
	case "ProviderName":
		li.ProviderName = v
	case "ServiceName":
		li.ServiceName = v
	case "ServiceCategory":
		li.ServiceCategory = v
	case "RegionId":
		li.RegionID = v
	case "ResourceId":
		li.ResourceID = v
	case "ResourceType":
		li.ResourceType = v
	case "SkuId":
		li.SkuID = v
	case "ChargeCategory":
		li.ChargeCategory = v
	case "PricingCategory":
		li.PricingCategory = v
	case "BillingCurrency":
		li.BillingCurrency = v
	}
}

// ingestCostgateCoded replaces every partition from coded sources
// (store.ReplaceSource), concurrency partitions at a time, largest first
// (as collect replaces three at a time, largest first, the store building
// two while one syncs; 1: one after the other in the data's order, each
// call timed as
// ingestCostgate's Replace calls are). With more than one at a time the
// wall and CPU time are the whole loop's.
func ingestCostgateCoded(ctx context.Context, dir string, d *Data, opts store.Options, concurrency int) (ingestStats, error) {
	st := ingestStats{rows: d.N}
	s, err := store.Open(dir, opts)
	if err != nil {
		return st, err
	}
	defer s.Close()
	m := newLineItemMaker(d)
	t := newCodedTable(d.D)
	if concurrency <= 1 {
		for _, p := range d.Parts {
			src := newCodedPart(m, t, p)
			err := timedReplace(&st, m.partition(p), func() (bool, error) {
				return s.ReplaceSource(ctx, m.partition(p), src, "bench-export", partHash(d, p))
			})
			if err != nil {
				return st, err
			}
		}
	} else {
		next := make(chan Part)
		errs := make(chan error, concurrency)
		err := timedReplace(&st, costgate.Partition{}, func() (bool, error) {
			var wg sync.WaitGroup
			for range concurrency {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for p := range next {
						changed, err := s.ReplaceSource(ctx, m.partition(p), newCodedPart(m, t, p), "bench-export", partHash(d, p))
						if err == nil && !changed {
							err = fmt.Errorf("replace %s: reported unchanged for a new partition", m.partition(p))
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			// Largest first, as collect replaces a run's partitions: the
			// last to build are small ones, which fill the CPUs while
			// the big segments before them are written and synced.
			parts := slices.Clone(d.Parts)
			slices.SortStableFunc(parts, func(a, b Part) int { return (b.Hi - b.Lo) - (a.Hi - a.Lo) })
		feed:
			for _, p := range parts {
				select {
				case next <- p:
				case err := <-errs:
					errs <- err
					break feed
				}
			}
			close(next)
			wg.Wait()
			select {
			case err := <-errs:
				return false, err
			default:
				return true, nil
			}
		})
		if err != nil {
			return st, err
		}
	}
	st.diskBytes = s.Info().Bytes
	return st, s.Close()
}
