package google

import (
	"strings"

	"github.com/costgate/costgate/pricing"
)

// GKE node defaults (GKE documentation).
const (
	gkeDefaultMachineType = "e2-medium"
	gkeDefaultDiskGB      = 100
	gkeDefaultDiskType    = "pd-balanced"
	gkeRegionZones        = 3
)

// containerClusterSide maps google_container_cluster: the management
// fee, the default node pool unless removed, and inline node_pool blocks.
func containerClusterSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	cs, err := clusterFeeComponents(env.Pricer, region)
	if err != nil {
		return nil, err
	}
	res.Components = cs
	if ap, _ := s.Bool("enable_autopilot"); ap {
		res.Assumptions = append(res.Assumptions, "Autopilot: pod resources are billed separately and not estimated")
		return res, nil
	}
	zones := zoneCount(s, s)
	pools := s.Blocks("node_pool")
	if remove, _ := s.Bool("remove_default_node_pool"); !remove && len(pools) == 0 {
		np, notes, err := nodePool(s, zones)
		if err != nil {
			return nil, err
		}
		np.Name = "default_pool"
		if n, ok := s.Int("initial_node_count"); ok {
			np.Nodes = n
		}
		res.Assumptions = append(res.Assumptions, notes...)
		pc, err := nodePoolComponents(env.Pricer, region, np)
		if err != nil {
			return nil, err
		}
		res.Components = append(res.Components, pc...)
	}
	for _, b := range pools {
		np, notes, err := nodePool(b, zoneCount(b, s))
		if err != nil {
			return nil, err
		}
		np.Name = b.StrOr("name", "node_pool")
		res.Assumptions = append(res.Assumptions, notes...)
		pc, err := nodePoolComponents(env.Pricer, region, np)
		if err != nil {
			return nil, err
		}
		res.Components = append(res.Components, pc...)
	}
	return res, nil
}

// nodePoolSide maps google_container_node_pool; its zones come from its
// own location or node_locations, else from its cluster's.
func nodePoolSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	cluster := s
	if cs := env.Plan.Referenced(s.Resource, "cluster", "google_container_cluster"); len(cs) > 0 {
		if c := cs[0]; c.After != nil {
			cluster = pricing.AfterSide(c)
		}
	}
	np, notes, err := nodePool(s, zoneCount(s, cluster))
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{Assumptions: notes}
	res.Components, err = nodePoolComponents(env.Pricer, region, np)
	return res, err
}

// nodePool reads a pool's node_config and node count (node_count, else
// the autoscaling minimum, else initial_node_count).
func nodePool(pool pricing.Side, zones int64) (NodePool, []string, error) {
	np := NodePool{Zones: zones, DiskType: gkeDefaultDiskType, DiskGB: gkeDefaultDiskGB}
	var notes []string
	mt := gkeDefaultMachineType
	if nc, ok := pool.Block("node_config"); ok {
		mt = nc.StrOr("machine_type", gkeDefaultMachineType)
		np.DiskType = nc.StrOr("disk_type", gkeDefaultDiskType)
		if n, ok := nc.Int("disk_size_gb"); ok && n > 0 {
			np.DiskGB = n
		}
		np.LocalSSDs, _ = nc.Int("local_ssd_count")
		pre, _ := nc.Bool("preemptible")
		spot, _ := nc.Bool("spot")
		np.Preemptible = pre || spot
		if len(nc.Blocks("guest_accelerator")) > 0 {
			return np, nil, pricing.Unpriced("GPU (guest_accelerator) prices are not in the catalog")
		}
	} else {
		notes = append(notes, "node_config not known: "+gkeDefaultMachineType+" nodes with 100 GB pd-balanced disks (GKE defaults)")
	}
	m, err := ParseMachineType(mt)
	if err != nil {
		return np, nil, err
	}
	np.Machine = m
	switch n, ok := pool.Int("node_count"); {
	case ok:
		np.Nodes = n
	default:
		if a, ok := pool.Block("autoscaling"); ok {
			if n, ok := a.Int("min_node_count"); ok {
				np.Nodes = n
				notes = append(notes, "autoscaled: priced at min_node_count")
				break
			}
			if n, ok := a.Int("total_min_node_count"); ok {
				np.Nodes, np.Zones = n, 1
				notes = append(notes, "autoscaled: priced at total_min_node_count")
				break
			}
		}
		if n, ok := pool.Int("initial_node_count"); ok {
			np.Nodes = n
		} else {
			np.Nodes = 1
			notes = append(notes, "node count not known: 1 node per zone")
		}
	}
	notes = append(notes, describeNodes(np))
	return np, notes, nil
}

// zoneCount is the number of zones a pool's nodes run in: its
// node_locations, else the cluster's, else 1 for a zonal location and 3
// for a regional one.
func zoneCount(pool, cluster pricing.Side) int64 {
	if n := len(pool.Strings("node_locations")); n > 0 {
		return int64(n)
	}
	if n := len(cluster.Strings("node_locations")); n > 0 {
		return int64(n)
	}
	loc := pool.StrOr("location", cluster.StrOr("location", ""))
	if strings.Count(loc, "-") == 2 {
		return 1
	}
	if loc == "" {
		return 1
	}
	return gkeRegionZones
}
