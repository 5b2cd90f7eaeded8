package costgate

import (
	"fmt"
	"strings"
	"time"
)

// DecisionVersion is the version of the decision JSON schema.
const DecisionVersion = 1

// Severity says whether a finding blocks a change.
type Severity string

// Severities.
const (
	SeverityDeny Severity = "deny"
	SeverityWarn Severity = "warn"
)

// ParseSeverity parses "deny" or "warn" (also "error"/"warning", as some
// policy libraries spell them).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "deny", "error", "violation", "failure":
		return SeverityDeny, nil
	case "warn", "warning":
		return SeverityWarn, nil
	}
	return "", fmt.Errorf("unknown severity %q: use deny or warn", s)
}

// Outcome is the gate's verdict on a change.
type Outcome string

// Outcomes, from best to worst.
const (
	OutcomeAllow Outcome = "allow"
	OutcomeWarn  Outcome = "warn"
	OutcomeDeny  Outcome = "deny"
)

// Finding is one rule's result for one resource (or for the whole change
// when Address is empty).
type Finding struct {
	RuleID   string   `json:"rule_id"`
	Severity Severity `json:"severity"`
	Address  string   `json:"address"`
	Message  string   `json:"message"`
	Source   string   `json:"source"`
	Waived   bool     `json:"waived"`
	Waiver   *Waiver  `json:"waiver,omitempty"`
	// Package is the Rego package that produced the finding.
	Package string `json:"package,omitempty"`
}

// Waiver exempts findings of one rule on matching addresses until it
// expires. Waivers are data (config or a data file), never comments.
type Waiver struct {
	RuleID  string `json:"rule_id"`
	Address string `json:"address"` // glob: * matches within a segment run, ** anything
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Ticket  string `json:"ticket"`
	Expires Date   `json:"expires"`
}

// Active reports whether w still applies on the given day.
func (w Waiver) Active(now time.Time) bool {
	return !now.Truncate(24 * time.Hour).After(w.Expires.Time)
}

// Date is a calendar day, encoded as "2006-01-02".
type Date struct{ time.Time }

// ParseDate parses YYYY-MM-DD (a full RFC 3339 time is accepted too).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return Date{t}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return Date{t.UTC().Truncate(24 * time.Hour)}, nil
	}
	return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// MarshalText encodes d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Summary counts a plan's resource changes by action.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
	Read    int `json:"read"`
	NoOp    int `json:"no-op"`
	Total   int `json:"total"`
}

// CostTotals are a change's estimated monthly totals.
type CostTotals struct {
	Currency      string   `json:"currency"`
	MonthlyBefore Money    `json:"monthly_before"`
	MonthlyAfter  Money    `json:"monthly_after"`
	MonthlyDelta  Money    `json:"monthly_delta"`
	Unpriced      []string `json:"unpriced"`
}

// Decision is the gate's result for one input: the outcome, every finding,
// and what is needed to replay it.
type Decision struct {
	Version        int         `json:"version"`
	Decision       Outcome     `json:"decision"`
	Findings       []Finding   `json:"findings"`
	Summary        Summary     `json:"summary"`
	Cost           *CostTotals `json:"cost,omitempty"`
	PolicyRevision string      `json:"policy_revision"`
	InputSHA256    string      `json:"input_sha256"`
}

// Outcome computes the verdict from unwaived findings.
func Verdict(findings []Finding) Outcome {
	out := OutcomeAllow
	for _, f := range findings {
		if f.Waived {
			continue
		}
		switch f.Severity {
		case SeverityDeny:
			return OutcomeDeny
		case SeverityWarn:
			out = OutcomeWarn
		}
	}
	return out
}

// Counts returns the number of unwaived deny findings, unwaived warn
// findings and waived findings.
func (d *Decision) Counts() (deny, warn, waived int) {
	for _, f := range d.Findings {
		switch {
		case f.Waived:
			waived++
		case f.Severity == SeverityDeny:
			deny++
		default:
			warn++
		}
	}
	return deny, warn, waived
}

// Matches reports whether w covers a finding of ruleID on address. The
// address pattern is a glob: * matches any run of characters (dots and
// brackets included), ? matches one; everything else is literal.
func (w Waiver) Matches(ruleID, address string) bool {
	if w.RuleID != "*" && w.RuleID != ruleID {
		return false
	}
	return globMatch(w.Address, address)
}

func globMatch(pattern, s string) bool {
	// Iterative wildcard matching with single-star backtracking.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
