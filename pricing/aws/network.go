package aws

import (
	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// NATGateway is a NAT gateway with its monthly data processed (nil when
// unknown).
type NATGateway struct {
	DataProcessedGB *costgate.Quantity
	UsageSource     string
}

func natGatewayComponents(p pricing.Pricer, region string, n NATGateway) ([]costgate.CostComponent, error) {
	h, err := p.Component(pricing.Line{Name: "NAT gateway", Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("AmazonEC2", region, "hour", map[string]string{"productFamily": "NAT Gateway", "usagetype": "NatGateway-Hours"})})
	if err != nil {
		return nil, err
	}
	d, err := p.Component(pricing.Line{Name: "Data processed", Unit: "GB", Quantity: n.DataProcessedGB,
		UsageBased: true, UsageSource: n.UsageSource,
		Query: q("AmazonEC2", region, "GB", map[string]string{"productFamily": "NAT Gateway", "usagetype": "NatGateway-Bytes"})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{h, d}, nil
}

// LoadBalancer is an ELB load balancer: application, network, gateway
// or classic, with its monthly capacity-unit hours (ALB/NLB/GWLB) or
// data processed (classic), nil when unknown.
type LoadBalancer struct {
	Kind            string // application, network, gateway, classic
	CapacityUnitHrs *costgate.Quantity
	DataProcessedGB *costgate.Quantity
	UsageSource     string
}

var lbFamily = map[string]struct{ family, label string }{
	"application": {"Load Balancer-Application", "Application load balancer"},
	"network":     {"Load Balancer-Network", "Network load balancer"},
	"gateway":     {"Load Balancer-Gateway", "Gateway load balancer"},
	"classic":     {"Load Balancer", "Classic load balancer"},
}

func loadBalancerComponents(p pricing.Pricer, region string, lb LoadBalancer) ([]costgate.CostComponent, error) {
	f, ok := lbFamily[lb.Kind]
	if !ok {
		return nil, pricing.Unpriced("load balancer type %q is not known", lb.Kind)
	}
	h, err := p.Component(pricing.Line{Name: f.label, Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("AWSELB", region, "hour", map[string]string{"productFamily": f.family, "usagetype": "LoadBalancerUsage"})})
	if err != nil {
		return nil, err
	}
	var u costgate.CostComponent
	if lb.Kind == "classic" {
		u, err = p.Component(pricing.Line{Name: "Data processed", Unit: "GB", Quantity: lb.DataProcessedGB, UsageBased: true, UsageSource: lb.UsageSource,
			Query: q("AWSELB", region, "GB", map[string]string{"productFamily": f.family, "usagetype": "DataProcessing-Bytes"})})
	} else {
		u, err = p.Component(pricing.Line{Name: "Load balancer capacity units", Unit: "LCU-hours", Quantity: lb.CapacityUnitHrs, UsageBased: true, UsageSource: lb.UsageSource,
			Query: q("AWSELB", region, "LCU-hour", map[string]string{"productFamily": f.family, "usagetype": "LCUUsage"})})
	}
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{h, u}, nil
}
