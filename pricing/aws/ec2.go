package aws

import (
	"fmt"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// Instance is an EC2 instance (or a group of identical ones) in typed
// attributes.
type Instance struct {
	Type string
	// OS is the operating system as the price list names it: Linux,
	// Windows, RHEL, SUSE.
	OS string
	// Tenancy is Shared, Dedicated or Host.
	Tenancy string
	// Count is the number of instances (1 for aws_instance).
	Count int64
	// Spot counts instances bought on the spot market; their price is
	// not a list price, so they stay unpriced.
	Spot int64
	// Volumes are the EBS volumes of each instance.
	Volumes []Volume
}

// Volume is an EBS volume in typed attributes.
type Volume struct {
	Subresource string
	// Type is the API name: gp2, gp3, io1, io2, st1, sc1, standard.
	Type       string
	SizeGB     int64
	IOPS       int64
	Throughput int64 // MiB/s
	// Count multiplies the volume (one per instance of a group).
	Count int64
}

var osLabel = map[string]string{"Linux": "Linux/UNIX", "Windows": "Windows", "RHEL": "RHEL", "SUSE": "SUSE"}

// instanceComponents prices instance hours and the instances' volumes.
func instanceComponents(p pricing.Pricer, region string, in Instance) ([]costgate.CostComponent, error) {
	count := in.Count
	if count == 0 {
		count = 1
	}
	var out []costgate.CostComponent
	onDemand := count - in.Spot
	if onDemand > 0 {
		c, err := p.Component(pricing.Line{
			Name:     fmt.Sprintf("Instance usage (%s, on-demand, %s)", osLabel[in.OS], in.Type),
			Unit:     "hours",
			Quantity: pricing.Hours(onDemand),
			Query: q("AmazonEC2", region, "hour", map[string]string{
				"instanceType": in.Type, "operatingSystem": in.OS, "tenancy": in.Tenancy,
				"preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required",
			}),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if in.Spot > 0 {
		return nil, pricing.Unpriced("%d spot instance(s) of %s: spot prices change hourly and are not list prices", in.Spot, in.Type)
	}
	for _, v := range in.Volumes {
		if v.Count == 0 {
			v.Count = count
		}
		cs, err := volumeComponents(p, region, v)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

var volumeLabel = map[string]string{
	"gp2": "general purpose SSD, gp2", "gp3": "general purpose SSD, gp3",
	"io1": "provisioned IOPS SSD, io1", "io2": "provisioned IOPS SSD, io2",
	"st1": "throughput optimized HDD, st1", "sc1": "cold HDD, sc1", "standard": "magnetic",
}

// gp3 includes 3,000 IOPS and 125 MiB/s.
const (
	gp3FreeIOPS       = 3000
	gp3FreeThroughput = 125
)

// volumeComponents prices an EBS volume: storage, and provisioned IOPS
// and throughput where the type charges for them.
func volumeComponents(p pricing.Pricer, region string, v Volume) ([]costgate.CostComponent, error) {
	n := v.Count
	if n == 0 {
		n = 1
	}
	label, ok := volumeLabel[v.Type]
	if !ok {
		return nil, pricing.Unpriced("EBS volume type %q is not known", v.Type)
	}
	storage, err := p.Component(pricing.Line{
		Name: fmt.Sprintf("Storage (%s)", label), Subresource: v.Subresource, Unit: "GB",
		Quantity: pricing.Qty(v.SizeGB * n),
		Query:    q("AmazonEC2", region, "GB-month", map[string]string{"productFamily": "Storage", "volumeApiName": v.Type}),
	})
	if err != nil {
		return nil, err
	}
	out := []costgate.CostComponent{storage}
	iops := pricing.Query{}
	var extra int64
	switch v.Type {
	case "io1", "io2":
		extra = v.IOPS
	case "gp3":
		extra = max(v.IOPS-gp3FreeIOPS, 0)
	}
	if extra > 0 {
		iops = q("AmazonEC2", region, "IOPS-month", map[string]string{"productFamily": "System Operation", "group": "EBS IOPS", "volumeApiName": v.Type})
		line := pricing.Line{Name: "Provisioned IOPS", Subresource: v.Subresource, Unit: "IOPS", Quantity: pricing.Qty(extra * n), Query: iops}
		if v.Type == "io2" {
			// io2 IOPS are tiered per volume; price one volume and scale.
			one := line
			one.Quantity = pricing.Qty(extra)
			cs, err := p.Tiered(one, iopsTierName)
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				out = append(out, scaleComponent(c, n))
			}
		} else {
			c, err := p.Component(line)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	if v.Type == "gp3" && v.Throughput > gp3FreeThroughput {
		c, err := p.Component(pricing.Line{
			Name: "Provisioned throughput", Subresource: v.Subresource, Unit: "MiB/s",
			Quantity: pricing.Qty((v.Throughput - gp3FreeThroughput) * n),
			Query:    q("AmazonEC2", region, "MiBps-month", map[string]string{"productFamily": "Provisioned Throughput", "volumeApiName": "gp3"}),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func iopsTierName(start, end *costgate.Rate) string {
	switch {
	case start == nil || start.IsZero():
		if end != nil {
			return fmt.Sprintf(" (first %s)", end)
		}
		return ""
	case end == nil:
		return fmt.Sprintf(" (over %s)", start)
	}
	return fmt.Sprintf(" (%s to %s)", start, end)
}

// scaleComponent multiplies a component's quantity and cost by n.
func scaleComponent(c costgate.CostComponent, n int64) costgate.CostComponent {
	if n == 1 || c.MonthlyQuantity == nil {
		return c
	}
	q := costgate.Quantity(int64(*c.MonthlyQuantity) * n)
	c.MonthlyQuantity = &q
	lm, _ := c.ListUnitPrice.Cost(q)
	m, _ := c.UnitPrice.Cost(q)
	c.ListMonthly, c.Monthly = &lm, &m
	return c
}

// normalizeOS maps usage-file and AMI hints to price-list names.
func normalizeOS(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "windows":
		return "Windows"
	case "rhel", "red hat", "redhat":
		return "RHEL"
	case "suse", "sles":
		return "SUSE"
	}
	return "Linux"
}

func normalizeTenancy(s string) string {
	switch strings.ToLower(s) {
	case "dedicated":
		return "Dedicated"
	case "host":
		return "Host"
	}
	return "Shared"
}
