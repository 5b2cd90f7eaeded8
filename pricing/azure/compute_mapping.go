package azure

import (
	"strconv"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// Default OS disk sizes of the common marketplace images.
const (
	linuxOSDiskGB   = 30
	windowsOSDiskGB = 127
)

func linuxVMSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	return vmSide(env, s, "Linux", linuxOSDiskGB)
}

func windowsVMSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	return vmSide(env, s, "Windows", windowsOSDiskGB)
}

// vmSide maps azurerm_linux_virtual_machine and
// azurerm_windows_virtual_machine (usage: os_disk.monthly_disk_operations).
func vmSide(env *pricing.Env, s pricing.Side, os string, defaultDiskGB int64) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	size, err := s.Need("size")
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	vm := VM{Size: size, OS: os}
	if od, ok := s.Block("os_disk"); ok {
		fam, err := diskFamily(od.StrOr("storage_account_type", "Standard_LRS"))
		if err != nil {
			return nil, err
		}
		d := ManagedDisk{Subresource: "os_disk", Family: fam, SizeGB: defaultDiskGB}
		if n, ok := od.Int("disk_size_gb"); ok && n > 0 {
			d.SizeGB = n
		} else {
			res.Assumptions = append(res.Assumptions, "os_disk size from the image: assumed "+itoa(defaultDiskGB)+" GB")
		}
		d.Operations, d.UsageSrc = diskOperations(env.Usage, "os_disk.monthly_disk_operations")
		vm.OSDisk = &d
	}
	res.Components, err = vmComponents(env.Pricer, region, vm)
	return res, err
}

// managedDiskSide maps azurerm_managed_disk (usage: monthly_disk_operations).
func managedDiskSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	fam, err := diskFamily(s.StrOr("storage_account_type", ""))
	if err != nil {
		return nil, err
	}
	n, ok := s.Int("disk_size_gb")
	if !ok {
		return nil, pricing.Unpriced("disk_size_gb is not known")
	}
	d := ManagedDisk{Family: fam, SizeGB: n}
	d.Operations, d.UsageSrc = diskOperations(env.Usage, "monthly_disk_operations")
	cs, err := diskComponents(env.Pricer, region, d)
	return &pricing.Result{Components: cs}, err
}

func diskFamily(accountType string) (string, error) {
	switch accountType {
	case "Standard_LRS":
		return "Standard HDD", nil
	case "StandardSSD_LRS":
		return "Standard SSD", nil
	case "Premium_LRS":
		return "Premium SSD", nil
	}
	return "", pricing.Unpriced("storage_account_type %q is not priced (LRS Standard, StandardSSD and Premium are)", accountType)
}

// diskOperations reads a number of operations and returns it in units
// of 10k.
func diskOperations(u pricing.Usage, key string) (*costgate.Quantity, string) {
	ops, ok := u.Quantity(key)
	if !ok {
		return nil, ""
	}
	return pricing.QtyRate(ops.Rate().Mul(costgate.RateOf(1, 10000))), u.Source
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}
