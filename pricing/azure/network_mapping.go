package azure

import (
	"github.com/costgate/costgate/pricing"
)

// firewallSide maps azurerm_firewall (usage: monthly_data_processed_gb).
func firewallSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	f := Firewall{Tier: s.StrOr("sku_tier", "Standard")}
	if v, ok := env.Usage.Quantity("monthly_data_processed_gb"); ok {
		f.DataProcessedGB, f.UsageSource = v, env.Usage.Source
	}
	cs, err := firewallComponents(env.Pricer, region, f)
	return &pricing.Result{Components: cs}, err
}

// publicIPSide maps azurerm_public_ip.
func publicIPSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	ip := PublicIP{SKU: s.StrOr("sku", "Basic"), Allocation: s.StrOr("allocation_method", "Dynamic")}
	cs, err := publicIPComponents(env.Pricer, region, ip)
	return &pricing.Result{Components: cs}, err
}

// expressRouteGatewaySide maps azurerm_express_route_gateway.
func expressRouteGatewaySide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	n, ok := s.Int("scale_units")
	if !ok {
		return nil, pricing.Unpriced("scale_units is not known")
	}
	cs, err := expressRouteGatewayComponents(env.Pricer, region, n)
	return &pricing.Result{Components: cs}, err
}

// expressRouteConnectionSide maps azurerm_express_route_connection; its
// region is its gateway's.
func expressRouteConnectionSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region := s.Region()
	if region == "" {
		for _, g := range env.Plan.Referenced(s.Resource, "express_route_gateway_id", "azurerm_express_route_gateway") {
			region = g.Region
		}
	}
	if region == "" {
		return nil, pricing.Unpriced("the region of the ExpressRoute gateway is not known")
	}
	cs, err := expressRouteConnectionComponents(env.Pricer, region)
	return &pricing.Result{Components: cs}, err
}
