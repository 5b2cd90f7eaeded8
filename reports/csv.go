package reports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/costgate/costgate"
)

// CSVHeader are report.csv's columns. Amounts are decimal strings rounded
// to cents from exact sums; count holds counts (gate sections).
var CSVHeader = []string{"report_version", "month", "scope", "section", "key", "label", "current", "previous", "delta",
	"delta_pct", "share_pct", "budget", "forecast", "count", "currency"}

// csvRow is one line of report.csv; empty fields stay empty.
type csvRow struct {
	section, key, label                          string
	current, previous, delta, deltaPct, sharePct string
	budget, forecast, count                      string
}

func renderCSV(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	cur := r.currency()
	write := func(x csvRow) {
		_ = w.Write([]string{strconv.Itoa(r.Version), r.Month.String(), r.Scope(), x.section, x.key, x.label,
			x.current, x.previous, x.delta, x.deltaPct, x.sharePct, x.budget, x.forecast, x.count, cur})
	}
	_ = w.Write(CSVHeader)
	sum := func(s costgate.Sum) string { return s.Format(2) }
	pctF := func(p float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(p, 'f', 2, 64)
	}
	write(csvRow{section: "total", key: r.Month.String(), label: "total", current: sum(r.Total), sharePct: "100.00"})
	for _, c := range []struct {
		section string
		c       Comparison
	}{{"previous", r.Previous}, {"year_ago", r.YearAgo}} {
		if !c.c.Available {
			continue
		}
		write(csvRow{section: c.section, key: c.c.Month.String(),
			label:   fmt.Sprintf("%s..%s", c.c.Period.From.Format("2006-01-02"), c.c.Period.To.AddDate(0, 0, -1).Format("2006-01-02")),
			current: sum(r.Total), previous: sum(c.c.Total), delta: sum(c.c.Delta), deltaPct: pctF(c.c.Pct, c.c.HasPct)})
	}
	if f := r.Forecast; f != nil {
		write(csvRow{section: "forecast", key: r.Month.String(), label: fmt.Sprintf("%d complete days, rate of the last %d", f.CompleteDays, f.RateDays),
			current: sum(r.Total), forecast: sum(f.Total)})
	}
	for _, d := range r.Daily {
		if d.HasData {
			write(csvRow{section: "day", key: d.Day.Format("2006-01-02"), current: sum(d.Total)})
		}
	}
	lines := func(section string, ls []Line) {
		for _, l := range ls {
			write(csvRow{section: section, key: l.Key, label: l.Label, current: sum(l.Current), previous: sum(l.Previous),
				delta: sum(l.Delta), deltaPct: pctF(l.Pct, l.HasPct), sharePct: strconv.FormatFloat(l.Share*100, 'f', 2, 64)})
		}
	}
	lines("team", r.ByTeam)
	lines("account", r.ByAccount)
	lines("service", r.ByService)
	lines("env", r.ByEnv)
	lines("top_resource", r.TopResources)
	lines("service_increase", r.ServiceMovers.Increases)
	lines("service_decrease", r.ServiceMovers.Decreases)
	lines("resource_increase", r.ResourceMovers.Increases)
	lines("resource_decrease", r.ResourceMovers.Decreases)
	for _, k := range r.Compliance.Keys {
		write(csvRow{section: "untagged", key: k.Key, label: "spend without tag " + k.Key, current: sum(k.Untagged),
			sharePct: strconv.FormatFloat(k.Share*100, 'f', 2, 64)})
	}
	lines("untagged_resource", r.Compliance.Largest)
	for _, a := range r.Compliance.ByAccount {
		write(csvRow{section: "compliance_account", key: a.Account, label: a.Label, current: sum(a.Total),
			sharePct: strconv.FormatFloat(a.Compliance, 'f', 2, 64)})
		write(csvRow{section: "untagged_account", key: a.Account, label: a.Label, current: sum(a.Untagged)})
	}
	for _, b := range r.Budgets {
		write(csvRow{section: "budget", key: b.Team, label: b.Status, current: sum(b.Actual), budget: b.Budget.Format(2),
			forecast: sum(b.Forecast), sharePct: strconv.FormatFloat(b.ActualPct, 'f', 2, 64)})
	}
	if g := r.Gate; g != nil {
		for _, o := range []costgate.Outcome{costgate.OutcomeAllow, costgate.OutcomeWarn, costgate.OutcomeDeny} {
			write(csvRow{section: "gate_decisions", key: string(o), count: strconv.Itoa(g.ByOutcome[o])})
		}
		write(csvRow{section: "gate_cost", key: "blocked", label: "estimated monthly increase denied", current: sum(g.Blocked)})
		write(csvRow{section: "gate_cost", key: "waived", label: "estimated monthly increase let through by a waiver", current: sum(g.Waived)})
		for _, rc := range g.Rules {
			write(csvRow{section: "gate_rule", key: rc.RuleID, count: strconv.Itoa(rc.Count), label: fmt.Sprintf("%d waived", rc.Waived)})
		}
		for _, wv := range g.Expiring {
			label := "expires " + wv.Expires.String() + ": " + wv.Address + " (" + wv.Owner
			if wv.Ticket != "" {
				label += ", " + wv.Ticket
			}
			write(csvRow{section: "waiver_expiring", key: wv.RuleID, label: label + ")"})
		}
		if a := g.Accuracy; a != nil {
			write(csvRow{section: "estimate_accuracy", key: "total", label: "estimate vs actual", current: sum(a.Actual), forecast: sum(a.Estimated),
				count: strconv.Itoa(a.Resources), deltaPct: pctF(a.ErrorPct, !a.Actual.IsZero())})
			write(csvRow{section: "estimate_accuracy", key: "mape", label: "mean absolute error per resource (percent)",
				count: strconv.Itoa(a.Resources), deltaPct: strconv.FormatFloat(a.MAPE, 'f', 2, 64)})
			write(csvRow{section: "estimate_accuracy", key: "seen", label: "resources priced at plan time", count: strconv.Itoa(a.Seen)})
			write(csvRow{section: "estimate_accuracy", key: "not_found", label: "not found in billing", count: strconv.Itoa(a.NotFound)})
			for _, m := range []string{MatchID, MatchAddress, MatchTags} {
				if n := a.ByMatch[m]; n > 0 {
					write(csvRow{section: "estimate_accuracy", key: "match:" + m, label: "found by " + m, count: strconv.Itoa(n)})
				}
			}
			for _, e := range a.Worst {
				write(csvRow{section: "estimate_resource", key: e.Address, current: sum(e.Actual), forecast: e.Estimated.Format(2),
					label:    fmt.Sprintf("%s (by %s); monthly estimate %s", e.ResourceID, e.Match, e.Monthly.Format(2)),
					deltaPct: pctF(e.ErrorPct, !e.Actual.IsZero())})
			}
			for _, e := range a.Missing {
				write(csvRow{section: "estimate_not_found", key: e.Address, forecast: e.Estimated.Format(2),
					label: fmt.Sprintf("%s %s; monthly estimate %s", e.Type, e.Action, e.Monthly.Format(2))})
			}
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
