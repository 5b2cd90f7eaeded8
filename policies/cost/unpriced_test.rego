package costgate.cost.unpriced_test

import data.costgate.cost.unpriced as rule

run(resources, c) := x if {
	x := rule.warn with input as {"resources": resources}
	with data.costgate.config as c
}

cfg := {"cost": {"unpriced": true}}

r(cost) := {"address": "aws_lambda_function.f", "mode": "managed", "action": "create", "cost": cost}

test_unpriced_warns_with_reason if {
	findings := run([r({"priced": false, "free": false, "reason": "usage-based: no usage known"})], cfg)
	count(findings) == 1
	some f in findings
	f.severity == "warn"
	contains(f.msg, "usage-based: no usage known")
}

test_free_is_quiet if {
	count(run([r({"priced": true, "free": true})], cfg)) == 0
}

test_priced_is_quiet if {
	count(run([r({"priced": true, "free": false, "monthly_after": 3})], cfg)) == 0
}

test_default_reason if {
	some f in run([r({"priced": false})], cfg)
	contains(f.msg, "no price for this resource type")
}

test_unconfigured if {
	count(run([r({"priced": false})], {})) == 0
}
