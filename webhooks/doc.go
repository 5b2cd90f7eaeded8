// Package webhooks serves the gate over HTTP: POST /v1/check for plans,
// POST /v1/runtasks/hcp for HCP Terraform and Terraform Enterprise run
// tasks, POST /v1/admission for Kubernetes validating admission, GET
// /v1/decisions and /v1/cost for queries, and /healthz, /readyz and
// /metrics for operations.
//
// Handlers judge each request with the policy snapshot current when it
// arrived (a Policies value swaps snapshots atomically on reload), bound
// request bodies, recover from panics per request, and never log a token,
// key or plan. The package imports the module root and gate only; the
// decision log, the cost store and prices reach it through small
// interfaces that cmd/costgate fills.
package webhooks
