package aws

import (
	"fmt"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// eksClusterSide maps aws_eks_cluster.
func eksClusterSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	cs, err := eksClusterComponents(env.Pricer, region, false)
	return &pricing.Result{Components: cs}, err
}

// EKS managed node group defaults (AWS API).
const (
	eksDefaultInstanceType = "t3.medium"
	eksDefaultDiskGB       = 20
)

// eksNodeGroupSide maps aws_eks_node_group: desired_size nodes of the
// first instance type (or the launch template's), each with its disk.
func eksNodeGroupSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	sc, ok := s.Block("scaling_config")
	if !ok {
		return nil, pricing.Unpriced("scaling_config is not known")
	}
	count, ok := sc.Int("desired_size")
	if !ok {
		if count, ok = sc.Int("min_size"); !ok {
			return nil, pricing.Unpriced("scaling_config.desired_size is not known")
		}
	}
	in := Instance{OS: "Linux", Tenancy: "Shared", Count: count}
	if s.StrOr("capacity_type", "ON_DEMAND") == "SPOT" {
		in.Spot = count
	}
	if types := s.Strings("instance_types"); len(types) > 0 {
		in.Type = types[0]
	}
	var lt *costgate.PlannedResource
	if b, ok := s.Block("launch_template"); ok {
		lt, _ = findLaunchTemplate(env, s, b, "launch_template")
	}
	if lt != nil {
		typ, vols, ok := launchTemplate(lt)
		if in.Type == "" && ok {
			in.Type = typ
		}
		for i := range vols {
			vols[i].Subresource = lt.Address + " " + vols[i].Subresource
		}
		in.Volumes = vols
	} else {
		size, ok := s.Int("disk_size")
		if !ok {
			size = eksDefaultDiskGB
			res.Assumptions = append(res.Assumptions, fmt.Sprintf("disk_size not set: %d GB gp2 per node (the EKS default)", eksDefaultDiskGB))
		}
		in.Volumes = []Volume{{Type: "gp2", SizeGB: size}}
	}
	if in.Type == "" {
		in.Type = eksDefaultInstanceType
		res.Assumptions = append(res.Assumptions, "instance_types not set: t3.medium (the EKS default)")
	}
	res.Components, err = instanceComponents(env.Pricer, region, in)
	return res, err
}
