package costgate.kubernetes.namespace_budgets_test

import data.costgate.kubernetes.namespace_budgets

change(ns, delta) := {"kubernetes": {
	"operation": "CREATE",
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"address": sprintf("Deployment/%s/web", [ns]),
	"namespace": ns,
	"owned": false,
	"cost": {"currency": "USD", "monthly": delta, "monthly_delta": delta, "priced": true},
}}

cfg := {"kubernetes": {"namespace_budgets": {"payments": "2000", "*": "100"}}}

test_within_budget if {
	count(namespace_budgets.deny) == 0 with input as change("payments", 1999) with data.costgate.config as cfg
}

test_over_budget if {
	got := namespace_budgets.deny with input as change("payments", 2000.01) with data.costgate.config as cfg
	count(got) == 1
	some f in got
	f.rule_id == "kubernetes.namespace_budgets"
	contains(f.msg, "namespace \"payments\" would spend 2000.01 of its 2000.00 USD budget")
}

test_default_budget if {
	count(namespace_budgets.deny) == 1 with input as change("search", 150) with data.costgate.config as cfg
}

test_current_spend_counts if {
	spend := {"namespaces": {"payments": {"monthly": "1900"}}}
	count(namespace_budgets.deny) == 1 with input as change("payments", 150)
		with data.costgate.config as cfg
		with data.costgate.spend as spend
}

test_cost_decrease_passes if {
	count(namespace_budgets.deny) == 0 with input as change("search", -50) with data.costgate.config as cfg
}

test_no_budget_for_namespace if {
	c := {"kubernetes": {"namespace_budgets": {"payments": "10"}}}
	count(namespace_budgets.deny) == 0 with input as change("search", 1e6) with data.costgate.config as c
}

test_plan_input_finds_nothing if {
	count(namespace_budgets.deny) == 0 with input as {"resources": []} with data.costgate.config as cfg
}
