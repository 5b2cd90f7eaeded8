# Package costgate.cost.max_monthly_increase limits how much a plan may add
# to the monthly bill, per environment.
#
# Parameters (data.costgate.config):
#
#	cost:
#	  max_monthly_increase:    # by environment (the resources' env tag); '*' for the rest
#	    prod: 5000
#	    '*': 1000
#
# The plan's estimated monthly delta per environment (input.cost.by_env,
# summed exactly by the gate from the resources' effective costs) must not
# exceed the limit for that environment. Resources without an env tag
# count under "". Without the parameter the rule finds nothing.
package costgate.cost.max_monthly_increase

import data.costgate.lib

rule_id := "cost.max_monthly_increase"

limits := data.costgate.config.cost.max_monthly_increase

# limit(env) is the limit that applies to env.
limit(env) := limits[env] if is_number(limits[env])

else := limits["*"] if is_number(limits["*"])

deny contains finding if {
	count(limits) > 0
	some env, totals in input.cost.by_env
	delta := totals.monthly_delta
	is_number(delta)
	max := limit(env)
	delta > max
	finding := {
		"msg": sprintf(
			"this plan adds %s %s a month in %s, above the %s limit (cost.max_monthly_increase[%q]); split the change, lower its cost, or raise the limit",
			[lib.money(delta), input.cost.currency, env_name(env), lib.money(max), limit_key(env)],
		),
		"address": "",
		"rule_id": rule_id,
	}
}

env_name(env) := sprintf("environment %q", [env]) if env != ""

else := "resources without an env tag"

limit_key(env) := env if is_number(limits[env])

else := "*"
