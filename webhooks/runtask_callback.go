package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// jsonAPIType is the media type of run task callbacks.
const jsonAPIType = "application/vnd.api+json"

// taskResult is one callback: a status update, maybe with outcomes.
type taskResult struct {
	Status   string // running, passed or failed
	Message  string
	URL      string
	Outcomes []outcome
}

// outcome is one task-result-outcomes entry.
type outcome struct {
	OutcomeID   string             `json:"outcome-id"`
	Description string             `json:"description"`
	Body        string             `json:"body,omitempty"`
	URL         string             `json:"url,omitempty"`
	Tags        map[string][]label `json:"tags,omitempty"`
}

// label is a rich label: level is none, info, warning or error.
type label struct {
	Label string `json:"label"`
	Level string `json:"level,omitempty"`
}

// MarshalJSON writes the JSON:API document HCP Terraform expects.
func (t taskResult) MarshalJSON() ([]byte, error) {
	type attrs struct {
		Status  string `json:"status"`
		Message string `json:"message,omitempty"`
		URL     string `json:"url,omitempty"`
	}
	type res struct {
		Type       string  `json:"type"`
		Attributes outcome `json:"attributes"`
	}
	type data struct {
		Type          string `json:"type"`
		Attributes    attrs  `json:"attributes"`
		Relationships *struct {
			Outcomes struct {
				Data []res `json:"data"`
			} `json:"outcomes"`
		} `json:"relationships,omitempty"`
	}
	d := data{Type: "task-results", Attributes: attrs{Status: t.Status, Message: t.Message, URL: t.URL}}
	if len(t.Outcomes) > 0 {
		d.Relationships = &struct {
			Outcomes struct {
				Data []res `json:"data"`
			} `json:"outcomes"`
		}{}
		for _, o := range t.Outcomes {
			d.Relationships.Outcomes.Data = append(d.Relationships.Outcomes.Data, res{Type: "task-result-outcomes", Attributes: o})
		}
	}
	return json.Marshal(struct {
		Data data `json:"data"`
	}{d})
}

// buildOutcomes turns findings into outcomes (at most max) and says how
// many were left out.
func buildOutcomes(d *costgate.Decision, max int) ([]outcome, int) {
	var out []outcome
	for _, f := range d.Findings {
		if len(out) == max {
			return out, len(d.Findings) - max
		}
		out = append(out, findingOutcome(f, d))
	}
	return out, 0
}

func findingOutcome(f costgate.Finding, d *costgate.Decision) outcome {
	status, statusLevel := "Failed", "error"
	sev, sevLevel := "High", "error"
	if f.Severity == costgate.SeverityWarn {
		status, statusLevel = "Warning", "warning"
		sev, sevLevel = "Medium", "warning"
	}
	if f.Waived {
		status, statusLevel = "Waived", "info"
	}
	tags := map[string][]label{
		"Status":   {{Label: status, Level: statusLevel}},
		"Severity": {{Label: sev, Level: sevLevel}, {Label: truncate(string(f.Severity), 32), Level: "info"}},
	}
	if d.Cost != nil {
		tags["Cost"] = []label{{Label: truncate(signed(d.Cost.MonthlyDelta)+" "+d.Cost.Currency+"/mo", 32)}}
	}
	desc := firstLineOf(f.Message)
	if desc == "" {
		desc = f.RuleID
	}
	return outcome{
		OutcomeID:   truncate(f.RuleID, 64),
		Description: truncate(desc, 1000),
		Body:        truncate(outcomeBody(f), 10000),
		Tags:        tags,
	}
}

// outcomeBody is the Markdown shown when an outcome is opened.
func outcomeBody(f costgate.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", mdEscape(f.RuleID))
	b.WriteString(mdEscape(f.Message))
	b.WriteString("\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Rule | `%s` |\n", mdCode(f.RuleID))
	fmt.Fprintf(&b, "| Severity | %s |\n", f.Severity)
	if f.Address != "" {
		fmt.Fprintf(&b, "| Resource | `%s` |\n", mdCode(f.Address))
	}
	if f.Source != "" {
		fmt.Fprintf(&b, "| Source | `%s` |\n", mdCode(f.Source))
	}
	if f.Waived && f.Waiver != nil {
		fmt.Fprintf(&b, "| Waived | %s (owner %s, expires %s) |\n", mdEscape(f.Waiver.Reason), mdEscape(f.Waiver.Owner), f.Waiver.Expires)
	}
	return b.String()
}

