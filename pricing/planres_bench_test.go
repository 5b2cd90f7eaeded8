package pricing

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/costgate/costgate/internal/plangen"
)

// BenchmarkParsePlanConfig10k reads the configuration block of a
// 10,000-resource generated plan (1.5 MB of it), as check does when it
// estimates.
func BenchmarkParsePlanConfig10k(b *testing.B) {
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: 10_000, Seed: 1, UntaggedPercent: 5}); err != nil {
		b.Fatal(err)
	}
	var doc struct {
		Configuration json.RawMessage `json:"configuration"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		b.Fatal(err)
	}
	// The types whose references the estimators follow, as
	// estimators.Registry declares them.
	referring := map[string]bool{"aws_autoscaling_group": true, "aws_eks_node_group": true, "aws_appautoscaling_target": true}
	for _, bc := range []struct {
		name string
		fn   func(string) bool
	}{{"all", nil}, {"referring", func(t string) bool { return referring[t] }}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc.Configuration)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParsePlanConfigFor(doc.Configuration, nil, bc.fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
