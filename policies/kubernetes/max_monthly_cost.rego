# Package costgate.kubernetes.max_monthly_cost reports workloads whose
# requested resources cost more a month than the configured maximum.
#
# Parameters (data.costgate.config):
#
#	kubernetes:
#	  max_monthly_cost: "500"     # in kubernetes.currency (default USD)
#
# The cost is input.kubernetes.cost.monthly: CPU, memory and GPU requests
# times replicas, PersistentVolumeClaim size by storage class and load
# balancer hours, at the unit prices of kubernetes.prices (730 hours a
# month). A create is judged on its cost; an update only when it raises
# the cost, so that an existing expensive workload can still be changed
# in other ways. Owned objects (a Deployment's pods) are not judged again.
# Without input.kubernetes or the parameter, nothing is found.
package costgate.kubernetes.max_monthly_cost

rule_id := "kubernetes.max_monthly_cost"

config := data.costgate.config

# limit is defined only when configured (to_number(null) would be 0).
limit := to_number(x) if {
	x := config.kubernetes.max_monthly_cost
	x != null
}

judged if {
	input.kubernetes.operation == "CREATE"
	input.kubernetes.owned != true
}

judged if {
	input.kubernetes.operation == "UPDATE"
	input.kubernetes.owned != true
	to_number(input.kubernetes.cost.monthly_delta) > 0
}

deny contains finding if {
	judged
	k := input.kubernetes
	monthly := to_number(k.cost.monthly)
	monthly > limit
	finding := {
		"msg": sprintf("%s: requests cost %s %s a month, over the %s %s limit (kubernetes.max_monthly_cost)", [
			k.address, money(monthly), k.cost.currency, money(limit), k.cost.currency,
		]),
		"address": k.address,
		"rule_id": rule_id,
	}
}

# money(x) formats a non-negative amount with two decimals (sprintf's %f
# does not take OPA's integer numbers).
money(x) := sprintf("%d.%02d", [floor(c / 100), c % 100]) if c := round(x * 100)
