package reports_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/reportdemo"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

// oracle recomputes figures with its own store queries, built here from
// store's filter constructors rather than by the report code.
type oracle struct {
	tb    testing.TB
	st    *store.Store
	scope []store.Filter
}

func (o oracle) sum(filters ...store.Filter) costgate.Sum {
	o.tb.Helper()
	res, err := o.st.Query(context.Background(), store.Query{Filters: append(append([]store.Filter{}, o.scope...), filters...)})
	if err != nil {
		o.tb.Fatal(err)
	}
	var s costgate.Sum
	for _, r := range res.Rows {
		s.AddSum(r.Values[0])
	}
	return s
}

// colFilter selects key in col; an empty tag value means untagged.
func colFilter(col, key string) store.Filter {
	if key == "" && len(col) > 4 && col[:4] == "tag:" {
		return store.TagAbsent(col[4:])
	}
	return store.Eq(col, key)
}

func span(p reports.Period) store.Filter { return store.TimeRange(p.From, p.To) }

func eqSum(tb testing.TB, what string, got, want costgate.Sum) {
	tb.Helper()
	if got.Cmp(want) != 0 {
		tb.Errorf("%s: report %s, store %s", what, got, want)
	}
}

// TestTotalsMatchStore: every amount of the report equals an independent
// store query for the same filter, for the company and a team, a closed
// and an open month; breakdowns add up to the total exactly.
func TestTotalsMatchStore(t *testing.T) {
	closed := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	open := openNow
	tests := map[string]struct {
		team string
		now  time.Time
	}{
		"company closed": {now: closed},
		"company open":   {now: open},
		"team closed":    {team: "search", now: closed},
		"team open":      {team: "checkout", now: open},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := smallStore(t)
			if tc.now.Equal(open) {
				st = openMonthStore(t)
			}
			opts := goldenOptions()
			opts.Team, opts.Now = tc.team, fixedClock(tc.now)
			r, err := reports.Build(context.Background(), st, opts)
			if err != nil {
				t.Fatal(err)
			}
			o := oracle{tb: t, st: st}
			if tc.team != "" {
				o.scope = []store.Filter{store.Eq("tag:team", tc.team)}
			}
			cur := span(reports.Period{From: oct2026.Start(), To: oct2026.End()})
			prev := span(r.Previous.Period)
			if tc.now.Equal(open) && (r.Previous.Period.Days() != 14 || r.DataThrough.Day() != 14 || !r.Open) {
				t.Errorf("open month compares %d days, data runs through %s; want 14 days through the 14th", r.Previous.Period.Days(), r.DataThrough)
			}
			eqSum(t, "total", r.Total, o.sum(store.Eq("month", "2026-10")))
			eqSum(t, "previous", r.Previous.Total, o.sum(prev))
			eqSum(t, "year ago", r.YearAgo.Total, o.sum(span(r.YearAgo.Period)))
			if !r.YearAgo.Available || !r.Previous.Available {
				t.Errorf("comparisons not available: %+v %+v", r.Previous, r.YearAgo)
			}
			for _, d := range r.Daily {
				eqSum(t, "day "+d.Day.Format("02"), d.Total, o.sum(store.TimeRange(d.Day, d.Day.AddDate(0, 0, 1))))
			}
			breakdowns := map[string][]reports.Line{"tag:team": r.ByTeam, "SubAccountId": r.ByAccount, "ServiceName": r.ByService, "tag:env": r.ByEnv}
			for col, lines := range breakdowns {
				if col == "tag:team" && tc.team != "" {
					if len(lines) != 0 {
						t.Errorf("team report has a team breakdown")
					}
					continue
				}
				var curSum, prevSum costgate.Sum
				for _, l := range lines {
					eqSum(t, col+"="+l.Key, l.Current, o.sum(cur, colFilter(col, l.Key)))
					eqSum(t, col+"="+l.Key+" previous", l.Previous, o.sum(prev, colFilter(col, l.Key)))
					d := l.Current
					d.AddSum(l.Previous.Neg())
					eqSum(t, col+"="+l.Key+" delta", l.Delta, d)
					curSum.AddSum(l.Current)
					prevSum.AddSum(l.Previous)
				}
				eqSum(t, col+" lines add up to the total", curSum, r.Total)
				eqSum(t, col+" previous lines add up", prevSum, r.Previous.Total)
			}
			resourceLines := append(append(append([]reports.Line{}, r.TopResources...), r.ResourceMovers.Increases...), r.ResourceMovers.Decreases...)
			for _, l := range resourceLines {
				eqSum(t, "resource "+l.Key, l.Current, o.sum(cur, store.Eq("ResourceId", l.Key)))
				eqSum(t, "resource "+l.Key+" previous", l.Previous, o.sum(prev, store.Eq("ResourceId", l.Key)))
			}
			if len(r.TopResources) != 10 {
				t.Errorf("%d top resources, want 10", len(r.TopResources))
			}
			for _, l := range r.ServiceMovers.Increases {
				eqSum(t, "service mover "+l.Key, l.Delta, sub(o.sum(cur, store.Eq("ServiceName", l.Key)), o.sum(prev, store.Eq("ServiceName", l.Key))))
			}
			c := r.Compliance
			eqSum(t, "untagged "+c.Key, c.Untagged, o.sum(store.Eq("month", "2026-10"), store.TagAbsent(c.Key)))
			for _, k := range c.Keys {
				eqSum(t, "untagged "+k.Key, k.Untagged, o.sum(store.Eq("month", "2026-10"), store.TagAbsent(k.Key)))
			}
			for _, l := range c.Largest {
				eqSum(t, "untagged resource "+l.Key, l.Current, o.sum(store.Eq("month", "2026-10"), store.TagAbsent(c.Key), store.Eq("ResourceId", l.Key)))
			}
			for _, a := range c.ByAccount {
				eqSum(t, "account "+a.Account, a.Total, o.sum(store.Eq("month", "2026-10"), store.Eq("SubAccountId", a.Account)))
				eqSum(t, "untagged account "+a.Account, a.Untagged, o.sum(store.Eq("month", "2026-10"), store.Eq("SubAccountId", a.Account), store.TagAbsent(c.Key)))
			}
			for _, b := range r.Budgets {
				team := oracle{tb: t, st: st}
				eqSum(t, "budget actual "+b.Team, b.Actual, team.sum(store.Eq("month", "2026-10"), store.Eq("tag:team", b.Team)))
			}
			if tc.now.Equal(open) {
				checkForecast(t, r)
			} else if r.Forecast != nil {
				t.Errorf("closed month has a forecast")
			}
		})
	}
}

