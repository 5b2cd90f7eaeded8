package aws

import (
	"fmt"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// Defaults for what a plan leaves unknown until apply, as Infracost
// assumes them: the AMI decides the root volume, most often 8 GB gp2.
const (
	defaultRootSizeGB  = 8
	defaultVolumeType  = "gp2"
	defaultEBSVolumeGB = 8
)

// instanceSide maps aws_instance.
func instanceSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	typ, err := s.Need("instance_type")
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	in := Instance{Type: typ, OS: instanceOS(env), Tenancy: normalizeTenancy(s.StrOr("tenancy", "default")), Count: 1}
	for _, mo := range s.Blocks("instance_market_options") {
		if mo.StrOr("market_type", "") == "spot" {
			in.Spot = 1
		}
	}
	root, note := rootVolume(s)
	if note != "" {
		res.Assumptions = append(res.Assumptions, note)
	}
	in.Volumes = append(in.Volumes, root)
	for i, b := range s.Blocks("ebs_block_device") {
		if vid, ok := b.Str("volume_id"); ok && len(env.Plan.ByAttr("aws_ebs_volume", "id", vid)) > 0 {
			continue // an attached aws_ebs_volume, priced as its own resource
		}
		v, note := volumeFrom(b, fmt.Sprintf("ebs_block_device[%d]", i), "volume_type", "volume_size", defaultEBSVolumeGB)
		if note != "" {
			res.Assumptions = append(res.Assumptions, note)
		}
		in.Volumes = append(in.Volumes, v)
	}
	res.Components, err = instanceComponents(env.Pricer, region, in)
	return res, err
}

// instanceOS reads the operating system from the usage file
// (operating_system: linux|windows|rhel|suse); the plan only has the AMI.
func instanceOS(env *pricing.Env) string {
	if os, ok := env.Usage.String("operating_system"); ok {
		return normalizeOS(os)
	}
	return "Linux"
}

// rootVolume reads root_block_device, assuming 8 GB gp2 where the plan
// does not know it yet.
func rootVolume(s pricing.Side) (Volume, string) {
	b, ok := s.Block("root_block_device")
	if !ok {
		return Volume{Subresource: "root_block_device", Type: defaultVolumeType, SizeGB: defaultRootSizeGB},
			"root_block_device known only after apply: assumed 8 GB gp2"
	}
	return volumeFrom(b, "root_block_device", "volume_type", "volume_size", defaultRootSizeGB)
}

// volumeFrom reads a volume block; typeAttr and sizeAttr name its
// attributes (volume_type/volume_size, or type/size).
func volumeFrom(b pricing.Side, sub, typeAttr, sizeAttr string, defSize int64) (Volume, string) {
	v := Volume{Subresource: sub, Type: b.StrOr(typeAttr, defaultVolumeType)}
	var notes []string
	if _, ok := b.Str(typeAttr); !ok {
		notes = append(notes, "type gp2")
	}
	if n, ok := b.Int(sizeAttr); ok && n > 0 {
		v.SizeGB = n
	} else {
		v.SizeGB = defSize
		notes = append(notes, fmt.Sprintf("size %d GB", defSize))
	}
	v.IOPS, _ = b.Int("iops")
	v.Throughput, _ = b.Int("throughput")
	note := ""
	if len(notes) > 0 {
		note = fmt.Sprintf("%s: assumed %s (not known from the plan)", sub, joinWords(notes))
	}
	return v, note
}

func joinWords(w []string) string {
	switch len(w) {
	case 0:
		return ""
	case 1:
		return w[0]
	}
	out := w[0]
	for _, x := range w[1:] {
		out += " and " + x
	}
	return out
}

// ebsVolumeSide maps aws_ebs_volume.
func ebsVolumeSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	size, ok := s.Int("size")
	if !ok {
		if s.IsUnknown("size") {
			return nil, pricing.Unpriced("size is known only after apply (from snapshot_id)")
		}
		return nil, pricing.Unpriced("size is not set")
	}
	v := Volume{Type: s.StrOr("type", defaultVolumeType), SizeGB: size}
	v.IOPS, _ = s.Int("iops")
	v.Throughput, _ = s.Int("throughput")
	res := &pricing.Result{}
	if _, ok := s.Str("type"); !ok {
		res.Assumptions = append(res.Assumptions, "type not set: priced as gp2, the EBS default")
	}
	res.Components, err = volumeComponents(env.Pricer, region, v)
	return res, err
}

// launchTemplate reads an aws_launch_template's instance type and block
// device mappings (its own side: after, or before for a delete).
func launchTemplate(r *costgate.PlannedResource) (string, []Volume, bool) {
	s := currentSide(r)
	typ, _ := s.Str("instance_type")
	var vols []Volume
	for i, m := range s.Blocks("block_device_mappings") {
		for _, e := range m.Blocks("ebs") {
			v, _ := volumeFrom(e, fmt.Sprintf("block_device_mapping[%d]", i), "volume_type", "volume_size", defaultEBSVolumeGB)
			vols = append(vols, v)
		}
	}
	return typ, vols, typ != ""
}

// launchConfiguration reads an aws_launch_configuration.
func launchConfiguration(r *costgate.PlannedResource) (string, []Volume, bool) {
	s := currentSide(r)
	typ, _ := s.Str("instance_type")
	var vols []Volume
	if b, ok := s.Block("root_block_device"); ok {
		v, _ := volumeFrom(b, "root_block_device", "volume_type", "volume_size", defaultRootSizeGB)
		vols = append(vols, v)
	}
	for i, b := range s.Blocks("ebs_block_device") {
		v, _ := volumeFrom(b, fmt.Sprintf("ebs_block_device[%d]", i), "volume_type", "volume_size", defaultEBSVolumeGB)
		vols = append(vols, v)
	}
	return typ, vols, typ != ""
}

func currentSide(r *costgate.PlannedResource) pricing.Side {
	if r.After != nil {
		return pricing.AfterSide(r)
	}
	return pricing.BeforeSide(r)
}
