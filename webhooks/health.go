package webhooks

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz answers 200 while the process serves.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type readyCheckResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// handleReadyz answers 200 when the policies are compiled (and the last
// reload was accepted) and every ReadyCheck passes, else 503; the body
// lists each check.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	snap := s.opts.Policies.Current()
	pol := readyCheckResult{Name: "policies", OK: snap != nil && snap.Engine != nil}
	if err := s.opts.Policies.Err(); err != nil {
		pol.OK, pol.Error = false, err.Error()
	}
	checks := []readyCheckResult{pol}
	for _, c := range s.opts.ReadyChecks {
		res := readyCheckResult{Name: c.Name, OK: true}
		if err := c.Check(ctx); err != nil {
			res.OK, res.Error = false, err.Error()
		}
		checks = append(checks, res)
	}
	status, code := "ready", http.StatusOK
	for _, c := range checks {
		if !c.OK {
			status, code = "not ready", http.StatusServiceUnavailable
		}
	}
	body := map[string]any{"status": status, "checks": checks}
	if snap != nil && snap.Engine != nil {
		body["policy_revision"] = snap.Engine.Revision()
		body["policies_loaded_at"] = snap.LoadedAt.UTC().Format(time.RFC3339)
	}
	for _, in := range s.opts.ReadyInfo {
		if _, taken := body[in.Name]; !taken {
			body[in.Name] = in.Value()
		}
	}
	writeJSON(w, code, body)
}
