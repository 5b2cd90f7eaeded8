package webhooks

import (
	"net/http"
	"sort"
	"testing"
)

// TestSameFindingsOnEverySurface: the same plan gives the same findings
// through the CLI's path (gate directly), POST /v1/check and a run task.
func TestSameFindingsOnEverySurface(t *testing.T) {
	plans := []string{
		"aws_instance_lambda_s3.json",
		"aws_default_tags_aliased_provider_sqs_x20.json",
		"gcp_compute_instance_module.json",
		"aws_delete_only.json",
	}
	for _, name := range plans {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, nil)
			path := repoFile("plans", name)
			plan := readFile(t, path)
			cli := cliDecision(t, s.opts.Policies.Current().Engine, path)
			want := findingKeys(cli.Findings)

			// POST /v1/check
			r := s.do(t, "POST", "/v1/check", plan, authHeader())
			if r.status != http.StatusOK {
				t.Fatalf("check: %d %s", r.status, r.body)
			}
			var api struct {
				Decision string
				Findings []struct {
					RuleID   string `json:"rule_id"`
					Severity string
					Address  string
					Message  string
				}
			}
			r.json(t, &api)
			var got []string
			for _, f := range api.Findings {
				got = append(got, f.RuleID+"|"+f.Address+"|"+f.Severity+"|"+f.Message)
			}
			sort.Strings(got)
			if !equalStrings(got, want) || api.Decision != string(cli.Decision) {
				t.Fatalf("/v1/check findings differ:\n got %v\nwant %v", got, want)
			}

			// A run task: the decision it logged, and the outcomes it sent.
			hcp := newFakeHCP(t, plan)
			body := hcp.payload(t, "request_post_plan_2025.json", nil)
			if r := s.postRunTask(t, body, SignRunTask(testHMACKey, body)); r.status != 200 {
				t.Fatalf("run task: %d", r.status)
			}
			patches := hcp.wait(t)
			var logged *DecisionRecord
			for _, rec := range s.log.all() {
				if rec.Surface == SurfaceRunTask {
					logged = &rec
				}
			}
			if logged == nil {
				t.Fatal("run task decision not logged")
			}
			if got := findingKeys(logged.Findings); !equalStrings(got, want) || string(logged.Decision) != string(cli.Decision) {
				t.Fatalf("run task findings differ:\n got %v\nwant %v", got, want)
			}
			var outcomes []string
			for _, p := range patches {
				if p.Data.Relationships != nil {
					for _, o := range p.Data.Relationships.Outcomes.Data {
						outcomes = append(outcomes, o.Attributes.OutcomeID+"|"+o.Attributes.Description)
					}
				}
			}
			var wantOutcomes []string
			for _, f := range cli.Findings {
				wantOutcomes = append(wantOutcomes, f.RuleID+"|"+firstLineOf(f.Message))
			}
			sort.Strings(outcomes)
			sort.Strings(wantOutcomes)
			if !equalStrings(outcomes, wantOutcomes) {
				t.Fatalf("outcomes differ:\n got %v\nwant %v", outcomes, wantOutcomes)
			}
			final := patches[len(patches)-1].Data.Attributes.Status
			if wantStatus := map[bool]string{true: "failed", false: "passed"}[cli.Decision == "deny"]; final != wantStatus {
				t.Fatalf("final status %s for decision %s", final, cli.Decision)
			}
		})
	}
}
