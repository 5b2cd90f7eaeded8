// Package google estimates the cost of Google Cloud resources in
// Terraform plans: Compute Engine instances and persistent disks, Cloud
// SQL instances, and GKE clusters and node pools.
//
// Mapping files (*_mapping.go) read plan attributes into typed
// attributes; pricing files turn those into cost components through a
// pricing.Pricer.
package google

import (
	"github.com/costgate/costgate/pricing"
)

const provider = "google"

// Register adds the Google Cloud estimators and free types to r.
func Register(r *pricing.Registry) {
	r.Register("google_compute_instance", computeInstanceSide)
	r.Register("google_compute_disk", computeDiskSide)
	r.Register("google_sql_database_instance", sqlInstanceSide)
	r.Register("google_container_cluster", containerClusterSide)
	r.Register("google_container_node_pool", nodePoolSide)
	r.Referring("google_container_node_pool") // its cluster, for the region
	r.Free(FreeTypes...)
}

// FreeTypes cost nothing by themselves.
var FreeTypes = []string{
	"google_compute_network", "google_compute_subnetwork", "google_compute_firewall", "google_compute_route",
	"google_compute_instance_iam_member", "google_compute_instance_iam_binding", "google_compute_instance_iam_policy",
	"google_project_iam_member", "google_project_iam_binding", "google_project_iam_policy", "google_project_iam_custom_role",
	"google_project_service", "google_project", "google_folder", "google_organization_iam_member",
	"google_folder_iam_member", "google_folder_iam_binding",
	"google_service_account", "google_service_account_key", "google_service_account_iam_member", "google_service_account_iam_binding",
	"google_storage_bucket_iam_member", "google_storage_bucket_iam_binding", "google_storage_bucket_acl",
	"google_sql_database", "google_sql_user", "google_service_networking_connection", "google_compute_global_address",
	"google_compute_project_metadata", "google_compute_project_metadata_item", "google_compute_resource_policy",
	"google_compute_disk_resource_policy_attachment", "google_kms_key_ring", "google_kms_crypto_key_iam_member",
	"google_pubsub_topic_iam_member", "google_pubsub_subscription_iam_member",
}

func q(service, region, unit string, attrs map[string]string) pricing.Query {
	return pricing.Query{Provider: provider, Service: service, Region: region, Unit: unit, Attrs: attrs}
}

func needRegion(s pricing.Side) (string, error) {
	if r := s.Region(); r != "" {
		return r, nil
	}
	return "", pricing.Unpriced("the region is unknown: set zone/region on the resource or region on the google provider")
}
