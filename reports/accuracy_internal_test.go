package reports

import (
	"slices"
	"testing"
)

func TestBillingIDs(t *testing.T) {
	tests := map[string]struct {
		ids  []string
		want []string
	}{
		"plain id":     {[]string{"i-0abc"}, []string{"i-0abc"}},
		"ec2 arn":      {[]string{"arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "i-0abc"}, []string{"arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "i-0abc"}},
		"s3 arn":       {[]string{"arn:aws:s3:::my-bucket"}, []string{"arn:aws:s3:::my-bucket", "my-bucket"}},
		"rds arn":      {[]string{"arn:aws:rds:eu-west-1:123456789012:db:main"}, []string{"arn:aws:rds:eu-west-1:123456789012:db:main"}},
		"short arn":    {[]string{"arn:aws:nope"}, []string{"arn:aws:nope"}},
		"self_link":    {[]string{"https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d"}, []string{"https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d", "//compute.googleapis.com/projects/p/zones/z/disks/d"}},
		"service host": {[]string{"https://sqladmin.googleapis.com/sql/v1beta4/projects/p/instances/db"}, []string{"https://sqladmin.googleapis.com/sql/v1beta4/projects/p/instances/db"}},
		"other https":  {[]string{"https://example.com/x/y"}, []string{"https://example.com/x/y"}},
		"azure":        {[]string{"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM"}, []string{"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM", "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm"}},
		"none":         {nil, nil},
		"empty":        {[]string{""}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := billingIDs(tc.ids...); !slices.Equal(got, tc.want) {
				t.Errorf("billingIDs(%q) = %q, want %q", tc.ids, got, tc.want)
			}
		})
	}
}

func TestTypeCompatible(t *testing.T) {
	tests := map[string]struct {
		inv, tf string
		want    bool
	}{
		"equal":               {"aws_instance", "aws_instance", true},
		"unknown":             {"", "aws_instance", true},
		"tagging vocabulary":  {"ec2:instance", "aws_instance", true},
		"other terraform":     {"aws_ebs_volume", "aws_instance", false},
		"other provider's tf": {"google_compute_disk", "aws_instance", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := typeCompatible(tc.inv, tc.tf); got != tc.want {
				t.Errorf("typeCompatible(%q, %q) = %v", tc.inv, tc.tf, got)
			}
		})
	}
	for src, want := range map[string]string{"registry.terraform.io/hashicorp/aws": "AWS", "hashicorp/google-beta": "Google Cloud",
		"registry.terraform.io/hashicorp/azurerm": "Microsoft", "registry.terraform.io/hashicorp/random": "", "": ""} {
		if got := focusProvider(src); got != want {
			t.Errorf("focusProvider(%q) = %q, want %q", src, got, want)
		}
	}
}
