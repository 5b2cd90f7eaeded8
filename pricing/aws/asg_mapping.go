package aws

import (
	"fmt"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// autoscalingGroupSide maps aws_autoscaling_group: desired_capacity
// (else min_size) instances of the launch template or launch
// configuration it uses, found in the same plan by reference or name.
func autoscalingGroupSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	count, ok := s.Int("desired_capacity")
	if !ok {
		if count, ok = s.Int("min_size"); !ok {
			return nil, pricing.Unpriced("desired_capacity and min_size are not known")
		}
		res.Assumptions = append(res.Assumptions, fmt.Sprintf("desired_capacity not set: priced at min_size (%d instances)", count))
	}
	in := Instance{OS: instanceOS(env), Tenancy: "Shared", Count: count}
	var src *costgate.PlannedResource
	var desc string
	switch {
	case len(s.Blocks("mixed_instances_policy")) > 0:
		mip := s.Blocks("mixed_instances_policy")[0]
		if lt, ok := mip.Block("launch_template"); ok {
			if spec, ok := lt.Block("launch_template_specification"); ok {
				src, desc = findLaunchTemplate(env, s, spec, "mixed_instances_policy")
			}
			for _, o := range lt.Blocks("override") {
				if t, ok := o.Str("instance_type"); ok {
					in.Type = t
					break
				}
			}
		}
		if d, ok := mip.Block("instances_distribution"); ok {
			base, _ := d.Int("on_demand_base_capacity")
			pct, ok := d.Int("on_demand_percentage_above_base_capacity")
			if !ok {
				pct = 100
			}
			above := max(count-base, 0)
			onDemandAbove := (above*pct + 99) / 100
			in.Spot = above - onDemandAbove
		}
	case len(s.Blocks("launch_template")) > 0:
		lt := s.Blocks("launch_template")[0]
		src, desc = findLaunchTemplate(env, s, lt, "launch_template")
	default:
		src, desc = findLaunchConfiguration(env, s)
	}
	if src == nil {
		return nil, pricing.Unpriced("%s", desc)
	}
	read := launchTemplate
	if src.Type == "aws_launch_configuration" {
		read = launchConfiguration
	}
	typ, vols, ok := read(src)
	if in.Type == "" {
		if !ok {
			return nil, pricing.Unpriced("%s has no known instance_type", src.Address)
		}
		in.Type = typ
	}
	for i := range vols {
		vols[i].Subresource = src.Address + " " + vols[i].Subresource
	}
	in.Volumes = vols
	res.Components, err = instanceComponents(env.Pricer, region, in)
	return res, err
}

// findLaunchTemplate resolves a launch_template block (id or name) to the
// aws_launch_template of the plan: by configuration reference first,
// then by id or name.
func findLaunchTemplate(env *pricing.Env, s pricing.Side, block pricing.Side, attr string) (*costgate.PlannedResource, string) {
	if rs := env.Plan.Referenced(s.Resource, attr, "aws_launch_template"); len(rs) > 0 {
		return rs[0], ""
	}
	if id, ok := block.Str("id"); ok {
		if rs := env.Plan.ByAttr("aws_launch_template", "id", id); len(rs) > 0 {
			return rs[0], ""
		}
	}
	if name, ok := block.Str("name"); ok {
		if rs := env.Plan.ByAttr("aws_launch_template", "name", name); len(rs) > 0 {
			return rs[0], ""
		}
		return nil, fmt.Sprintf("launch template %q is not in this plan: its instance type is unknown", name)
	}
	return nil, "the launch template is not in this plan: its instance type is unknown"
}

func findLaunchConfiguration(env *pricing.Env, s pricing.Side) (*costgate.PlannedResource, string) {
	if rs := env.Plan.Referenced(s.Resource, "launch_configuration", "aws_launch_configuration"); len(rs) > 0 {
		return rs[0], ""
	}
	name, ok := s.Str("launch_configuration")
	if !ok {
		return nil, "no launch template or launch configuration is known"
	}
	if rs := env.Plan.ByAttr("aws_launch_configuration", "name", name); len(rs) > 0 {
		return rs[0], ""
	}
	return nil, fmt.Sprintf("launch configuration %q is not in this plan: its instance type is unknown", name)
}
