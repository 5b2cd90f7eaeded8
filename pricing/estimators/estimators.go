// Package estimators assembles costgate's plan cost Estimator from the
// price catalog and every provider's estimators (pricing/aws,
// pricing/google, pricing/azure).
package estimators

import (
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/aws"
	"github.com/costgate/costgate/pricing/azure"
	"github.com/costgate/costgate/pricing/google"
)

// Registry returns a registry with every provider's estimators and free
// types, and the providers whose resources never bill (random, null,
// local, time, tls, ...).
func Registry() *pricing.Registry {
	r := pricing.NewRegistry()
	aws.Register(r)
	google.Register(r)
	azure.Register(r)
	r.FreePrefix("random_", "null_", "local_", "time_", "tls_", "terraform_", "archive_", "template_",
		"cloudinit_", "external", "http", "github_", "tfe_")
	r.ReadsAttributes(attributeNames...)
	return r
}

// New returns an Estimator over a catalog with every provider's
// estimators; opts.Registry is set when nil.
func New(cat *pricing.Catalog, opts pricing.Options) *pricing.Estimator {
	if opts.Registry == nil {
		opts.Registry = Registry()
	}
	return pricing.NewEstimator(cat, opts)
}
