package costgate.compute.allowed_types_test

import data.costgate.compute.allowed_types

config := {"compute": {"allowed_types": {
	"dev": ["t3.*", "e2-*", "Standard_B*"],
	"prod": ["m5.*", "db.r6g.*"],
}}}

config_star := {"compute": {"allowed_types": {
	"dev": ["t3.*"],
	"*": ["t3.*", "m5.*"],
}}}

# resource(overrides) is a managed resource being created, with the
# top-level fields in overrides replaced (not merged).
resource(overrides) := object.union(
	object.remove(base, object.keys(overrides)),
	overrides,
)

base := {
	"address": "aws_instance.web",
	"type": "aws_instance",
	"name": "web",
	"mode": "managed",
	"action": "create",
	"actions": ["create"],
	"taggable": true,
	"tags_known": true,
	"tags": {"env": "dev"},
	"tags_unknown": [],
	"after": {"instance_type": "t3.micro"},
}

deny_for(resources, cfg) := findings if {
	findings := allowed_types.deny with input as {"resources": resources}
		with data.costgate.config as cfg
}

msgs(resources, cfg) := {f.msg | some f in deny_for(resources, cfg)}

test_allowed if {
	count(deny_for([resource({})], config)) == 0
}

test_not_allowed if {
	r := resource({"after": {"instance_type": "m5.4xlarge"}})
	deny_for([r], config) == {{
		"msg": `aws_instance.web: instance_type "m5.4xlarge" is not allowed for env "dev" (allowed: "t3.*", "e2-*", "Standard_B*"; pick an allowed size or change compute.allowed_types["dev"] in the config)`,
		"address": "aws_instance.web",
		"rule_id": "compute.allowed_types",
	}}
}

test_glob_star_crosses_dots if {
	cfg := {"compute": {"allowed_types": {"dev": ["*"]}}}
	count(deny_for([resource({"after": {"instance_type": "x2iedn.metal.big"}})], cfg)) == 0
	cfg2 := {"compute": {"allowed_types": {"dev": ["m5.*large"]}}}
	count(deny_for([resource({"after": {"instance_type": "m5.24xlarge"}})], cfg2)) == 0
	count(deny_for([resource({"after": {"instance_type": "m5.metal"}})], cfg2)) == 1
}

test_glob_is_whole_value if {
	count(deny_for([resource({"after": {"instance_type": "xt3.micro"}})], config)) == 1
	count(deny_for([resource({"after": {"instance_type": "T3.micro"}})], config)) == 1
}

test_env_entry_wins_over_star if {
	# t3 only for dev even though '*' allows m5
	count(deny_for([resource({"after": {"instance_type": "m5.large"}})], config_star)) == 1
	count(deny_for([resource({})], config_star)) == 0
}

test_star_applies_to_other_env if {
	r := resource({"tags": {"env": "prod"}, "after": {"instance_type": "c5.large"}})
	msgs([r], config_star) == {`aws_instance.web: instance_type "c5.large" is not allowed for env "prod" (rule '*') (allowed: "t3.*", "m5.*"; pick an allowed size or change compute.allowed_types["*"] in the config)`}
	count(deny_for([resource({"tags": {"env": "prod"}, "after": {"instance_type": "m5.large"}})], config_star)) == 0
}

test_star_applies_without_env_tag if {
	r := resource({"tags": {}, "after": {"instance_type": "c5.large"}})
	msgs([r], config_star) == {`aws_instance.web: instance_type "c5.large" is not allowed without a "env" tag (rule '*') (allowed: "t3.*", "m5.*"; pick an allowed size or change compute.allowed_types["*"] in the config)`}
}

test_star_applies_to_untaggable if {
	r := resource({
		"type": "aws_launch_configuration", "address": "aws_launch_configuration.lc",
		"taggable": false, "tags": {}, "after": {"instance_type": "c5.large"},
	})
	count(deny_for([r], config_star)) == 1
}

test_no_entry_no_star_not_judged if {
	count(deny_for([resource({"tags": {"env": "qa"}, "after": {"instance_type": "x1.32xlarge"}})], config)) == 0
	count(deny_for([resource({"tags": {}, "after": {"instance_type": "x1.32xlarge"}})], config)) == 0
}

