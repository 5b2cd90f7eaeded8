# Package costgate.kubernetes.namespace_budgets reports changes that would
# take a namespace over its monthly budget.
#
# Parameters (data.costgate.config):
#
#	kubernetes:
#	  namespace_budgets:
#	    payments: "2000"      # per namespace, in kubernetes.currency
#	    "*": "500"            # every other namespace
#
# The namespace's current monthly spend is read from
# data.costgate.spend.namespaces[NAMESPACE].monthly when the cost store
# provides it, else taken as 0 (then the rule bounds what one change may
# add). A change is judged when it raises the cost
# (input.kubernetes.cost.monthly_delta > 0) and is not owned by a
# controller. Without input.kubernetes or a budget for the namespace,
# nothing is found.
package costgate.kubernetes.namespace_budgets

rule_id := "kubernetes.namespace_budgets"

config := data.costgate.config

budgets := object.get(config, ["kubernetes", "namespace_budgets"], {})

budget := b if {
	b := to_number(budgets[input.kubernetes.namespace])
} else := b if {
	b := to_number(budgets["*"])
}

# spend is the namespace's current monthly spend from the cost store, or 0.
spend := to_number(s) if {
	s := data.costgate.spend.namespaces[input.kubernetes.namespace].monthly
} else := 0

deny contains finding if {
	input.kubernetes.operation in {"CREATE", "UPDATE"}
	input.kubernetes.owned != true
	k := input.kubernetes
	delta := to_number(k.cost.monthly_delta)
	delta > 0
	spend + delta > budget
	finding := {
		"msg": sprintf("%s: adds %s %s a month; namespace %q would spend %s of its %s %s budget (kubernetes.namespace_budgets)", [
			k.address, money(delta), k.cost.currency, k.namespace, money(spend + delta), money(budget), k.cost.currency,
		]),
		"address": k.address,
		"rule_id": rule_id,
	}
}

# money(x) formats a non-negative amount with two decimals (sprintf's %f
# does not take OPA's integer numbers).
money(x) := sprintf("%d.%02d", [floor(c / 100), c % 100]) if c := round(x * 100)
