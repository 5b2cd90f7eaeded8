package aws

import (
	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// eksClusterComponents prices the EKS control plane.
func eksClusterComponents(p pricing.Pricer, region string, extended bool) ([]costgate.CostComponent, error) {
	usage, name := "AmazonEKS-Hours:perCluster", "EKS cluster"
	if extended {
		usage, name = "AmazonEKS-Hours:extendedSupport", "EKS cluster (extended support)"
	}
	c, err := p.Component(pricing.Line{Name: name, Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("AmazonEKS", region, "hour", map[string]string{"productFamily": "Compute", "usagetype": usage})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{c}, nil
}
