// Package policies is costgate's default Rego policy library, embedded in
// the binary with go:embed.
//
// Each rule lives in its own file with a _test.rego beside it:
//
//	tags/required.rego           costgate.tags.required         rule_id tags.required
//	tags/allowed_values.rego     costgate.tags.allowed_values   rule_id tags.allowed_values
//	compute/allowed_types.rego   costgate.compute.allowed_types rule_id compute.allowed_types
//	cost/max_monthly_increase.rego  costgate.cost.max_monthly_increase  rule_id cost.max_monthly_increase
//	cost/budget.rego             costgate.cost.budget           rule_id cost.budget
//	cost/expensive_resource.rego costgate.cost.expensive_resource rule_id cost.expensive_resource
//	cost/unpriced.rego           costgate.cost.unpriced         rule_id cost.unpriced
//	kubernetes/required_labels.rego   costgate.kubernetes.required_labels   (admission)
//	kubernetes/max_monthly_cost.rego  costgate.kubernetes.max_monthly_cost  (admission)
//	kubernetes/namespace_budgets.rego costgate.kubernetes.namespace_budgets (admission)
//	lib/costgate.rego            costgate.lib                   shared helpers, no rules
//
// The policies are Rego v1. They read the input document built by the gate
// (input.resources[], input.cost, or input.kubernetes for admission), their
// parameters from data.costgate.config and actual spend from
// data.costgate.spend; a
// rule whose parameters are not configured finds nothing. Findings are
// objects {msg, address, rule_id} in the deny set; the gate applies the
// severity and waivers.
//
// This package imports only the standard library, so that anything may
// embed the policies; the gate compiles them and `go test` runs the Rego
// tests through OPA's tester.
package policies
