package aws

import (
	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// DynamoDBTable is a DynamoDB table in typed attributes. Capacities
// are per hour; usage quantities are per month and nil when unknown.
type DynamoDBTable struct {
	Provisioned bool
	WCU, RCU    int64
	// WCUAutoscaled and RCUAutoscaled mark capacities taken from an
	// autoscaling target's minimum.
	WCUAutoscaled, RCUAutoscaled bool
	WriteRequests, ReadRequests  *costgate.Quantity // on-demand tables
	StorageGB                    *costgate.Quantity
	PITR                         bool
	PITRBackupGB                 *costgate.Quantity
	OnDemandBackupGB             *costgate.Quantity
	RestoredGB                   *costgate.Quantity
	StreamReads                  *costgate.Quantity
	UsageSource                  string
}

func dynamoDBComponents(p pricing.Pricer, region string, t DynamoDBTable) ([]costgate.CostComponent, error) {
	var out []costgate.CostComponent
	add := func(l pricing.Line) error {
		c, err := p.Component(l)
		if err == nil {
			out = append(out, c)
		}
		return err
	}
	ddb := func(unit string, attrs map[string]string) pricing.Query {
		return q("AmazonDynamoDB", region, unit, attrs)
	}
	if t.Provisioned {
		name := "Write capacity unit (WCU)"
		if t.WCUAutoscaled {
			name = "Write capacity unit (WCU, autoscaling)"
		}
		if err := add(pricing.Line{Name: name, Unit: "WCU", Quantity: pricing.Qty(t.WCU), Scale: costgate.HoursPerMonth, UsageBased: t.WCUAutoscaled,
			Query: ddb("WCU-hour", map[string]string{"group": "DDB-WriteUnits"})}); err != nil {
			return nil, err
		}
		name = "Read capacity unit (RCU)"
		if t.RCUAutoscaled {
			name = "Read capacity unit (RCU, autoscaling)"
		}
		if err := add(pricing.Line{Name: name, Unit: "RCU", Quantity: pricing.Qty(t.RCU), Scale: costgate.HoursPerMonth, UsageBased: t.RCUAutoscaled,
			Query: ddb("RCU-hour", map[string]string{"group": "DDB-ReadUnits"})}); err != nil {
			return nil, err
		}
	} else {
		if err := add(pricing.Line{Name: "Write request unit (WRU)", Unit: "1M WRUs", Quantity: millions(t.WriteRequests), Scale: 1_000_000, UsageBased: true, UsageSource: t.UsageSource,
			Query: ddb("request", map[string]string{"group": "DDB-WriteRequestUnits"})}); err != nil {
			return nil, err
		}
		if err := add(pricing.Line{Name: "Read request unit (RRU)", Unit: "1M RRUs", Quantity: millions(t.ReadRequests), Scale: 1_000_000, UsageBased: true, UsageSource: t.UsageSource,
			Query: ddb("request", map[string]string{"group": "DDB-ReadRequestUnits"})}); err != nil {
			return nil, err
		}
	}
	usage := []struct {
		name, unit, qunit string
		qty               *costgate.Quantity
		attrs             map[string]string
		skip              bool
	}{
		{"Data storage", "GB", "GB-month", t.StorageGB, map[string]string{"productFamily": "Database Storage"}, false},
		{"Point-In-Time Recovery (PITR) backup storage", "GB", "GB-month", t.PITRBackupGB, map[string]string{"productFamily": "Amazon DynamoDB PITR Backup"}, !t.PITR},
		{"On-demand backup storage", "GB", "GB-month", t.OnDemandBackupGB, map[string]string{"productFamily": "Amazon DynamoDB On-Demand Backup Storage"}, false},
		{"Table data restored", "GB", "GB", t.RestoredGB, map[string]string{"productFamily": "Amazon DynamoDB Restore Data Size"}, false},
	}
	for _, u := range usage {
		if u.skip {
			continue
		}
		if err := add(pricing.Line{Name: u.name, Unit: u.unit, Quantity: u.qty, UsageBased: true, UsageSource: t.UsageSource, Query: ddb(u.qunit, u.attrs)}); err != nil {
			return nil, err
		}
	}
	if err := add(pricing.Line{Name: "Streams read request unit (sRRU)", Unit: "sRRUs", Quantity: t.StreamReads, UsageBased: true, UsageSource: t.UsageSource,
		Query: ddb("request", map[string]string{"group": "DDB-StreamsReadRequests"})}); err != nil {
		return nil, err
	}
	return out, nil
}

// millions converts a count to millions (exactly).
func millions(q *costgate.Quantity) *costgate.Quantity {
	if q == nil {
		return nil
	}
	return pricing.QtyRate(q.Rate().Mul(costgate.RateOf(1, 1_000_000)))
}
