package aws

import (
	"fmt"

	"github.com/costgate/costgate/pricing"
)

// dynamoDBTableSide maps aws_dynamodb_table. A provisioned table whose
// capacity an aws_appautoscaling_target of the plan scales (linked by
// reference, as Terraform wires it) is priced at the target's
// min_capacity, as Infracost does. Usage keys: storage_gb,
// pitr_backup_storage_gb, on_demand_backup_storage_gb,
// monthly_data_restored_gb, monthly_streams_read_request_units,
// monthly_write_request_units and monthly_read_request_units (on-demand).
func dynamoDBTableSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	t := DynamoDBTable{Provisioned: s.StrOr("billing_mode", "PROVISIONED") == "PROVISIONED"}
	if t.Provisioned {
		var ok bool
		if t.WCU, ok = s.Int("write_capacity"); !ok {
			return nil, pricing.Unpriced("write_capacity is not known")
		}
		if t.RCU, ok = s.Int("read_capacity"); !ok {
			return nil, pricing.Unpriced("read_capacity is not known")
		}
		for _, target := range env.Plan.Referrers(s.Resource, "aws_appautoscaling_target") {
			ts := pricing.AfterSide(target)
			if target.After == nil {
				continue
			}
			min, ok := ts.Int("min_capacity")
			if !ok {
				continue
			}
			switch ts.StrOr("scalable_dimension", "") {
			case "dynamodb:table:WriteCapacityUnits":
				t.WCU, t.WCUAutoscaled = min, true
				res.Assumptions = append(res.Assumptions, fmt.Sprintf("write capacity autoscaled by %s: priced at min_capacity %d", target.Address, min))
			case "dynamodb:table:ReadCapacityUnits":
				t.RCU, t.RCUAutoscaled = min, true
				res.Assumptions = append(res.Assumptions, fmt.Sprintf("read capacity autoscaled by %s: priced at min_capacity %d", target.Address, min))
			}
		}
	}
	u := env.Usage
	t.UsageSource = u.Source
	t.StorageGB, _ = u.Quantity("storage_gb")
	t.PITRBackupGB, _ = u.Quantity("pitr_backup_storage_gb")
	t.OnDemandBackupGB, _ = u.Quantity("on_demand_backup_storage_gb")
	t.RestoredGB, _ = u.Quantity("monthly_data_restored_gb")
	t.StreamReads, _ = u.Quantity("monthly_streams_read_request_units")
	t.WriteRequests, _ = u.Quantity("monthly_write_request_units")
	t.ReadRequests, _ = u.Quantity("monthly_read_request_units")
	if p, ok := s.Block("point_in_time_recovery"); ok {
		t.PITR, _ = p.Bool("enabled")
	}
	res.Components, err = dynamoDBComponents(env.Pricer, region, t)
	return res, err
}
