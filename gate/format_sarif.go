package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/costgate/costgate"
)

func init() {
	registerFormat("sarif", func(FormatOptions) Formatter { return formatterFunc(writeSARIF) })
}

const (
	sarifVersion   = "2.1.0"
	sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// costgateURI is tool.driver.informationUri.
	costgateURI = "https://github.com/costgate/costgate"
)

// The SARIF 2.1.0 subset costgate writes; GitHub code scanning reads it.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifMessage       `json:"message"`
	Locations    []sarifLocation    `json:"locations,omitempty"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// writeSARIF writes a SARIF 2.1.0 log with one run: a rule per rule id
// and a result per finding (deny: error, warn: warning, waived: note with
// an external, accepted suppression carrying the waiver). A finding with
// a "file:line" source is located there; a resource address is given as
// a logical location.
func writeSARIF(w io.Writer, r *Report) error {
	d, err := reportDecision(r)
	if err != nil {
		return err
	}
	ruleIndex := map[string]int{}
	var ids []string
	for _, f := range d.Findings {
		id := ruleIDOrDefault(f)
		if _, ok := ruleIndex[id]; !ok {
			ruleIndex[id] = 0
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	rules := make([]sarifRule, len(ids))
	for i, id := range ids {
		ruleIndex[id] = i
		rules[i] = sarifRule{ID: id, ShortDescription: sarifMessage{Text: "costgate policy rule " + id}}
	}
	results := make([]sarifResult, 0, len(d.Findings))
	for _, f := range d.Findings {
		id := ruleIDOrDefault(f)
		res := sarifResult{RuleID: id, RuleIndex: ruleIndex[id], Level: "error", Message: sarifMessage{Text: f.Message}}
		switch {
		case f.Waived:
			res.Level = "note"
			just := waiverNote(f.Waiver)
			if f.Waiver != nil && f.Waiver.Reason != "" {
				just += ": " + f.Waiver.Reason
			}
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: just}}
		case f.Severity != costgate.SeverityDeny:
			res.Level = "warning"
		}
		if res.Message.Text == "" {
			res.Message.Text = id
		}
		var loc sarifLocation
		if file, line, ok := sourcePosition(f.Source); ok {
			loc.PhysicalLocation = &sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLocation{URI: sarifURI(file)},
				Region:           &sarifRegion{StartLine: line},
			}
		}
		if f.Address != "" {
			loc.LogicalLocations = []sarifLogicalLocation{{FullyQualifiedName: f.Address, Kind: "resource"}}
		}
		if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
			res.Locations = []sarifLocation{loc}
		}
		results = append(results, res)
	}
	log := sarifLog{
		Schema:  sarifSchemaURI,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: "costgate", Version: r.Version, InformationURI: costgateURI, Rules: rules,
			}},
			Results: results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// sourcePosition splits a finding's source "dir/main.tf:12" into file and
// line; ok is false unless the source ends in ":N" with N >= 1.
func sourcePosition(src string) (file string, line int, ok bool) {
	i := strings.LastIndexByte(src, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(src[i+1:])
	if err != nil || n < 1 || strings.ContainsAny(src[i+1:], "+-") {
		return "", 0, false
	}
	return src[:i], n, true
}

// sarifURI turns a relative file path into a URI reference: forward
// slashes, percent-encoded where needed ("my dir/a.tf" becomes
// "my%20dir/a.tf").
func sarifURI(file string) string {
	file = strings.ReplaceAll(file, `\`, "/")
	u := url.URL{Path: file}
	return u.EscapedPath()
}
