package webhooks

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// fakeHCP plays HCP Terraform: it serves a plan at the plan JSON URL
// (checking the run's bearer token), and receives and validates the
// callback PATCHes against the documented schema.
type fakeHCP struct {
	tb        testing.TB
	ts        *httptest.Server
	token     string
	planToken string // the token the plan URL wants (default token)
	plan      []byte
	failFirst int // answer 503 to this many callbacks first

	mu        sync.Mutex
	patches   []taskResultDoc
	planGets  int
	problems  []string
	failed    int
	finalDone chan struct{}
}

// taskResultDoc is a decoded callback body.
type taskResultDoc struct {
	Data struct {
		Type       string `json:"type"`
		Attributes struct {
			Status  string `json:"status"`
			Message string `json:"message"`
			URL     string `json:"url"`
		} `json:"attributes"`
		Relationships *struct {
			Outcomes struct {
				Data []struct {
					Type       string `json:"type"`
					Attributes struct {
						OutcomeID   string                         `json:"outcome-id"`
						Description string                         `json:"description"`
						Body        string                         `json:"body"`
						URL         string                         `json:"url"`
						Tags        map[string][]map[string]string `json:"tags"`
					} `json:"attributes"`
				} `json:"data"`
			} `json:"outcomes"`
		} `json:"relationships"`
	} `json:"data"`
}

var tagNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func newFakeHCP(tb testing.TB, plan []byte) *fakeHCP {
	f := &fakeHCP{tb: tb, token: "atlasv1.run-token-" + fmt.Sprint(time.Now().UnixNano()), plan: plan, finalDone: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/plans/plan-1/json-output", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.planGets++
		f.mu.Unlock()
		want := f.planToken
		if want == "" {
			want = f.token
		}
		if r.Header.Get("Authorization") != "Bearer "+want {
			http.Error(w, `{"errors":[{"status":"401"}]}`, http.StatusUnauthorized)
			return
		}
		// HCP Terraform redirects to its archive; follow the same path.
		http.Redirect(w, r, "/archivist/plan-1.json", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("GET /archivist/plan-1.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write(f.plan)
	})
	mux.HandleFunc("PATCH /api/v2/task-results/tr-1/callback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failed < f.failFirst {
			f.failed++
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			f.problems = append(f.problems, "callback without the run's bearer token")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/vnd.api+json" {
			f.problems = append(f.problems, "content type "+ct)
		}
		var doc taskResultDoc
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			f.problems = append(f.problems, fmt.Sprintf("body %s: %v", body, err))
			http.Error(w, "bad body", http.StatusUnprocessableEntity)
			return
		}
		f.validate(doc)
		f.patches = append(f.patches, doc)
		if s := doc.Data.Attributes.Status; s == "passed" || s == "failed" {
			select {
			case <-f.finalDone:
				f.problems = append(f.problems, "a second final status")
			default:
				close(f.finalDone)
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	f.ts = httptest.NewServer(mux)
	tb.Cleanup(f.ts.Close)
	return f
}

// validate checks a callback against runtask-result.json and friends.
func (f *fakeHCP) validate(doc taskResultDoc) {
	bad := func(format string, args ...any) { f.problems = append(f.problems, fmt.Sprintf(format, args...)) }
	a := doc.Data.Attributes
	if doc.Data.Type != "task-results" {
		bad("data.type %q", doc.Data.Type)
	}
	switch a.Status {
	case "running", "passed", "failed":
	default:
		bad("status %q", a.Status)
	}
	if len(a.Message) == 0 || len(a.Message) > 1000 {
		bad("message length %d", len(a.Message))
	}
	if len(a.URL) > 500 {
		bad("url length %d", len(a.URL))
	}
	if doc.Data.Relationships == nil {
		return
	}
	outs := doc.Data.Relationships.Outcomes.Data
	if len(outs) < 1 || len(outs) > 250 {
		bad("%d outcomes", len(outs))
	}
	for i, o := range outs {
		at := o.Attributes
		if o.Type != "task-result-outcomes" {
			bad("outcome %d type %q", i, o.Type)
		}
		if l := len(at.OutcomeID); l < 1 || l > 64 {
			bad("outcome %d outcome-id length %d", i, l)
		}
		if l := len(at.Description); l < 1 || l > 1000 {
			bad("outcome %d description length %d", i, l)
		}
		if l := len(at.Body); l < 1 || l > 10000 {
			bad("outcome %d body length %d", i, l)
		}
		if len(at.Tags) < 1 || len(at.Tags) > 10 {
			bad("outcome %d: %d tags", i, len(at.Tags))
		}
		for name, labels := range at.Tags {
			if !tagNameRE.MatchString(name) {
				bad("outcome %d tag name %q", i, name)
			}
			for _, l := range labels {
				if n := len([]rune(l["label"])); n < 1 || n > 32 {
					bad("outcome %d tag %s label %q", i, name, l["label"])
				}
				switch l["level"] {
				case "", "none", "info", "warning", "error":
				default:
					bad("outcome %d tag %s level %q", i, name, l["level"])
				}
			}
		}
		if _, ok := at.Tags["Status"]; !ok {
			bad("outcome %d has no Status tag", i)
		}
		if _, ok := at.Tags["Severity"]; !ok {
			bad("outcome %d has no Severity tag", i)
		}
	}
}

func (f *fakeHCP) wait(tb testing.TB) []taskResultDoc {
	tb.Helper()
	select {
	case <-f.finalDone:
	case <-time.After(20 * time.Second):
		tb.Fatal("no final callback within 20s")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.problems {
		tb.Error("HCP Terraform would reject: " + p)
	}
	return append([]taskResultDoc(nil), f.patches...)
}

// payload returns the documented sample with its URLs pointed at f.
func (f *fakeHCP) payload(tb testing.TB, sample string, edit func(map[string]any)) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(tb, repoFile("runtasks", sample)), &m); err != nil {
		tb.Fatal(err)
	}
	m["access_token"] = f.token
	m["plan_json_api_url"] = f.ts.URL + "/api/v2/plans/plan-1/json-output"
	m["task_result_callback_url"] = f.ts.URL + "/api/v2/task-results/tr-1/callback"
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func (s *testServer) postRunTask(tb testing.TB, body []byte, sig string) response {
	tb.Helper()
	return s.do(tb, "POST", "/v1/runtasks/hcp", body, map[string]string{"X-TFC-Task-Signature": sig, "Content-Type": "application/json", "User-Agent": "TFC/1.0 (+https://app.terraform.io; TFC)"})
}

func TestRunTaskEndToEnd(t *testing.T) {
	plan := readFile(t, repoFile("plans", testPlan))
	tests := map[string]struct {
		sample       string
		edit         func(map[string]any)
		pass         bool // server.runtasks.pass_speculative
		wantStatus   string
		wantOutcomes bool
		inMessage    string
	}{
		"2025 payload with capabilities":    {sample: "request_post_plan_2025.json", wantStatus: "failed", wantOutcomes: true, inMessage: "deny"},
		"2023 payload without capabilities": {sample: "request_post_plan_2023.json", wantStatus: "failed", wantOutcomes: false},
		"2022 payload":                      {sample: "request_post_plan_2022.json", wantStatus: "failed", wantOutcomes: false},
		"misspelt capabilitites": {sample: "request_post_plan_2023.json", wantStatus: "failed", wantOutcomes: true,
			edit: func(m map[string]any) { m["capabilitites"] = map[string]any{"outcomes": true} }},
		"advisory": {sample: "request_post_plan_2025.json", wantStatus: "failed", wantOutcomes: true, inMessage: "advisory",
			edit: func(m map[string]any) { m["task_result_enforcement_level"] = "advisory" }},
		"speculative reported not enforced": {sample: "request_post_plan_2025.json", pass: true, wantStatus: "passed", wantOutcomes: true, inMessage: "speculative",
			edit: func(m map[string]any) { m["is_speculative"] = true }},
		"pre_plan has no plan": {sample: "request_post_plan_2025.json", wantStatus: "passed", inMessage: "pre_plan",
			edit: func(m map[string]any) { m["stage"] = "pre_plan"; delete(m, "plan_json_api_url") }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, func(o *Options) { o.RunTask.PassSpeculative = tc.pass })
			hcp := newFakeHCP(t, plan)
			hcp.failFirst = 2 // callbacks are retried
			body := hcp.payload(t, tc.sample, tc.edit)
			r := s.postRunTask(t, body, SignRunTask(testHMACKey, body))
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			patches := hcp.wait(t)
			if len(patches) < 2 || patches[0].Data.Attributes.Status != "running" {
				t.Fatalf("want a running update first, got %+v", patches)
			}
			final := patches[len(patches)-1].Data.Attributes
			if final.Status != tc.wantStatus || !strings.Contains(final.Message, tc.inMessage) {
				t.Fatalf("final %+v; want %s with %q", final, tc.wantStatus, tc.inMessage)
			}
			var outcomes int
			for _, p := range patches {
				if p.Data.Relationships != nil {
					outcomes += len(p.Data.Relationships.Outcomes.Data)
					if p.Data.Attributes.Status != "running" {
						t.Errorf("outcomes sent with status %s; HashiCorp recommends running", p.Data.Attributes.Status)
					}
				}
			}
			if tc.wantOutcomes != (outcomes > 0) {
				t.Fatalf("%d outcomes; want outcomes: %v", outcomes, tc.wantOutcomes)
			}
			if tc.wantOutcomes {
				want := cliDecision(t, s.opts.Policies.Current().Engine, repoFile("plans", testPlan))
				if outcomes != len(want.Findings) {
					t.Fatalf("%d outcomes for %d findings", outcomes, len(want.Findings))
				}
			}
		})
	}
}

