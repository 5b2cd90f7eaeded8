package costgate.kubernetes.max_monthly_cost_test

import data.costgate.kubernetes.max_monthly_cost

workload(op, monthly, delta) := {"kubernetes": {
	"operation": op,
	"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"address": "Deployment/default/web",
	"owned": false,
	"cost": {"currency": "USD", "monthly": monthly, "monthly_delta": delta, "priced": true},
}}

cfg := {"kubernetes": {"max_monthly_cost": "500"}}

test_under_limit if {
	count(max_monthly_cost.deny) == 0 with input as workload("CREATE", 499.99, 499.99) with data.costgate.config as cfg
}

test_exactly_limit_is_allowed if {
	count(max_monthly_cost.deny) == 0 with input as workload("CREATE", 500, 500) with data.costgate.config as cfg
}

test_over_limit if {
	got := max_monthly_cost.deny with input as workload("CREATE", 1234.5, 1234.5) with data.costgate.config as cfg
	count(got) == 1
	some f in got
	f.msg == "Deployment/default/web: requests cost 1234.50 USD a month, over the 500.00 USD limit (kubernetes.max_monthly_cost)"
}

test_numeric_limit if {
	count(max_monthly_cost.deny) == 1 with input as workload("CREATE", 600, 600) with data.costgate.config as {"kubernetes": {"max_monthly_cost": 500}}
}

test_update_that_lowers_cost_passes if {
	count(max_monthly_cost.deny) == 0 with input as workload("UPDATE", 900, -100) with data.costgate.config as cfg
}

test_update_that_raises_cost_is_judged if {
	count(max_monthly_cost.deny) == 1 with input as workload("UPDATE", 900, 100) with data.costgate.config as cfg
}

test_no_limit_configured if {
	count(max_monthly_cost.deny) == 0 with input as workload("CREATE", 1e9, 1e9) with data.costgate.config as {}
}

test_plan_input_finds_nothing if {
	count(max_monthly_cost.deny) == 0 with input as {"resources": []} with data.costgate.config as cfg
}
