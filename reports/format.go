package reports

import (
	"fmt"
	"math"
	"strings"

	"github.com/costgate/costgate"
)

// money formats an exact sum to cents with thousands separators:
// "12,345.67", "-0.50".
func money(s costgate.Sum) string { return group(s.Format(2)) }

// moneyM formats Money like money.
func moneyM(m costgate.Money) string { return group(m.Format(2)) }

// signed formats a delta with its sign: "+1,234.56", "-12.00", "0.00".
func signed(s costgate.Sum) string {
	f := money(s)
	if s.Sign() > 0 && f != "0.00" {
		return "+" + f
	}
	return f
}

// group inserts thousands separators into a formatted decimal.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, hasFP := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFP {
		b.WriteByte('.')
		b.WriteString(fp)
	}
	return b.String()
}

// pctText formats a change in percent: "+9.8%", "-100.0%", or "new" when
// there is no base.
func pctText(p float64, ok bool) string {
	if !ok {
		return "new"
	}
	if math.Abs(p) < 0.05 {
		return "0.0%"
	}
	return fmt.Sprintf("%+.1f%%", p)
}

// shareText formats a 0..1 share as a percentage: "31.6%".
func shareText(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// percentText formats a percentage value: "87.5%".
func percentText(f float64) string { return fmt.Sprintf("%.1f%%", f) }

// monthTitle is "October 2026".
func monthTitle(m costgate.Month) string { return fmt.Sprintf("%s %d", m.Month, m.Year) }

// currency is the report's currency code, or "" when mixed or unknown.
func (r *Report) currency() string {
	if len(r.Currencies) == 1 {
		return r.Currencies[0]
	}
	return ""
}

// Scope names the report: "company" or "team:NAME".
func (r *Report) Scope() string {
	if r.Team == "" {
		return "company"
	}
	return "team:" + r.Team
}

// Title is the report's headline: "Cost report October 2026 — team payments".
func (r *Report) Title() string {
	if r.Team == "" {
		return "Cost report " + monthTitle(r.Month)
	}
	return "Cost report " + monthTitle(r.Month) + " — team " + r.Team
}

// Subject is the mail subject: the title and the total against the
// previous month.
func (r *Report) Subject() string {
	s := r.Title() + ": "
	if c := r.currency(); c != "" {
		s += c + " "
	}
	s += money(r.Total)
	if r.Open {
		s += " month to date"
	}
	if r.Previous.Available {
		s += fmt.Sprintf(" (%s vs %s)", pctText(r.Previous.Pct, r.Previous.HasPct), r.Previous.Month)
	}
	return s
}

// errorText formats an estimate's error against its actual: "+12.3%", or
// "n/a" when the actual is zero.
func errorText(p float64, actual costgate.Sum) string {
	if actual.IsZero() {
		return "n/a"
	}
	return pctText(p, true)
}

// matchedText says how the resources found in billing were matched:
// "3 by id, 2 by inventory address".
func (a *Accuracy) matchedText() string {
	var parts []string
	for _, m := range []string{MatchID, MatchAddress, MatchTags} {
		if n := a.ByMatch[m]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d by %s", n, m))
		}
	}
	return strings.Join(parts, ", ")
}

// MatchedText is matchedText for the HTML template.
func (a *Accuracy) MatchedText() string { return a.matchedText() }
