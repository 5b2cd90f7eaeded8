package pricing

import (
	"reflect"
	"testing"
)

const testConfiguration = `{
  "provider_config": {
    "aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}},
    "aws.west": {"name": "aws", "alias": "west", "expressions": {"region": {"references": ["var.west_region"]}}},
    "module.db:aws": {"name": "aws", "module_address": "module.db", "expressions": {"region": {"constant_value": "eu-west-1"}}},
    "module.db.module.inner:aws": {"name": "aws", "module_address": "module.db.module.inner"},
    "google": {"name": "google", "expressions": {"region": {"constant_value": "europe-west1"}}}
  },
  "root_module": {
    "resources": [
      {"address": "aws_autoscaling_group.web", "mode": "managed", "type": "aws_autoscaling_group", "name": "web",
       "expressions": {"launch_template": [{"id": {"references": ["aws_launch_template.web.id", "aws_launch_template.web"]}, "version": {"constant_value": "$Latest"}}],
                       "vpc_zone_identifier": {"references": ["var.subnets", "module.net.private_ids", "data.aws_subnets.x"]}}},
      {"address": "aws_launch_template.web", "mode": "managed", "type": "aws_launch_template", "name": "web",
       "expressions": {"instance_type": {"constant_value": "t3.large"}}}
    ],
    "module_calls": {
      "db": {"source": "./db", "module": {
        "resources": [{"address": "aws_appautoscaling_target.t", "mode": "managed", "type": "aws_appautoscaling_target", "name": "t",
                       "expressions": {"resource_id": {"references": ["aws_dynamodb_table.t[0].name", "aws_dynamodb_table.t"]}}}]
      }}
    }
  }
}`

func TestParsePlanConfig(t *testing.T) {
	pc, err := ParsePlanConfig([]byte(testConfiguration), map[string]any{"west_region": "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	regions := []struct{ key, module, provider, want string }{
		{"aws", "", "registry.terraform.io/hashicorp/aws", "us-east-1"},
		{"aws.west", "", "registry.terraform.io/hashicorp/aws", "us-west-2"},
		{"module.db:aws", "module.db", "registry.terraform.io/hashicorp/aws", "eu-west-1"},
		// an empty module configuration inherits from its parent module
		{"module.db.module.inner:aws", "module.db.module.inner", "registry.terraform.io/hashicorp/aws", "eu-west-1"},
		// no key: nearest enclosing module, then the root
		{"", `module.db["x"].module.other`, "registry.terraform.io/hashicorp/aws", "eu-west-1"},
		{"", "module.app", "registry.terraform.io/hashicorp/aws", "us-east-1"},
		{"", "", "registry.terraform.io/hashicorp/google", "europe-west1"},
		{"", "", "registry.terraform.io/hashicorp/azurerm", ""},
	}
	for _, r := range regions {
		if got := pc.ProviderRegion(r.key, r.module, r.provider); got != r.want {
			t.Errorf("ProviderRegion(%q, %q) = %q, want %q", r.key, r.module, got, r.want)
		}
	}
	refs := pc.References("aws_autoscaling_group.web")
	if want := map[string][]string{"launch_template": {"aws_launch_template.web"}}; !reflect.DeepEqual(refs, want) {
		t.Errorf("asg refs = %v", refs)
	}
	if got := pc.References(`module.db.aws_appautoscaling_target.t`)["resource_id"]; !reflect.DeepEqual(got, []string{"module.db.aws_dynamodb_table.t"}) {
		t.Errorf("module refs = %v", got)
	}
	if _, err := ParsePlanConfig([]byte(`{"root_module": [`), nil); err == nil {
		t.Error("bad JSON accepted")
	}
	if pc, err := ParsePlanConfig(nil, nil); err != nil || pc.ProviderRegion("aws", "", "aws") != "" {
		t.Errorf("empty config: %v", err)
	}
}

func TestResourceRegionAndAccount(t *testing.T) {
	cases := []struct {
		typ    string
		values map[string]any
		region string
		acct   string
	}{
		{"aws_s3_bucket", map[string]any{"region": "eu-west-1", "arn": "arn:aws:s3:::b"}, "eu-west-1", ""},
		{"aws_ebs_volume", map[string]any{"availability_zone": "us-west-2b", "arn": "arn:aws:ec2:us-west-2:123456789012:volume/vol-1"}, "us-west-2", "123456789012"},
		{"google_compute_instance", map[string]any{"zone": "us-central1-a", "project": "acme"}, "us-central1", "acme"},
		{"google_container_cluster", map[string]any{"location": "europe-west1-b"}, "europe-west1", ""},
		{"google_container_cluster", map[string]any{"location": "us-central1"}, "us-central1", ""},
		{"azurerm_managed_disk", map[string]any{"location": "West Europe", "id": "/subscriptions/sub-1/resourceGroups/rg/providers/x"}, "westeurope", "sub-1"},
		{"aws_instance", nil, "", ""},
	}
	for _, c := range cases {
		if got := ResourceRegion(c.typ, c.values); got != c.region {
			t.Errorf("%s region = %q, want %q", c.typ, got, c.region)
		}
		if got := ResourceAccount(c.typ, c.values); got != c.acct {
			t.Errorf("%s account = %q, want %q", c.typ, got, c.acct)
		}
	}
}
