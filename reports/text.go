package reports

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// table lays out rows in columns; right-aligned columns are marked in
// right.
type table struct {
	right []bool
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(b *bytes.Buffer) {
	widths := make([]int, len(t.right))
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		var line strings.Builder
		line.WriteString("  ")
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if t.right[i] {
				line.WriteString(pad + c)
			} else if i < len(r)-1 {
				line.WriteString(c + pad)
			} else {
				line.WriteString(c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

func heading(b *bytes.Buffer, s string) {
	fmt.Fprintf(b, "\n%s\n%s\n", strings.ToUpper(s), strings.Repeat("-", utf8.RuneCountInString(s)))
}

// renderText renders the plain-text alternative: the same sections as the
// HTML, as aligned columns.
func renderText(r *Report) ([]byte, error) {
	var b bytes.Buffer
	cur := r.currency()
	if cur == "" {
		cur = "mixed currencies"
	}
	fmt.Fprintf(&b, "%s\n%s\n", r.Title(), strings.Repeat("=", utf8.RuneCountInString(r.Title())))
	if r.Open {
		fmt.Fprintf(&b, "Month to date, data through %s. ", r.DataThrough.Format("2006-01-02"))
	} else {
		b.WriteString("The whole month. ")
	}
	fmt.Fprintf(&b, "Amounts in %s, %s.", cur, r.Measure)
	if r.Team != "" {
		fmt.Fprintf(&b, " Line items tagged %s=%s.", r.TeamTag, r.Team)
	}
	b.WriteString("\n\n")

	kt := table{right: []bool{false, true, false}}
	label := "Total"
	if r.Open {
		label = "Month to date"
	}
	kt.add(label, money(r.Total), cur)
	for _, c := range []struct {
		name string
		c    Comparison
	}{{"vs " + r.Previous.Month.String(), r.Previous}, {"vs " + r.YearAgo.Month.String(), r.YearAgo}} {
		name := c.name
		if r.Open {
			name += " (same days)"
		}
		if c.c.Available {
			kt.add(name, pctText(c.c.Pct, c.c.HasPct), fmt.Sprintf("%s from %s", signed(c.c.Delta), money(c.c.Total)))
		} else {
			kt.add(name, "-", "no data")
		}
	}
	if r.Forecast != nil {
		kt.add("Month-end forecast", money(r.Forecast.Total), fmt.Sprintf("%s/day over the last %d days", money(r.Forecast.DailyRate), r.Forecast.RateDays))
	}
	kt.write(&b)

	if len(r.Budgets) > 0 {
		heading(&b, "Budgets")
		t := table{right: []bool{false, true, true, true, true, false}}
		fc := "month end"
		if r.Open {
			fc = "forecast"
		}
		t.add("team", "budget", "actual", fc, "used", "status")
		for _, bl := range r.Budgets {
			t.add(bl.Team, moneyM(bl.Budget), money(bl.Actual), money(bl.Forecast), percentText(bl.ActualPct), bl.Status)
		}
		t.write(&b)
	}
	lines := func(title, name string, ls []Line, n int) {
		heading(&b, title)
		t := table{right: []bool{false, true, true, true, true, true}}
		t.add(name, r.Month.String(), r.Previous.Month.String(), "change", "%", "share")
		for _, l := range ls[:min(n, len(ls))] {
			t.add(l.Label, money(l.Current), money(l.Previous), signed(l.Delta), pctText(l.Pct, l.HasPct), shareText(l.Share))
		}
		if len(ls) == 0 {
			t.add("(no spend)", "", "", "", "", "")
		}
		t.write(&b)
		if len(ls) > n {
			fmt.Fprintf(&b, "  and %d more in report.csv\n", len(ls)-n)
		}
	}
	if r.Team == "" {
		lines("By team", "team", r.ByTeam, 15)
	}
	lines("By service", "service", r.ByService, 12)
	lines("By account", "account / project", r.ByAccount, 12)
	lines("By environment (tag "+r.EnvTag+")", "environment", r.ByEnv, 10)

	heading(&b, "Top movers against "+r.Previous.Month.String())
	for _, m := range []struct {
		title string
		m     Movers
	}{{"services", r.ServiceMovers}, {"resources", r.ResourceMovers}} {
		t := table{right: []bool{false, false, true}}
		for _, l := range m.m.Increases {
			t.add("up", l.Label, signed(l.Delta))
		}
		for _, l := range m.m.Decreases {
			t.add("down", l.Label, signed(l.Delta))
		}
		fmt.Fprintf(&b, "%s:\n", m.title)
		if len(t.rows) == 0 {
			t.add("no change", "", "")
		}
		t.write(&b)
	}

	heading(&b, fmt.Sprintf("The %d most expensive resources", len(r.TopResources)))
	rt := table{right: []bool{false, true, true, false}}
	for _, l := range r.TopResources {
		rt.add(l.Label, money(l.Current), pctText(l.Pct, l.HasPct), l.Detail)
	}
	rt.write(&b)

	heading(&b, "Tag compliance")
	ct := table{right: []bool{false, true, true}}
	ct.add("tag", "untagged spend", "share")
	for _, k := range r.Compliance.Keys {
		ct.add(k.Key, money(k.Untagged), shareText(k.Share))
	}
	ct.write(&b)
	if len(r.Compliance.Largest) > 0 {
		fmt.Fprintf(&b, "Largest resources without a %s tag:\n", r.Compliance.Key)
		t := table{right: []bool{false, true, false}}
		for _, l := range r.Compliance.Largest {
			t.add(l.Label, money(l.Current), l.Detail)
		}
		t.write(&b)
	}
	if len(r.Compliance.ByAccount) > 0 {
		fmt.Fprintf(&b, "Compliance with the %s tag, by account:\n", r.Compliance.Key)
		t := table{right: []bool{false, true, true, true}}
		t.add("account / project", "spend", "untagged", "compliance")
		for _, a := range r.Compliance.ByAccount {
			t.add(a.Label, money(a.Total), money(a.Untagged), percentText(a.Compliance))
		}
		t.write(&b)
	}

	if g := r.Gate; g != nil {
		heading(&b, "Gate activity")
		fmt.Fprintf(&b, "  %d decisions: %d allowed, %d warned, %d denied.\n", g.Decisions, g.ByOutcome["allow"], g.ByOutcome["warn"], g.ByOutcome["deny"])
		fmt.Fprintf(&b, "  Estimated monthly cost increase blocked: %s; let through by a waiver: %s", money(g.Blocked), money(g.Waived))
		if g.Currency != "" {
			fmt.Fprintf(&b, " (%s)", g.Currency)
		}
		b.WriteString(".\n")
		if len(g.Rules) > 0 {
			b.WriteString("Most violated rules:\n")
			t := table{right: []bool{false, true, true}}
			t.add("rule", "findings", "waived")
			for _, rc := range g.Rules {
				t.add(rc.RuleID, fmt.Sprint(rc.Count), fmt.Sprint(rc.Waived))
			}
			t.write(&b)
		}
		if len(g.Expiring) > 0 {
			b.WriteString("Waivers expiring in the next 30 days:\n")
			t := table{right: []bool{false, false, false, false}}
			for _, w := range g.Expiring {
				owner := w.Owner
				if w.Ticket != "" {
					owner += " (" + w.Ticket + ")"
				}
				t.add(w.Expires.String(), w.RuleID, w.Address, owner)
			}
			t.write(&b)
		} else {
			b.WriteString("  No waiver expires in the next 30 days.\n")
		}
		if a := g.Accuracy; a != nil {
			writeAccuracy(&b, a)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	fmt.Fprintf(&b, "\nGenerated %s by costgate", r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if r.Generation != 0 {
		fmt.Fprintf(&b, " from store generation %d", r.Generation)
	}
	b.WriteString(". Amounts are rounded to cents from exact totals; report.csv has every line.\n")
	return b.Bytes(), nil
}

// writeAccuracy writes the estimate-versus-actual part of the gate
// section.
func writeAccuracy(b *bytes.Buffer, a *Accuracy) {
	fmt.Fprintf(b, "Estimate versus actual: %d of %d resources priced at plan time found in billing", a.Resources, a.Seen)
	if a.Resources == 0 {
		b.WriteString(".\n")
	} else {
		fmt.Fprintf(b, " (%s): estimated %s, actual %s (%s); mean absolute error %s.\n",
			a.matchedText(), money(a.Estimated), money(a.Actual), errorText(a.ErrorPct, a.Actual), percentText(a.MAPE))
		t := table{right: []bool{false, false, true, true, true}}
		t.add("resource", "billed as", "estimated", "actual", "error")
		for _, e := range a.Worst {
			t.add(e.Address, e.ResourceID+" ("+e.Match+")", moneyM(e.Estimated), money(e.Actual), errorText(e.ErrorPct, e.Actual))
		}
		t.write(b)
	}
	if a.NotFound > 0 {
		fmt.Fprintf(b, "  Not found in billing: %d (not applied yet, removed, or not matched):\n", a.NotFound)
		t := table{right: []bool{false, false, true}}
		t.add("resource", "action", "monthly estimate")
		for _, e := range a.Missing {
			t.add(e.Address, e.Action, moneyM(e.Monthly))
		}
		t.write(b)
	}
}
