# Package costgate.lib holds helpers shared by costgate's default policies.
# It defines no deny, warn or violation rules, so the engine never reports
# anything from it.
#
# Every helper takes one element of input.resources as built by the gate
# (see the input contract in README.md).
package costgate.lib

# Actions that change a resource into something a policy can judge.
judged_actions := {"create", "update", "replace"}

# changed(r) holds for a managed resource that the plan creates, updates or
# replaces. Deletes, no-ops and data source reads are not judged.
changed(r) if {
	r.mode == "managed"
	r.action in judged_actions
}

# tag_judged(r) holds when tag rules judge r: a changed, taggable resource
# whose own tags are known (tags_known == false means the resource's tags
# are wholly unknown until apply).
tag_judged(r) if {
	changed(r)
	r.taggable == true
	r.tags_known == true
}

# changed_resources are the resources changed() holds for, in input
# order. It is a rule, so OPA computes it once per evaluation; policies
# iterate it instead of calling changed(r) on every resource (on a
# 10,000-resource plan that is the difference between milliseconds and a
# second). The gate lists their positions in input.index.changed, which
# is faster still; an input without the index (a hand-written test input)
# is filtered here.
changed_resources := [input.resources[i] | some i in input.index.changed] if {
	is_array(input.index.changed)
} else := [r |
	some r in input.resources
	changed(r)
]

# tag_judged_resources are the resources tag_judged() holds for, in input
# order (positions in input.index.tag_judged when the gate built the input).
tag_judged_resources := [input.resources[i] | some i in input.index.tag_judged] if {
	is_array(input.index.tag_judged)
} else := [r |
	some r in changed_resources
	r.taggable == true
	r.tags_known == true
]

# tag_blank_resources are the resources of tag_judged_resources with a tag
# whose value is white space only, in input order (positions in
# input.index.tag_blank when the gate built the input). Rules about blank
# values iterate these, usually none, instead of every judged resource.
tag_blank_resources := [input.resources[i] | some i in input.index.tag_blank] if {
	is_array(input.index.tag_blank)
} else := [r |
	some r in tag_judged_resources
	has_blank_tag(r)
]

# has_blank_tag(r) holds when one of r's tags is a string of white space
# only.
has_blank_tag(r) if {
	some v in tags(r)
	is_string(v)
	trim_space(v) == ""
}

# tags(r) is r's effective tags, or {} when the resource has none.
tags(r) := r.tags if is_object(r.tags)

else := {}

# tag_unknown(r, key) holds when key is present but its value is known
# only after apply (a null value, or the key listed in tags_unknown).
tag_unknown(r, key) if {
	tags(r)[key] == null
}

tag_unknown(r, key) if {
	key in object.get(r, "tags_unknown", [])
}

# tag_value(r, key) is the known value of tag key on r; undefined when the
# tag is absent or unknown until apply.
tag_value(r, key) := v if {
	v := tags(r)[key]
	not tag_unknown(r, key)
}

# as_list(x) turns a configured parameter into an array: a list or set as
# its elements, a single string as a one-element list, anything else as [].
as_list(x) := x if is_array(x)

else := sort(x) if is_set(x)

else := [x] if is_string(x)

else := []

# tags_fix(r) names where a missing tag is added, in the provider's words.
tags_fix(r) := "add it to the resource's labels or the provider's default_labels" if {
	startswith(r.type, "google_")
} else := "add it to the resource's tags or the provider's default_tags" if {
	startswith(r.type, "aws_")
} else := "add it to the resource's tags"

# quote_list(xs) renders values as a comma separated list of quoted strings,
# e.g. ["a", "b"] -> "\"a\", \"b\"", and an empty list as "none".
quote_list(xs) := concat(", ", [sprintf("%q", [format_value(x)]) | some x in xs]) if {
	count(xs) > 0
} else := "none"

# format_value(x) renders a configured value as text: strings as they are,
# numbers and booleans as YAML would write them.
format_value(x) := x if is_string(x)

else := sprintf("%v", [x])

# money(x) formats an amount with two decimals ("1234.50", "-3.00") for
# messages. Amounts are summed exactly by the gate; Rego only formats and
# compares them.
money(x) := concat("", [sign, sprintf("%d", [floor(cents / 100)]), ".", pad2(cents % 100)]) if {
	is_number(x)
	cents := round(abs(x) * 100)
	sign := neg_sign(x)
}

neg_sign(x) := "-" if x < 0

else := ""

pad2(n) := sprintf("0%d", [n]) if n < 10

else := sprintf("%d", [n])
