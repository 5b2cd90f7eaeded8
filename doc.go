// Package costgate holds the domain of the costgate FinOps policy gate:
// exact Money, billing line items in FOCUS terms, inventory resources,
// decisions and findings, waivers, and the small interfaces (cost readers
// and writers, estimators) that the adapters in store, collector, pricing,
// gate, reports and webhooks implement or consume. It imports only the
// standard library.
package costgate