test_custom_env_tag if {
	cfg := {"compute": {"env_tag": "Environment", "allowed_types": {"dev": ["t3.*"]}}}
	r := resource({"tags": {"Environment": "dev", "env": "prod"}, "after": {"instance_type": "m5.large"}})
	msgs([r], cfg) == {`aws_instance.web: instance_type "m5.large" is not allowed for Environment "dev" (allowed: "t3.*"; pick an allowed size or change compute.allowed_types["dev"] in the config)`}
	count(deny_for([resource({"after": {"instance_type": "m5.large"}})], cfg)) == 0
}

test_empty_env_tag_config_means_env if {
	cfg := {"compute": {"env_tag": "", "allowed_types": {"dev": ["t3.*"]}}}
	count(deny_for([resource({"after": {"instance_type": "m5.large"}})], cfg)) == 1
}

test_single_pattern_string if {
	cfg := {"compute": {"allowed_types": {"dev": "t3.*"}}}
	count(deny_for([resource({})], cfg)) == 0
	count(deny_for([resource({"after": {"instance_type": "m5.large"}})], cfg)) == 1
}

test_empty_list_allows_nothing if {
	cfg := {"compute": {"allowed_types": {"dev": []}}}
	msgs([resource({})], cfg) == {`aws_instance.web: instance_type "t3.micro" is not allowed for env "dev" (allowed: none; pick an allowed size or change compute.allowed_types["dev"] in the config)`}
}

test_unknown_size_not_judged if {
	count(deny_for([resource({"after": {"instance_type": null}})], config)) == 0
	count(deny_for([resource({"after": {}})], config)) == 0
	count(deny_for([resource({"after": null})], config)) == 0
}

test_unknown_env_without_star_not_judged if {
	r := resource({"tags": {"env": null}, "tags_unknown": ["env"], "after": {"instance_type": "x1.32xlarge"}})
	count(deny_for([r], config)) == 0
}

test_unknown_env_with_star_reports_what_no_entry_allows if {
	r := resource({"tags": {"env": null}, "tags_unknown": ["env"], "after": {"instance_type": "x1.32xlarge"}})
	msgs([r], config_star) == {`aws_instance.web: instance_type "x1.32xlarge" is not allowed in any environment (the "env" tag is known only after apply; allowed: "m5.*", "t3.*"; pick an allowed size or change compute.allowed_types in the config)`}
	r2 := resource({"tags": {"env": null}, "tags_unknown": ["env"], "after": {"instance_type": "m5.large"}})
	count(deny_for([r2], config_star)) == 0
}

test_unknown_tags_treated_as_unknown_env if {
	r := resource({"tags_known": false, "tags": {"env": "dev"}, "after": {"instance_type": "m5.large"}})
	count(deny_for([r], config_star)) == 0
	r2 := resource({"tags_known": false, "tags": {}, "after": {"instance_type": "x1.32xlarge"}})
	count(deny_for([r2], config_star)) == 1
}

test_judged_actions if {
	every action in ["create", "update", "replace"] {
		count(deny_for([resource({"action": action, "after": {"instance_type": "m5.large"}})], config)) == 1
	}
}

test_not_judged_for_delete_noop_read if {
	every action in ["delete", "no-op", "read"] {
		count(deny_for([resource({"action": action, "after": {"instance_type": "m5.large"}})], config)) == 0
	}
}

test_not_judged_for_data_sources if {
	r := resource({"mode": "data", "action": "read", "after": {"instance_type": "m5.large"}})
	count(deny_for([r], config)) == 0
}

test_unconfigured_finds_nothing if {
	r := resource({"after": {"instance_type": "m5.large"}})
	count(deny_for([r], {})) == 0
	count(deny_for([r], {"compute": {}})) == 0
	count(deny_for([r], {"compute": {"env_tag": "env"}})) == 0
	count(deny_for([r], {"compute": {"allowed_types": {}}})) == 0
	count(allowed_types.deny) == 0 with input as {"resources": [r]}
}

test_other_types_not_judged if {
	r := resource({"type": "aws_s3_bucket", "address": "aws_s3_bucket.b", "after": {"instance_type": "m5.large"}})
	count(deny_for([r], config)) == 0
}