func TestRunTaskRejects(t *testing.T) {
	s := newTestServer(t, nil)
	hcp := newFakeHCP(t, readFile(t, repoFile("plans", testPlan)))
	body := hcp.payload(t, "request_post_plan_2025.json", nil)
	good := SignRunTask(testHMACKey, body)
	tests := map[string]struct {
		body   []byte
		sig    string
		status int
		msg    string
	}{
		"no signature":        {body, "", 401, "X-TFC-Task-Signature"},
		"wrong key":           {body, SignRunTask("another-key-0123456789", body), 401, "X-TFC-Task-Signature"},
		"tampered body":       {append([]byte(" "), body...), good, 401, "X-TFC-Task-Signature"},
		"not hex":             {body, strings.Repeat("zz", 64), 401, "X-TFC-Task-Signature"},
		"truncated signature": {body, good[:64], 401, "X-TFC-Task-Signature"},
		"malformed JSON":      {[]byte(`{"payload_version":`), SignRunTask(testHMACKey, []byte(`{"payload_version":`)), 400, "malformed"},
		"payload version 2":   {[]byte(`{"payload_version":2}`), SignRunTask(testHMACKey, []byte(`{"payload_version":2}`)), 400, "payload_version"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.postRunTask(t, tc.body, tc.sig)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.msg) {
				t.Fatalf("status %d body %s; want %d with %q", r.status, r.body, tc.status, tc.msg)
			}
		})
	}
	t.Run("host not allowed", func(t *testing.T) {
		s := newTestServer(t, func(o *Options) { o.RunTask.AllowedHosts = []string{"app.terraform.io"} })
		r := s.postRunTask(t, body, good)
		if r.status != 400 || !strings.Contains(string(r.body), "allowed_hosts") {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
	})
	t.Run("http to a remote host", func(t *testing.T) {
		b := hcp.payload(t, "request_post_plan_2025.json", func(m map[string]any) {
			m["task_result_callback_url"] = "http://app.terraform.io/api/v2/task-results/x/callback"
		})
		r := s.postRunTask(t, b, SignRunTask(testHMACKey, b))
		if r.status != 400 || !strings.Contains(string(r.body), "https") {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
	})
	t.Run("disabled without a key", func(t *testing.T) {
		s := newTestServer(t, func(o *Options) { o.RunTask.HMACKey = "" })
		r := s.postRunTask(t, body, good)
		if r.status != 404 || !strings.Contains(string(r.body), "hmac_key") {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
	})
	time.Sleep(50 * time.Millisecond)
	hcp.mu.Lock()
	defer hcp.mu.Unlock()
	if hcp.planGets != 0 || len(hcp.patches) != 0 {
		t.Fatalf("rejected requests reached HCP: %d plan gets, %d patches", hcp.planGets, len(hcp.patches))
	}
}

// TestRunTaskVerification answers HCP Terraform's test call with 200 and
// calls nothing back.
func TestRunTaskVerification(t *testing.T) {
	s := newTestServer(t, nil)
	hcp := newFakeHCP(t, nil)
	body := hcp.payload(t, "request_post_plan_2025.json", func(m map[string]any) { m["access_token"] = "test-token" })
	r := s.postRunTask(t, body, SignRunTask(testHMACKey, body))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if hcp.planGets != 0 || len(hcp.patches) != 0 {
		t.Fatal("the verification call triggered a run task")
	}
}

func TestRunTaskBadPlanAndWrongToken(t *testing.T) {
	for name, tc := range map[string]struct {
		plan      []byte
		planToken string
		inMessage string
	}{
		"broken plan":      {[]byte(`{"format_version":"1.2","resource_changes":[`), "", "truncated"},
		"plan URL refuses": {readFile(t, repoFile("plans", testPlan)), "another-token", "401"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, nil)
			hcp := newFakeHCP(t, tc.plan)
			hcp.planToken = tc.planToken
			body := hcp.payload(t, "request_post_plan_2025.json", nil)
			if r := s.postRunTask(t, body, SignRunTask(testHMACKey, body)); r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			patches := hcp.wait(t)
			final := patches[len(patches)-1].Data.Attributes
			if final.Status != "failed" || !strings.Contains(final.Message, "could not judge") || !strings.Contains(final.Message, tc.inMessage) {
				t.Fatalf("final %+v; want failed with %q", final, tc.inMessage)
			}
		})
	}
}

func TestRunTaskOutcomeCap(t *testing.T) {
	d := &costgate.Decision{Decision: costgate.OutcomeDeny}
	for i := 0; i < 300; i++ {
		d.Findings = append(d.Findings, costgate.Finding{RuleID: "r", Severity: costgate.SeverityDeny, Message: strings.Repeat("x", 2000), Address: fmt.Sprint(i)})
	}
	outs, omitted := buildOutcomes(d, 250)
	if len(outs) != 250 || omitted != 50 {
		t.Fatalf("%d outcomes, %d omitted", len(outs), omitted)
	}
	if len(outs[0].Description) > 1000 {
		t.Fatalf("description length %d", len(outs[0].Description))
	}
}
