package costgate.cost.max_monthly_increase_test

import data.costgate.cost.max_monthly_increase as rule

cfg := {"cost": {"max_monthly_increase": {"prod": 5000, "*": 1000}}}

run(by_env, c) := x if {
	x := rule.deny with input as {"cost": {"currency": "USD", "by_env": by_env}}
	with data.costgate.config as c
}

test_within_limits if {
	count(run({"prod": {"monthly_delta": 4999.99}, "dev": {"monthly_delta": 1000}}, cfg)) == 0
}

test_prod_over if {
	findings := run({"prod": {"monthly_delta": 5000.01}}, cfg)
	count(findings) == 1
	some f in findings
	f.rule_id == "cost.max_monthly_increase"
	contains(f.msg, `environment "prod"`)
	contains(f.msg, "5000.01")
	contains(f.msg, `cost.max_monthly_increase["prod"]`)
}

test_default_limit_for_other_env if {
	findings := run({"staging": {"monthly_delta": 1500}}, cfg)
	some f in findings
	contains(f.msg, `cost.max_monthly_increase["*"]`)
}

test_untagged_env if {
	findings := run({"": {"monthly_delta": 1500}}, cfg)
	some f in findings
	contains(f.msg, "resources without an env tag")
}

test_no_default_no_finding_for_other_env if {
	count(run({"staging": {"monthly_delta": 99999}}, {"cost": {"max_monthly_increase": {"prod": 1}}})) == 0
}

test_unconfigured if {
	count(run({"prod": {"monthly_delta": 99999}}, {})) == 0
}

test_decrease_is_fine if {
	count(run({"prod": {"monthly_delta": -99999}}, cfg)) == 0
}
