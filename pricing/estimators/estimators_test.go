package estimators

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

var now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// res builds a planned resource to create from JSON after values.
func res(tb testing.TB, addr, region, after string, refs map[string][]string) costgate.PlannedResource {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(after))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("%s: %v", addr, err)
	}
	typ, name, _ := strings.Cut(addr, ".")
	return costgate.PlannedResource{Address: addr, Type: typ, Name: name, Mode: "managed", Action: "create",
		After: m, Region: region, References: refs}
}

// TestEstimators prices one resource of each supported type (with the
// resources it depends on) against the embedded catalog; the expected
// figures are worked out by hand from the catalog's unit prices.
func TestEstimators(t *testing.T) {
	usage, err := pricing.ParseUsageFile([]byte(`version: 0.1
resource_usage:
  aws_lb.nlb:
    monthly_capacity_unit_hours: 1000
  aws_nat_gateway.nat:
    monthly_data_processed_gb: 100
  aws_lambda_function.arm:
    monthly_requests: 10000000
    request_duration_ms: 100
  aws_s3_bucket.big:
    standard:
      storage_gb: 60000
      monthly_tier_1_requests: 1000000
`), "usage.yml")
	if err != nil {
		t.Fatal(err)
	}
	use1 := "us-east-1"
	cases := map[string]struct {
		resources []costgate.PlannedResource
		address   string
		want      string // list monthly after; "" = unpriced
		partial   bool
		reason    string
		component string // a component name that must appear
	}{
		"asg launch template by reference": {
			resources: []costgate.PlannedResource{
				res(t, "aws_launch_template.web", use1, `{"instance_type":"t3.large","block_device_mappings":[{"ebs":[{"volume_size":20}]}]}`, nil),
				res(t, "aws_autoscaling_group.web", use1, `{"desired_capacity":2,"min_size":1,"launch_template":[{"version":"$Latest"}]}`,
					map[string][]string{"launch_template": {"aws_launch_template.web"}}),
			},
			address: "aws_autoscaling_group.web", want: "125.472", component: "Instance usage (Linux/UNIX, on-demand, t3.large)",
		},
		"asg launch configuration by name": {
			resources: []costgate.PlannedResource{
				res(t, "aws_launch_configuration.lc", use1, `{"name":"lc-web","instance_type":"m4.large","root_block_device":[{"volume_size":30,"volume_type":"gp3"}]}`, nil),
				res(t, "aws_autoscaling_group.lc", use1, `{"min_size":3,"launch_configuration":"lc-web"}`, nil),
			},
			address: "aws_autoscaling_group.lc", want: "226.2",
		},
		"asg with spot instances": {
			resources: []costgate.PlannedResource{
				res(t, "aws_launch_template.lt", use1, `{"instance_type":"m5.large"}`, nil),
				res(t, "aws_autoscaling_group.mixed", use1, `{"desired_capacity":4,"mixed_instances_policy":[{"instances_distribution":[{"on_demand_base_capacity":1,"on_demand_percentage_above_base_capacity":50}],"launch_template":[{"launch_template_specification":[{"launch_template_name":"x"}],"override":[]}]}]}`,
					map[string][]string{"mixed_instances_policy": {"aws_launch_template.lt"}}),
			},
			address: "aws_autoscaling_group.mixed", reason: "spot",
		},
		"asg without its template": {
			resources: []costgate.PlannedResource{res(t, "aws_autoscaling_group.x", use1, `{"desired_capacity":1,"launch_template":[{"name":"elsewhere"}]}`, nil)},
			address:   "aws_autoscaling_group.x", reason: `launch template "elsewhere" is not in this plan`,
		},
		"eks node group": {
			resources: []costgate.PlannedResource{res(t, "aws_eks_node_group.ng", use1, `{"instance_types":["m5.large"],"scaling_config":[{"desired_size":3,"min_size":1,"max_size":5}],"disk_size":null}`, nil)},
			address:   "aws_eks_node_group.ng", want: "216.24",
		},
		"eks cluster": {
			resources: []costgate.PlannedResource{res(t, "aws_eks_cluster.c", use1, `{"name":"c"}`, nil)},
			address:   "aws_eks_cluster.c", want: "73",
		},
		"alb": {
			resources: []costgate.PlannedResource{res(t, "aws_lb.alb", use1, `{"load_balancer_type":"application"}`, nil)},
			address:   "aws_lb.alb", want: "16.425", partial: true,
		},
		"nlb with usage": {
			resources: []costgate.PlannedResource{res(t, "aws_lb.nlb", use1, `{"load_balancer_type":"network"}`, nil)},
			address:   "aws_lb.nlb", want: "22.425",
		},
		"classic elb": {
			resources: []costgate.PlannedResource{res(t, "aws_elb.clb", use1, `{}`, nil)},
			address:   "aws_elb.clb", want: "18.25", partial: true,
		},
		"nat gateway with usage": {
			resources: []costgate.PlannedResource{res(t, "aws_nat_gateway.nat", use1, `{}`, nil)},
			address:   "aws_nat_gateway.nat", want: "37.35",
		},
		"elasticache cluster": {
			resources: []costgate.PlannedResource{res(t, "aws_elasticache_cluster.mc", use1, `{"engine":"memcached","node_type":"cache.t3.small","num_cache_nodes":2}`, nil)},
			address:   "aws_elasticache_cluster.mc", want: "49.64",
		},
		"elasticache replication group, cluster mode": {
			resources: []costgate.PlannedResource{res(t, "aws_elasticache_replication_group.rg", use1, `{"node_type":"cache.m5.large","num_node_groups":2,"replicas_per_node_group":1}`, nil)},
			address:   "aws_elasticache_replication_group.rg", want: "455.52",
		},
		"opensearch with masters and gp3": {
			resources: []costgate.PlannedResource{res(t, "aws_opensearch_domain.os", use1, `{"cluster_config":[{"instance_type":"m5.large.search","instance_count":3,"dedicated_master_enabled":true,"dedicated_master_type":"t3.small.search","dedicated_master_count":3}],"ebs_options":[{"ebs_enabled":true,"volume_type":"gp3","volume_size":100}]}`, nil)},
			address:   "aws_opensearch_domain.os", want: "426.42",
		},
		"elasticsearch type names": {
			resources: []costgate.PlannedResource{res(t, "aws_elasticsearch_domain.es", use1, `{"cluster_config":[{"instance_type":"t2.small.elasticsearch","instance_count":1}],"ebs_options":[{"ebs_enabled":true,"volume_size":10}]}`, nil)},
			address:   "aws_elasticsearch_domain.es", want: "27.63",
		},
		"dynamodb provisioned": {
			resources: []costgate.PlannedResource{res(t, "aws_dynamodb_table.t", use1, `{"billing_mode":"PROVISIONED","read_capacity":5,"write_capacity":5}`, nil)},
			address:   "aws_dynamodb_table.t", want: "2.847", partial: true,
		},
		"dynamodb on demand without usage": {
			resources: []costgate.PlannedResource{res(t, "aws_dynamodb_table.od", use1, `{"billing_mode":"PAY_PER_REQUEST"}`, nil)},
			address:   "aws_dynamodb_table.od", reason: "usage-based",
		},
		"lambda arm with usage": {
			resources: []costgate.PlannedResource{res(t, "aws_lambda_function.arm", use1, `{"memory_size":2048,"architectures":["arm64"]}`, nil)},
			address:   "aws_lambda_function.arm", want: "28.6668",
		},
		"s3 tiers": {
			resources: []costgate.PlannedResource{res(t, "aws_s3_bucket.big", use1, `{}`, nil)},
			address:   "aws_s3_bucket.big", want: "1376.2", partial: true, component: "Storage (next 450 TB)",
		},
		"ebs gp3 above the baseline": {
			resources: []costgate.PlannedResource{res(t, "aws_ebs_volume.v", use1, `{"type":"gp3","size":500,"iops":6000,"throughput":250}`, nil)},
			address:   "aws_ebs_volume.v", want: "60",
		},
		"ebs io2 tiered iops": {
			resources: []costgate.PlannedResource{res(t, "aws_ebs_volume.io2", use1, `{"type":"io2","size":1000,"iops":40000}`, nil)},
			address:   "aws_ebs_volume.io2", want: "2569",
		},
		"rds multi-az io1 postgres": {
			resources: []costgate.PlannedResource{res(t, "aws_db_instance.pg", use1, `{"instance_class":"db.m5.large","engine":"postgres","engine_version":"16.3","multi_az":true,"storage_type":"io1","allocated_storage":100,"iops":1000}`, nil)},
			address:   "aws_db_instance.pg", want: "484.88",
		},
		"rds mysql 8.0 in extended support": {
			resources: []costgate.PlannedResource{res(t, "aws_db_instance.my", use1, `{"instance_class":"db.t3.micro","engine":"mysql","engine_version":"8.0.36","storage_type":"gp3","allocated_storage":20}`, nil)},
			address:   "aws_db_instance.my", want: "160.71", component: "Extended support (year 1-2)",
		},
		"aurora cluster instance": {
			resources: []costgate.PlannedResource{res(t, "aws_rds_cluster_instance.a", use1, `{"instance_class":"db.r5.large","engine":"aurora-postgresql","engine_version":"11.9"}`, nil)},
			address:   "aws_rds_cluster_instance.a", want: "211.7",
		},
		"ec2 in an unknown region": {
			resources: []costgate.PlannedResource{res(t, "aws_instance.x", "", `{"instance_type":"t3.micro"}`, nil)},
			address:   "aws_instance.x", reason: "region is unknown",
		},
		"gce e2-standard-2": {
			resources: []costgate.PlannedResource{res(t, "google_compute_instance.vm", "us-central1", `{"machine_type":"e2-standard-2","boot_disk":[{"initialize_params":[{"size":20,"type":"pd-balanced"}]}]}`, nil)},
			address:   "google_compute_instance.vm", want: "50.9183366",
		},
		"gce spot is unpriced": {
			resources: []costgate.PlannedResource{res(t, "google_compute_instance.spot", "us-central1", `{"machine_type":"e2-standard-2","scheduling":[{"provisioning_model":"SPOT"}]}`, nil)},
			address:   "google_compute_instance.spot", reason: "Preemptible",
		},
		"gce disk default size": {
			resources: []costgate.PlannedResource{res(t, "google_compute_disk.d", "us-central1", `{"type":"pd-standard"}`, nil)},
			address:   "google_compute_disk.d", want: "20",
		},
		"cloud sql custom regional": {
			resources: []costgate.PlannedResource{res(t, "google_sql_database_instance.db", "us-central1", `{"database_version":"POSTGRES_15","settings":[{"tier":"db-custom-2-7680","availability_type":"REGIONAL","disk_type":"PD_SSD","disk_size":100}]}`, nil)},
			address:   "google_sql_database_instance.db", want: "231.246", partial: true,
		},
		"gke regional default pool": {
			resources: []costgate.PlannedResource{res(t, "google_container_cluster.gke", "us-central1", `{"location":"us-central1","initial_node_count":1,"node_config":[{"machine_type":"e2-medium","disk_size_gb":100,"disk_type":"pd-standard"}]}`, nil)},
			address:   "google_container_cluster.gke", want: "158.3775049",
		},
		"gke node pool autoscaled": {
			resources: []costgate.PlannedResource{res(t, "google_container_node_pool.np", "us-central1", `{"location":"us-central1-a","autoscaling":[{"min_node_count":2,"max_node_count":5}],"node_config":[{"machine_type":"n1-standard-1","disk_size_gb":50,"disk_type":"pd-ssd"}]}`, nil)},
			address:   "google_container_node_pool.np", want: "86.349635",
		},
		"azure linux vm premium disk": {
			resources: []costgate.PlannedResource{res(t, "azurerm_linux_virtual_machine.vm", "eastus", `{"size":"Standard_B2s","os_disk":[{"storage_account_type":"Premium_LRS","disk_size_gb":64}]}`, nil)},
			address:   "azurerm_linux_virtual_machine.vm", want: "40.578", component: "Storage (P6, LRS)",
		},
		"azure windows vm default disk": {
			resources: []costgate.PlannedResource{res(t, "azurerm_windows_virtual_machine.w", "eastus", `{"size":"Standard_D2s_v3","os_disk":[{"storage_account_type":"Standard_LRS"}]}`, nil)},
			address:   "azurerm_windows_virtual_machine.w", want: "143.128", partial: true, component: "Storage (S10, LRS)",
		},
		"azure managed disk": {
			resources: []costgate.PlannedResource{res(t, "azurerm_managed_disk.d", "eastus", `{"storage_account_type":"StandardSSD_LRS","disk_size_gb":1000}`, nil)},
			address:   "azurerm_managed_disk.d", want: "76.8", partial: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			est := New(pricing.Default(), pricing.Options{Usage: usage, Now: func() time.Time { return now }})
			pe, err := est.Estimate(context.Background(), tc.resources)
			if err != nil {
				t.Fatal(err)
			}
			r := pe.Resource(tc.address)
			if tc.want == "" {
				if r.Priced {
					t.Fatalf("priced at %s, want unpriced", r.ListMonthlyAfter)
				}
			} else {
				if !r.Priced {
					t.Fatalf("unpriced: %s", r.Reason)
				}
				if got := r.ListMonthlyAfter.String(); got != tc.want {
					for _, c := range r.Components {
						t.Logf("  %s %s: %v × %s = %v", c.Subresource, c.Name, c.MonthlyQuantity, c.ListUnitPrice, c.ListMonthly)
					}
					t.Errorf("list monthly = %s, want %s", got, tc.want)
				}
			}
			if r.Partial != tc.partial {
				t.Errorf("partial = %v (%s)", r.Partial, r.Reason)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("reason %q, want %q", r.Reason, tc.reason)
			}
			if tc.component != "" {
				found := false
				for _, c := range r.Components {
					found = found || c.Name == tc.component
				}
				if !found {
					t.Errorf("no component %q in %+v", tc.component, r.Components)
				}
			}
		})
	}
}

