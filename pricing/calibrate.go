package pricing

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// CalibrationWindow is how far back Calibrate reads the bill.
const CalibrationWindow = 30 * 24 * time.Hour

// Calibration holds what the company really pays relative to list
// prices: the ratio EffectiveCost/ListCost per billing account and
// service family (FOCUS ServiceName), after discounts, Savings Plans,
// Reserved Instances and committed-use discounts. Ratios are exact
// rationals of the store's exact sums.
type Calibration struct {
	byAccount map[string]map[string]*big.Rat // account -> family key -> ratio
	byFamily  map[string]*big.Rat            // family key -> ratio over all accounts
	desc      string
}

// CalibrationEntry is the bill of one (account, family) over the window.
type CalibrationEntry struct {
	Account   string
	Family    string
	Effective costgate.Sum
	List      costgate.Sum
}

// NewCalibration builds ratios from bill totals. Entries with no list
// cost are skipped (nothing to scale).
func NewCalibration(entries []CalibrationEntry, desc string) *Calibration {
	c := &Calibration{byAccount: map[string]map[string]*big.Rat{}, byFamily: map[string]*big.Rat{}, desc: desc}
	type acc struct{ eff, list *big.Int }
	fam := map[string]*acc{}
	for _, e := range entries {
		if e.List.Sign() <= 0 {
			continue
		}
		key := familyKey(e.Family)
		if c.byAccount[e.Account] == nil {
			c.byAccount[e.Account] = map[string]*big.Rat{}
		}
		c.byAccount[e.Account][key] = new(big.Rat).SetFrac(e.Effective.Big(), e.List.Big())
		a := fam[key]
		if a == nil {
			a = &acc{new(big.Int), new(big.Int)}
			fam[key] = a
		}
		a.eff.Add(a.eff, e.Effective.Big())
		a.list.Add(a.list, e.List.Big())
	}
	for k, a := range fam {
		c.byFamily[k] = new(big.Rat).SetFrac(a.eff, a.list)
	}
	return c
}

// Calibrate reads EffectiveCost and ListCost per billing account and
// service over the CalibrationWindow before now.
func Calibrate(ctx context.Context, r costgate.CostReader, now time.Time) (*Calibration, error) {
	from := now.Add(-CalibrationWindow)
	res, err := r.Query(ctx, costgate.CostQuery{
		Measures: []costgate.Measure{costgate.MeasureEffectiveCost, costgate.MeasureListCost},
		Filters:  []costgate.CostFilter{{Op: costgate.FilterTimeRange, From: from, To: now}},
		GroupBy:  []string{"BillingAccountId", "ServiceName"},
	})
	if err != nil {
		return nil, fmt.Errorf("calibrate prices: %w", err)
	}
	entries := make([]CalibrationEntry, 0, len(res.Rows))
	for _, row := range res.Rows {
		if len(row.Keys) < 2 || len(row.Values) < 2 {
			continue
		}
		entries = append(entries, CalibrationEntry{Account: row.Keys[0], Family: row.Keys[1], Effective: row.Values[0], List: row.Values[1]})
	}
	desc := fmt.Sprintf("effective/list per billing account and service, %s to %s (store generation %d)",
		from.UTC().Format(time.DateOnly), now.UTC().Format(time.DateOnly), res.Generation)
	return NewCalibration(entries, desc), nil
}

// Ratio returns the effective-to-list ratio of a family in an account;
// with no account (or one the bill does not show) it is the ratio over
// all accounts.
func (c *Calibration) Ratio(account, family string) (costgate.Rate, bool) {
	if c == nil || family == "" {
		return costgate.Rate{}, false
	}
	key := familyKey(family)
	if m, ok := c.byAccount[account]; ok && account != "" {
		if r, ok := m[key]; ok {
			return costgate.RateFromRat(r), true
		}
	}
	if r, ok := c.byFamily[key]; ok {
		return costgate.RateFromRat(r), true
	}
	return costgate.Rate{}, false
}

// String describes the calibration for reports.
func (c *Calibration) String() string {
	if c == nil {
		return ""
	}
	fams := make([]string, 0, len(c.byFamily))
	for k, r := range c.byFamily {
		fams = append(fams, k+" "+costgate.RateFromRat(r).MulInt(100).Format(1)+"%")
	}
	sort.Strings(fams)
	s := c.desc
	if len(fams) > 0 {
		s += "; ratios: " + strings.Join(fams, ", ")
	}
	return s
}
