package aws

import (
	"github.com/costgate/costgate/pricing"
)

// s3BucketSide maps aws_s3_bucket: usage-based (Standard class usage
// keys standard.storage_gb, standard.monthly_tier_1_requests,
// standard.monthly_tier_2_requests,
// standard.monthly_select_data_scanned_gb,
// standard.monthly_select_data_returned_gb).
func s3BucketSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	u := env.Usage
	b := S3Standard{UsageSource: u.Source}
	b.StorageGB, _ = u.Quantity("standard.storage_gb")
	b.Tier1Requests, _ = u.Quantity("standard.monthly_tier_1_requests")
	b.Tier2Requests, _ = u.Quantity("standard.monthly_tier_2_requests")
	b.SelectScannedGB, _ = u.Quantity("standard.monthly_select_data_scanned_gb")
	b.SelectReturnGB, _ = u.Quantity("standard.monthly_select_data_returned_gb")
	res := &pricing.Result{}
	for _, k := range u.Keys() {
		if len(k) < 9 || k[:9] != "standard." {
			res.Assumptions = append(res.Assumptions, "usage key "+k+" is not priced: only the Standard storage class is")
		}
	}
	res.Components, err = s3Components(env.Pricer, region, b)
	return res, err
}

// logGroupSide maps aws_cloudwatch_log_group (usage:
// monthly_data_ingested_gb, storage_gb, monthly_data_scanned_gb).
func logGroupSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	u := env.Usage
	g := LogGroup{UsageSource: u.Source}
	g.IngestedGB, _ = u.Quantity("monthly_data_ingested_gb")
	g.StorageGB, _ = u.Quantity("storage_gb")
	g.ScannedGB, _ = u.Quantity("monthly_data_scanned_gb")
	cs, err := logGroupComponents(env.Pricer, region, g)
	return &pricing.Result{Components: cs}, err
}
