package aws

import (
	"fmt"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// CacheNodes are ElastiCache nodes of one type.
type CacheNodes struct {
	NodeType string
	// Engine: Redis, Memcached or Valkey.
	Engine string
	Nodes  int64
	// SnapshotGB is the backup storage beyond the free allowance (nil
	// when unknown; only asked for when snapshots are kept).
	Snapshots       bool
	SnapshotGB      *costgate.Quantity
	SnapshotSources string
}

func cacheComponents(p pricing.Pricer, region string, c CacheNodes) ([]costgate.CostComponent, error) {
	node, err := p.Component(pricing.Line{
		Name: fmt.Sprintf("ElastiCache (on-demand, %s)", c.NodeType), Unit: "hours", Quantity: pricing.Hours(c.Nodes),
		Query: q("AmazonElastiCache", region, "hour", map[string]string{"instanceType": c.NodeType, "cacheEngine": c.Engine}),
	})
	if err != nil {
		return nil, err
	}
	out := []costgate.CostComponent{node}
	if c.Snapshots {
		b, err := p.Component(pricing.Line{Name: "Backup storage", Unit: "GB", Quantity: c.SnapshotGB, UsageBased: true, UsageSource: c.SnapshotSources,
			Query: q("AmazonElastiCache", region, "GB-month", map[string]string{"productFamily": "Storage Snapshot"})})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func cacheEngine(e string) string {
	switch strings.ToLower(e) {
	case "memcached":
		return "Memcached"
	case "valkey":
		return "Valkey"
	}
	return "Redis"
}
