package webhooks

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/costgate/costgate/gate"
)

func scratchInput(b *testing.B) *admissionRequest {
	body := review(b, "ar_v1_deployment_create.json", func(r map[string]any) { setLabels(r, okLabels) })
	var ar struct{ Request admissionRequest }
	if err := json.Unmarshal(body, &ar); err != nil {
		b.Fatal(err)
	}
	return &ar.Request
}

func BenchmarkScratchInput(b *testing.B) {
	req := scratchInput(b)
	for b.Loop() {
		admissionInput(req, testKubernetes())
	}
}

func BenchmarkScratchEvalAll(b *testing.B) {
	req := scratchInput(b)
	in, _, _ := admissionInput(req, testKubernetes())
	eng := testEngine(b, testConfig())
	b.ReportAllocs()
	for b.Loop() {
		eng.EvaluateValue(context.Background(), in, gate.EvalMeta{})
	}
}

func BenchmarkScratchEvalK8s(b *testing.B) {
	req := scratchInput(b)
	in, _, _ := admissionInput(req, testKubernetes())
	eng, err := gate.New(context.Background(), gate.Options{Config: testConfig(), NoDefaultPolicies: true, PolicyPaths: []string{"/tmp/k8spol"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		eng.EvaluateValue(context.Background(), in, gate.EvalMeta{})
	}
}
