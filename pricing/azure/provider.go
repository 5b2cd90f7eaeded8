// Package azure estimates the cost of Azure resources in Terraform
// plans: Linux and Windows virtual machines, managed disks, firewalls,
// public IPs and ExpressRoute gateways.
//
// Mapping files (*_mapping.go) read plan attributes into typed
// attributes; pricing files turn those into cost components through a
// pricing.Pricer.
package azure

import (
	"github.com/costgate/costgate/pricing"
)

const provider = "azure"

// Register adds the Azure estimators and free types to r.
func Register(r *pricing.Registry) {
	r.Register("azurerm_linux_virtual_machine", linuxVMSide)
	r.Register("azurerm_windows_virtual_machine", windowsVMSide)
	r.Register("azurerm_managed_disk", managedDiskSide)
	r.Register("azurerm_firewall", firewallSide)
	r.Register("azurerm_public_ip", publicIPSide)
	r.Register("azurerm_express_route_gateway", expressRouteGatewaySide)
	r.Register("azurerm_express_route_connection", expressRouteConnectionSide)
	r.Referring("azurerm_express_route_connection") // its gateway, for the region
	r.Free(FreeTypes...)
}

// FreeTypes cost nothing by themselves.
var FreeTypes = []string{
	"azurerm_resource_group", "azurerm_virtual_network", "azurerm_subnet", "azurerm_network_security_group",
	"azurerm_network_security_rule", "azurerm_network_interface", "azurerm_network_interface_security_group_association",
	"azurerm_subnet_network_security_group_association", "azurerm_subnet_route_table_association", "azurerm_route_table",
	"azurerm_route", "azurerm_role_assignment", "azurerm_role_definition", "azurerm_user_assigned_identity",
	"azurerm_virtual_wan", "azurerm_management_lock", "azurerm_network_interface_backend_address_pool_association",
	"azurerm_virtual_machine_data_disk_attachment", "azurerm_availability_set",
}

func q(service, region, unit string, attrs map[string]string) pricing.Query {
	return pricing.Query{Provider: provider, Service: service, Region: region, Unit: unit, Attrs: attrs}
}

func needRegion(s pricing.Side) (string, error) {
	if r := s.Region(); r != "" {
		return r, nil
	}
	return "", pricing.Unpriced("location is not known")
}
