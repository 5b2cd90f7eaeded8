package aws

import (
	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// LambdaFunction is a Lambda function with its monthly usage (nil when
// unknown).
type LambdaFunction struct {
	MemoryMB    int64
	StorageMB   int64 // ephemeral storage; 512 MB is included
	ARM         bool
	Requests    *costgate.Quantity
	DurationMS  *costgate.Quantity // average per request
	UsageSource string
}

const lambdaFreeStorageMB = 512

func lambdaComponents(p pricing.Pricer, region string, f LambdaFunction) ([]costgate.CostComponent, error) {
	var reqM, gbSec, storageGBSec *costgate.Quantity
	if f.Requests != nil {
		reqM = millions(f.Requests)
	}
	if f.Requests != nil && f.DurationMS != nil {
		// GB-seconds = requests × seconds per request × GB of memory.
		sec := f.Requests.Rate().Mul(f.DurationMS.Rate()).Mul(costgate.RateOf(1, 1000))
		gbSec = pricing.QtyRate(sec.Mul(costgate.RateOf(f.MemoryMB, 1024)))
		storageGBSec = pricing.QtyRate(sec.Mul(costgate.RateOf(max(f.StorageMB-lambdaFreeStorageMB, 0), 1024)))
	}
	out := []costgate.CostComponent{}
	c, err := p.Component(pricing.Line{Name: "Requests", Unit: "1M requests", Quantity: reqM, Scale: 1_000_000, UsageBased: true, UsageSource: f.UsageSource,
		Query: q("AWSLambda", region, "request", map[string]string{"group": "AWS-Lambda-Requests"})})
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	c, err = p.Component(pricing.Line{Name: "Ephemeral storage", Unit: "GB-seconds", Quantity: storageGBSec, UsageBased: true, UsageSource: f.UsageSource,
		Query: q("AWSLambda", region, "GB-second", map[string]string{"group": "AWS-Lambda-Storage-Duration"})})
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	group := "AWS-Lambda-Duration"
	if f.ARM {
		group = "AWS-Lambda-Duration-ARM"
	}
	cs, err := p.Tiered(pricing.Line{Name: "Duration", Unit: "GB-seconds", Quantity: gbSec, UsageBased: true, UsageSource: f.UsageSource,
		Query: q("AWSLambda", region, "GB-second", map[string]string{"group": group})}, gbSecondsTier)
	if err != nil {
		return nil, err
	}
	return append(out, cs...), nil
}

// gbSecondsTier names Lambda duration tiers as Infracost does
// ("Duration (first 6B)").
func gbSecondsTier(start, end *costgate.Rate) string {
	billions := func(r costgate.Rate) string {
		return r.Mul(costgate.RateOf(1, 1_000_000_000)).String() + "B"
	}
	switch {
	case (start == nil || start.IsZero()) && end != nil:
		return " (first " + billions(*end) + ")"
	case end == nil && start != nil:
		return " (over " + billions(*start) + ")"
	case start != nil && end != nil:
		return " (next " + billions(end.Add(start.Mul(costgate.RateOf(-1, 1)))) + ")"
	}
	return ""
}
