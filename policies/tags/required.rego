# Package costgate.tags.required reports resources that lack a required tag.
#
# Parameters (data.costgate.config):
#
#	tags:
#	  required: [team, cost-center]
#
# Every listed key must be present in the resource's effective tags
# (tags_all, or the provider's default_tags overlaid by the resource's own
# tags; Google labels) with a non-empty value. A value that is known only
# after apply counts as present. A value made only of white space counts as
# empty. Without tags.required the rule finds nothing.
#
# Judged: managed resources being created, updated or replaced that are
# taggable and whose tags are known (see costgate.lib.tag_judged).
package costgate.tags.required

import data.costgate.lib

rule_id := "tags.required"

# required_keys is the set of configured required tag keys.
required_keys contains key if {
	some key in lib.as_list(data.costgate.config.tags.required)
	is_string(key)
	key != ""
}

deny contains finding if {
	keys := required_keys # bound once: iterating a local is cheaper than the rule
	count(keys) > 0
	some r in lib.tag_judged_resources
	some key in keys
	not r.tags[key] # absent (values are strings or null, never false)
	finding := {
		"msg": sprintf("%s: missing required tag %q (%s)", [r.address, key, lib.tags_fix(r)]),
		"address": r.address,
		"rule_id": rule_id,
	}
}

deny contains finding if {
	count(required_keys) > 0
	some r in lib.tag_blank_resources
	some key in blank_keys(r.tags)
	finding := {
		"msg": sprintf("%s: required tag %q is empty (give it a value)", [r.address, key]),
		"address": r.address,
		"rule_id": rule_id,
	}
}

# blank_keys(tags) is the required keys whose value in tags is a string of
# white space only (one comprehension per resource: cheaper in OPA than
# iterating the keys in the rule). Only resources with some blank value
# (lib.tag_blank_resources) are asked.
blank_keys(tags) := {key | some key in required_keys; value := tags[key]; is_string(value); trim_space(value) == ""}
