package costgate.cost.budget_test

import data.costgate.cost.budget as rule

cfg := {"budgets": {"teams": {"payments": 5000, "data": 10000}}}

spend := {"teams": {
	"payments": {"month_to_date": 4200, "forecast": 4600},
	"data": {"month_to_date": 1000, "forecast": 2000},
}}

denies(by_team, c, s) := x if {
	x := rule.deny with input as {"cost": {"currency": "USD", "by_team": by_team}}
	with data.costgate.config as c
	with data.costgate.spend as s
}

warns(by_team, c, s) := x if {
	x := rule.warn with input as {"cost": {"currency": "USD", "by_team": by_team}}
	with data.costgate.config as c
	with data.costgate.spend as s
}

test_over_budget_denied_naming_team_budget_spend_delta if {
	findings := denies({"payments": {"monthly_delta": 900}}, cfg, spend)
	count(findings) == 1
	some f in findings
	f.rule_id == "cost.budget"
	contains(f.msg, `team "payments"`)
	contains(f.msg, "5000.00 USD monthly budget")
	contains(f.msg, "spent 4200.00")
	contains(f.msg, "adds 900.00")
}

test_within_budget if {
	count(denies({"data": {"monthly_delta": 900}}, cfg, spend)) == 0
	count(warns({"data": {"monthly_delta": 900}}, cfg, spend)) == 0
}

test_warn_from_80_percent if {
	findings := warns({"payments": {"monthly_delta": 100}}, cfg, spend)
	count(findings) == 1
	count(denies({"payments": {"monthly_delta": 100}}, cfg, spend)) == 0
	some f in findings
	f.severity == "warn"
	contains(f.msg, "94%")
}

test_warn_at_configurable if {
	c := {"budgets": {"teams": {"data": 10000}, "warn_at": 0.2}}
	count(warns({"data": {"monthly_delta": 100}}, c, spend)) == 1
}

test_no_forecast_uses_month_to_date if {
	s := {"teams": {"payments": {"month_to_date": 4950}}}
	count(denies({"payments": {"monthly_delta": 100}}, cfg, s)) == 1
}

test_no_spend_data if {
	count(denies({"payments": {"monthly_delta": 4999}}, cfg, {})) == 0
	count(denies({"payments": {"monthly_delta": 5001}}, cfg, {})) == 1
}

test_savings_never_judged if {
	count(denies({"payments": {"monthly_delta": -100}}, cfg, {"teams": {"payments": {"forecast": 9999}}})) == 0
}

test_team_without_budget if {
	count(denies({"search": {"monthly_delta": 99999}}, cfg, spend)) == 0
}

test_untagged_resources_not_a_team if {
	count(denies({"": {"monthly_delta": 99999}}, {"budgets": {"teams": {"": 1}}}, spend)) == 0
}

test_unconfigured if {
	count(denies({"payments": {"monthly_delta": 99999}}, {}, spend)) == 0
}

test_no_spend_document_at_all if {
	findings := rule.deny with input as {"cost": {"currency": "USD", "by_team": {"payments": {"monthly_delta": 5001}}}}
		with data.costgate.config as cfg
	count(findings) == 1
}