var mdEscaper = strings.NewReplacer("\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")

func mdEscape(s string) string { return mdEscaper.Replace(s) }

func mdCode(s string) string { return strings.NewReplacer("`", "'", "|", "\\|", "\n", " ").Replace(s) }

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// callbackClient sends one run's callbacks.
type callbackClient struct {
	s   *Server
	p   *runTaskRequest
	log *slog.Logger
}

// send PATCHes one task result, retrying network errors, 429 and 5xx
// with exponential backoff and jitter. A final failure is logged and
// counted; there is nobody else to tell.
func (c *callbackClient) send(ctx context.Context, t taskResult) bool {
	o := c.s.opts.RunTask
	body, err := json.Marshal(t)
	if err != nil {
		c.s.metrics.callbackFailures.WithLabelValues("encode").Inc()
		c.log.Error("encode run task callback", "err", err)
		return false
	}
	err = retry(ctx, o, func(ctx context.Context) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPatch, c.p.TaskResultCallbackURL, bytes.NewReader(body))
		if err != nil {
			return 0, permanent(err)
		}
		req.Header.Set("Content-Type", jsonAPIType)
		req.Header.Set("Accept", jsonAPIType)
		req.Header.Set("Authorization", "Bearer "+string(c.p.AccessToken))
		req.Header.Set("User-Agent", "costgate")
		resp, err := o.Client.Do(req)
		if err != nil {
			c.s.metrics.callbackFailures.WithLabelValues("network").Inc()
			return 0, err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return 0, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			c.s.metrics.callbackFailures.WithLabelValues("http_" + strconv.Itoa(resp.StatusCode)).Inc()
			return retryAfter(resp), fmt.Errorf("callback answered %s", resp.Status)
		default:
			c.s.metrics.callbackFailures.WithLabelValues("http_" + strconv.Itoa(resp.StatusCode)).Inc()
			return 0, permanent(fmt.Errorf("callback answered %s: %s", resp.Status, truncate(strings.TrimSpace(string(msg)), 300)))
		}
	})
	if err != nil {
		c.log.Error("run task callback failed", "status", t.Status, "err", err)
		return false
	}
	c.s.metrics.callbacks.Inc()
	c.log.Debug("run task callback sent", "status", t.Status, "outcomes", len(t.Outcomes))
	return true
}

// fetchPlan downloads the run's plan JSON with the run's token, retrying
// like the callbacks. Redirects are followed (HCP Terraform redirects to
// its archive store; Go drops the Authorization header when the redirect
// leaves the host).
func (s *Server) fetchPlan(ctx context.Context, p *runTaskRequest) ([]byte, error) {
	o := s.opts.RunTask
	var data []byte
	err := retry(ctx, o, func(ctx context.Context) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.PlanJSONAPIURL, nil)
		if err != nil {
			return 0, permanent(err)
		}
		req.Header.Set("Authorization", "Bearer "+string(p.AccessToken))
		req.Header.Set("User-Agent", "costgate")
		resp, err := o.Client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			return retryAfter(resp), fmt.Errorf("plan download answered %s", resp.Status)
		default:
			return 0, permanent(fmt.Errorf("plan download answered %s", resp.Status))
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBody+1))
		if err != nil {
			return 0, fmt.Errorf("plan download: %w", err)
		}
		if int64(len(b)) > s.maxBody {
			return 0, permanent(fmt.Errorf("plan is larger than the %d MiB limit (server.max_body_mib)", s.maxBody>>20))
		}
		data = b
		return 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetch plan: %w", err)
	}
	return data, nil
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// retry calls f until it succeeds, fails permanently, runs out of
// attempts or ctx ends. f may ask for a minimum wait (Retry-After).
func retry(ctx context.Context, o RunTaskOptions, f func(ctx context.Context) (time.Duration, error)) error {
	wait := o.RetryBase
	var err error
	for attempt := 1; ; attempt++ {
		var minWait time.Duration
		minWait, err = f(ctx)
		if err == nil {
			return nil
		}
		var pe *permanentError
		if errors.As(err, &pe) || attempt >= o.CallbackAttempts {
			return err
		}
		d := wait/2 + rand.N(wait/2+1) // jitter in [wait/2, wait]
		if minWait > d {
			d = min(minWait, o.RetryMax)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, o.RetryMax)
	}
}

func retryAfter(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
