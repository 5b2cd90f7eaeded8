# Package costgate.cost.budget keeps each team inside its monthly budget.
#
# Parameters (data.costgate.config and data.costgate.spend):
#
#	budgets:
#	  teams: {payments: 5000, data: 12000}   # monthly budget per team
#	  warn_at: 0.8                            # warn from this share (default 0.8)
#
# For every team whose resources this plan changes (input.cost.by_team,
# keyed by the cost.team_tag tag, default "team"), the team's month-end
# forecast from the cost store (data.costgate.spend.teams[team].forecast,
# else its month-to-date spend) plus the plan's monthly delta for that
# team must fit the budget: over it is a deny, from warn_at of it a warn.
# The delta counts in full: the next full month carries it.
package costgate.cost.budget

import data.costgate.lib

rule_id := "cost.budget"

warn_at := data.costgate.config.budgets.warn_at if is_number(data.costgate.config.budgets.warn_at)

else := 0.8

budget(team) := data.costgate.config.budgets.teams[team] if is_number(data.costgate.config.budgets.teams[team])

spent(team) := s if {
	s := data.costgate.spend.teams[team].month_to_date
	is_number(s)
} else := 0

forecast(team) := f if {
	f := data.costgate.spend.teams[team].forecast
	is_number(f)
} else := spent(team)

# projected[team] is [budget, month-to-date, forecast, delta, projected].
projected[team] := [b, spent(team), forecast(team), delta, forecast(team) + delta] if {
	some team, totals in input.cost.by_team
	team != ""
	b := budget(team)
	delta := totals.monthly_delta
	is_number(delta)
	delta > 0
}

deny contains finding if {
	some team, [b, mtd, fc, delta, total] in projected
	total > b
	finding := {
		"msg": sprintf(
			"team %q would go over its %s %s monthly budget: spent %s so far this month, forecast %s, and this plan adds %s a month, %s in all; lower the change's cost, wait for next month, or ask for a budget waiver",
			[team, lib.money(b), currency, lib.money(mtd), lib.money(fc), lib.money(delta), lib.money(total)],
		),
		"address": "",
		"rule_id": rule_id,
	}
}

warn contains finding if {
	some team, [b, mtd, fc, delta, total] in projected
	total <= b
	total >= warn_at * b
	finding := {
		"msg": sprintf(
			"team %q would reach %d%% of its %s %s monthly budget: spent %s so far this month, forecast %s, and this plan adds %s a month",
			[team, floor((100 * total) / b), lib.money(b), currency, lib.money(mtd), lib.money(fc), lib.money(delta)],
		),
		"address": "",
		"rule_id": rule_id,
		"severity": "warn",
	}
}

currency := object.get(input, ["cost", "currency"], "USD")
