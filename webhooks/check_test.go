package webhooks

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

const testPlan = "aws_instance_lambda_s3.json"

func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// cliDecision judges a plan the way `costgate check` does.
func cliDecision(tb testing.TB, eng *gate.Engine, path string) *costgate.Decision {
	tb.Helper()
	plan, err := gate.ReadPlan(bytes.NewReader(readFile(tb, path)), path, 0)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := eng.Evaluate(context.Background(), gate.BuildInput(plan, gate.InputOptions{}))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestCheck(t *testing.T) {
	s := newTestServer(t, nil)
	plan := readFile(t, repoFile("plans", testPlan))
	want := cliDecision(t, s.opts.Policies.Current().Engine, repoFile("plans", testPlan))
	if want.Decision != costgate.OutcomeDeny || len(want.Findings) == 0 {
		t.Fatalf("fixture should be denied by tags.required: %+v", want)
	}
	gz := gzipBytes(t, plan)
	tests := map[string]struct {
		body   []byte
		header map[string]string
		query  string
	}{
		"plain":                   {plan, authHeader(), "?team=payments&workspace=prod"},
		"gzip with header":        {gz, map[string]string{"Authorization": "Bearer " + testToken, "Content-Encoding": "gzip"}, ""},
		"gzip sniffed":            {gz, authHeader(), ""},
		"lower-case bearer works": {plan, map[string]string{"Authorization": "bearer " + testToken}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.do(t, "POST", "/v1/check"+tc.query, tc.body, tc.header)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var d costgate.Decision
			r.json(t, &d)
			if d.Decision != want.Decision || r.header.Get("X-Costgate-Decision") != string(want.Decision) {
				t.Fatalf("decision %s, header %s; want %s", d.Decision, r.header.Get("X-Costgate-Decision"), want.Decision)
			}
			if !equalStrings(findingKeys(d.Findings), findingKeys(want.Findings)) {
				t.Fatalf("findings differ from the CLI's:\n%v\n%v", findingKeys(d.Findings), findingKeys(want.Findings))
			}
			if d.InputSHA256 != want.InputSHA256 || d.PolicyRevision != want.PolicyRevision {
				t.Fatalf("digests differ: %s %s vs %s %s", d.InputSHA256, d.PolicyRevision, want.InputSHA256, want.PolicyRevision)
			}
		})
	}
	recs := s.log.all()
	if len(recs) != len(tests) {
		t.Fatalf("%d decisions logged, want %d", len(recs), len(tests))
	}
	found := false
	for _, r := range recs {
		if r.Surface == SurfaceAPI && r.Team == "payments" && r.Context["workspace"] == "prod" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no logged decision with the query context: %+v", recs)
	}
}

