// Package aws estimates the cost of AWS resources in Terraform plans.
//
// Each service has a mapping file (*_mapping.go) that reads plan
// attributes into typed attributes, and a pricing file that turns typed
// attributes into cost components through a pricing.Pricer; the pricing
// files never see plan values.
package aws

import (
	"github.com/costgate/costgate/pricing"
)

const provider = "aws"

// Register adds the AWS estimators and free types to r.
func Register(r *pricing.Registry) {
	r.Register("aws_instance", instanceSide)
	r.Register("aws_ebs_volume", ebsVolumeSide)
	r.Register("aws_autoscaling_group", autoscalingGroupSide)
	r.Register("aws_eks_node_group", eksNodeGroupSide)
	r.Register("aws_eks_cluster", eksClusterSide)
	r.Register("aws_db_instance", dbInstanceSide)
	r.Register("aws_rds_cluster_instance", rdsClusterInstanceSide)
	r.Register("aws_nat_gateway", natGatewaySide)
	r.Register("aws_lb", loadBalancerSide)
	r.Register("aws_alb", loadBalancerSide)
	r.Register("aws_elb", classicLoadBalancerSide)
	r.Register("aws_elasticache_cluster", elasticacheClusterSide)
	r.Register("aws_elasticache_replication_group", elasticacheReplicationGroupSide)
	r.Register("aws_opensearch_domain", searchDomainSide)
	r.Register("aws_elasticsearch_domain", searchDomainSide)
	r.Register("aws_dynamodb_table", dynamoDBTableSide)
	r.Register("aws_lambda_function", lambdaFunctionSide)
	r.Register("aws_s3_bucket", s3BucketSide)
	r.Register("aws_cloudwatch_log_group", logGroupSide)
	r.Free(FreeTypes...)
	r.Related("aws_launch_template", "aws_launch_configuration", "aws_appautoscaling_target")
	// Whose configuration references the estimators follow: launch
	// templates and configurations (findLaunchTemplate,
	// findLaunchConfiguration) and DynamoDB tables' autoscaling targets.
	r.Referring("aws_autoscaling_group", "aws_eks_node_group", "aws_appautoscaling_target")
	// Priced from usage alone (s3_mapping.go): no plan value is read.
	r.ValuesUnread("aws_s3_bucket", "aws_cloudwatch_log_group")
}

// FreeTypes cost nothing by themselves (their cost, if any, is billed
// on another resource: a launch template's on its autoscaling group).
var FreeTypes = []string{
	"aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy",
	"aws_iam_policy_attachment", "aws_iam_user", "aws_iam_user_policy", "aws_iam_user_policy_attachment",
	"aws_iam_group", "aws_iam_group_policy", "aws_iam_group_membership", "aws_iam_group_policy_attachment",
	"aws_iam_instance_profile", "aws_iam_access_key", "aws_iam_openid_connect_provider",
	"aws_iam_service_linked_role", "aws_iam_user_group_membership", "aws_iam_saml_provider",
	"aws_security_group", "aws_security_group_rule", "aws_default_security_group",
	"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
	"aws_vpc", "aws_default_vpc", "aws_subnet", "aws_default_subnet", "aws_vpc_dhcp_options",
	"aws_vpc_dhcp_options_association", "aws_vpc_ipv4_cidr_block_association",
	"aws_route", "aws_route_table", "aws_route_table_association", "aws_default_route_table",
	"aws_main_route_table_association", "aws_internet_gateway", "aws_egress_only_internet_gateway",
	"aws_network_acl", "aws_network_acl_rule", "aws_default_network_acl", "aws_network_interface",
	"aws_network_interface_attachment", "aws_network_interface_sg_attachment",
	"aws_volume_attachment", "aws_eip_association", "aws_key_pair", "aws_placement_group",
	"aws_db_parameter_group", "aws_db_option_group", "aws_db_subnet_group", "aws_rds_cluster_parameter_group",
	"aws_elasticache_subnet_group", "aws_elasticache_parameter_group",
	"aws_launch_template", "aws_launch_configuration", "aws_autoscaling_policy", "aws_autoscaling_attachment",
	"aws_autoscaling_lifecycle_hook", "aws_autoscaling_schedule", "aws_autoscaling_notification",
	"aws_appautoscaling_target", "aws_appautoscaling_policy", "aws_appautoscaling_scheduled_action",
	"aws_lb_listener", "aws_lb_listener_rule", "aws_lb_target_group", "aws_lb_target_group_attachment",
	"aws_alb_listener", "aws_alb_listener_rule", "aws_alb_target_group", "aws_alb_target_group_attachment",
	"aws_lb_listener_certificate", "aws_load_balancer_policy", "aws_elb_attachment",
	"aws_s3_bucket_policy", "aws_s3_bucket_acl", "aws_s3_bucket_versioning", "aws_s3_bucket_public_access_block",
	"aws_s3_bucket_ownership_controls", "aws_s3_bucket_server_side_encryption_configuration",
	"aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_cors_configuration", "aws_s3_bucket_website_configuration",
	"aws_s3_bucket_logging", "aws_s3_bucket_notification", "aws_s3_account_public_access_block",
	"aws_lambda_permission", "aws_lambda_alias", "aws_lambda_event_source_mapping", "aws_cloudwatch_event_target",
	"aws_sns_topic_subscription", "aws_sns_topic_policy", "aws_sqs_queue_policy",
	"aws_elasticsearch_domain_policy", "aws_opensearch_domain_policy", "aws_kms_alias", "aws_kms_grant",
	"aws_eks_addon", "aws_eks_identity_provider_config", "aws_eks_access_entry", "aws_eks_access_policy_association",
	"aws_ecr_lifecycle_policy", "aws_ecr_repository_policy", "aws_ecs_cluster", "aws_ecs_task_definition",
	"aws_cloudwatch_log_subscription_filter", "aws_cloudwatch_log_resource_policy", "aws_iam_server_certificate",
	"aws_acm_certificate_validation", "aws_route53_record", "aws_vpc_endpoint_route_table_association",
	"aws_ssm_parameter", "aws_api_gateway_deployment", "aws_api_gateway_resource", "aws_api_gateway_method",
	"aws_api_gateway_integration", "aws_api_gateway_method_response", "aws_api_gateway_integration_response",
}

// q builds a catalog query for an AWS service in a region.
func q(service, region, unit string, attrs map[string]string) pricing.Query {
	return pricing.Query{Provider: provider, Service: service, Region: region, Unit: unit, Attrs: attrs}
}

// needRegion returns the resource's region or an unpriced error.
func needRegion(s pricing.Side) (string, error) {
	if r := s.Region(); r != "" {
		return r, nil
	}
	return "", pricing.Unpriced("the AWS region is unknown: set region on the aws provider configuration")
}
