package aws

import (
	"github.com/costgate/costgate/pricing"
)

// OpenSearch defaults (AWS API).
const (
	searchDefaultInstanceType = "m4.large.search"
	searchDefaultMasters      = 3
)

// searchDomainSide maps aws_opensearch_domain and aws_elasticsearch_domain.
func searchDomainSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	d := SearchDomain{InstanceType: searchDefaultInstanceType, Instances: 1}
	if cc, ok := s.Block("cluster_config"); ok {
		d.InstanceType = cc.StrOr("instance_type", searchDefaultInstanceType)
		if n, ok := cc.Int("instance_count"); ok {
			d.Instances = n
		}
		if on, _ := cc.Bool("dedicated_master_enabled"); on {
			d.MasterType = cc.StrOr("dedicated_master_type", d.InstanceType)
			if d.Masters, ok = cc.Int("dedicated_master_count"); !ok {
				d.Masters = searchDefaultMasters
			}
		}
		if on, _ := cc.Bool("warm_enabled"); on {
			d.WarmType, _ = cc.Str("warm_type")
			d.WarmInstances, _ = cc.Int("warm_count")
		}
	} else {
		res.Assumptions = append(res.Assumptions, "cluster_config not set: one m4.large.search instance (the AWS default)")
	}
	if eb, ok := s.Block("ebs_options"); ok {
		if on, _ := eb.Bool("ebs_enabled"); on {
			d.EBS = true
			d.VolumeType = eb.StrOr("volume_type", "gp2")
			size, ok := eb.Int("volume_size")
			if !ok {
				return nil, pricing.Unpriced("ebs_options.volume_size is not known")
			}
			d.VolumeGB = size
			d.IOPS, _ = eb.Int("iops")
		}
	}
	res.Components, err = searchDomainComponents(env.Pricer, region, d)
	return res, err
}
