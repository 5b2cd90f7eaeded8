package webhooks

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

// Surfaces recorded in the decision log.
const (
	SurfaceAPI       = "api"
	SurfaceRunTask   = "runtask"
	SurfaceAdmission = "admission"
)

// DecisionRecord is one logged decision. Its fields match
// decisionlog.Record one for one (cmd/costgate converts between them), so
// that this package needs no import of the log's drivers.
type DecisionRecord struct {
	ID             int64                `json:"id"`
	Time           time.Time            `json:"time"`
	Surface        string               `json:"surface"`
	Context        map[string]string    `json:"context"`
	Team           string               `json:"team"`
	InputSHA256    string               `json:"input_sha256"`
	PolicyRevision string               `json:"policy_revision"`
	PriceSnapshot  string               `json:"price_snapshot"`
	Decision       costgate.Outcome     `json:"decision"`
	Findings       []costgate.Finding   `json:"findings"`
	WaiversUsed    []costgate.Waiver    `json:"waivers_used"`
	Cost           *costgate.CostTotals `json:"cost,omitempty"`
	// Resources are the per-resource estimates of a priced plan; the
	// log reads them back only when DecisionFilter.Resources is set.
	Resources []costgate.EstimatedResource `json:"resources,omitempty"`
}

// DecisionFilter matches decisionlog.Filter one for one.
type DecisionFilter struct {
	Since, Until time.Time
	Decision     costgate.Outcome
	Surface      string
	Team         string
	Rule         string
	Limit        int
	Resources    bool
}

// DecisionLog is what the server needs of the decision log.
type DecisionLog interface {
	Append(ctx context.Context, r DecisionRecord) (int64, error)
	Query(ctx context.Context, f DecisionFilter) ([]DecisionRecord, error)
}

func newDecisionRecord(now time.Time, surface string, dctx map[string]string, d *costgate.Decision, resources []costgate.EstimatedResource) DecisionRecord {
	r := DecisionRecord{
		Time: now.UTC(), Surface: surface, Context: map[string]string{},
		InputSHA256: d.InputSHA256, PolicyRevision: d.PolicyRevision, Decision: d.Decision,
		Findings: d.Findings, WaiversUsed: []costgate.Waiver{}, Cost: d.Cost, Resources: resources,
	}
	for k, v := range dctx {
		r.Context[k] = v
	}
	r.Team = r.Context["team"]
	for _, f := range d.Findings {
		if f.Waived && f.Waiver != nil && !containsWaiver(r.WaiversUsed, *f.Waiver) {
			r.WaiversUsed = append(r.WaiversUsed, *f.Waiver)
		}
	}
	return r
}

func containsWaiver(ws []costgate.Waiver, w costgate.Waiver) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// ParseSince reads a time bound: RFC 3339, a date (YYYY-MM-DD, UTC
// midnight) or a duration before now ("24h", "90m", "7d").
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, &paramError{msg: "time " + strconv.Quote(s) + ": use RFC 3339 (2026-10-01T00:00:00Z), a date (2026-10-01) or a duration ago (24h, 7d)"}
}

type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// handleDecisions answers GET /v1/decisions?since=&until=&decision=&surface=&team=&rule=&limit=&resources=.
func (s *Server) handleDecisions(w http.ResponseWriter, r *http.Request) {
	if s.opts.DecisionLog == nil {
		writeError(w, http.StatusNotImplemented, "no decision log is configured (decision_log.dsn)")
		return
	}
	q := r.URL.Query()
	var f DecisionFilter
	now := s.now()
	for key, vals := range q {
		if len(vals) != 1 {
			writeError(w, http.StatusBadRequest, "query parameter "+key+": give it once")
			return
		}
		v := vals[0]
		var err error
		switch key {
		case "since":
			f.Since, err = ParseSince(v, now)
		case "until":
			f.Until, err = ParseSince(v, now)
		case "decision":
			switch costgate.Outcome(v) {
			case costgate.OutcomeAllow, costgate.OutcomeWarn, costgate.OutcomeDeny:
				f.Decision = costgate.Outcome(v)
			default:
				err = &paramError{"decision: use allow, warn or deny"}
			}
		case "surface":
			switch v {
			case "cli", SurfaceAPI, SurfaceRunTask, SurfaceAdmission:
				f.Surface = v
			default:
				err = &paramError{"surface: use cli, api, runtask or admission"}
			}
		case "team":
			f.Team = v
		case "rule":
			f.Rule = v
		case "limit":
			f.Limit, err = strconv.Atoi(v)
			if err != nil || f.Limit < 0 {
				err = &paramError{"limit: a non-negative integer"}
			}
		case "resources":
			f.Resources, err = strconv.ParseBool(v)
			if err != nil {
				err = &paramError{"resources: true or false"}
			}
		default:
			err = &paramError{"unknown query parameter " + strconv.Quote(key) + " (use since, until, decision, surface, team, rule, limit, resources)"}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	recs, err := s.opts.DecisionLog.Query(r.Context(), f)
	if err != nil {
		s.log.Error("query decision log", "err", err)
		writeError(w, http.StatusInternalServerError, "query decision log failed (logged)")
		return
	}
	if recs == nil {
		recs = []DecisionRecord{}
	}
	writeJSON(w, http.StatusOK, struct {
		Decisions []DecisionRecord `json:"decisions"`
	}{recs})
}

// priceSnapshotOf names the prices of in's estimate, "" without one.
func priceSnapshotOf(in *gate.Input) string {
	if in == nil || in.Estimate == nil {
		return ""
	}
	return in.Estimate.PriceSnapshot
}
