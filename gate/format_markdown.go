package gate

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/costgate/costgate"
)

func init() {
	registerFormat("markdown", func(FormatOptions) Formatter { return formatterFunc(writeMarkdown) })
}

// markdownMarker starts every comment, so CI can find and update the
// previous costgate comment on a pull request instead of adding another.
const markdownMarker = "<!-- costgate:decision -->"

// markdownMaxRows bounds each table: GitHub rejects comments over 65,536
// characters, and a plan with thousands of findings must still comment.
const markdownMaxRows = 200

// writeMarkdown writes a pull-request comment: a status heading, the
// summary, a table of findings, the waived findings' waivers in a
// collapsed <details>, and the cost when the decision carries one.
func writeMarkdown(w io.Writer, r *Report) error {
	d, err := reportDecision(r)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(markdownMarker + "\n")
	switch o := decisionOutcome(d); o {
	case costgate.OutcomeAllow:
		b.WriteString("## ✅ costgate: allowed\n\n")
	case costgate.OutcomeWarn:
		b.WriteString("## ✅ costgate: allowed with warnings\n\n")
	case costgate.OutcomeDeny:
		b.WriteString("## ❌ costgate: denied\n\n")
	default:
		b.WriteString("## costgate: " + markdownText(string(o)) + "\n\n")
	}
	b.WriteString(markdownText(summaryText(d)) + "\n\n")

	findings := append([]costgate.Finding(nil), d.Findings...)
	sortFindingsBySeverity(findings)
	var waived []costgate.Finding
	if len(findings) == 0 {
		b.WriteString("No findings.\n\n")
	} else {
		b.WriteString("| Rule | Resource | Message | Severity | Waived |\n| --- | --- | --- | --- | --- |\n")
		for i, f := range findings {
			if f.Waived {
				waived = append(waived, f)
			}
			if i >= markdownMaxRows {
				continue
			}
			yes := "no"
			if f.Waived {
				yes = "yes"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", markdownCode(ruleIDOrDefault(f)), markdownResource(f),
				markdownText(shortMessage(f)), markdownText(string(f.Severity)), yes)
		}
		writeMarkdownOmitted(&b, len(findings), 5)
		b.WriteString("\n")
	}
	if len(waived) > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>%s</summary>\n\n", pluralize(len(waived), "waived finding", "waived findings"))
		b.WriteString("| Rule | Resource | Owner | Ticket | Expires | Reason |\n| --- | --- | --- | --- | --- | --- |\n")
		for i, f := range waived {
			if i >= markdownMaxRows {
				break
			}
			var wv costgate.Waiver
			if f.Waiver != nil {
				wv = *f.Waiver
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", markdownCode(ruleIDOrDefault(f)), markdownResource(f),
				markdownText(wv.Owner), markdownText(wv.Ticket), wv.Expires.String(), markdownText(wv.Reason))
		}
		writeMarkdownOmitted(&b, len(waived), 6)
		b.WriteString("\n</details>\n\n")
	}
	if d.Cost != nil {
		writeMarkdownCost(&b, d.Cost)
		writeMarkdownCostDiff(&b, r.Estimate)
	}
	var meta []string
	if d.PolicyRevision != "" {
		meta = append(meta, "policy revision "+markdownCode(d.PolicyRevision))
	}
	if d.InputSHA256 != "" {
		meta = append(meta, "input sha256 "+markdownCode(d.InputSHA256))
	}
	if len(meta) > 0 {
		b.WriteString("<sub>" + strings.Join(meta, " · ") + "</sub>\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// writeMarkdownCost renders the Cost section: the monthly totals before
// and after the change, the delta, and the resources without a price.
// It is the hook for the per-resource cost diff to come.
func writeMarkdownCost(b *strings.Builder, c *costgate.CostTotals) {
	cur := markdownText(c.Currency)
	b.WriteString("### Cost\n\n")
	fmt.Fprintf(b, "| Monthly | %s |\n| --- | ---: |\n", cur)
	fmt.Fprintf(b, "| Before | %s |\n| After | %s |\n| Delta | %s |\n\n",
		c.MonthlyBefore.Format(2), c.MonthlyAfter.Format(2), signedMoney(c.MonthlyDelta))
	if len(c.Unpriced) == 0 {
		return
	}
	fmt.Fprintf(b, "<details>\n<summary>%s without a known price</summary>\n\n",
		pluralize(len(c.Unpriced), "resource", "resources"))
	for i, a := range c.Unpriced {
		if i >= markdownMaxRows {
			fmt.Fprintf(b, "- … %d more\n", len(c.Unpriced)-i)
			break
		}
		b.WriteString("- " + markdownCode(a) + "\n")
	}
	b.WriteString("\n</details>\n\n")
}

// writeMarkdownCostDiff renders the per-resource cost diff: every priced
// resource whose monthly cost changes, largest change first.
func writeMarkdownCostDiff(b *strings.Builder, est *costgate.PlanEstimate) {
	if est == nil {
		return
	}
	var rows []costgate.ResourceEstimate
	for _, re := range est.Resources {
		if re.Priced && re.MonthlyDelta != nil && *re.MonthlyDelta != 0 {
			rows = append(rows, re)
		}
	}
	if len(rows) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := *rows[i].MonthlyDelta, *rows[j].MonthlyDelta
		if a < 0 {
			a = -a
		}
		if b < 0 {
			b = -b
		}
		return a > b
	})
	fmt.Fprintf(b, "<details>\n<summary>Cost by resource (%s)</summary>\n\n", pluralize(len(rows), "change", "changes"))
	b.WriteString("| Resource | Before | After | Delta |\n| --- | ---: | ---: | ---: |\n")
	for i, re := range rows {
		if i >= markdownMaxRows {
			break
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", markdownCode(re.Address), optMoney(re.MonthlyBefore), optMoney(re.MonthlyAfter), signedMoney(*re.MonthlyDelta))
	}
	writeMarkdownOmitted(b, len(rows), 4)
	if est.PriceSnapshot != "" {
		fmt.Fprintf(b, "\nPrices: %s", markdownCode(est.PriceSnapshot))
		if est.Calibration != "" {
			fmt.Fprintf(b, ", calibrated to the bill (%s)", markdownText(est.Calibration))
		}
		b.WriteString(".\n")
	}
	b.WriteString("\n</details>\n\n")
}

func optMoney(m *costgate.Money) string {
	if m == nil {
		return "—"
	}
	return m.Format(2)
}

// writeMarkdownOmitted adds a row saying how many rows were left out.
func writeMarkdownOmitted(b *strings.Builder, n, cols int) {
	if n <= markdownMaxRows {
		return
	}
	fmt.Fprintf(b, "| … %d more not shown%s |\n", n-markdownMaxRows, strings.Repeat(" |", cols-1))
}

// markdownResource is a finding's table cell for its resource and source.
func markdownResource(f costgate.Finding) string {
	s := planGroup
	if f.Address != "" {
		s = markdownCode(f.Address)
	}
	if f.Source != "" {
		s += " (" + markdownCode(f.Source) + ")"
	}
	return s
}

// markdownText escapes untrusted text for a GitHub-flavoured Markdown
// table cell or paragraph: HTML is shown, not rendered; pipes do not
// split cells; emphasis, links and code characters are literal; line
// breaks become <br>.
func markdownText(s string) string { return markdownEscaper.Replace(stripControl(s)) }

var markdownEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`,
	"\n", "<br>")

// markdownCode shows s as inline code when it can be (addresses, rule
// ids); text with backticks or line breaks falls back to markdownText.
func markdownCode(s string) string {
	if s == "" || strings.ContainsAny(s, "`\n\r") || strings.TrimSpace(s) != s {
		return markdownText(s)
	}
	return "`" + strings.ReplaceAll(stripControl(s), "|", `\|`) + "`"
}
