package gate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/costgate/costgate"
)

func init() {
	registerFormat("github", func(FormatOptions) Formatter { return formatterFunc(writeGitHub) })
}

// writeGitHub writes GitHub Actions workflow commands: an annotation per
// finding (deny: ::error, warn: ::warning, waived: ::notice), placed on
// the resource's file and line when its source is known; then a
// collapsed group listing every finding (the UI shows only the first ten
// annotations of each kind per step) and the summary line.
//
// Messages and addresses are untrusted (a for_each key in a pull request
// becomes part of an address), so annotation data and properties are
// escaped as the Actions toolkit does, and the plain listing is wrapped
// in ::stop-commands:: with a token derived from its own content, so no
// line in it can act as a command.
func writeGitHub(w io.Writer, r *Report) error {
	d, err := reportDecision(r)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, f := range d.Findings {
		cmd := "error"
		switch {
		case f.Waived:
			cmd = "notice"
		case f.Severity != costgate.SeverityDeny:
			cmd = "warning"
		}
		var props []string
		if file, line, ok := sourcePosition(f.Source); ok {
			props = append(props, "file="+escapeGitHubProperty(stripControl(file)), fmt.Sprintf("line=%d", line))
		}
		title := ruleIDOrDefault(f)
		if f.Waived {
			title += " (waived)"
		}
		props = append(props, "title="+escapeGitHubProperty(stripControl(title)))
		msg := f.Message
		if f.Address != "" {
			msg = f.Address + ": " + msg
		}
		if f.Waived {
			msg += "\n" + waiverNote(f.Waiver)
		}
		fmt.Fprintf(&out, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeGitHubData(stripControl(msg)))
	}

	var listing bytes.Buffer
	for _, g := range groupFindingsByAddress(d.Findings) {
		for _, f := range g.findings {
			kind := "deny"
			switch {
			case f.Waived:
				kind = "waived"
			case f.Severity != costgate.SeverityDeny:
				kind = "warn"
			}
			line := fmt.Sprintf("%s %s %s: %s", kind, g.address, ruleIDOrDefault(f), f.Message)
			if f.Source != "" {
				line += " (" + f.Source + ")"
			}
			if f.Waived {
				line += " [" + waiverNote(f.Waiver) + "]"
			}
			listing.WriteString(oneLine(line) + "\n")
		}
	}
	if listing.Len() == 0 {
		listing.WriteString("no findings\n")
	}
	if d.PolicyRevision != "" {
		listing.WriteString("policy revision: " + oneLine(d.PolicyRevision) + "\n")
	}
	if d.InputSHA256 != "" {
		listing.WriteString("input sha256: " + oneLine(d.InputSHA256) + "\n")
	}
	sum := sha256.Sum256(listing.Bytes())
	token := "costgate-" + hex.EncodeToString(sum[:16])

	deny, warn, waived := d.Counts()
	fmt.Fprintf(&out, "::group::costgate: %s\n", escapeGitHubData(pluralize(deny+warn+waived, "finding", "findings")))
	fmt.Fprintf(&out, "::stop-commands::%s\n", token)
	out.Write(listing.Bytes())
	fmt.Fprintf(&out, "::%s::\n", token)
	out.WriteString("::endgroup::\n")
	out.WriteString(oneLine(summaryText(d)) + "\n")
	_, err = w.Write(out.Bytes())
	return err
}

// escapeGitHubData escapes a workflow command's message as
// @actions/core's escapeData does: %, CR and LF.
func escapeGitHubData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeGitHubProperty escapes a workflow command property value as
// @actions/core's escapeProperty does: %, CR, LF, ':' and ','.
func escapeGitHubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// oneLine flattens s to one log line: line breaks become " ⏎ " and other
// control characters are escaped.
func oneLine(s string) string {
	s = strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ⏎ ").Replace(s)
	return stripControl(s)
}
