package main

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

// The seven query classes. STORE.md's table names four (filtered sum,
// group by service, top 20 resources, month-over-month by account); the
// other three are the further shapes the store's own benchmark runs
// (store/bench_test.go): untagged spend by account, a week of daily cost
// by service (a time range), and big line items (a cost range) by team.
// Every query sums EffectiveCost and counts rows.

const (
	qMonth     = 2          // month code of 2026-10
	qPrevMonth = 1          // 2026-09
	qTeam      = 7          // team-07
	qWeekLo    = 61 + 4     // day code of 2026-10-05
	qWeekHi    = 61 + 4 + 7 // exclusive: 2026-10-12
	qTopN      = 20
	qBigCost   = 10 * costgate.NanosPerUnit // EffectiveCost >= 10 units
)

// QuerySpec is one query in every engine's terms.
type QuerySpec struct {
	Name      string
	Title     string
	TopN      bool // result order matters (top-N); otherwise rows are compared as sets
	Dashboard bool // counts against the 10 ms dashboard target (the top-N has 25 ms)
	CG        store.Query
	DuckInt   string // SQL on the integer-coded table li_int
	DuckFocus string // SQL on the VARCHAR FOCUS table li_focus
	Scan      scanQuery
}

var (
	weekStart = time.Date(2026, time.October, 5, 0, 0, 0, 0, time.UTC)
	weekEnd   = time.Date(2026, time.October, 12, 0, 0, 0, 0, time.UTC)
)

func querySpecs() []*QuerySpec {
	month := store.Eq("month", monthNames[qMonth])
	team := store.Eq("tag:team", fmt.Sprintf("team-%02d", qTeam))
	eff := []store.Measure{store.EffectiveCost}
	const octRange = `"ChargePeriodStart" >= TIMESTAMP '2026-10-01' AND "ChargePeriodStart" < TIMESTAMP '2026-11-01'`
	return []*QuerySpec{
		{
			Name: "Q1 filtered sum", Title: "sum, month=2026-10 and tag:team=team-07", Dashboard: true,
			CG:      store.Query{Measures: eff, Filters: []store.Filter{month, team}},
			DuckInt: fmt.Sprintf(`SELECT SUM(effective), COUNT(*) FROM li_int WHERE month_id = %d AND team_id = %d`, qMonth, qTeam),
			DuckFocus: `SELECT SUM("EffectiveCost"), COUNT(*) FROM li_focus WHERE ` + octRange +
				fmt.Sprintf(` AND "x_tag_team" = 'team-%02d'`, qTeam),
			Scan: scanQuery{dayLo: monthStartDay[qMonth], dayHi: monthStartDay[qMonth+1], team: qTeam, key: keyNone},
		},
		{
			Name: "Q2 by service", Title: "group by ServiceName, month=2026-10 and tag:team=team-07", Dashboard: true,
			CG: store.Query{Measures: eff, Filters: []store.Filter{month, team}, GroupBy: []string{"ServiceName"}},
			DuckInt: fmt.Sprintf(`SELECT service_id, SUM(effective), COUNT(*) FROM li_int WHERE month_id = %d AND team_id = %d GROUP BY service_id`,
				qMonth, qTeam),
			DuckFocus: `SELECT "ServiceName", SUM("EffectiveCost"), COUNT(*) FROM li_focus WHERE ` + octRange +
				fmt.Sprintf(` AND "x_tag_team" = 'team-%02d' GROUP BY "ServiceName"`, qTeam),
			Scan: scanQuery{dayLo: monthStartDay[qMonth], dayHi: monthStartDay[qMonth+1], team: qTeam, key: keyService},
		},
		{
			Name: "Q3 top 20 resources", Title: "top 20 ResourceId by EffectiveCost, month=2026-10", TopN: true,
			CG: store.Query{Measures: eff, Filters: []store.Filter{month}, GroupBy: []string{"ResourceId"},
				OrderBy: []store.Order{{By: "EffectiveCost", Desc: true}}, Limit: qTopN},
			DuckInt: fmt.Sprintf(`SELECT resource_id, SUM(effective) AS s, COUNT(*) FROM li_int WHERE month_id = %d GROUP BY resource_id ORDER BY s DESC, resource_id LIMIT %d`,
				qMonth, qTopN),
			DuckFocus: `SELECT "ResourceId", SUM("EffectiveCost") AS s, COUNT(*) FROM li_focus WHERE ` + octRange +
				fmt.Sprintf(` GROUP BY "ResourceId" ORDER BY s DESC, "ResourceId" LIMIT %d`, qTopN),
			Scan: scanQuery{dayLo: monthStartDay[qMonth], dayHi: monthStartDay[qMonth+1], team: -1, key: keyResource},
		},
		{
			Name: "Q4 MoM by account", Title: "group by month, BillingAccountId, month in (2026-09, 2026-10)", Dashboard: true,
			CG: store.Query{Measures: eff, Filters: []store.Filter{store.In("month", monthNames[qPrevMonth], monthNames[qMonth])},
				GroupBy: []string{"month", "BillingAccountId"}},
			DuckInt: fmt.Sprintf(`SELECT month_id, account_id, SUM(effective), COUNT(*) FROM li_int WHERE month_id IN (%d, %d) GROUP BY month_id, account_id`,
				qPrevMonth, qMonth),
			DuckFocus: `SELECT date_trunc('month', "ChargePeriodStart") AS m, "BillingAccountId", SUM("EffectiveCost"), COUNT(*) FROM li_focus ` +
				`WHERE "ChargePeriodStart" >= TIMESTAMP '2026-09-01' AND "ChargePeriodStart" < TIMESTAMP '2026-11-01' GROUP BY m, "BillingAccountId"`,
			Scan: scanQuery{dayLo: monthStartDay[qPrevMonth], dayHi: monthStartDay[qMonth+1], team: -1, key: keyMonthAccount},
		},
		{
			Name: "Q5 untagged by account", Title: "group by BillingAccountId, month=2026-10 and tag:team absent", Dashboard: true,
			CG: store.Query{Measures: eff, Filters: []store.Filter{month, store.TagAbsent("team")}, GroupBy: []string{"BillingAccountId"}},
			DuckInt: fmt.Sprintf(`SELECT account_id, SUM(effective), COUNT(*) FROM li_int WHERE month_id = %d AND team_id = 0 GROUP BY account_id`,
				qMonth),
			DuckFocus: `SELECT "BillingAccountId", SUM("EffectiveCost"), COUNT(*) FROM li_focus WHERE ` + octRange +
				` AND "x_tag_team" IS NULL GROUP BY "BillingAccountId"`,
			Scan: scanQuery{dayLo: monthStartDay[qMonth], dayHi: monthStartDay[qMonth+1], team: 0, key: keyAccount},
		},
		{
			Name: "Q6 daily by service, 1 week", Title: "group by day, ServiceName, ChargePeriodStart in [2026-10-05, 2026-10-12)", Dashboard: true,
			CG: store.Query{Measures: eff, Filters: []store.Filter{store.TimeRange(weekStart, weekEnd)}, GroupBy: []string{"day", "ServiceName"}},
			DuckInt: fmt.Sprintf(`SELECT day_id, service_id, SUM(effective), COUNT(*) FROM li_int WHERE day_id >= %d AND day_id < %d GROUP BY day_id, service_id`,
				qWeekLo, qWeekHi),
			DuckFocus: `SELECT CAST("ChargePeriodStart" AS DATE) AS d, "ServiceName", SUM("EffectiveCost"), COUNT(*) FROM li_focus ` +
				`WHERE "ChargePeriodStart" >= TIMESTAMP '2026-10-05' AND "ChargePeriodStart" < TIMESTAMP '2026-10-12' GROUP BY d, "ServiceName"`,
			Scan: scanQuery{dayLo: qWeekLo, dayHi: qWeekHi, team: -1, key: keyDayService},
		},
		{
			Name: "Q7 big items by team", Title: "group by tag:team, month=2026-10 and EffectiveCost >= 10", Dashboard: true,
			CG: store.Query{Measures: eff, Filters: []store.Filter{month, store.CostAtLeast(store.EffectiveCost, qBigCost)},
				GroupBy: []string{"tag:team"}},
			DuckInt: fmt.Sprintf(`SELECT team_id, SUM(effective), COUNT(*) FROM li_int WHERE month_id = %d AND effective >= %d GROUP BY team_id`,
				qMonth, int64(qBigCost)),
			DuckFocus: `SELECT "x_tag_team", SUM("EffectiveCost"), COUNT(*) FROM li_focus WHERE ` + octRange +
				` AND "EffectiveCost" >= 10 GROUP BY "x_tag_team"`,
			Scan: scanQuery{dayLo: monthStartDay[qMonth], dayHi: monthStartDay[qMonth+1], team: -1, minEff: qBigCost, key: keyTeam},
		},
	}
}

