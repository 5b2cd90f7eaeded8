package costgate.lib_test

import data.costgate.lib

# resource(overrides) is a resource judged by tag rules, with the top-level
# fields in overrides replaced (not merged).
resource(overrides) := object.union(
	object.remove(base, object.keys(overrides)),
	overrides,
)

base := {
	"address": "aws_instance.web",
	"type": "aws_instance",
	"mode": "managed",
	"action": "create",
	"actions": ["create"],
	"taggable": true,
	"tags_known": true,
	"tags": {"team": "payments"},
	"tags_unknown": [],
}

test_changed_for_create_update_replace if {
	lib.changed(resource({"action": "create"}))
	lib.changed(resource({"action": "update"}))
	lib.changed(resource({"action": "replace"}))
}

test_not_changed_for_delete_noop_read if {
	not lib.changed(resource({"action": "delete"}))
	not lib.changed(resource({"action": "no-op"}))
	not lib.changed(resource({"action": "read"}))
}

test_not_changed_for_data_sources if {
	not lib.changed(resource({"mode": "data", "action": "create"}))
}

test_tag_judged if {
	lib.tag_judged(resource({}))
}

test_tag_judged_skips_untaggable if {
	not lib.tag_judged(resource({"taggable": false}))
}

test_tag_judged_skips_unknown_tags if {
	not lib.tag_judged(resource({"tags_known": false}))
}

test_tag_judged_skips_missing_flags if {
	not lib.tag_judged(object.remove(resource({}), ["tags_known"]))
	not lib.tag_judged(object.remove(resource({}), ["taggable"]))
}

test_tags if {
	lib.tags(resource({})) == {"team": "payments"}
	lib.tags(resource({"tags": null})) == {}
	lib.tags(object.remove(resource({}), ["tags"])) == {}
}

test_tag_unknown_null_value if {
	lib.tag_unknown(resource({"tags": {"env": null}}), "env")
}

test_tag_unknown_listed if {
	lib.tag_unknown(resource({"tags": {"env": "x"}, "tags_unknown": ["env"]}), "env")
}

test_tag_known if {
	not lib.tag_unknown(resource({"tags": {"env": "dev"}}), "env")
	not lib.tag_unknown(resource({}), "env")
}

test_tag_value if {
	lib.tag_value(resource({"tags": {"env": "dev"}}), "env") == "dev"
	lib.tag_value(resource({"tags": {"env": ""}}), "env") == ""
}

test_tag_value_undefined_when_absent_or_unknown if {
	not lib.tag_value(resource({}), "env")
	not lib.tag_value(resource({"tags": {"env": null}}), "env")
	not lib.tag_value(resource({"tags": {"env": "x"}, "tags_unknown": ["env"]}), "env")
}

test_as_list if {
	lib.as_list(["a", "b"]) == ["a", "b"]
	lib.as_list({"b", "a"}) == ["a", "b"]
	lib.as_list("a") == ["a"]
	lib.as_list(null) == []
	lib.as_list({"a": 1}) == []
}

test_tags_fix if {
	contains(lib.tags_fix(resource({})), "default_tags")
	contains(lib.tags_fix(resource({"type": "google_storage_bucket"})), "default_labels")
	lib.tags_fix(resource({"type": "azurerm_resource_group"})) == "add it to the resource's tags"
}

test_quote_list if {
	lib.quote_list(["a", "b"]) == `"a", "b"`
	lib.quote_list([100, true]) == `"100", "true"`
	lib.quote_list([]) == "none"
}

test_format_value if {
	lib.format_value("x") == "x"
	lib.format_value(3) == "3"
	lib.format_value(false) == "false"
}

# The library must never produce findings of its own.
test_no_rules if {
	not lib.deny
	not lib.warn
	not lib.violation
}

test_money if {
	lib.money(5000) == "5000.00"
	lib.money(4200.5) == "4200.50"
	lib.money(0.004) == "0.00"
	lib.money(0.005) == "0.01"
	lib.money(-3) == "-3.00"
	lib.money(1234.567) == "1234.57"
	not lib.money("x")
}

test_changed_resources_filters_without_index if {
	created := resource({"address": "a.created"})
	deleted := resource({"address": "a.deleted", "action": "delete"})
	untaggable := resource({"address": "a.untaggable", "taggable": false})
	lib.changed_resources == [created, untaggable] with input as {"resources": [created, deleted, untaggable]}
	lib.tag_judged_resources == [created] with input as {"resources": [created, deleted, untaggable]}
}

test_changed_resources_read_from_index if {
	a := resource({"address": "a.a"})
	b := resource({"address": "a.b"})
	c := resource({"address": "a.c"})
	doc := {"resources": [a, b, c], "index": {"changed": [0, 2], "tag_judged": [2]}}
	lib.changed_resources == [a, c] with input as doc
	lib.tag_judged_resources == [c] with input as doc
}

test_empty_index_selects_nothing if {
	doc := {"resources": [resource({})], "index": {"changed": [], "tag_judged": []}}
	lib.changed_resources == [] with input as doc
	lib.tag_judged_resources == [] with input as doc
}
