package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

// RunTaskOptions configure POST /v1/runtasks/hcp.
type RunTaskOptions struct {
	// HMACKey verifies X-TFC-Task-Signature. Empty disables the endpoint:
	// costgate never accepts unsigned run task requests.
	HMACKey Secret
	// AllowedHosts are the hosts plan_json_api_url and
	// task_result_callback_url may name (e.g. app.terraform.io, a
	// Terraform Enterprise host). Empty allows any host. URLs must be
	// https, except on loopback addresses.
	AllowedHosts []string
	// PassSpeculative reports speculative plans (which can never be
	// applied) as passed, with their findings as outcomes.
	PassSpeculative bool
	// FailOnWarn reports failed on warnings too.
	FailOnWarn bool
	// ProgressInterval is how often a "running" update is sent while the
	// plan is fetched and judged (default 30s).
	ProgressInterval time.Duration
	// Deadline bounds one run task from request to final callback
	// (default 10m, HCP Terraform's own limit).
	Deadline time.Duration
	// CallbackAttempts bounds the tries of each callback (default 6) and
	// of the plan download; RetryBase is the first backoff (default 1s),
	// doubled each time up to RetryMax (default 30s).
	CallbackAttempts    int
	RetryBase, RetryMax time.Duration
	// MaxOutcomes caps the outcomes sent (default 250, the schema's limit).
	MaxOutcomes int
	// Client makes the outbound calls (nil: a client with a 60s timeout).
	Client *http.Client
}

func (o RunTaskOptions) withDefaults() RunTaskOptions {
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 30 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Minute
	}
	if o.CallbackAttempts <= 0 {
		o.CallbackAttempts = 6
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.MaxOutcomes <= 0 || o.MaxOutcomes > 250 {
		o.MaxOutcomes = 250
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 60 * time.Second}
	}
	return o
}

// runTaskRequest is the run task payload (payload_version 1). Unknown
// fields are ignored: HCP Terraform adds fields over time.
type runTaskRequest struct {
	PayloadVersion             int    `json:"payload_version"`
	AccessToken                Secret `json:"access_token"`
	Stage                      string `json:"stage"`
	IsSpeculative              bool   `json:"is_speculative"`
	TaskResultID               string `json:"task_result_id"`
	TaskResultEnforcementLevel string `json:"task_result_enforcement_level"`
	TaskResultCallbackURL      string `json:"task_result_callback_url"`
	RunAppURL                  string `json:"run_app_url"`
	RunID                      string `json:"run_id"`
	RunMessage                 string `json:"run_message"`
	RunCreatedAt               string `json:"run_created_at"`
	RunCreatedBy               string `json:"run_created_by"`
	WorkspaceID                string `json:"workspace_id"`
	WorkspaceName              string `json:"workspace_name"`
	WorkspaceAppURL            string `json:"workspace_app_url"`
	WorkspaceWorkingDirectory  string `json:"workspace_working_directory"`
	OrganizationName           string `json:"organization_name"`
	PlanJSONAPIURL             string `json:"plan_json_api_url"`
	VCSRepoURL                 string `json:"vcs_repo_url"`
	VCSBranch                  string `json:"vcs_branch"`
	VCSPullRequestURL          string `json:"vcs_pull_request_url"`
	VCSCommitURL               string `json:"vcs_commit_url"`
	ConfigurationVersionID     string `json:"configuration_version_id"`
	// Capabilities is documented both as "capabilities" and, in the API
	// reference table, misspelt "capabilitites"; either is honoured.
	Capabilities  *runTaskCapabilities `json:"capabilities"`
	Capabilitites *runTaskCapabilities `json:"capabilitites"`
}

type runTaskCapabilities struct {
	Outcomes bool `json:"outcomes"`
}

// outcomes reports whether the caller accepts detailed outcomes.
func (p *runTaskRequest) outcomes() bool {
	return (p.Capabilities != nil && p.Capabilities.Outcomes) || (p.Capabilitites != nil && p.Capabilitites.Outcomes)
}

// context is input.context for the run's plan.
func (p *runTaskRequest) context() map[string]string {
	c := map[string]string{"ci": "hcp-terraform", "source": "runtask"}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	set("organization", p.OrganizationName)
	set("workspace", p.WorkspaceName)
	set("workspace_id", p.WorkspaceID)
	set("run_id", p.RunID)
	set("run_url", p.RunAppURL)
	set("actor", p.RunCreatedBy)
	set("stage", p.Stage)
	set("enforcement_level", p.TaskResultEnforcementLevel)
	set("repository", p.VCSRepoURL)
	set("branch", p.VCSBranch)
	set("commit", p.VCSCommitURL)
	set("pull_request", p.VCSPullRequestURL)
	set("working_directory", p.WorkspaceWorkingDirectory)
	c["speculative"] = fmt.Sprint(p.IsSpeculative)
	return c
}

