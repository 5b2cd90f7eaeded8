package azure

import (
	"fmt"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// VM is a virtual machine in typed attributes.
type VM struct {
	Size   string
	OS     string // Linux or Windows
	OSDisk *ManagedDisk
}

// ManagedDisk is a managed disk: its performance tier follows from the
// storage account type and the size.
type ManagedDisk struct {
	Subresource string
	// Family: Standard HDD, Standard SSD or Premium SSD.
	Family     string
	SizeGB     int64
	Operations *costgate.Quantity // 10k operations per month (standard disks)
	UsageSrc   string
}

var diskPrefix = map[string]string{"Standard HDD": "S", "Standard SSD": "E", "Premium SSD": "P"}

// diskTiers are the managed-disk sizes (GiB) and their tier numbers.
var diskTiers = []struct {
	maxGB int64
	tier  string
}{{32, "4"}, {64, "6"}, {128, "10"}, {256, "15"}, {512, "20"}, {1024, "30"}, {2048, "40"}, {4096, "50"}, {8192, "60"}, {16384, "70"}, {32767, "80"}}

// DiskTier returns the tier name ("S4", "E30", "P10") of a disk.
func DiskTier(family string, sizeGB int64) (string, error) {
	p, ok := diskPrefix[family]
	if !ok {
		return "", pricing.Unpriced("disk type %s is not known", family)
	}
	for _, t := range diskTiers {
		if sizeGB <= t.maxGB {
			return p + t.tier, nil
		}
	}
	return "", pricing.Unpriced("disk size %d GB is larger than the largest tier", sizeGB)
}

func vmComponents(p pricing.Pricer, region string, vm VM) ([]costgate.CostComponent, error) {
	c, err := p.Component(pricing.Line{Name: fmt.Sprintf("Instance usage (%s, pay as you go, %s)", vm.OS, vm.Size), Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("Virtual Machines", region, "hour", map[string]string{"armSkuName": vm.Size, "os": vm.OS})})
	if err != nil {
		return nil, err
	}
	out := []costgate.CostComponent{c}
	if vm.OSDisk != nil {
		dc, err := diskComponents(p, region, *vm.OSDisk)
		if err != nil {
			return nil, err
		}
		out = append(out, dc...)
	}
	return out, nil
}

func diskComponents(p pricing.Pricer, region string, d ManagedDisk) ([]costgate.CostComponent, error) {
	tier, err := DiskTier(d.Family, d.SizeGB)
	if err != nil {
		return nil, err
	}
	c, err := p.Component(pricing.Line{Name: fmt.Sprintf("Storage (%s, LRS)", tier), Subresource: d.Subresource, Unit: "months", Quantity: pricing.Qty(1),
		Query: q("Storage", region, "month", map[string]string{"diskTier": tier, "redundancy": "LRS"})})
	if err != nil {
		return nil, err
	}
	out := []costgate.CostComponent{c}
	if d.Family != "Premium SSD" {
		c, err := p.Component(pricing.Line{Name: "Disk operations", Subresource: d.Subresource, Unit: "10k operations", Quantity: d.Operations,
			UsageBased: true, UsageSource: d.UsageSrc,
			Query: q("Storage", region, "10K-operations", map[string]string{"resource": "disk-operations", "diskFamily": d.Family})})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
