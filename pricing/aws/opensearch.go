package aws

import (
	"fmt"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// SearchDomain is an OpenSearch (or Elasticsearch) domain in typed
// attributes.
type SearchDomain struct {
	InstanceType  string
	Instances     int64
	MasterType    string
	Masters       int64
	WarmType      string
	WarmInstances int64
	// EBS storage per data instance; VolumeType gp2, gp3, io1 or standard.
	EBS        bool
	VolumeType string
	VolumeGB   int64
	IOPS       int64
}

var searchStorage = map[string]struct{ media, label string }{
	"gp2": {"GP2", "gp2"}, "gp3": {"GP3", "gp3"}, "io1": {"PIOPS", "io1"}, "standard": {"Magnetic", "standard"},
}

func searchDomainComponents(p pricing.Pricer, region string, d SearchDomain) ([]costgate.CostComponent, error) {
	var out []costgate.CostComponent
	add := func(l pricing.Line) error {
		c, err := p.Component(l)
		if err == nil {
			out = append(out, c)
		}
		return err
	}
	inst := func(label, typ string, n int64) error {
		return add(pricing.Line{Name: fmt.Sprintf("%s (on-demand, %s)", label, typ), Unit: "hours", Quantity: pricing.Hours(n),
			Query: q("AmazonES", region, "hour", map[string]string{"instanceType": searchType(typ)})})
	}
	if err := inst("Instance", d.InstanceType, d.Instances); err != nil {
		return nil, err
	}
	if d.EBS {
		st, ok := searchStorage[d.VolumeType]
		if !ok {
			return nil, pricing.Unpriced("OpenSearch volume type %q is not known", d.VolumeType)
		}
		if err := add(pricing.Line{Name: fmt.Sprintf("Storage (%s)", st.label), Unit: "GB", Quantity: pricing.Qty(d.VolumeGB * d.Instances),
			Query: q("AmazonES", region, "GB-month", map[string]string{"productFamily": "Elastic Search Volume", "storageMedia": st.media})}); err != nil {
			return nil, err
		}
		if d.VolumeType == "io1" && d.IOPS > 0 {
			if err := add(pricing.Line{Name: "Storage IOPS (io1)", Unit: "IOPS", Quantity: pricing.Qty(d.IOPS * d.Instances),
				Query: q("AmazonES", region, "IOPS-month", map[string]string{"productFamily": "Elastic Search Volume", "storageMedia": "PIOPS", "group": "IOPS"})}); err != nil {
				return nil, err
			}
		}
	}
	if d.Masters > 0 {
		if err := inst("Dedicated master", d.MasterType, d.Masters); err != nil {
			return nil, err
		}
	}
	if d.WarmInstances > 0 {
		if err := inst("UltraWarm instance", d.WarmType, d.WarmInstances); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// searchType names Elasticsearch-era types the OpenSearch way
// (t2.small.elasticsearch -> t2.small.search); the prices are the same.
func searchType(t string) string {
	return strings.Replace(t, ".elasticsearch", ".search", 1)
}