// TestRegistryCoversTheIssue lists every type the issue asks for.
func TestRegistryCoversTheIssue(t *testing.T) {
	r := Registry()
	for _, typ := range []string{
		"aws_instance", "aws_ebs_volume", "aws_db_instance", "aws_rds_cluster_instance", "aws_nat_gateway", "aws_lb", "aws_alb", "aws_elb",
		"aws_eks_cluster", "aws_eks_node_group", "aws_autoscaling_group", "aws_elasticache_cluster", "aws_elasticache_replication_group",
		"aws_opensearch_domain", "aws_elasticsearch_domain", "aws_dynamodb_table", "aws_lambda_function", "aws_s3_bucket",
		"google_compute_instance", "google_compute_disk", "google_sql_database_instance", "google_container_cluster", "google_container_node_pool",
		"azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine", "azurerm_managed_disk",
	} {
		if !r.Supports(typ) {
			t.Errorf("%s has no estimator", typ)
		}
	}
	for _, typ := range []string{"aws_iam_role", "aws_security_group", "aws_vpc", "aws_subnet", "aws_volume_attachment", "aws_db_parameter_group",
		"aws_db_option_group", "aws_db_subnet_group", "google_compute_network", "azurerm_resource_group", "random_id", "null_resource"} {
		if !r.IsFree(typ) {
			t.Errorf("%s is not free", typ)
		}
	}
	if r.IsFree("aws_sqs_queue") || r.Supports("aws_sqs_queue") {
		t.Error("aws_sqs_queue should be unknown (unpriced), neither free nor supported")
	}
	if !r.NeedsValues("aws_launch_template") || r.NeedsValues("aws_iam_role") {
		t.Error("NeedsValues")
	}
}
