package gate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/costgate/costgate"
)

func init() {
	registerFormat("text", func(o FormatOptions) Formatter {
		return formatterFunc(func(w io.Writer, r *Report) error { return writeText(w, r, o.Color) })
	})
}

// planGroup is the heading of findings that name no resource.
const planGroup = "(plan)"

// ANSI SGR sequences for the text format.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// writeText renders a decision for people: findings grouped by resource,
// then one summary line.
func writeText(w io.Writer, r *Report, color bool) error {
	d, err := reportDecision(r)
	if err != nil {
		return err
	}
	paint := func(code, s string) string {
		if !color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	bw := bufio.NewWriter(w)
	groups := groupFindingsByAddress(d.Findings)
	if len(groups) == 0 {
		fmt.Fprintln(bw, "No findings.")
	}
	for _, g := range groups {
		fmt.Fprintln(bw, paint(ansiBold, oneLine(g.address)))
		for _, f := range g.findings {
			marker, code := "DENY  ", ansiRed
			switch {
			case f.Waived:
				marker, code = "WAIVED", ansiDim
			case f.Severity != costgate.SeverityDeny:
				marker, code = "WARN  ", ansiYellow
			}
			var b strings.Builder
			b.WriteString("  " + paint(code, marker) + " " + paint(ansiBold, oneLine(ruleIDOrDefault(f))) + "  ")
			b.WriteString(strings.ReplaceAll(stripControl(shortMessage(f)), "\n", "\n"+strings.Repeat(" ", 10)))
			if f.Source != "" {
				b.WriteString(paint(ansiDim, " ("+oneLine(f.Source)+")"))
			}
			if f.Waived {
				b.WriteString(paint(ansiDim, " ["+oneLine(waiverNote(f.Waiver))+"]"))
			}
			fmt.Fprintln(bw, b.String())
		}
		fmt.Fprintln(bw)
	}
	if c := d.Cost; c != nil {
		line := fmt.Sprintf("cost: %s → %s %s/month (%s)", c.MonthlyBefore.Format(2), c.MonthlyAfter.Format(2),
			stripControl(c.Currency), signedMoney(c.MonthlyDelta))
		if n := len(c.Unpriced); n > 0 {
			line += fmt.Sprintf(", %s unpriced", pluralize(n, "resource", "resources"))
		}
		fmt.Fprintln(bw, line)
	}
	outcome := decisionOutcome(d)
	code := ansiGreen
	switch outcome {
	case costgate.OutcomeDeny:
		code = ansiRed
	case costgate.OutcomeWarn:
		code = ansiYellow
	}
	head, rest, _ := strings.Cut(summaryText(d), ":")
	fmt.Fprintln(bw, paint(ansiBold+code, head)+":"+rest)
	return bw.Flush()
}

// reportDecision returns r's decision with its defaults filled in: the
// version, the outcome computed from the findings when unset, and
// non-nil slices. It never modifies r.
func reportDecision(r *Report) (*costgate.Decision, error) {
	if r == nil || r.Decision == nil {
		return nil, errors.New("format decision: no decision")
	}
	d := *r.Decision
	if d.Version == 0 {
		d.Version = costgate.DecisionVersion
	}
	if d.Decision == "" {
		d.Decision = costgate.Verdict(d.Findings)
	}
	if d.Findings == nil {
		d.Findings = []costgate.Finding{}
	}
	if d.Cost != nil && d.Cost.Unpriced == nil {
		c := *d.Cost
		c.Unpriced = []string{}
		d.Cost = &c
	}
	return &d, nil
}

// decisionOutcome is the decision's outcome, computed when unset.
func decisionOutcome(d *costgate.Decision) costgate.Outcome {
	if d.Decision != "" {
		return d.Decision
	}
	return costgate.Verdict(d.Findings)
}

// summaryText is the one-line summary every format ends with, e.g.
// "deny: 3 denied, 1 warning, 2 waived — 12 resources changed (5 create, 7 update)".
func summaryText(d *costgate.Decision) string {
	deny, warn, waived := d.Counts()
	return fmt.Sprintf("%s: %d denied, %s, %d waived — %s", stripControl(string(decisionOutcome(d))),
		deny, pluralize(warn, "warning", "warnings"), waived, changeText(d.Summary))
}

// changeText describes a plan's changed resources by action.
func changeText(s costgate.Summary) string {
	n := s.Create + s.Update + s.Replace + s.Delete
	if n == 0 {
		return "no resources changed"
	}
	var parts []string
	for _, a := range []struct {
		n    int
		verb string
	}{{s.Create, "create"}, {s.Update, "update"}, {s.Replace, "replace"}, {s.Delete, "delete"}} {
		if a.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", a.n, a.verb))
		}
	}
	return fmt.Sprintf("%s changed (%s)", pluralize(n, "resource", "resources"), strings.Join(parts, ", "))
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// signedMoney formats m in cents with an explicit sign for increases.
func signedMoney(m costgate.Money) string {
	if m > 0 {
		return "+" + m.Format(2)
	}
	return m.Format(2)
}

// ruleIDOrDefault names the rule of f for formats that need a non-empty
// rule id: the rule id, else the Rego package, else "policy".
func ruleIDOrDefault(f costgate.Finding) string {
	switch {
	case f.RuleID != "":
		return f.RuleID
	case f.Package != "":
		return f.Package
	}
	return "policy"
}

// waiverNote describes the waiver of a waived finding:
// "waived by alice (FIN-12) until 2026-12-31".
func waiverNote(w *costgate.Waiver) string {
	if w == nil {
		return "waived"
	}
	s := "waived"
	if w.Owner != "" {
		s += " by " + w.Owner
	}
	if w.Ticket != "" {
		s += " (" + w.Ticket + ")"
	}
	if e := w.Expires.String(); e != "" {
		s += " until " + e
	}
	return s
}

// findingGroup is the findings about one resource address.
type findingGroup struct {
	address  string
	findings []costgate.Finding
}

// groupFindingsByAddress groups findings by address ("(plan)" first,
// then addresses in order), each group ordered deny, warn, waived.
func groupFindingsByAddress(findings []costgate.Finding) []findingGroup {
	idx := map[string]int{}
	var groups []findingGroup
	for _, f := range findings {
		a := f.Address
		if a == "" {
			a = planGroup
		}
		i, ok := idx[a]
		if !ok {
			i = len(groups)
			idx[a] = i
			groups = append(groups, findingGroup{address: a})
		}
		groups[i].findings = append(groups[i].findings, f)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if (groups[i].address == planGroup) != (groups[j].address == planGroup) {
			return groups[i].address == planGroup
		}
		return groups[i].address < groups[j].address
	})
	for _, g := range groups {
		sortFindingsBySeverity(g.findings)
	}
	return groups
}

// sortFindingsBySeverity orders findings deny, warn, waived, keeping the
// order within each class.
func sortFindingsBySeverity(fs []costgate.Finding) {
	rank := func(f costgate.Finding) int {
		switch {
		case f.Waived:
			return 2
		case f.Severity == costgate.SeverityDeny:
			return 0
		}
		return 1
	}
	sort.SliceStable(fs, func(i, j int) bool { return rank(fs[i]) < rank(fs[j]) })
}

// stripControl makes untrusted text safe for a terminal or a log: control
// characters other than newline and tab (ANSI escapes, carriage returns,
// bidi overrides) are shown escaped instead of acting; "\r\n" becomes "\n".
func stripControl(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	clean := true
	for _, r := range s {
		if isUnsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isUnsafeRune(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isUnsafeRune(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}
