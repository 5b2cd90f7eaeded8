# Package costgate.cost.unpriced warns about changes whose cost is unknown.
#
# Parameters (data.costgate.config):
#
#	cost:
#	  unpriced: true   # warn when a cost-bearing resource cannot be priced
#
# A resource being created, updated or replaced that costs money but has
# no price (no catalog entry, usage-based with no usage known) gets a
# warning naming why; free types (IAM, security groups, ...) never do.
package costgate.cost.unpriced

import data.costgate.lib

rule_id := "cost.unpriced"

warn contains finding if {
	data.costgate.config.cost.unpriced == true
	some r in lib.changed_resources
	r.cost.priced == false
	not r.cost.free
	finding := {
		"msg": sprintf("%s: its monthly cost is unknown (%s); add a usage file or a price to the catalog", [r.address, reason(r)]),
		"address": r.address,
		"rule_id": rule_id,
		"severity": "warn",
	}
}

reason(r) := r.cost.reason if {
	is_string(r.cost.reason)
	r.cost.reason != ""
} else := "no price for this resource type"