// Row is one result group in a form every engine can be compared in:
// string keys, an exact 128-bit sum of nano-units, a row count.
type Row struct {
	Keys  []string
	Sum   costgate.Sum
	Count int64
}

// Result is a query's answer. Unordered results are sorted by key before
// comparison.
type Result []Row

func (r Result) canonical(ordered bool) Result {
	if ordered {
		return r
	}
	out := slices.Clone(r)
	slices.SortFunc(out, func(a, b Row) int { return slices.Compare(a.Keys, b.Keys) })
	return out
}

// diff describes how got differs from want ("" if equal). Sums are
// compared as exact integers.
func diff(want, got Result, ordered bool) string {
	want, got = want.canonical(ordered), got.canonical(ordered)
	if len(want) != len(got) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !slices.Equal(w.Keys, g.Keys) {
			return fmt.Sprintf("row %d: keys %q, want %q", i, g.Keys, w.Keys)
		}
		if w.Sum.Cmp(g.Sum) != 0 {
			return fmt.Sprintf("row %d %q: sum %s, want %s", i, w.Keys, g.Sum, w.Sum)
		}
		if w.Count != g.Count {
			return fmt.Sprintf("row %d %q: count %d, want %d", i, w.Keys, g.Count, w.Count)
		}
	}
	return ""
}

// bigToSum converts an exact integer number of nano-units to a Sum.
func bigToSum(b *big.Int) (costgate.Sum, error) {
	if b.BitLen() > 126 {
		return costgate.Sum{}, fmt.Errorf("sum %s out of 128-bit range", b)
	}
	m := new(big.Int).Set(b)
	if m.Sign() < 0 {
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	lo := new(big.Int).And(m, new(big.Int).SetUint64(^uint64(0))).Uint64()
	hi := new(big.Int).Rsh(m, 64).Uint64()
	return costgate.SumFromParts(int64(hi), lo), nil
}

func (r Row) String() string {
	return fmt.Sprintf("%s: %s (%d rows)", strings.Join(r.Keys, ","), r.Sum, r.Count)
}
