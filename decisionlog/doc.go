// Package decisionlog records every decision costgate makes, from every
// surface (the CLI with --log, the HTTP API, HCP Terraform run tasks and
// Kubernetes admission), with what is needed to audit and replay it: time,
// surface, context, input digest, policy revision, price snapshot,
// findings, waivers used and cost totals.
//
// Two drivers sit behind one Log interface: an embedded SQLite file
// (modernc.org/sqlite, pure Go, the default) and PostgreSQL
// (github.com/jackc/pgx/v5) for several gate replicas sharing one log.
// Open picks the driver from the DSN. The package imports only the
// module root and the drivers.
package decisionlog
