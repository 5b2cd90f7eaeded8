# Package costgate.tags.allowed_values reports tags whose value is not one
# of the allowed values.
#
# Parameters (data.costgate.config):
#
#	tags:
#	  allowed_values:
#	    env: [prod, staging, dev]       # a list of allowed values
#	    cost-center: '^cc-[0-9]{3}$'    # or a regular expression
#
# A list allows exactly its values (numbers and booleans in the list match
# their text, so `[100, 200]` allows the tag value "100"). A string is an
# RE2 regular expression (https://github.com/google/re2/wiki/Syntax)
# matched with regex.match, which finds the pattern anywhere in the value:
# anchor it with ^ and $ to match the whole value, as in the example above.
#
# A tag that is absent is not judged here (tags.required does that), nor is
# a value known only after apply. An invalid regular expression or a
# parameter that is neither a list nor a string is reported once, without
# an address, so that a broken config does not pass silently.
#
# Judged: managed resources being created, updated or replaced that are
# taggable and whose tags are known (see costgate.lib.tag_judged).
package costgate.tags.allowed_values

import data.costgate.lib

rule_id := "tags.allowed_values"

# checked_keys are the configured keys whose parameter is valid.
checked_keys[key] := allowed if {
	some key, allowed in data.costgate.config.tags.allowed_values
	valid_param(allowed)
}

deny contains finding if {
	count(checked_keys) > 0
	some r in lib.tag_judged_resources
	some key, allowed in checked_keys
	value := r.tags[key]
	value != null # known only after apply
	not allowed_value(value, allowed)
	finding := {
		"msg": sprintf(
			"%s: tag %q has value %q, which is not allowed (%s; fix the value or tags.allowed_values in the config)",
			[r.address, key, lib.format_value(value), describe(allowed)],
		),
		"address": r.address,
		"rule_id": rule_id,
	}
}

deny contains finding if {
	some key, allowed in data.costgate.config.tags.allowed_values
	not valid_param(allowed)
	finding := {
		"msg": sprintf(
			"config tags.allowed_values[%q]: expected a list of values or a regular expression string, got %s",
			[key, describe_invalid(allowed)],
		),
		"address": "",
		"rule_id": rule_id,
	}
}

valid_param(allowed) if is_array(allowed)

valid_param(allowed) if is_set(allowed)

valid_param(allowed) if {
	is_string(allowed)
	regex.is_valid(allowed)
}

describe_invalid(allowed) := sprintf("the invalid regular expression %q", [allowed]) if {
	is_string(allowed)
} else := sprintf("%s %v", [type_name(allowed), allowed])

# allowed_value holds when value is allowed by a list or a pattern.
allowed_value(value, allowed) if {
	not is_string(allowed)
	some a in allowed
	lib.format_value(a) == lib.format_value(value)
}

allowed_value(value, pattern) if {
	is_string(pattern)
	regex.match(pattern, lib.format_value(value))
}

describe(allowed) := sprintf("allowed: %s", [lib.quote_list(allowed)]) if {
	not is_string(allowed)
	count(allowed) > 0
} else := "no value is allowed: the allowed list is empty" if {
	not is_string(allowed)
} else := sprintf("must match %q", [allowed])
