package google

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// Machine is a Compute Engine machine shape.
type Machine struct {
	Type string
	// Family is the series (e2, n1, n2, n2d, ...); SharedCore names an
	// f1-micro or g1-small, priced per instance.
	Family     string
	SharedCore bool
	VCPUs      costgate.Rate
	MemoryGB   costgate.Rate
	Custom     bool
}

// ParseMachineType reads a predefined or custom machine type.
func ParseMachineType(mt string) (Machine, error) {
	m := Machine{Type: mt}
	switch mt {
	case "f1-micro", "g1-small":
		m.SharedCore = true
		return m, nil
	case "e2-micro":
		m.Family, m.VCPUs, m.MemoryGB = "e2", costgate.RateOf(1, 4), costgate.RateOf(1, 1)
		return m, nil
	case "e2-small":
		m.Family, m.VCPUs, m.MemoryGB = "e2", costgate.RateOf(1, 2), costgate.RateOf(2, 1)
		return m, nil
	case "e2-medium":
		m.Family, m.VCPUs, m.MemoryGB = "e2", costgate.RateOf(1, 1), costgate.RateOf(4, 1)
		return m, nil
	}
	parts := strings.Split(mt, "-")
	if i := indexOf(parts, "custom"); i >= 0 && len(parts) >= i+3 {
		fam := "n1"
		if i > 0 {
			fam = parts[0]
		}
		cpu, err1 := strconv.ParseInt(parts[i+1], 10, 64)
		mem, err2 := strconv.ParseInt(parts[i+2], 10, 64)
		if err1 != nil || err2 != nil {
			return m, pricing.Unpriced("machine type %q is not a valid custom type", mt)
		}
		m.Family, m.Custom, m.VCPUs, m.MemoryGB = fam, true, costgate.RateOf(cpu, 1), costgate.RateOf(mem, 1024)
		return m, nil
	}
	if len(parts) != 3 {
		return m, pricing.Unpriced("machine type %q is not known", mt)
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return m, pricing.Unpriced("machine type %q is not known", mt)
	}
	perCPU, ok := memoryPerVCPU(parts[0], parts[1])
	if !ok {
		return m, pricing.Unpriced("machine type %q is not known", mt)
	}
	m.Family, m.VCPUs, m.MemoryGB = parts[0], costgate.RateOf(n, 1), perCPU.MulInt(n)
	return m, nil
}

// memoryPerVCPU is the GB of memory per vCPU of predefined classes
// (Compute Engine machine families documentation).
func memoryPerVCPU(family, class string) (costgate.Rate, bool) {
	if family == "n1" {
		switch class {
		case "standard":
			return costgate.RateOf(15, 4), true
		case "highmem":
			return costgate.RateOf(13, 2), true
		case "highcpu":
			return costgate.RateOf(9, 10), true
		}
		return costgate.Rate{}, false
	}
	switch family {
	case "e2", "n2", "n2d", "n4", "c3", "c3d", "c2", "c2d", "t2d", "t2a", "c4", "c4a":
	default:
		return costgate.Rate{}, false
	}
	switch class {
	case "standard":
		return costgate.RateOf(4, 1), true
	case "highmem":
		return costgate.RateOf(8, 1), true
	case "highcpu":
		return costgate.RateOf(1, 1), true
	}
	return costgate.Rate{}, false
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Disk is a persistent disk.
type Disk struct {
	Subresource string
	Type        string // pd-standard, pd-balanced, pd-ssd, pd-extreme
	SizeGB      int64
	IOPS        int64 // pd-extreme provisioned IOPS
	Count       int64
}

var diskLabel = map[string]string{
	"pd-standard": "Standard provisioned storage (pd-standard)", "pd-balanced": "Balanced provisioned storage (pd-balanced)",
	"pd-ssd": "SSD provisioned storage (pd-ssd)", "pd-extreme": "Extreme provisioned storage (pd-extreme)",
}

// machineComponents prices n machines for a month: vCPU and memory
// hours, or the shared-core instance hours.
func machineComponents(p pricing.Pricer, region string, m Machine, n int64, preemptible bool) ([]costgate.CostComponent, error) {
	usage := "OnDemand"
	label := "on-demand"
	if preemptible {
		usage, label = "Preemptible", "preemptible"
	}
	hours := costgate.RateOf(n*costgate.HoursPerMonth, 1)
	if m.SharedCore {
		c, err := p.Component(pricing.Line{Name: fmt.Sprintf("Instance usage (Linux/UNIX, %s, %s)", label, m.Type), Unit: "hours",
			Quantity: pricing.QtyRate(hours), Query: q("Compute Engine", region, "hour", map[string]string{"machineType": m.Type, "usageType": usage})})
		if err != nil {
			return nil, err
		}
		return []costgate.CostComponent{c}, nil
	}
	attrs := func(res string) map[string]string {
		a := map[string]string{"machineFamily": m.Family, "resource": res, "usageType": usage}
		if m.Custom {
			a["custom"] = "true"
		}
		return a
	}
	kind := ""
	if m.Custom {
		kind = "custom "
	}
	cpu, err := p.Component(pricing.Line{Name: fmt.Sprintf("vCPUs (Linux/UNIX, %s, %s%s, %s vCPU)", label, kind, m.Type, m.VCPUs), Unit: "vCPU-hours",
		Quantity: pricing.QtyRate(hours.Mul(m.VCPUs)), Query: q("Compute Engine", region, "vCPU-hour", attrs("cpu"))})
	if err != nil {
		return nil, err
	}
	ram, err := p.Component(pricing.Line{Name: fmt.Sprintf("Memory (Linux/UNIX, %s, %s%s, %s GB)", label, kind, m.Type, m.MemoryGB), Unit: "GB-hours",
		Quantity: pricing.QtyRate(hours.Mul(m.MemoryGB)), Query: q("Compute Engine", region, "GB-hour", attrs("ram"))})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{cpu, ram}, nil
}

// diskComponents prices persistent disks (Count of them).
func diskComponents(p pricing.Pricer, region string, d Disk) ([]costgate.CostComponent, error) {
	n := max(d.Count, 1)
	label, ok := diskLabel[d.Type]
	if !ok {
		return nil, pricing.Unpriced("disk type %q is not known", d.Type)
	}
	c, err := p.Component(pricing.Line{Name: label, Subresource: d.Subresource, Unit: "GB", Quantity: pricing.Qty(d.SizeGB * n),
		Query: q("Compute Engine", region, "GB-month", map[string]string{"resource": "disk", "diskType": d.Type})})
	if err != nil {
		return nil, err
	}
	out := []costgate.CostComponent{c}
	if d.Type == "pd-extreme" && d.IOPS > 0 {
		c, err := p.Component(pricing.Line{Name: "Provisioned IOPS", Subresource: d.Subresource, Unit: "IOPS", Quantity: pricing.Qty(d.IOPS * n),
			Query: q("Compute Engine", region, "IOPS-month", map[string]string{"resource": "disk-iops", "diskType": "pd-extreme"})})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// localSSDComponents prices n local SSD partitions of 375 GB.
func localSSDComponents(p pricing.Pricer, region string, n int64) ([]costgate.CostComponent, error) {
	c, err := p.Component(pricing.Line{Name: "Local SSD provisioned storage", Unit: "GB", Quantity: pricing.Qty(375 * n),
		Query: q("Compute Engine", region, "GB-month", map[string]string{"resource": "local-ssd"})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{c}, nil
}