func TestCheckFormats(t *testing.T) {
	s := newTestServer(t, nil)
	plan := readFile(t, repoFile("plans", testPlan))
	for format, want := range map[string]string{"markdown": "tags.required", "sarif": `"version": "2.1.0"`, "text": "deny"} {
		r := s.do(t, "POST", "/v1/check?format="+format, plan, authHeader())
		if r.status != 200 || !strings.Contains(string(r.body), want) {
			t.Errorf("format %s: status %d, body %.200s", format, r.status, r.body)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.MaxBodyBytes = 64 << 10 })
	plan := readFile(t, repoFile("plans", testPlan))
	big := bytes.Repeat([]byte(" "), 65<<10)
	bomb := gzipBytes(t, append(append([]byte{}, plan...), bytes.Repeat([]byte(" "), 1<<20)...))
	tests := map[string]struct {
		body   []byte
		header map[string]string
		query  string
		status int
		msg    string
	}{
		"no token":        {plan, nil, "", 401, "bearer token"},
		"wrong token":     {plan, map[string]string{"Authorization": "Bearer nope"}, "", 401, "bearer token"},
		"token as basic":  {plan, map[string]string{"Authorization": "Basic " + testToken}, "", 401, "bearer token"},
		"prefix of token": {plan, map[string]string{"Authorization": "Bearer " + testToken[:10]}, "", 401, "bearer token"},
		"oversized":       {big, authHeader(), "", 413, "limit"},
		"gzip bomb":       {bomb, authHeader(), "", 413, "limit"},
		"bad gzip":        {[]byte{0x1f, 0x8b, 0, 0}, authHeader(), "", 400, "gzip"},
		"malformed JSON":  {[]byte(`{"format_version": "1.2", "resource_changes": [`), authHeader(), "", 400, "request body"},
		"not a plan":      {[]byte(`[1,2]`), authHeader(), "", 400, "not a plan"},
		"empty":           {nil, authHeader(), "", 400, ""},
		"bad format":      {plan, authHeader(), "?format=yaml", 400, "format"},
		"bad context key": {plan, authHeader(), "?Team=x", 400, "context key"},
		"repeated param":  {plan, authHeader(), "?team=a&team=b", 400, "once"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.do(t, "POST", "/v1/check"+tc.query, tc.body, tc.header)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.msg) {
				t.Fatalf("status %d body %s; want %d containing %q", r.status, r.body, tc.status, tc.msg)
			}
			var e errorBody
			r.json(t, &e)
			if e.Error == "" {
				t.Fatal("no error message")
			}
		})
	}
	if r := s.do(t, "GET", "/v1/check", nil, authHeader()); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /v1/check: %d", r.status)
	}
	if r := s.do(t, "GET", "/nope", nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("GET /nope: %d", r.status)
	}
	// The server still answers after all that.
	if r := s.do(t, "GET", "/healthz", nil, nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
}

func TestNoTokensMeansOpen(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.Tokens = nil })
	r := s.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}

func TestSecretRedacted(t *testing.T) {
	var buf bytes.Buffer
	sec := Secret("hunter2-secret")
	logger := slogTo(&buf)
	logger.Info("x", "token", sec, "opts", RunTaskOptions{HMACKey: sec})
	if strings.Contains(buf.String(), "hunter2") {
		t.Fatalf("secret in log: %s", buf.String())
	}
	if s := sec.String(); strings.Contains(s, "hunter2") {
		t.Fatal(s)
	}
	b, _ := sec.MarshalJSON()
	if strings.Contains(string(b), "hunter2") {
		t.Fatal(string(b))
	}
}

func TestCheckPriceInput(t *testing.T) {
	estimates := []costgate.EstimatedResource{{Address: "aws_instance.web", Type: "aws_instance", Action: costgate.ActionCreate,
		Monthly: costgate.MustMoney("70.08"), Tags: map[string]string{"team": "payments"}}}
	priced := func(ctx context.Context, in *gate.Input) ([]costgate.EstimatedResource, error) {
		in.AttachEstimate(&costgate.PlanEstimate{Currency: "USD", PriceSnapshot: "test-prices@sha256:1", Unpriced: []string{}}, "", "")
		return estimates, nil
	}
	s := newTestServer(t, func(o *Options) {
		o.Policies = StaticPolicies(&Snapshot{Engine: testEngine(t, testConfig()), PriceInput: priced})
	})
	if r := s.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), authHeader()); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if recs := s.log.all(); len(recs) != 1 || recs[0].PriceSnapshot != "test-prices@sha256:1" {
		t.Fatalf("price snapshot not logged: %+v", recs)
	} else if !reflect.DeepEqual(recs[0].Resources, estimates) {
		t.Fatalf("per-resource estimates not logged: %+v", recs[0].Resources)
	}
	failing := newTestServer(t, func(o *Options) {
		o.Policies = StaticPolicies(&Snapshot{Engine: testEngine(t, testConfig()),
			PriceInput: func(context.Context, *gate.Input) ([]costgate.EstimatedResource, error) {
				return nil, errors.New("no prices for eu-north-9")
			}})
	})
	r := failing.do(t, "POST", "/v1/check", readFile(t, repoFile("plans", testPlan)), authHeader())
	if r.status != 400 || !strings.Contains(string(r.body), "eu-north-9") {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}
