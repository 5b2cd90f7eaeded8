package costgate.tags.allowed_values_test

import data.costgate.tags.allowed_values

config := {"tags": {"allowed_values": {
	"env": ["prod", "staging", "dev"],
	"cost-center": `^cc-[0-9]{3}$`,
}}}

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
	"tags": {"env": "prod", "cost-center": "cc-123", "team": "payments"},
	"tags_unknown": [],
}

deny_for(resources, cfg) := findings if {
	findings := allowed_values.deny with input as {"resources": resources}
		with data.costgate.config as cfg
}

msgs(resources, cfg) := {f.msg | some f in deny_for(resources, cfg)}

test_allowed if {
	count(deny_for([resource({})], config)) == 0
}

test_value_not_in_list if {
	r := resource({"tags": {"env": "production", "cost-center": "cc-123"}})
	deny_for([r], config) == {{
		"msg": `aws_instance.web: tag "env" has value "production", which is not allowed (allowed: "prod", "staging", "dev"; fix the value or tags.allowed_values in the config)`,
		"address": "aws_instance.web",
		"rule_id": "tags.allowed_values",
	}}
}

test_value_not_matching_pattern if {
	r := resource({"tags": {"env": "dev", "cost-center": "cc-12"}})
	msgs([r], config) == {`aws_instance.web: tag "cost-center" has value "cc-12", which is not allowed (must match "^cc-[0-9]{3}$"; fix the value or tags.allowed_values in the config)`}
}

test_list_match_is_exact if {
	every v in ["Prod", "prod ", "pro", "prod-1", ""] {
		count(deny_for([resource({"tags": {"env": v}})], config)) == 1
	}
}

test_unanchored_pattern_matches_anywhere if {
	cfg := {"tags": {"allowed_values": {"cost-center": `cc-[0-9]{3}`}}}
	count(deny_for([resource({"tags": {"cost-center": "xcc-1234"}})], cfg)) == 0
	count(deny_for([resource({"tags": {"cost-center": "cc-12"}})], cfg)) == 1
}

test_both_keys_wrong if {
	r := resource({"tags": {"env": "qa", "cost-center": "finance"}})
	count(deny_for([r], config)) == 2
}

test_absent_key_not_judged if {
	count(deny_for([resource({"tags": {}})], config)) == 0
	count(deny_for([resource({"tags": null})], config)) == 0
}

test_unknown_value_not_judged if {
	r := resource({"tags": {"env": null, "cost-center": null}, "tags_unknown": ["cost-center", "env"]})
	count(deny_for([r], config)) == 0
}

test_unlisted_key_not_judged if {
	r := resource({"tags": {"owner": "anything at all"}})
	count(deny_for([r], config)) == 0
}

test_numbers_in_list_match_their_text if {
	cfg := {"tags": {"allowed_values": {"tier": [1, 2, true]}}}
	count(deny_for([resource({"tags": {"tier": "1"}})], cfg)) == 0
	count(deny_for([resource({"tags": {"tier": "true"}})], cfg)) == 0
	msgs([resource({"tags": {"tier": "3"}})], cfg) == {`aws_instance.web: tag "tier" has value "3", which is not allowed (allowed: "1", "2", "true"; fix the value or tags.allowed_values in the config)`}
}

test_empty_list_allows_nothing if {
	cfg := {"tags": {"allowed_values": {"env": []}}}
	msgs([resource({})], cfg) == {`aws_instance.web: tag "env" has value "prod", which is not allowed (no value is allowed: the allowed list is empty; fix the value or tags.allowed_values in the config)`}
}

test_invalid_pattern_reported_once if {
	cfg := {"tags": {"allowed_values": {"cost-center": "^cc-(["}}}
	rs := [resource({"address": "aws_instance.a"}), resource({"address": "aws_instance.b"})]
	deny_for(rs, cfg) == {{
		"msg": `config tags.allowed_values["cost-center"]: expected a list of values or a regular expression string, got the invalid regular expression "^cc-(["`,
		"address": "",
		"rule_id": "tags.allowed_values",
	}}
}

test_invalid_parameter_type_reported if {
	cfg := {"tags": {"allowed_values": {"env": {"prod": true}}}}
	msgs([], cfg) == {`config tags.allowed_values["env"]: expected a list of values or a regular expression string, got object {"prod": true}`}
}

test_judged_actions if {
	every action in ["create", "update", "replace"] {
		count(deny_for([resource({"action": action, "tags": {"env": "qa"}})], config)) == 1
	}
}

test_not_judged_for_delete_noop_read if {
	every action in ["delete", "no-op", "read"] {
		count(deny_for([resource({"action": action, "tags": {"env": "qa"}})], config)) == 0
	}
}

test_not_judged_for_data_sources if {
	r := resource({"mode": "data", "action": "read", "tags": {"env": "qa"}})
	count(deny_for([r], config)) == 0
}

test_not_judged_when_untaggable if {
	r := resource({"taggable": false, "tags": {"env": "qa"}})
	count(deny_for([r], config)) == 0
}

test_not_judged_when_tags_unknown if {
	r := resource({"tags_known": false, "tags": {"env": "qa"}})
	count(deny_for([r], config)) == 0
}

test_unconfigured_finds_nothing if {
	r := resource({"tags": {"env": "qa"}})
	count(deny_for([r], {})) == 0
	count(deny_for([r], {"tags": {"required": ["env"]}})) == 0
	count(deny_for([r], {"tags": {"allowed_values": {}}})) == 0
	count(allowed_values.deny) == 0 with input as {"resources": [r]}
}

test_many_resources if {
	rs := [
		resource({"address": "aws_instance.a"}),
		resource({"address": "aws_instance.b", "tags": {"env": "qa"}}),
		resource({"address": "google_storage_bucket.c", "type": "google_storage_bucket", "tags": {"cost-center": "x"}}),
	]
	{f.address | some f in deny_for(rs, config)} == {"aws_instance.b", "google_storage_bucket.c"}
}
