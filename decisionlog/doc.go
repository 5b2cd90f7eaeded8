// Package decisionlog records every decision costgate makes, from every
// surface (the CLI with --log, the HTTP API, HCP Terraform run tasks and
// Kubernetes admission), with what is needed to audit and replay it: time,
// surface, context, input digest, policy revision, price snapshot,
// findings, waivers used and cost totals. A priced plan's decision also
// keeps each resource's monthly estimate with what identifies the
// resource (address, type, known ids, tags, region, account), so that the
// monthly report can compare estimates with what billing shows.
//
// The schema carries a version (costgate_schema); Open upgrades a log
// written by an earlier costgate in place, keeping its records.
//
// Two drivers sit behind one Log interface: an embedded SQLite file
// (modernc.org/sqlite, pure Go, the default) and PostgreSQL
// (github.com/jackc/pgx/v5) for several gate replicas sharing one log.
// Open picks the driver from the DSN. The package imports only the
// module root and the drivers.
package decisionlog