# Every supported resource type, with a disallowed and an allowed size.
sized := {
	"aws_instance": {"instance_type": "SIZE"},
	"aws_launch_template": {"instance_type": "SIZE"},
	"aws_launch_configuration": {"instance_type": "SIZE"},
	"aws_db_instance": {"instance_class": "SIZE"},
	"aws_rds_cluster_instance": {"instance_class": "SIZE"},
	"google_compute_instance": {"machine_type": "SIZE"},
	"google_compute_instance_template": {"machine_type": "SIZE"},
	"azurerm_linux_virtual_machine": {"size": "SIZE"},
	"azurerm_windows_virtual_machine": {"size": "SIZE"},
	"azurerm_virtual_machine": {"vm_size": "SIZE"},
	"aws_eks_node_group": {"instance_types": ["SIZE"]},
	"google_container_node_pool": {"node_config": [{"machine_type": "SIZE"}]},
}

with_size(after, size) := json.unmarshal(replace(json.marshal(after), "SIZE", size))

test_every_type_judged if {
	every type, after in sized {
		r := resource({"type": type, "address": sprintf("%s.x", [type]), "after": with_size(after, "huge.metal")})
		count(deny_for([r], config)) == 1
		ok := resource({"type": type, "address": sprintf("%s.x", [type]), "after": with_size(after, "t3.small")})
		count(deny_for([ok], config)) == 0
	}
}

test_messages_name_the_attribute if {
	rs := [
		resource({"type": "aws_db_instance", "address": "aws_db_instance.db", "after": {"instance_class": "db.r6g.large"}}),
		resource({"type": "azurerm_virtual_machine", "address": "azurerm_virtual_machine.vm", "after": {"vm_size": "Standard_D2s_v3"}}),
		resource({"type": "azurerm_linux_virtual_machine", "address": "azurerm_linux_virtual_machine.ok", "after": {"size": "Standard_B2s"}}),
	]
	msgs(rs, config) == {
		`aws_db_instance.db: instance_class "db.r6g.large" is not allowed for env "dev" (allowed: "t3.*", "e2-*", "Standard_B*"; pick an allowed size or change compute.allowed_types["dev"] in the config)`,
		`azurerm_virtual_machine.vm: vm_size "Standard_D2s_v3" is not allowed for env "dev" (allowed: "t3.*", "e2-*", "Standard_B*"; pick an allowed size or change compute.allowed_types["dev"] in the config)`,
	}
}

test_eks_each_instance_type if {
	r := resource({
		"type": "aws_eks_node_group", "address": "aws_eks_node_group.ng",
		"after": {"instance_types": ["t3.large", "m5.large", null, "c5.large"]},
	})
	msgs([r], config) == {
		`aws_eks_node_group.ng: instance_types[1] "m5.large" is not allowed for env "dev" (allowed: "t3.*", "e2-*", "Standard_B*"; pick an allowed size or change compute.allowed_types["dev"] in the config)`,
		`aws_eks_node_group.ng: instance_types[3] "c5.large" is not allowed for env "dev" (allowed: "t3.*", "e2-*", "Standard_B*"; pick an allowed size or change compute.allowed_types["dev"] in the config)`,
	}
}

test_eks_unknown_instance_types if {
	r := resource({"type": "aws_eks_node_group", "address": "aws_eks_node_group.ng", "after": {"instance_types": null}})
	count(deny_for([r], config)) == 0
}

test_gke_node_pool if {
	r := resource({
		"type": "google_container_node_pool", "address": "google_container_node_pool.np",
		"tags": {"env": "prod"},
		"after": {"node_config": [{"machine_type": "n2-standard-8"}]},
	})
	msgs([r], config) == {`google_container_node_pool.np: node_config[0].machine_type "n2-standard-8" is not allowed for env "prod" (allowed: "m5.*", "db.r6g.*"; pick an allowed size or change compute.allowed_types["prod"] in the config)`}
	unknown := resource({
		"type": "google_container_node_pool", "address": "google_container_node_pool.np",
		"after": {"node_config": [{"machine_type": null}]},
	})
	count(deny_for([unknown], config)) == 0
}

test_reads_after_not_before if {
	r := resource({"action": "update", "before": {"instance_type": "m5.large"}, "after": {"instance_type": "t3.large"}})
	count(deny_for([r], config)) == 0
	r2 := resource({"action": "update", "before": {"instance_type": "t3.large"}, "after": {"instance_type": "m5.large"}})
	count(deny_for([r2], config)) == 1
}
