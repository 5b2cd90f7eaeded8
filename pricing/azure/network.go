package azure

import (
	"fmt"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// Firewall is an Azure Firewall: Standard or Premium tier (a Secured
// Virtual Hub firewall is priced as its tier).
type Firewall struct {
	Tier            string
	DataProcessedGB *costgate.Quantity
	UsageSource     string
}

func firewallComponents(p pricing.Pricer, region string, f Firewall) ([]costgate.CostComponent, error) {
	d, err := p.Component(pricing.Line{Name: fmt.Sprintf("Deployment (%s)", f.Tier), Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("Azure Firewall", region, "hour", map[string]string{"skuTier": f.Tier})})
	if err != nil {
		return nil, err
	}
	u, err := p.Component(pricing.Line{Name: "Data processed", Unit: "GB", Quantity: f.DataProcessedGB, UsageBased: true, UsageSource: f.UsageSource,
		Query: q("Azure Firewall", region, "GB", map[string]string{"resource": "data-processed"})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{d, u}, nil
}

// PublicIP is a public IP address.
type PublicIP struct {
	SKU        string // Basic or Standard
	Allocation string // Static or Dynamic
}

func publicIPComponents(p pricing.Pricer, region string, ip PublicIP) ([]costgate.CostComponent, error) {
	c, err := p.Component(pricing.Line{Name: fmt.Sprintf("IP address (%s)", lower(ip.Allocation)), Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("Virtual Network", region, "hour", map[string]string{"resource": "public-ip", "sku": ip.SKU, "allocation": ip.Allocation})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{c}, nil
}

// expressRouteGatewayComponents prices scale units (2 Gbps each).
func expressRouteGatewayComponents(p pricing.Pricer, region string, scaleUnits int64) ([]costgate.CostComponent, error) {
	c, err := p.Component(pricing.Line{Name: "ER scale units (2 Gbps)", Unit: "scale units", Quantity: pricing.Qty(scaleUnits), Scale: costgate.HoursPerMonth,
		Query: q("ExpressRoute", region, "scale-unit-hour", map[string]string{"resource": "gateway-scale-unit"})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{c}, nil
}

func expressRouteConnectionComponents(p pricing.Pricer, region string) ([]costgate.CostComponent, error) {
	c, err := p.Component(pricing.Line{Name: "ER Connections", Unit: "hours", Quantity: pricing.Hours(1),
		Query: q("ExpressRoute", region, "hour", map[string]string{"resource": "connection"})})
	if err != nil {
		return nil, err
	}
	return []costgate.CostComponent{c}, nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
