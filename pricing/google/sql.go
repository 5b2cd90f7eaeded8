package google

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// SQLInstance is a Cloud SQL instance in typed attributes.
type SQLInstance struct {
	Tier string
	// SharedCore names db-f1-micro and db-g1-small, priced per instance.
	SharedCore   bool
	VCPUs        int64
	MemoryGB     costgate.Rate
	Regional     bool   // high availability
	DiskType     string // PD_SSD or PD_HDD
	DiskGB       int64
	BackupGB     *costgate.Quantity
	UsageSource  string
	SQLServerEdn string
}

// ParseSQLTier reads db-custom-N-M, db-n1-standard-N, db-n1-highmem-N,
// db-f1-micro and db-g1-small.
func ParseSQLTier(tier string) (SQLInstance, error) {
	in := SQLInstance{Tier: tier}
	switch tier {
	case "db-f1-micro", "db-g1-small":
		in.SharedCore = true
		return in, nil
	}
	parts := strings.Split(tier, "-")
	switch {
	case len(parts) == 4 && parts[1] == "custom":
		cpu, err1 := strconv.ParseInt(parts[2], 10, 64)
		mem, err2 := strconv.ParseInt(parts[3], 10, 64)
		if err1 == nil && err2 == nil {
			in.VCPUs, in.MemoryGB = cpu, costgate.RateOf(mem, 1024)
			return in, nil
		}
	case len(parts) == 4 && parts[1] == "n1":
		n, err := strconv.ParseInt(parts[3], 10, 64)
		if per, ok := memoryPerVCPU("n1", parts[2]); ok && err == nil {
			in.VCPUs, in.MemoryGB = n, per.MulInt(n)
			return in, nil
		}
	}
	return in, pricing.Unpriced("Cloud SQL tier %q is not known", tier)
}

func availability(regional bool) (string, string) {
	if regional {
		return "REGIONAL", "regional"
	}
	return "ZONAL", "zonal"
}

func sqlComponents(p pricing.Pricer, region string, in SQLInstance) ([]costgate.CostComponent, error) {
	av, label := availability(in.Regional)
	var out []costgate.CostComponent
	add := func(l pricing.Line) error {
		c, err := p.Component(l)
		if err == nil {
			out = append(out, c)
		}
		return err
	}
	if in.SharedCore {
		if err := add(pricing.Line{Name: fmt.Sprintf("SQL instance (%s, %s)", in.Tier, label), Unit: "hours", Quantity: pricing.Hours(1),
			Query: q("Cloud SQL", region, "hour", map[string]string{"tier": in.Tier, "availabilityType": av})}); err != nil {
			return nil, err
		}
	} else {
		if err := add(pricing.Line{Name: fmt.Sprintf("vCPUs (%d, %s)", in.VCPUs, label), Unit: "vCPU-hours", Quantity: pricing.Hours(in.VCPUs),
			Query: q("Cloud SQL", region, "vCPU-hour", map[string]string{"resource": "cpu", "availabilityType": av})}); err != nil {
			return nil, err
		}
		hours := in.MemoryGB.MulInt(costgate.HoursPerMonth)
		if err := add(pricing.Line{Name: fmt.Sprintf("Memory (%s GB, %s)", in.MemoryGB, label), Unit: "GB-hours", Quantity: pricing.QtyRate(hours),
			Query: q("Cloud SQL", region, "GB-hour", map[string]string{"resource": "ram", "availabilityType": av})}); err != nil {
			return nil, err
		}
	}
	kind := "SSD"
	if in.DiskType == "PD_HDD" {
		kind = "HDD"
	}
	if err := add(pricing.Line{Name: fmt.Sprintf("Storage (%s, %s)", kind, label), Unit: "GB", Quantity: pricing.Qty(in.DiskGB),
		Query: q("Cloud SQL", region, "GB-month", map[string]string{"resource": "storage", "diskType": in.DiskType, "availabilityType": av})}); err != nil {
		return nil, err
	}
	if err := add(pricing.Line{Name: "Backups", Unit: "GB", Quantity: in.BackupGB, UsageBased: true, UsageSource: in.UsageSource,
		Query: q("Cloud SQL", region, "GB-month", map[string]string{"resource": "backup"})}); err != nil {
		return nil, err
	}
	return out, nil
}
