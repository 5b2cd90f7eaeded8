package google

import (
	"fmt"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// NodePool is a GKE node pool in typed attributes: Nodes per zone in
// Zones zones.
type NodePool struct {
	Name        string
	Machine     Machine
	Nodes       int64
	Zones       int64
	DiskType    string
	DiskGB      int64
	LocalSSDs   int64
	Preemptible bool
}

// clusterFeeComponents prices the GKE cluster management fee.
func clusterFeeComponents(p pricing.Pricer, region string) ([]costgate.CostComponent, error) {
	c, err := p.Component(pricing.Line{Name: "Cluster management fee", Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("Kubernetes Engine", region, "hour", map[string]string{"resource": "cluster-management"})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{c}, nil
}

// nodePoolComponents prices a node pool's machines and boot disks.
func nodePoolComponents(p pricing.Pricer, region string, np NodePool) ([]costgate.CostComponent, error) {
	n := np.Nodes * max(np.Zones, 1)
	if n == 0 {
		return nil, nil
	}
	cs, err := machineComponents(p, region, np.Machine, n, np.Preemptible)
	if err != nil {
		return nil, err
	}
	dc, err := diskComponents(p, region, Disk{Type: np.DiskType, SizeGB: np.DiskGB, Count: n})
	if err != nil {
		return nil, err
	}
	cs = append(cs, dc...)
	if np.LocalSSDs > 0 {
		lc, err := localSSDComponents(p, region, np.LocalSSDs*n)
		if err != nil {
			return nil, err
		}
		cs = append(cs, lc...)
	}
	if np.Name != "" {
		for i := range cs {
			cs[i].Subresource = np.Name
		}
	}
	return cs, nil
}

// describeNodes says how many nodes a pool runs, for assumptions.
func describeNodes(np NodePool) string {
	return fmt.Sprintf("%d node(s) per zone in %d zone(s)", np.Nodes, max(np.Zones, 1))
}
