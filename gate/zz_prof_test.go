package gate

import (
	"context"
	"os"
	"testing"
)

func BenchmarkWholeTmp(b *testing.B) {
	data, _ := os.ReadFile("/tmp/mine10k.json")
	e := newEngine(b, Options{Config: requiredTagsConfig("team", "cost-center")})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, _ := ParsePlan(data, "x")
		in := BuildInput(p, InputOptions{})
		e.Evaluate(context.Background(), in)
	}
}
