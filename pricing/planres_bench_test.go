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
	b.SetBytes(int64(len(doc.Configuration)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePlanConfig(doc.Configuration, nil); err != nil {
			b.Fatal(err)
		}
	}
}
