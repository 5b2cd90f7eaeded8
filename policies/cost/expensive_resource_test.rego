package costgate.cost.expensive_resource_test

import data.costgate.cost.expensive_resource as rule

res(addr, action, after) := {
	"address": addr, "mode": "managed", "action": action,
	"cost": {"priced": true, "currency": "USD", "monthly_after": after},
}

run(resources, c) := x if {
	x := rule.deny with input as {"resources": resources}
	with data.costgate.config as c
}

cfg := {"cost": {"expensive_resource": 2000}}

test_expensive_denied if {
	findings := run([res("aws_db_instance.big", "create", 2500.5), res("aws_instance.small", "create", 30)], cfg)
	count(findings) == 1
	some f in findings
	f.address == "aws_db_instance.big"
	contains(f.msg, "2500.50 USD a month")
	contains(f.msg, "approval waiver")
}

test_threshold_inclusive if {
	count(run([res("a.b", "update", 2000)], cfg)) == 1
}

test_deletes_not_judged if {
	count(run([res("a.b", "delete", 9000)], cfg)) == 0
}

test_unpriced_not_judged if {
	r := {"address": "a.b", "mode": "managed", "action": "create", "cost": {"priced": false, "monthly_after": null}}
	count(run([r], cfg)) == 0
}

test_unconfigured if {
	count(run([res("a.b", "create", 99999)], {})) == 0
}
