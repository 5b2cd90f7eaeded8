// Package gate judges Terraform plans: it loads `terraform show -json`
// output (parsed with terraform-json, handed to OPA raw), builds the Rego
// input document with effective tags, evaluates the deny/warn/violation
// rules of the policy set with prepared OPA queries, applies waivers and
// renders decisions in the output formats (text, json, junit, sarif,
// github, markdown).
package gate
