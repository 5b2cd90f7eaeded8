package costgate.tags.required_test

import data.costgate.tags.required

config := {"tags": {"required": ["team", "cost-center"]}}

# resource(overrides) is a resource judged by tag rules, with the top-level
# fields in overrides replaced (not merged).
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
	"tags": {"team": "payments", "cost-center": "cc-123"},
	"tags_unknown": [],
}

deny_for(resources, cfg) := findings if {
	findings := required.deny with input as {"resources": resources}
		with data.costgate.config as cfg
}

test_all_present if {
	count(deny_for([resource({})], config)) == 0
}

test_missing_tag if {
	r := resource({"tags": {"team": "payments"}})
	deny_for([r], config) == {{
		"msg": `aws_instance.web: missing required tag "cost-center" (add it to the resource's tags or the provider's default_tags)`,
		"address": "aws_instance.web",
		"rule_id": "tags.required",
	}}
}

test_missing_every_tag if {
	r := resource({"tags": {}})
	findings := deny_for([r], config)
	count(findings) == 2
	{f.msg | some f in findings} == {
		`aws_instance.web: missing required tag "team" (add it to the resource's tags or the provider's default_tags)`,
		`aws_instance.web: missing required tag "cost-center" (add it to the resource's tags or the provider's default_tags)`,
	}
}

test_null_tags_object_means_all_missing if {
	count(deny_for([resource({"tags": null})], config)) == 2
}

test_empty_value if {
	r := resource({"tags": {"team": "", "cost-center": "cc-123"}})
	deny_for([r], config) == {{
		"msg": `aws_instance.web: required tag "team" is empty (give it a value)`,
		"address": "aws_instance.web",
		"rule_id": "tags.required",
	}}
}

test_blank_value_is_empty if {
	r := resource({"tags": {"team": "  ", "cost-center": "cc-123"}})
	count(deny_for([r], config)) == 1
}

test_unknown_value_counts_as_present if {
	r := resource({"tags": {"team": null, "cost-center": "cc-123"}, "tags_unknown": ["team"]})
	count(deny_for([r], config)) == 0
}

test_unknown_value_null_without_tags_unknown if {
	r := resource({"tags": {"team": null, "cost-center": null}})
	count(deny_for([r], config)) == 0
}

test_case_sensitive_keys if {
	r := resource({"tags": {"Team": "payments", "cost-center": "cc-123"}})
	{f.msg | some f in deny_for([r], config)} == {`aws_instance.web: missing required tag "team" (add it to the resource's tags or the provider's default_tags)`}
}

test_google_labels_hint if {
	r := resource({"address": "google_storage_bucket.b", "type": "google_storage_bucket", "tags": {"team": "x"}})
	{f.msg | some f in deny_for([r], config)} == {`google_storage_bucket.b: missing required tag "cost-center" (add it to the resource's labels or the provider's default_labels)`}
}

test_azure_hint if {
	r := resource({"address": "azurerm_resource_group.rg", "type": "azurerm_resource_group", "tags": {"team": "x"}})
	{f.msg | some f in deny_for([r], config)} == {`azurerm_resource_group.rg: missing required tag "cost-center" (add it to the resource's tags)`}
}

test_judged_actions if {
	every action in ["create", "update", "replace"] {
		count(deny_for([resource({"action": action, "tags": {}})], config)) == 2
	}
}

test_not_judged_for_delete_noop_read if {
	every action in ["delete", "no-op", "read"] {
		count(deny_for([resource({"action": action, "tags": {}})], config)) == 0
	}
}

test_not_judged_for_data_sources if {
	r := resource({"mode": "data", "action": "read", "tags": {}})
	count(deny_for([r], config)) == 0
}

test_not_judged_when_untaggable if {
	r := resource({"taggable": false, "tags": {}})
	count(deny_for([r], config)) == 0
}

test_not_judged_when_tags_unknown if {
	r := resource({"tags_known": false, "tags": {}})
	count(deny_for([r], config)) == 0
}

test_unconfigured_finds_nothing if {
	r := resource({"tags": {}})
	count(deny_for([r], {})) == 0
	count(deny_for([r], {"tags": {}})) == 0
	count(deny_for([r], {"tags": {"required": []}})) == 0
	count(required.deny) == 0 with input as {"resources": [r]}
}

test_single_string_parameter if {
	r := resource({"tags": {}})
	{f.msg | some f in deny_for([r], {"tags": {"required": "team"}})} == {`aws_instance.web: missing required tag "team" (add it to the resource's tags or the provider's default_tags)`}
}

test_one_finding_set_per_resource if {
	rs := [
		resource({"address": "aws_instance.a", "tags": {"team": "x", "cost-center": "cc-1"}}),
		resource({"address": "aws_instance.b", "tags": {"team": "x"}}),
		resource({"address": "module.m.aws_instance.c[0]", "tags": {}}),
	]
	findings := deny_for(rs, config)
	count(findings) == 3
	{f.address | some f in findings} == {"aws_instance.b", "module.m.aws_instance.c[0]"}
}

test_no_resources if {
	count(deny_for([], config)) == 0
}
