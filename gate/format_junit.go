package gate

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/costgate/costgate"
)

func init() {
	registerFormat("junit", func(FormatOptions) Formatter { return formatterFunc(writeJUnit) })
}

// The JUnit XML subset that CI test tabs (GitLab's junit report, Jenkins,
// Azure Pipelines) read.
type junitTestsuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestsuite `xml:"testsuite"`
}

type junitTestsuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitTestcase `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is character data written as is; see junitEscape.
type junitText struct {
	Text string `xml:",innerxml"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",innerxml"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// writeJUnit writes one testsuite "costgate" with a testcase per finding:
// a failure for a deny, a passing case with the message in system-out for
// a warning, a skipped case for a waived finding, and one passing case
// when there are no findings. The case's classname is the resource
// address, its name the rule id.
func writeJUnit(w io.Writer, r *Report) error {
	d, err := reportDecision(r)
	if err != nil {
		return err
	}
	suite := junitTestsuite{Name: "costgate", Time: "0"}
	for _, p := range [][2]string{
		{"decision", string(decisionOutcome(d))},
		{"policy_revision", d.PolicyRevision},
		{"input_sha256", d.InputSHA256},
		{"plan", r.PlanPath},
	} {
		if p[1] != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: p[0], Value: stripControl(p[1])})
		}
	}
	for _, f := range d.Findings {
		// XML cannot carry most control characters; show them escaped.
		tc := junitTestcase{Name: stripControl(ruleIDOrDefault(f)), Classname: stripControl(f.Address), Time: "0"}
		if tc.Classname == "" {
			tc.Classname = planGroup
		}
		if file, _, ok := sourcePosition(f.Source); ok {
			tc.File = stripControl(file)
		}
		details := junitDetails(f)
		switch {
		case f.Waived:
			tc.Skipped = &junitSkipped{Message: stripControl(waiverNote(f.Waiver))}
			tc.SystemOut = &junitText{details}
			suite.Skipped++
		case f.Severity == costgate.SeverityDeny:
			tc.Failure = &junitFailure{Message: stripControl(firstLine(f.Message)), Type: string(f.Severity), Text: details}
			suite.Failures++
		default:
			tc.SystemOut = &junitText{"warning: " + details}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if len(suite.Cases) == 0 {
		suite.Cases = append(suite.Cases, junitTestcase{Name: "no findings", Classname: "costgate", Time: "0"})
	}
	suite.Tests = len(suite.Cases)
	doc := junitTestsuites{
		Name: "costgate", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Time: "0", Suites: []junitTestsuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// junitDetails is the body of a finding's failure or system-out.
func junitDetails(f costgate.Finding) string {
	var b strings.Builder
	b.WriteString(f.Message)
	b.WriteString("\n\nrule: " + ruleIDOrDefault(f))
	if f.Address != "" {
		b.WriteString("\nresource: " + f.Address)
	}
	if f.Source != "" {
		b.WriteString("\nsource: " + f.Source)
	}
	if f.Waived {
		b.WriteString("\n" + waiverNote(f.Waiver))
		if f.Waiver != nil && f.Waiver.Reason != "" {
			b.WriteString(": " + f.Waiver.Reason)
		}
	}
	return junitEscape(b.String())
}

// junitEscape escapes s as XML character data, keeping line breaks
// literal (encoding/xml writes them as &#xA;, unreadable in the file) and
// replacing what XML 1.0 cannot carry: control characters are shown
// escaped, invalid UTF-8 and U+FFFE/U+FFFF become U+FFFD.
func junitEscape(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == 0xFFFE || r == 0xFFFF {
			return unicode.ReplacementChar
		}
		return r
	}, strings.ToValidUTF8(stripControl(s), string(unicode.ReplacementChar)))
	return junitEscaper.Replace(s)
}

var junitEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// firstLine is s up to its first line break.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
