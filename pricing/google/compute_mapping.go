package google

import (
	"fmt"

	"github.com/costgate/costgate/pricing"
)

// Defaults Compute Engine applies when a plan leaves them out.
const (
	defaultBootDiskGB   = 10 // the size of most public images
	defaultBootDiskType = "pd-standard"
)

// computeInstanceSide maps google_compute_instance: the machine, its
// boot disk and scratch (local SSD) disks. Attached disks are
// google_compute_disk resources, priced on their own.
func computeInstanceSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	mt, err := s.Need("machine_type")
	if err != nil {
		return nil, err
	}
	m, err := ParseMachineType(mt)
	if err != nil {
		return nil, err
	}
	if len(s.Blocks("guest_accelerator")) > 0 {
		return nil, pricing.Unpriced("GPU (guest_accelerator) prices are not in the catalog")
	}
	res := &pricing.Result{}
	cs, err := machineComponents(env.Pricer, region, m, 1, preemptible(s))
	if err != nil {
		return nil, err
	}
	res.Components = cs
	d := Disk{Subresource: "boot_disk", Type: defaultBootDiskType, SizeGB: defaultBootDiskGB}
	if bd, ok := s.Block("boot_disk"); ok {
		if ip, ok := bd.Block("initialize_params"); ok {
			d.Type = ip.StrOr("type", defaultBootDiskType)
			if n, ok := ip.Int("size"); ok {
				d.SizeGB = n
			} else {
				res.Assumptions = append(res.Assumptions, fmt.Sprintf("boot disk size not known: assumed %d GB", defaultBootDiskGB))
			}
		}
	}
	dc, err := diskComponents(env.Pricer, region, d)
	if err != nil {
		return nil, err
	}
	res.Components = append(res.Components, dc...)
	if n := int64(len(s.Blocks("scratch_disk"))); n > 0 {
		lc, err := localSSDComponents(env.Pricer, region, n)
		if err != nil {
			return nil, err
		}
		res.Components = append(res.Components, lc...)
	}
	return res, nil
}

func preemptible(s pricing.Side) bool {
	if sc, ok := s.Block("scheduling"); ok {
		if p, _ := sc.Bool("preemptible"); p {
			return true
		}
		return sc.StrOr("provisioning_model", "") == "SPOT"
	}
	return false
}

// computeDiskSide maps google_compute_disk. Without a size, a blank disk
// gets Compute Engine's default (500 GB pd-standard, 100 GB SSD types)
// and a disk from an image or snapshot its source's size, unknown in the
// plan.
func computeDiskSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	d := Disk{Type: s.StrOr("type", "pd-standard")}
	d.IOPS, _ = s.Int("provisioned_iops")
	if n, ok := s.Int("size"); ok {
		d.SizeGB = n
	} else {
		_, fromImage := s.Str("image")
		_, fromSnap := s.Str("snapshot")
		switch {
		case fromImage || fromSnap:
			d.SizeGB = defaultBootDiskGB
			res.Assumptions = append(res.Assumptions, fmt.Sprintf("size comes from the source image or snapshot: assumed %d GB", defaultBootDiskGB))
		case d.Type == "pd-standard":
			d.SizeGB = 500
			res.Assumptions = append(res.Assumptions, "size not set: 500 GB, the pd-standard default")
		default:
			d.SizeGB = 100
			res.Assumptions = append(res.Assumptions, "size not set: 100 GB, the SSD disk default")
		}
	}
	res.Components, err = diskComponents(env.Pricer, region, d)
	return res, err
}
