package aws

import (
	"github.com/costgate/costgate/pricing"
)

// elasticacheClusterSide maps aws_elasticache_cluster (usage:
// snapshot_storage_size_gb when snapshots are kept). A cluster that
// joins a replication group is priced on the group.
func elasticacheClusterSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	if rg, ok := s.Str("replication_group_id"); ok {
		return nil, pricing.Unpriced("member of replication group %s: priced on the aws_elasticache_replication_group", rg)
	}
	nodeType, err := s.Need("node_type")
	if err != nil {
		return nil, err
	}
	n, ok := s.Int("num_cache_nodes")
	if !ok {
		n = 1
	}
	c := CacheNodes{NodeType: nodeType, Engine: cacheEngine(s.StrOr("engine", "redis")), Nodes: n}
	cacheSnapshots(env, s, &c)
	cs, err := cacheComponents(env.Pricer, region, c)
	return &pricing.Result{Components: cs}, err
}

// elasticacheReplicationGroupSide maps aws_elasticache_replication_group:
// num_cache_clusters nodes, or num_node_groups shards of
// replicas_per_node_group + 1 nodes (cluster mode).
func elasticacheReplicationGroupSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	nodeType, err := s.Need("node_type")
	if err != nil {
		return nil, err
	}
	var nodes int64
	shards, okShards := s.Int("num_node_groups")
	replicas, okReplicas := s.Int("replicas_per_node_group")
	if cm, ok := s.Block("cluster_mode"); ok { // provider v3/v4 block
		shards, okShards = cm.Int("num_node_groups")
		replicas, okReplicas = cm.Int("replicas_per_node_group")
	}
	switch {
	case okShards && shards > 0:
		if !okReplicas {
			replicas = 0
		}
		nodes = shards * (replicas + 1)
	default:
		n, ok := s.Int("num_cache_clusters")
		if !ok {
			n, ok = s.Int("number_cache_clusters")
		}
		if !ok {
			return nil, pricing.Unpriced("num_cache_clusters (or num_node_groups) is not known")
		}
		nodes = n
	}
	c := CacheNodes{NodeType: nodeType, Engine: cacheEngine(s.StrOr("engine", "redis")), Nodes: nodes}
	cacheSnapshots(env, s, &c)
	cs, err := cacheComponents(env.Pricer, region, c)
	return &pricing.Result{Components: cs}, err
}

func cacheSnapshots(env *pricing.Env, s pricing.Side, c *CacheNodes) {
	if n, ok := s.Int("snapshot_retention_limit"); ok && n > 0 {
		c.Snapshots = true
		if v, ok := env.Usage.Quantity("snapshot_storage_size_gb"); ok {
			c.SnapshotGB, c.SnapshotSources = v, env.Usage.Source
		}
	}
}
