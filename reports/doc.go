// Package reports builds the monthly cost report — for the company and
// for each team — from a costgate.CostReader, renders it as email-ready
// HTML (inline CSS, PNG charts embedded by Content-ID), plain text and
// CSV, and delivers it over SMTP with retries and a sent log that makes
// delivery idempotent per month and recipient.
//
// The package imports the module root only: cmd/costgate opens the store
// and the decision log and hands them over as costgate.CostReader and
// DecisionSource. Money is exact (costgate.Sum) from query to output;
// floats are used only for chart geometry and display ratios.
package reports
