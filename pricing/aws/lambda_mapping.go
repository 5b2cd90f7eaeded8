package aws

import (
	"github.com/costgate/costgate/pricing"
)

// lambdaFunctionSide maps aws_lambda_function (usage: monthly_requests,
// request_duration_ms). Without usage every component is unknown, so
// the function is unpriced, never zero.
func lambdaFunctionSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	f := LambdaFunction{MemoryMB: 128, StorageMB: 512, UsageSource: env.Usage.Source}
	if n, ok := s.Int("memory_size"); ok {
		f.MemoryMB = n
	}
	if b, ok := s.Block("ephemeral_storage"); ok {
		if n, ok := b.Int("size"); ok {
			f.StorageMB = n
		}
	}
	for _, a := range s.Strings("architectures") {
		if a == "arm64" {
			f.ARM = true
		}
	}
	f.Requests, _ = env.Usage.Quantity("monthly_requests")
	f.DurationMS, _ = env.Usage.Quantity("request_duration_ms")
	cs, err := lambdaComponents(env.Pricer, region, f)
	return &pricing.Result{Components: cs}, err
}
