package reports

import (
	"time"

	"github.com/costgate/costgate"
)

// dayKey formats a day as the store's derived "day" column.
func dayKey(t time.Time) string { return t.Format(time.DateOnly) }

func daysIn(m costgate.Month) int { return int(m.End().Sub(m.Start()).Hours() / 24) }

// comparePeriod is the span of m compared with the report's period: the
// whole month, or its first cmpDays days for an open month.
func (b *builder) comparePeriod(m costgate.Month) Period {
	if !b.open {
		return Period{From: m.Start(), To: m.End()}
	}
	n := min(b.cmpDays, daysIn(m))
	return Period{From: m.Start(), To: m.Start().AddDate(0, 0, n)}
}

// dailyTotals fills the totals, the daily series, the comparisons and the
// forecast from the day sums.
func (b *builder) dailyTotals(rep *Report, days map[string]costgate.Sum) {
	n := daysIn(b.month)
	last := 0
	for d := 0; d < n; d++ {
		t := b.month.Start().AddDate(0, 0, d)
		s, ok := days[dayKey(t)]
		rep.Daily = append(rep.Daily, DayPoint{Day: t, Total: s, HasData: ok})
		rep.Total.AddSum(s)
		if ok {
			last = d + 1
		}
	}
	if last > 0 {
		rep.DataThrough = b.month.Start().AddDate(0, 0, last-1)
	}
	for d := 0; d < daysIn(b.prev); d++ {
		t := b.prev.Start().AddDate(0, 0, d)
		s, ok := days[dayKey(t)]
		rep.PrevDaily = append(rep.PrevDaily, DayPoint{Day: t, Total: s, HasData: ok})
	}
	if b.open {
		b.cmpDays = last
	}
	compare := func(m costgate.Month) Comparison {
		c := Comparison{Month: m, Period: b.comparePeriod(m)}
		for t := c.Period.From; t.Before(c.Period.To); t = t.AddDate(0, 0, 1) {
			if s, ok := days[dayKey(t)]; ok {
				c.Available = true
				c.Total.AddSum(s)
			}
		}
		c.Delta = sub(rep.Total, c.Total)
		c.Pct, c.HasPct = pct(c.Delta, c.Total)
		return c
	}
	rep.Previous = compare(b.prev)
	rep.YearAgo = compare(b.yearAgo)
	if b.open {
		rep.Forecast = b.forecast(rep.Daily)
	}
}

// completeDays is the number of days of an open month counted as
// complete: days with data up to the day before now.
func (b *builder) completeDays(daily []DayPoint) int {
	today := b.now.Truncate(24 * time.Hour)
	cd := 0
	for i, p := range daily {
		if !p.Day.Before(today) {
			break
		}
		if p.HasData {
			cd = i + 1
		}
	}
	return cd
}

// forecast projects the month end: the complete days' spend plus the run
// rate of the last up to seven complete days times the days left. All in
// exact arithmetic, rounded once to nano-units.
func (b *builder) forecast(daily []DayPoint) *Forecast {
	cd := b.completeDays(daily)
	if cd == 0 {
		return nil
	}
	n := len(daily)
	w := min(7, cd)
	var base, window costgate.Sum
	for i := 0; i < cd; i++ {
		base.AddSum(daily[i].Total)
		if i >= cd-w {
			window.AddSum(daily[i].Total)
		}
	}
	rate, ok1 := mulDiv(window, 1, int64(w))
	rest, ok2 := mulDiv(window, int64(n-cd), int64(w))
	if !ok1 || !ok2 {
		return nil // beyond 128 bits: no forecast rather than a wrong one
	}
	f := &Forecast{CompleteDays: cd, RateDays: w, DaysInMonth: n, DailyRate: rate, Total: base}
	f.Total.AddSum(rest)
	return f
}
