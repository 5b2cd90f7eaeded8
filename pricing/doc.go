// Package pricing is costgate's price catalog and the framework of its
// plan cost estimators.
//
// The catalog is a versioned snapshot of public list unit prices keyed by
// provider, service, region and product attributes, with a unit, a
// currency and the provenance of every price (snapshot.go documents the
// file format). A small default snapshot is embedded (snapshot/*.json);
// Load reads a self-hosted one, and RefreshAWS / RefreshGoogle build one
// from the AWS Price List Query API and the Google Cloud Billing Catalog
// API with the providers' own clients.
//
// Estimators are kept apart from the price arithmetic, as in Infracost:
// per provider (pricing/aws, pricing/google, pricing/azure) a mapping file
// turns a resource's plan attributes into typed attributes, and a pricing
// file turns typed attributes into cost components through a Pricer. The
// Estimator in this package drives them: before and after each change,
// free types, usage (a usage file or the store's history), calibration of
// list prices to the bill, and plan totals.
package pricing
