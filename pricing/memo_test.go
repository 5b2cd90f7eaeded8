package pricing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/estimators"
)

// TestSharedEstimatesOfValueFreeResources: buckets and log groups whose
// estimators read no plan values are priced once per type, region,
// account and action and shared; the estimate is exactly the one that
// prices each resource itself, a resource with usage of its own is
// priced from it, and sharing never crosses a region or an action.
func TestSharedEstimatesOfValueFreeResources(t *testing.T) {
	usage, err := pricing.ParseUsageFile([]byte(`version: 0.1
resource_usage:
  aws_s3_bucket.logs[3]:
    standard.storage_gb: 1000
  aws_s3_bucket.logs[5]:
    standard.storage_gb: 10
`), "usage.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rs []costgate.PlannedResource
	add := func(typ, name string, n int, region, action string) {
		for i := range n {
			r := costgate.PlannedResource{Address: fmt.Sprintf("%s.%s[%d]", typ, name, i), Type: typ, Name: name,
				Mode: "managed", Action: action, Region: region, ProviderName: "registry.terraform.io/hashicorp/aws"}
			vals := map[string]any{"id": nil}
			switch action {
			case costgate.ActionCreate:
				r.After = vals
			case costgate.ActionDelete:
				r.Before = vals
			default:
				r.Before, r.After = vals, map[string]any{"id": nil}
			}
			rs = append(rs, r)
		}
	}
	add("aws_s3_bucket", "logs", 40, "us-east-1", costgate.ActionCreate)
	add("aws_s3_bucket", "eu", 10, "eu-west-1", costgate.ActionCreate)
	add("aws_s3_bucket", "old", 5, "us-east-1", costgate.ActionDelete)
	add("aws_cloudwatch_log_group", "app", 30, "us-east-1", costgate.ActionUpdate)
	add("aws_cloudwatch_log_group", "noregion", 3, "", costgate.ActionCreate)
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	opts := pricing.Options{Usage: usage, Now: func() time.Time { return now }}
	shared, err := estimators.New(pricing.Default(), opts).Estimate(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	each, err := estimators.New(pricing.Default(), pricing.WithoutMemo(opts)).Estimate(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(shared)
	b, _ := json.Marshal(each)
	if string(a) != string(b) {
		t.Fatalf("shared estimates differ from pricing each resource:\n%s\nwant\n%s", a, b)
	}
	byAddr := map[string]costgate.ResourceEstimate{}
	for _, re := range shared.Resources {
		byAddr[re.Address] = re
	}
	if re := byAddr["aws_s3_bucket.logs[3]"]; !re.Priced || re.MonthlyAfter == nil || *re.MonthlyAfter <= 0 {
		t.Errorf("the bucket with usage of its own: %+v, want priced from its usage", re)
	}
	if a, b := byAddr["aws_s3_bucket.logs[3]"], byAddr["aws_s3_bucket.logs[5]"]; b.MonthlyAfter == nil || a.MonthlyAfter == nil || *b.MonthlyAfter >= *a.MonthlyAfter {
		t.Errorf("buckets with 1000 GB and 10 GB of usage: %v and %v a month", a.MonthlyAfter, b.MonthlyAfter)
	}
	if re := byAddr["aws_s3_bucket.logs[4]"]; re.Priced || re.Reason == "" {
		t.Errorf("a bucket without usage: %+v, want unpriced with a reason", re)
	}
	if re := byAddr["aws_cloudwatch_log_group.noregion[0]"]; re.Priced || re.Reason == "" {
		t.Errorf("a log group without a region: %+v, want unpriced", re)
	}
	if len(shared.Resources) != len(rs) {
		t.Fatalf("%d estimates for %d resources", len(shared.Resources), len(rs))
	}
	for i, re := range shared.Resources {
		if re.Address != rs[i].Address {
			t.Fatalf("estimate %d is %s, want %s", i, re.Address, rs[i].Address)
		}
	}
}
