package webhooks

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

// Limits on /v1/check context parameters.
const (
	maxContextParams = 32
	maxContextValue  = 1024
)

var contextKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// checkContentTypes are the formats /v1/check answers in.
var checkContentTypes = map[string]string{
	"json": "application/json", "text": "text/plain; charset=utf-8", "markdown": "text/markdown; charset=utf-8",
	"sarif": "application/sarif+json", "junit": "application/xml", "github": "text/plain; charset=utf-8",
}

// handleCheck answers POST /v1/check: the body is a plan as `terraform
// show -json` wrote it (gzip accepted), the query parameters are
// input.context (team=payments&workspace=prod...) plus format=json|text|
// markdown|sarif|junit|github. The answer is the decision, status 200
// whatever the outcome (the outcome is also in X-Costgate-Decision); 400
// for a bad plan or parameter, 413 for a body over the limit.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := "json"
	dctx := map[string]string{}
	if len(q) > maxContextParams {
		writeError(w, http.StatusBadRequest, "too many query parameters (at most "+strconv.Itoa(maxContextParams)+")")
		return
	}
	for key, vals := range q {
		if len(vals) != 1 {
			writeError(w, http.StatusBadRequest, "query parameter "+strconv.Quote(key)+": give it once")
			return
		}
		v := vals[0]
		if key == "format" {
			if _, ok := checkContentTypes[v]; !ok {
				writeError(w, http.StatusBadRequest, "format "+strconv.Quote(v)+": use json, text, markdown, sarif, junit or github")
				return
			}
			format = v
			continue
		}
		if !contextKeyRE.MatchString(key) {
			writeError(w, http.StatusBadRequest, "context key "+strconv.Quote(truncate(key, 80))+": use lower-case letters, digits, _ . - (at most 64)")
			return
		}
		if len(v) > maxContextValue {
			writeError(w, http.StatusBadRequest, "context "+key+": value longer than "+strconv.Itoa(maxContextValue)+" bytes")
			return
		}
		dctx[key] = v
	}
	data, err := readBody(r, s.maxBody)
	if err != nil {
		s.bodyError(w, err)
		return
	}
	release, err := s.limit.acquire(r.Context(), s.metrics)
	if err != nil {
		if errors.Is(err, errBusy) {
			s.limit.busy(w)
		}
		return // or the client went away
	}
	defer release()
	snap := s.opts.Policies.Current()
	start := time.Now()
	plan, err := gate.ParsePlan(data, "request body")
	if err != nil {
		var ie *gate.InputError
		if errors.As(err, &ie) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeError(w, http.StatusBadRequest, "read plan: "+err.Error())
		return
	}
	in := gate.BuildInput(plan, gate.InputOptions{Context: dctx})
	var estimates []costgate.EstimatedResource
	if snap.PriceInput != nil {
		if estimates, err = snap.PriceInput(r.Context(), in); err != nil {
			s.metrics.decisions.WithLabelValues(SurfaceAPI, "error").Inc()
			writeError(w, http.StatusBadRequest, "estimate plan costs: "+err.Error())
			return
		}
	}
	d, err := snap.Engine.Evaluate(r.Context(), in)
	s.metrics.evalSeconds.WithLabelValues(SurfaceAPI).Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.decisions.WithLabelValues(SurfaceAPI, "error").Inc()
		s.log.Error("evaluate plan", "err", err)
		writeError(w, http.StatusInternalServerError, "evaluate policies: "+err.Error())
		return
	}
	s.recordDecision(r.Context(), SurfaceAPI, dctx, d, priceSnapshotOf(in), estimates)
	fm, err := gate.NewFormatter(format, gate.FormatOptions{})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var buf bytes.Buffer
	if err := fm.Format(&buf, &gate.Report{Decision: d, PlanPath: "plan.json"}); err != nil {
		writeError(w, http.StatusInternalServerError, "render "+format+": "+err.Error())
		return
	}
	w.Header().Set("Content-Type", checkContentTypes[format])
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Costgate-Decision", string(d.Decision))
	w.Header().Set("X-Costgate-Policy-Revision", d.PolicyRevision)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
