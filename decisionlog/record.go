package decisionlog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// Surfaces: where a decision was made.
const (
	SurfaceCLI       = "cli"
	SurfaceAPI       = "api"
	SurfaceRunTask   = "runtask"
	SurfaceAdmission = "admission"
)

// Surfaces lists the known surfaces, for flag help and validation.
func Surfaces() []string {
	return []string{SurfaceCLI, SurfaceAPI, SurfaceRunTask, SurfaceAdmission}
}

// Record is one logged decision.
type Record struct {
	// ID is assigned by the log on Append.
	ID int64 `json:"id"`
	// Time is when the decision was made (UTC).
	Time time.Time `json:"time"`
	// Surface is cli, api, runtask or admission.
	Surface string `json:"surface"`
	// Context is input.context: who and where (team, workspace, run id,
	// namespace, user, ...).
	Context map[string]string `json:"context"`
	// Team is Context["team"], kept apart for filtering.
	Team string `json:"team"`
	// InputSHA256 is the hex digest of the judged input.
	InputSHA256 string `json:"input_sha256"`
	// PolicyRevision identifies the policy set and its data.
	PolicyRevision string `json:"policy_revision"`
	// PriceSnapshot identifies the prices used for cost estimates ("" when
	// none were used).
	PriceSnapshot string `json:"price_snapshot"`
	// Decision is allow, warn or deny.
	Decision costgate.Outcome `json:"decision"`
	// Findings are every finding, waived ones included.
	Findings []costgate.Finding `json:"findings"`
	// WaiversUsed are the distinct waivers that covered a finding.
	WaiversUsed []costgate.Waiver `json:"waivers_used"`
	// Cost is the estimate's totals, when there was one.
	Cost *costgate.CostTotals `json:"cost,omitempty"`
	// Resources are the per-resource monthly estimates of a priced plan,
	// with what identifies each resource for a later match with billing
	// (kept in costgate_decision_resources). Query fills them only when
	// Filter.Resources is set.
	Resources []costgate.EstimatedResource `json:"resources,omitempty"`
}

// NewRecord builds the record of decision d made at now on surface.
// The context map is copied.
func NewRecord(now time.Time, surface string, context map[string]string, d *costgate.Decision) Record {
	r := Record{
		Time:           now.UTC().Truncate(time.Microsecond), // PostgreSQL keeps microseconds
		Surface:        surface,
		Context:        make(map[string]string, len(context)),
		InputSHA256:    d.InputSHA256,
		PolicyRevision: d.PolicyRevision,
		Decision:       d.Decision,
		Findings:       d.Findings,
		Cost:           d.Cost,
	}
	for k, v := range context {
		r.Context[k] = v
	}
	r.Team = r.Context["team"]
	if r.Findings == nil {
		r.Findings = []costgate.Finding{}
	}
	r.WaiversUsed = WaiversUsed(d.Findings)
	return r
}

// WaiversUsed returns the distinct waivers that covered a finding, in
// order of first use.
func WaiversUsed(findings []costgate.Finding) []costgate.Waiver {
	out := []costgate.Waiver{}
	for _, f := range findings {
		if !f.Waived || f.Waiver == nil {
			continue
		}
		if !slices.Contains(out, *f.Waiver) {
			out = append(out, *f.Waiver)
		}
	}
	return out
}

// Rules returns the distinct rule ids of r's findings, sorted.
func (r *Record) Rules() []string {
	var ids []string
	for _, f := range r.Findings {
		if f.RuleID != "" && !slices.Contains(ids, f.RuleID) {
			ids = append(ids, f.RuleID)
		}
	}
	slices.Sort(ids)
	return ids
}

// Filter selects records; zero fields do not filter. Records are
// returned newest first.
type Filter struct {
	// Since and Until bound Time: Since <= Time < Until.
	Since, Until time.Time
	Decision     costgate.Outcome
	Surface      string
	Team         string
	// Rule keeps records with at least one finding of this rule_id.
	Rule string
	// Limit caps the number of records (0: DefaultLimit; at most
	// MaxLimit).
	Limit int
	// Resources also reads each record's per-resource estimates (a plan
	// may have thousands, so they are left out unless asked for).
	Resources bool
}

// Limits on Query.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// ErrClosed is returned by a Log used after Close.
var ErrClosed = errors.New("decision log is closed")

// Validate checks f's enumerated fields.
func (f Filter) Validate() error {
	switch f.Decision {
	case "", costgate.OutcomeAllow, costgate.OutcomeWarn, costgate.OutcomeDeny:
	default:
		return errors.New("decision: use allow, warn or deny")
	}
	if f.Surface != "" && !slices.Contains(Surfaces(), f.Surface) {
		return errors.New("surface: use one of " + strings.Join(Surfaces(), ", "))
	}
	if f.Limit < 0 {
		return errors.New("limit: must not be negative")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return errors.New("until must be after since")
	}
	return nil
}

func (f Filter) limit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// Log stores decisions. Implementations are safe for concurrent use.
type Log interface {
	// Append stores r and returns its ID.
	Append(ctx context.Context, r Record) (int64, error)
	// Query returns the records matching f, newest first.
	Query(ctx context.Context, f Filter) ([]Record, error)
	// Ping checks that the log is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Driver names the backend: "sqlite" or "postgres".
	Driver() string
	Close() error
}
