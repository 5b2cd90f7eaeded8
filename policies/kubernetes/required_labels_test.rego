package costgate.kubernetes.required_labels_test

import data.costgate.kubernetes.required_labels

deployment(labels, pod_labels) := {"kubernetes": {
	"operation": "CREATE",
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"address": "Deployment/default/web",
	"labels": labels,
	"pod_labels": pod_labels,
	"owned": false,
}}

cfg := {"kubernetes": {"required_labels": ["team", "cost-center"]}}

test_all_labels_present if {
	l := {"team": "web", "cost-center": "cc-1"}
	count(required_labels.deny) == 0 with input as deployment(l, l) with data.costgate.config as cfg
}

test_missing_on_object_and_template if {
	got := required_labels.deny with input as deployment({"team": "web"}, {"team": "web"}) with data.costgate.config as cfg
	count(got) == 2
	some f in got
	f.rule_id == "kubernetes.required_labels"
	contains(f.msg, "\"cost-center\"")
}

test_empty_value_counts_as_missing if {
	l := {"team": " ", "cost-center": "cc-1"}
	count(required_labels.deny) == 2 with input as deployment(l, l) with data.costgate.config as cfg
}

test_defaults_to_tags_required if {
	got := required_labels.deny with input as deployment({}, {}) with data.costgate.config as {"tags": {"required": ["team"]}}
	count(got) == 2
}

test_explicit_empty_list_requires_nothing if {
	c := {"tags": {"required": ["team"]}, "kubernetes": {"required_labels": []}}
	count(required_labels.deny) == 0 with input as deployment({}, {}) with data.costgate.config as c
}

test_pod_has_no_template_check if {
	pod := {"kubernetes": {
		"operation": "CREATE", "kind": {"group": "", "version": "v1", "kind": "Pod"},
		"address": "Pod/default/p", "labels": {}, "pod_labels": {}, "owned": false,
	}}
	count(required_labels.deny) == 2 with input as pod with data.costgate.config as cfg
}

test_owned_objects_are_skipped if {
	i := json.patch(deployment({}, {}), [{"op": "replace", "path": "/kubernetes/owned", "value": true}])
	count(required_labels.deny) == 0 with input as i with data.costgate.config as cfg
}

test_delete_is_not_judged if {
	i := json.patch(deployment({}, {}), [{"op": "replace", "path": "/kubernetes/operation", "value": "DELETE"}])
	count(required_labels.deny) == 0 with input as i with data.costgate.config as cfg
}

test_plan_input_finds_nothing if {
	plan := {"resources": [{"address": "aws_s3_bucket.b", "mode": "managed", "action": "create", "taggable": true, "tags_known": true, "tags": {}}]}
	count(required_labels.deny) == 0 with input as plan with data.costgate.config as cfg
}

test_no_config_finds_nothing if {
	count(required_labels.deny) == 0 with input as deployment({}, {}) with data.costgate.config as {}
}