func sub(a, b costgate.Sum) costgate.Sum {
	a.AddSum(b.Neg())
	return a
}

// checkForecast recomputes the forecast with big rationals: complete days
// (before the clock's day) plus the last seven's mean for the rest.
func checkForecast(t *testing.T, r *reports.Report) {
	t.Helper()
	f := r.Forecast
	if f == nil {
		t.Fatal("open month without a forecast")
	}
	today := r.GeneratedAt.Truncate(24 * time.Hour)
	cd := 0
	for i, d := range r.Daily {
		if d.Day.Before(today) && d.HasData {
			cd = i + 1
		}
	}
	if f.CompleteDays != cd || cd != 14 || f.RateDays != 7 || f.DaysInMonth != 31 {
		t.Errorf("forecast days %+v, want %d complete days", f, cd)
	}
	base, window := new(big.Rat), new(big.Rat)
	for i := 0; i < cd; i++ {
		v := new(big.Rat).SetInt(r.Daily[i].Total.Big())
		base.Add(base, v)
		if i >= cd-7 {
			window.Add(window, v)
		}
	}
	want := new(big.Rat).Add(base, new(big.Rat).Mul(window, big.NewRat(int64(31-cd), 7)))
	got := new(big.Rat).SetInt(f.Total.Big())
	diff := new(big.Rat).Sub(got, want)
	if diff.Abs(diff).Cmp(big.NewRat(1, 2)) > 0 { // rounded once to a nano-unit
		t.Errorf("forecast %s nanos, want %s", f.Total.Big(), want.FloatString(3))
	}
}

// TestTotalsMatchLineItems checks the store and the report against the
// generated line items themselves, summed naively.
func TestTotalsMatchLineItems(t *testing.T) {
	st := smallStore(t)
	r, err := reports.Build(context.Background(), st, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	var total costgate.Sum
	byTeam := map[string]costgate.Sum{}
	err = reportdemo.Small().Generate(func(p costgate.Partition, rows []costgate.LineItem) error {
		for _, li := range rows {
			if costgate.MonthOf(li.ChargePeriodStart) != oct2026 {
				continue
			}
			total.Add(li.EffectiveCost)
			s := byTeam[li.Tags["team"]]
			s.Add(li.EffectiveCost)
			byTeam[li.Tags["team"]] = s
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eqSum(t, "total", r.Total, total)
	for _, l := range r.ByTeam {
		eqSum(t, fmt.Sprintf("team %q", l.Key), l.Current, byTeam[l.Key])
	}
	if len(r.ByTeam) != len(byTeam) {
		t.Errorf("%d team lines, line items have %d teams", len(r.ByTeam), len(byTeam))
	}
}
