package aws

import (
	"github.com/costgate/costgate/pricing"
)

// natGatewaySide maps aws_nat_gateway (usage: monthly_data_processed_gb).
// A private NAT gateway is priced the same.
func natGatewaySide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	n := NATGateway{}
	if v, ok := env.Usage.Quantity("monthly_data_processed_gb"); ok {
		n.DataProcessedGB, n.UsageSource = v, env.Usage.Source
	}
	cs, err := natGatewayComponents(env.Pricer, region, n)
	return &pricing.Result{Components: cs}, err
}

// loadBalancerSide maps aws_lb and aws_alb (usage:
// monthly_capacity_unit_hours).
func loadBalancerSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	lb := LoadBalancer{Kind: s.StrOr("load_balancer_type", "application")}
	if v, ok := env.Usage.Quantity("monthly_capacity_unit_hours"); ok {
		lb.CapacityUnitHrs, lb.UsageSource = v, env.Usage.Source
	}
	cs, err := loadBalancerComponents(env.Pricer, region, lb)
	return &pricing.Result{Components: cs}, err
}

// classicLoadBalancerSide maps aws_elb (usage: monthly_data_processed_gb).
func classicLoadBalancerSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	lb := LoadBalancer{Kind: "classic"}
	if v, ok := env.Usage.Quantity("monthly_data_processed_gb"); ok {
		lb.DataProcessedGB, lb.UsageSource = v, env.Usage.Source
	}
	cs, err := loadBalancerComponents(env.Pricer, region, lb)
	return &pricing.Result{Components: cs}, err
}