// runTaskTestToken is the access token of the call HCP Terraform makes
// when a run task is created or edited, to check the URL answers.
const runTaskTestToken = "test-token"

// maxRunTaskPayload bounds the run task request itself.
const maxRunTaskPayload = 1 << 20

// handleRunTask answers POST /v1/runtasks/hcp: verify the signature,
// answer 200 at once, and judge the plan in the background, reporting
// through the callback URL.
func (s *Server) handleRunTask(w http.ResponseWriter, r *http.Request) {
	o := s.opts.RunTask
	if o.HMACKey == "" {
		writeError(w, http.StatusNotFound, "run tasks are not enabled: set server.runtasks.hmac_key and the same HMAC key on the run task")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRunTaskPayload+1))
	if err != nil {
		s.bodyError(w, classifyReadErr(err))
		return
	}
	if len(body) > maxRunTaskPayload {
		s.bodyError(w, errBodyTooLarge)
		return
	}
	if !validSignature(string(o.HMACKey), body, r.Header.Get("X-TFC-Task-Signature")) {
		s.log.Warn("run task request with a bad or missing X-TFC-Task-Signature", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "bad or missing X-TFC-Task-Signature: the run task's HMAC key must equal server.runtasks.hmac_key")
		return
	}
	var p runTaskRequest
	if err := json.Unmarshal(body, &p); err != nil {
		writeError(w, http.StatusBadRequest, "run task payload: "+jsonErrorText(err))
		return
	}
	if p.PayloadVersion != 1 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("run task payload_version %d: only 1 is supported", p.PayloadVersion))
		return
	}
	if p.AccessToken == runTaskTestToken {
		s.log.Info("run task verification request answered")
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	}
	if err := s.checkRunTaskURL("task_result_callback_url", p.TaskResultCallbackURL, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.checkRunTaskURL("plan_json_api_url", p.PlanJSONAPIURL, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if p.AccessToken == "" {
		writeError(w, http.StatusBadRequest, "run task payload: access_token is empty")
		return
	}
	s.tasks.Add(1)
	s.metrics.runTasksInFlight.Inc()
	go func() {
		defer s.tasks.Done()
		defer s.metrics.runTasksInFlight.Dec()
		s.runTask(&p)
	}()
	writeJSON(w, http.StatusOK, map[string]string{"status": "accepted"})
}

// validSignature checks the hex HMAC-SHA512 of body in constant time.
func validSignature(key string, body []byte, header string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) != sha512.Size {
		return false
	}
	mac := hmac.New(sha512.New, []byte(key))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// SignRunTask returns the X-TFC-Task-Signature of body under key, as HCP
// Terraform computes it (tests and tools that replay payloads use it).
func SignRunTask(key string, body []byte) string {
	mac := hmac.New(sha512.New, []byte(key))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// checkRunTaskURL accepts an absolute https URL on an allowed host (http
// only on loopback).
func (s *Server) checkRunTaskURL(field, raw string, required bool) error {
	if raw == "" {
		if required {
			return fmt.Errorf("run task payload: %s is empty", field)
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("run task payload: %s: not an absolute URL", field)
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(host) {
			return fmt.Errorf("run task payload: %s: must be https", field)
		}
	default:
		return fmt.Errorf("run task payload: %s: must be https", field)
	}
	if len(s.opts.RunTask.AllowedHosts) == 0 {
		return nil
	}
	for _, h := range s.opts.RunTask.AllowedHosts {
		if strings.EqualFold(h, host) || strings.EqualFold(h, u.Host) {
			return nil
		}
	}
	return fmt.Errorf("run task payload: %s: host %q is not in server.runtasks.allowed_hosts", field, host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func jsonErrorText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("%s: expected %s, got %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// runTask judges one run's plan and reports back. It runs in the
// background, bounded by the run task deadline and by Shutdown.
func (s *Server) runTask(p *runTaskRequest) {
	o := s.opts.RunTask
	ctx, cancel := context.WithTimeout(s.bg, o.Deadline)
	defer cancel()
	log := s.log.With("run_id", p.RunID, "task_result_id", p.TaskResultID, "workspace", p.WorkspaceName)
	cb := &callbackClient{s: s, p: p, log: log}

	// Keep HCP Terraform informed while we fetch and judge.
	progressCtx, stopProgress := context.WithCancel(ctx)
	progressDone := make(chan struct{})
	cb.send(ctx, taskResult{Status: "running", Message: "costgate: judging the plan"})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(o.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-progressCtx.Done():
				return
			case <-t.C:
				cb.send(progressCtx, taskResult{Status: "running", Message: "costgate: still judging the plan"})
			}
		}
	}()
	stop := func() { stopProgress(); <-progressDone }

	if p.PlanJSONAPIURL == "" {
		stop()
		cb.send(ctx, taskResult{Status: "passed", Message: fmt.Sprintf("costgate judges plans; there is no plan at stage %s (attach costgate to post_plan or pre_apply)", orNone(p.Stage))})
		return
	}
	d, prices, estimates, err := s.judgeRunTaskPlan(ctx, p)
	stop()
	if err != nil {
		log.Error("run task failed", "err", err)
		s.metrics.decisions.WithLabelValues(SurfaceRunTask, "error").Inc()
		cb.send(ctx, taskResult{Status: "failed", Message: truncate("costgate could not judge the plan: "+err.Error(), 1000), URL: p.RunAppURL})
		return
	}
	s.recordDecision(ctx, SurfaceRunTask, p.context(), d, prices, estimates)
	status, msg := s.runTaskVerdict(p, d)
	if p.outcomes() && len(d.Findings) > 0 {
		// Outcomes go with a running update, as HashiCorp recommends, then
		// the final status follows without them.
		outs, omitted := buildOutcomes(d, o.MaxOutcomes)
		if omitted > 0 {
			msg = truncate(fmt.Sprintf("%s; %d more findings not shown", msg, omitted), 1000)
		}
		cb.send(ctx, taskResult{Status: "running", Message: "costgate: " + fmt.Sprintf("%d findings", len(d.Findings)), URL: p.RunAppURL, Outcomes: outs})
	}
	cb.send(ctx, taskResult{Status: status, Message: msg, URL: p.RunAppURL})
}

// judgeRunTaskPlan downloads and evaluates the run's plan; it also
// returns the price snapshot of the estimate, if any, and the
// per-resource estimates for the decision log.
func (s *Server) judgeRunTaskPlan(ctx context.Context, p *runTaskRequest) (*costgate.Decision, string, []costgate.EstimatedResource, error) {
	data, err := s.fetchPlan(ctx, p)
	if err != nil {
		return nil, "", nil, err
	}
	// A run task waits its turn for as long as its own deadline allows:
	// HCP Terraform has already been told the task is running.
	release, err := s.limit.acquireUntil(ctx, s.metrics)
	if err != nil {
		return nil, "", nil, fmt.Errorf("wait for an evaluation slot: %w", err)
	}
	defer release()
	snap := s.opts.Policies.Current()
	start := time.Now()
	plan, err := gate.ParsePlan(data, "plan of "+orNone(p.RunID))
	if err != nil {
		return nil, "", nil, err
	}
	in := gate.BuildInput(plan, gate.InputOptions{Context: p.context()})
	var estimates []costgate.EstimatedResource
	if snap.PriceInput != nil {
		if estimates, err = snap.PriceInput(ctx, in); err != nil {
			return nil, "", nil, fmt.Errorf("estimate plan costs: %w", err)
		}
	}
	d, err := snap.Engine.Evaluate(ctx, in)
	s.metrics.evalSeconds.WithLabelValues(SurfaceRunTask).Observe(time.Since(start).Seconds())
	return d, priceSnapshotOf(in), estimates, err
}

// runTaskVerdict maps a decision to passed/failed and a message.
func (s *Server) runTaskVerdict(p *runTaskRequest, d *costgate.Decision) (status, msg string) {
	deny, warn, waived := d.Counts()
	status = "passed"
	if deny > 0 || (warn > 0 && s.opts.RunTask.FailOnWarn) {
		status = "failed"
	}
	msg = fmt.Sprintf("costgate: %s (%d deny, %d warn, %d waived)", d.Decision, deny, warn, waived)
	if d.Cost != nil {
		msg += fmt.Sprintf("; monthly cost %s %s", signed(d.Cost.MonthlyDelta), d.Cost.Currency)
	}
	if p.IsSpeculative && s.opts.RunTask.PassSpeculative && status == "failed" {
		status = "passed"
		msg += "; speculative plan: reported, not enforced"
	}
	if strings.EqualFold(p.TaskResultEnforcementLevel, "advisory") && status == "failed" {
		msg += "; advisory: this does not block the run"
	}
	return status, truncate(msg, 1000)
}

func signed(m costgate.Money) string {
	if m > 0 {
		return "+" + m.Format(2)
	}
	return m.Format(2)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
