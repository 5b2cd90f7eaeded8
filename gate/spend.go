package gate

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/costgate/costgate"
)

// SpendOptions say how SpendDocument groups actual spend.
type SpendOptions struct {
	// Now is the moment the month-to-date figures run to.
	Now time.Time
	// TeamTag and EnvTag are the tag keys of teams and environments
	// (default "team" and "env").
	TeamTag, EnvTag string
	// Budgets are monthly budgets by team.
	Budgets map[string]costgate.Money
}

// SpendDocument reads actual spend from a cost reader (the store) for
// data.costgate.spend:
//
//	{"month": "2026-11", "as_of": "2026-11-25T12:00:00Z", "days_elapsed": 24.5, "days_in_month": 30,
//	 "teams":        {TEAM: {"month_to_date": n, "last_month": n, "forecast": n, "budget": n}},
//	 "accounts":     {ACCOUNT: {...}},
//	 "environments": {ENV: {...}}}
//
// Amounts are EffectiveCost, exact decimal numbers. The forecast is the
// month-to-date spend run on linearly to the month's end; a team with a
// budget but no spend yet is listed with zeros.
func SpendDocument(ctx context.Context, r costgate.CostReader, opts SpendOptions) (map[string]any, error) {
	if opts.TeamTag == "" {
		opts.TeamTag = "team"
	}
	if opts.EnvTag == "" {
		opts.EnvTag = "env"
	}
	now := opts.Now.UTC()
	month := costgate.MonthOf(now)
	elapsed := now.Sub(month.Start())
	length := month.End().Sub(month.Start())
	doc := map[string]any{
		"month":         month.String(),
		"as_of":         now.Format(time.RFC3339),
		"days_elapsed":  jsonRat(big.NewRat(int64(elapsed/time.Second), 86400)),
		"days_in_month": int(length / (24 * time.Hour)),
	}
	for _, g := range []struct{ key, column string }{
		{"teams", "tag:" + opts.TeamTag},
		{"accounts", "BillingAccountId"},
		{"environments", "tag:" + opts.EnvTag},
	} {
		mtd, err := spendBy(ctx, r, g.column, month.Start(), now)
		if err != nil {
			return nil, err
		}
		last, err := spendBy(ctx, r, g.column, month.Prev().Start(), month.Start())
		if err != nil {
			return nil, err
		}
		groups := map[string]any{}
		keys := map[string]bool{}
		for k := range mtd {
			keys[k] = true
		}
		for k := range last {
			keys[k] = true
		}
		if g.key == "teams" {
			for k := range opts.Budgets {
				keys[k] = true
			}
		}
		for k := range keys {
			m := mtd[k]
			entry := map[string]any{
				"month_to_date": jsonSum(m),
				"last_month":    jsonSum(last[k]),
				"forecast":      forecast(m, elapsed, length),
			}
			if b, ok := opts.Budgets[k]; ok && g.key == "teams" {
				entry["budget"] = jsonMoney(b)
			}
			groups[k] = entry
		}
		doc[g.key] = groups
	}
	return doc, nil
}

// spendBy sums EffectiveCost in [from, to) grouped by column; rows without
// the column (untagged) are left out.
func spendBy(ctx context.Context, r costgate.CostReader, column string, from, to time.Time) (map[string]costgate.Sum, error) {
	filters := []costgate.CostFilter{{Op: costgate.FilterTimeRange, From: from, To: to}}
	if len(column) > 4 && column[:4] == "tag:" {
		filters = append(filters, costgate.CostFilter{Op: costgate.FilterTagPresent, Column: column})
	}
	res, err := r.Query(ctx, costgate.CostQuery{
		Measures: []costgate.Measure{costgate.MeasureEffectiveCost},
		Filters:  filters,
		GroupBy:  []string{column},
	})
	if err != nil {
		return nil, fmt.Errorf("read spend by %s: %w", column, err)
	}
	out := make(map[string]costgate.Sum, len(res.Rows))
	for _, row := range res.Rows {
		if len(row.Keys) == 1 && len(row.Values) == 1 && row.Keys[0] != "" {
			out[row.Keys[0]] = row.Values[0]
		}
	}
	return out, nil
}

// forecast runs spend on linearly: spend × month length / elapsed.
func forecast(spend costgate.Sum, elapsed, length time.Duration) any {
	if elapsed <= 0 {
		return jsonSum(spend)
	}
	r := new(big.Rat).SetFrac(spend.Big(), big.NewInt(costgate.NanosPerUnit))
	r.Mul(r, big.NewRat(int64(length/time.Second), int64(elapsed/time.Second)))
	return jsonRat(r)
}

// The spend document goes through JSON into OPA's store, so amounts are
// json.Number strings: exact.
func jsonSum(s costgate.Sum) any        { return jsonNumber(s.String()) }
func jsonMoney(m costgate.Money) any    { return jsonNumber(m.String()) }
func jsonRat(r *big.Rat) any            { return jsonNumber(r.FloatString(9)) }
func jsonNumber(s string) numberLiteral { return numberLiteral(s) }

// numberLiteral marshals as a bare JSON number.
type numberLiteral string

func (n numberLiteral) MarshalJSON() ([]byte, error) { return []byte(n), nil }
