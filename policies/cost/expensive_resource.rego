# Package costgate.cost.expensive_resource makes a single expensive
# resource a decision someone signs for.
#
# Parameters (data.costgate.config):
#
#	cost:
#	  expensive_resource: 2000   # monthly cost at or above which a resource needs a waiver
#
# A resource being created, updated or replaced whose estimated monthly
# cost after the change reaches the threshold is denied; a waiver on
# cost.expensive_resource for its address is the approval. Without the
# parameter the rule finds nothing.
package costgate.cost.expensive_resource

import data.costgate.lib

rule_id := "cost.expensive_resource"

threshold := data.costgate.config.cost.expensive_resource

deny contains finding if {
	is_number(threshold)
	some r in lib.changed_resources
	after := r.cost.monthly_after
	is_number(after)
	after >= threshold
	finding := {
		"msg": sprintf(
			"%s: estimated at %s %s a month, at or above the %s threshold (cost.expensive_resource); it needs an approval waiver for rule cost.expensive_resource",
			[r.address, lib.money(after), object.get(r.cost, "currency", "USD"), lib.money(threshold)],
		),
		"address": r.address,
		"rule_id": rule_id,
	}
}
