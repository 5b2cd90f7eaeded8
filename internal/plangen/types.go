package plangen

import (
	"fmt"
	"strings"
)

// typeSpec describes how one resource type looks in a plan. The
// attribute sets are abridged from real provider schemas (AWS provider
// 5.x, Google provider 5.x) so sizes and shapes are close to real plans.
type typeSpec struct {
	typ           string
	cloud         string // "aws" or "google"
	data          bool
	taggable      bool
	weight        int
	schemaVersion int
	names         []string
	// configured returns the attributes known at plan time, nulls
	// included, without tags.
	configured func(g *gen, c *instCtx) map[string]any
	// computed returns the attributes unknown until the resource is
	// created, with the values they have once it exists.
	computed func(g *gen, c *instCtx) []kv
	// sensitive is the after_sensitive skeleton (tags added for
	// taggable types).
	sensitive func() map[string]any
	// update makes an in-place change to a copy of the before value.
	update func(g *gen, after map[string]any)
	// replaceAttr forces replacement when it changes from replaceOld.
	replaceAttr string
	replaceOld  any
	// config lists the attributes echoed as constant_value in the
	// configuration; refs are "attr=target" references.
	config []string
	refs   []string
}

func (s *typeSpec) mode() string {
	if s.data {
		return "data"
	}
	return "managed"
}

func (s *typeSpec) providerName() string {
	if s.cloud == "google" {
		return googleProvider
	}
	return awsProvider
}

func (s *typeSpec) sensitiveSkeleton() map[string]any {
	m := map[string]any{}
	if s.sensitive != nil {
		m = s.sensitive()
	}
	if s.taggable {
		if s.cloud == "google" {
			m["labels"], m["effective_labels"], m["terraform_labels"] = map[string]any{}, map[string]any{}, map[string]any{}
		} else {
			m["tags"], m["tags_all"] = map[string]any{}, map[string]any{}
		}
	}
	return m
}

func empties(names ...string) map[string]any {
	m := make(map[string]any, len(names))
	for _, n := range names {
		m[n] = []any{}
	}
	return m
}

func setNull(m map[string]any, names ...string) map[string]any {
	for _, n := range names {
		m[n] = nil
	}
	return m
}

func arn(c *instCtx, service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, c.region, c.account, resource)
}

var instanceTypes = []string{"t3.micro", "t3.small", "t3.medium", "t3.large", "m5.large", "m5.xlarge", "c5.xlarge", "r5.large", "m6i.2xlarge"}

var specs = []*typeSpec{
	{
		typ: "aws_instance", cloud: "aws", taggable: true, weight: 2, schemaVersion: 1,
		names:  []string{"web", "api", "worker", "bastion", "batch", "app_server", "cache_node"},
		config: []string{"ami", "instance_type", "tags"},
		refs:   []string{"subnet_id=aws_subnet.private", "iam_instance_profile=aws_iam_instance_profile.this"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{
				"ami":                         "ami-0" + g.hex(16),
				"credit_specification":        []any{},
				"get_password_data":           false,
				"instance_type":               g.pick(instanceTypes),
				"launch_template":             []any{},
				"root_block_device":           []any{map[string]any{"delete_on_termination": true, "encrypted": true, "tags": nil, "volume_size": 20 + 10*g.r.IntN(10), "volume_type": "gp3"}},
				"source_dest_check":           true,
				"user_data_replace_on_change": false,
				"volume_tags":                 nil,
			}
			return setNull(m, "hibernation", "timeouts", "user_data", "user_data_base64", "key_name")
		},
		computed: func(g *gen, c *instCtx) []kv {
			id := "i-0" + g.hex(16)
			ip := g.ip()
			az := c.region + string(rune('a'+g.r.IntN(3)))
			return []kv{
				{name: "arn", known: arn(c, "ec2", "instance/"+id)},
				{name: "associate_public_ip_address", known: false},
				{name: "availability_zone", known: az},
				{name: "capacity_reservation_specification", known: []any{map[string]any{"capacity_reservation_preference": "open", "capacity_reservation_target": []any{}}}},
				{name: "cpu_core_count", known: 1},
				{name: "cpu_options", known: []any{map[string]any{"amd_sev_snp": "", "core_count": 1, "threads_per_core": 2}}},
				{name: "cpu_threads_per_core", known: 2},
				{name: "disable_api_stop", known: false},
				{name: "disable_api_termination", known: false},
				{name: "ebs_block_device", known: []any{}},
				{name: "ebs_optimized", known: false},
				{name: "enclave_options", known: []any{map[string]any{"enabled": false}}},
				{name: "ephemeral_block_device", known: []any{}},
				{name: "host_id", known: ""},
				{name: "host_resource_group_arn", known: nil},
				{name: "iam_instance_profile", known: c.name + "-profile"},
				{name: "id", known: id},
				{name: "instance_initiated_shutdown_behavior", known: "stop"},
				{name: "instance_lifecycle", known: ""},
				{name: "instance_market_options", known: []any{}},
				{name: "instance_state", known: "running"},
				{name: "ipv6_address_count", known: 0},
				{name: "ipv6_addresses", known: []any{}},
				{name: "maintenance_options", known: []any{map[string]any{"auto_recovery": "default"}}},
				{name: "metadata_options", known: []any{map[string]any{"http_endpoint": "enabled", "http_protocol_ipv6": "disabled", "http_put_response_hop_limit": 2, "http_tokens": "required", "instance_metadata_tags": "disabled"}}},
				{name: "monitoring", known: false},
				{name: "network_interface", known: []any{}},
				{name: "outpost_arn", known: ""},
				{name: "password_data", known: ""},
				{name: "placement_group", known: ""},
				{name: "placement_partition_number", known: 0},
				{name: "primary_network_interface_id", known: "eni-0" + g.hex(16)},
				{name: "private_dns", known: "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal"},
				{name: "private_dns_name_options", known: []any{map[string]any{"enable_resource_name_dns_a_record": false, "enable_resource_name_dns_aaaa_record": false, "hostname_type": "ip-name"}}},
				{name: "private_ip", known: ip},
				{name: "public_dns", known: ""},
				{name: "public_ip", known: ""},
				{name: "root_block_device", mark: []any{map[string]any{"device_name": true, "iops": true, "kms_key_id": true, "throughput": true, "volume_id": true}},
					known: []any{map[string]any{"delete_on_termination": true, "device_name": "/dev/xvda", "encrypted": true, "iops": 3000, "kms_key_id": arn(c, "kms", "key/"+g.hex(8)), "tags": nil, "throughput": 125, "volume_id": "vol-0" + g.hex(16), "volume_size": 30, "volume_type": "gp3"}}},
				{name: "secondary_private_ips", known: []any{}},
				{name: "security_groups", known: []any{}},
				{name: "spot_instance_request_id", known: ""},
				{name: "subnet_id", known: "subnet-0" + g.hex(16)},
				{name: "tenancy", known: "default"},
				{name: "vpc_security_group_ids", known: []any{"sg-0" + g.hex(16)}},
			}
		},
		sensitive: func() map[string]any {
			m := empties("capacity_reservation_specification", "cpu_options", "credit_specification", "ebs_block_device", "enclave_options", "ephemeral_block_device", "instance_market_options", "ipv6_addresses", "launch_template", "maintenance_options", "metadata_options", "network_interface", "private_dns_name_options", "secondary_private_ips", "security_groups", "vpc_security_group_ids")
			m["root_block_device"] = []any{map[string]any{}}
			return m
		},
		update:      func(g *gen, after map[string]any) { after["instance_type"] = g.pick(instanceTypes) },
		replaceAttr: "ami", replaceOld: "ami-0a1b2c3d4e5f60718",
	},
	{
		typ: "aws_s3_bucket", cloud: "aws", taggable: true, weight: 3,
		names:  []string{"logs", "artifacts", "assets", "backups", "data_lake", "exports", "uploads"},
		config: []string{"bucket", "force_destroy", "tags"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{"bucket": "acme-" + c.name + "-" + g.hex(6), "force_destroy": false}
			return setNull(m, "bucket_prefix", "timeouts")
		},
		computed: func(g *gen, c *instCtx) []kv {
			return []kv{
				{name: "acceleration_status", known: ""},
				{name: "acl", known: nil},
				{name: "arn", known: "arn:aws:s3:::acme-" + c.name},
				{name: "bucket_domain_name", known: "acme-" + c.name + ".s3.amazonaws.com"},
				{name: "bucket_regional_domain_name", known: "acme-" + c.name + ".s3." + c.region + ".amazonaws.com"},
				{name: "cors_rule", known: []any{}},
				{name: "grant", known: []any{map[string]any{"id": g.hex(64), "permissions": []any{"FULL_CONTROL"}, "type": "CanonicalUser", "uri": ""}}},
				{name: "hosted_zone_id", known: "Z3AQBSTGFYJSTF"},
				{name: "id", known: "acme-" + c.name},
				{name: "lifecycle_rule", known: []any{}},
				{name: "logging", known: []any{}},
				{name: "object_lock_configuration", known: []any{}},
				{name: "object_lock_enabled", known: false},
				{name: "policy", known: ""},
				{name: "region", known: c.region},
				{name: "replication_configuration", known: []any{}},
				{name: "request_payer", known: "BucketOwner"},
				{name: "server_side_encryption_configuration", known: []any{map[string]any{"rule": []any{map[string]any{"apply_server_side_encryption_by_default": []any{map[string]any{"kms_master_key_id": "", "sse_algorithm": "AES256"}}, "bucket_key_enabled": false}}}}},
				{name: "versioning", known: []any{map[string]any{"enabled": false, "mfa_delete": false}}},
				{name: "website", known: []any{}},
				{name: "website_domain", known: nil},
				{name: "website_endpoint", known: nil},
			}
		},
		sensitive: func() map[string]any {
			return empties("cors_rule", "grant", "lifecycle_rule", "logging", "object_lock_configuration", "replication_configuration", "server_side_encryption_configuration", "versioning", "website")
		},
		update:      func(g *gen, after map[string]any) { after["force_destroy"] = true },
		replaceAttr: "bucket", replaceOld: "acme-old-bucket",
	},
	{
		typ: "aws_ebs_volume", cloud: "aws", taggable: true, weight: 3,
		names:  []string{"data", "scratch", "journal", "index", "wal"},
		config: []string{"availability_zone", "size", "type", "encrypted", "tags"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{
				"availability_zone": c.region + "a",
				"encrypted":         true,
				"size":              50 * (1 + g.r.IntN(20)),
				"type":              g.pick([]string{"gp3", "gp3", "gp2", "io2", "st1"}),
				"final_snapshot":    false,
			}
			return setNull(m, "multi_attach_enabled", "outpost_arn", "snapshot_id", "timeouts")
		},
		computed: func(g *gen, c *instCtx) []kv {
			id := "vol-0" + g.hex(16)
			return []kv{
				{name: "arn", known: arn(c, "ec2", "volume/"+id)},
				{name: "id", known: id},
				{name: "iops", known: 3000},
				{name: "kms_key_id", known: arn(c, "kms", "key/"+g.hex(8)+"-"+g.hex(4)+"-"+g.hex(4)+"-"+g.hex(12))},
				{name: "throughput", known: 125},
			}
		},
		update:      func(g *gen, after map[string]any) { after["size"] = after["size"].(int) + 100 },
		replaceAttr: "availability_zone", replaceOld: "us-east-1c",
	},
	{
		typ: "aws_db_instance", cloud: "aws", taggable: true, weight: 1, schemaVersion: 2,
		names:  []string{"main", "orders", "reporting", "users", "billing"},
		config: []string{"engine", "engine_version", "instance_class", "allocated_storage", "tags"},
		refs:   []string{"db_subnet_group_name=aws_db_subnet_group.this"},
		configured: func(g *gen, c *instCtx) map[string]any {
			engine := g.pick([]string{"postgres", "mysql"})
			version := "16.3"
			if engine == "mysql" {
				version = "8.0.36"
			}
			m := map[string]any{
				"allocated_storage":            100 * (1 + g.r.IntN(10)),
				"auto_minor_version_upgrade":   true,
				"backup_retention_period":      7,
				"copy_tags_to_snapshot":        true,
				"db_name":                      strings.ReplaceAll(c.name, "-", "_"),
				"delete_automated_backups":     true,
				"deletion_protection":          true,
				"engine":                       engine,
				"engine_version":               version,
				"identifier":                   c.name,
				"instance_class":               g.pick([]string{"db.t3.medium", "db.m5.large", "db.r5.xlarge", "db.m6g.large"}),
				"monitoring_interval":          60,
				"multi_az":                     g.pct(50),
				"password":                     "synthetic-" + g.hex(12),
				"performance_insights_enabled": true,
				"publicly_accessible":          false,
				"restore_to_point_in_time":     []any{},
				"s3_import":                    []any{},
				"skip_final_snapshot":          false,
				"storage_encrypted":            true,
				"storage_type":                 "gp3",
				"username":                     "admin",
			}
			return setNull(m, "allow_major_version_upgrade", "customer_owned_ip_enabled", "domain", "domain_iam_role_name", "enabled_cloudwatch_logs_exports", "final_snapshot_identifier", "iam_database_authentication_enabled", "max_allocated_storage", "replicate_source_db", "security_group_names", "timeouts")
		},
		computed: func(g *gen, c *instCtx) []kv {
			id := "db-" + strings.ToUpper(g.hex(26))
			host := c.name + "." + g.hex(12) + "." + c.region + ".rds.amazonaws.com"
			return []kv{
				{name: "address", known: host},
				{name: "apply_immediately", known: false},
				{name: "arn", known: arn(c, "rds", "db:"+c.name)},
				{name: "availability_zone", known: c.region + "b"},
				{name: "backup_window", known: "03:00-04:00"},
				{name: "ca_cert_identifier", known: "rds-ca-rsa2048-g1"},
				{name: "character_set_name", known: ""},
				{name: "db_subnet_group_name", known: "main"},
				{name: "endpoint", known: host + ":5432"},
				{name: "engine_version_actual", known: "16.3"},
				{name: "hosted_zone_id", known: "Z2R2ITUGPM61AM"},
				{name: "id", known: id},
				{name: "identifier_prefix", known: ""},
				{name: "iops", known: 3000},
				{name: "kms_key_id", known: arn(c, "kms", "key/"+g.hex(8))},
				{name: "latest_restorable_time", known: "2025-06-01T23:55:00Z"},
				{name: "license_model", known: "postgresql-license"},
				{name: "maintenance_window", known: "sun:05:00-sun:06:00"},
				{name: "master_user_secret", known: []any{}},
				{name: "monitoring_role_arn", known: arn(c, "iam", "role/rds-monitoring")},
				{name: "nchar_character_set_name", known: ""},
				{name: "network_type", known: "IPV4"},
				{name: "option_group_name", known: "default:postgres-16"},
				{name: "parameter_group_name", known: "default.postgres16"},
				{name: "performance_insights_kms_key_id", known: arn(c, "kms", "key/"+g.hex(8))},
				{name: "performance_insights_retention_period", known: 7},
				{name: "port", known: 5432},
				{name: "replica_mode", known: ""},
				{name: "replicas", known: []any{}},
				{name: "resource_id", known: id},
				{name: "status", known: "available"},
				{name: "storage_throughput", known: 125},
				{name: "timezone", known: ""},
				{name: "vpc_security_group_ids", known: []any{"sg-0" + g.hex(16)}},
			}
		},
		sensitive: func() map[string]any {
			m := empties("master_user_secret", "replicas", "restore_to_point_in_time", "s3_import", "vpc_security_group_ids")
			m["password"] = true
			return m
		},
		update: func(g *gen, after map[string]any) {
			after["allocated_storage"] = after["allocated_storage"].(int) + 100
		},
		replaceAttr: "engine", replaceOld: "mariadb",
	},
	{
		typ: "aws_lambda_function", cloud: "aws", taggable: true, weight: 1, schemaVersion: 0,
		names:  []string{"handler", "ingest", "resize", "notify", "cron", "authorizer"},
		config: []string{"function_name", "runtime", "handler", "memory_size", "timeout", "tags"},
		refs:   []string{"role=aws_iam_role.lambda"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{
				"architectures":                  []any{"arm64"},
				"environment":                    []any{map[string]any{"variables": map[string]any{"LOG_LEVEL": "info", "STAGE": "prod"}}},
				"filename":                       "build/" + c.name + ".zip",
				"function_name":                  c.name,
				"handler":                        "bootstrap",
				"memory_size":                    128 << g.r.IntN(5),
				"package_type":                   "Zip",
				"publish":                        false,
				"reserved_concurrent_executions": -1,
				"runtime":                        g.pick([]string{"provided.al2023", "python3.12", "nodejs20.x"}),
				"skip_destroy":                   false,
				"timeout":                        3 + g.r.IntN(60),
				"vpc_config":                     []any{},
			}
			return setNull(m, "code_signing_config_arn", "dead_letter_config", "description", "file_system_config", "image_config", "image_uri", "kms_key_arn", "layers", "replace_security_groups_on_destroy", "replacement_security_group_ids", "s3_bucket", "s3_key", "s3_object_version", "timeouts")
		},
		computed: func(g *gen, c *instCtx) []kv {
			fnArn := arn(c, "lambda", "function:"+c.name)
			return []kv{
				{name: "arn", known: fnArn},
				{name: "code_sha256", known: g.hex(43)},
				{name: "ephemeral_storage", known: []any{map[string]any{"size": 512}}},
				{name: "id", known: c.name},
				{name: "invoke_arn", known: "arn:aws:apigateway:" + c.region + ":lambda:path/2015-03-31/functions/" + fnArn + "/invocations"},
				{name: "last_modified", known: "2025-05-30T12:00:00.000+0000"},
				{name: "logging_config", known: []any{map[string]any{"application_log_level": "", "log_format": "Text", "log_group": "/aws/lambda/" + c.name, "system_log_level": ""}}},
				{name: "qualified_arn", known: fnArn + ":$LATEST"},
				{name: "qualified_invoke_arn", known: "arn:aws:apigateway:" + c.region + ":lambda:path/2015-03-31/functions/" + fnArn + ":$LATEST/invocations"},
				{name: "role", known: arn(c, "iam", "role/"+c.name+"-lambda")},
				{name: "signing_job_arn", known: ""},
				{name: "signing_profile_version_arn", known: ""},
				{name: "snap_start", known: []any{}},
				{name: "source_code_hash", known: g.hex(43)},
				{name: "source_code_size", known: 1000000 + g.r.IntN(9000000)},
				{name: "tracing_config", known: []any{map[string]any{"mode": "PassThrough"}}},
				{name: "version", known: "$LATEST"},
			}
		},
		sensitive: func() map[string]any {
			m := empties("architectures", "dead_letter_config", "ephemeral_storage", "file_system_config", "image_config", "logging_config", "snap_start", "tracing_config", "vpc_config")
			m["environment"] = []any{map[string]any{"variables": map[string]any{}}}
			return m
		},
		update:      func(g *gen, after map[string]any) { after["memory_size"] = 1024 },
		replaceAttr: "function_name", replaceOld: "old-function",
	},
	{
		typ: "aws_iam_role", cloud: "aws", taggable: true, weight: 3,
		names:  []string{"lambda", "task", "node", "ci_deployer", "reader", "service"},
		config: []string{"name", "assume_role_policy", "tags"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{
				"assume_role_policy":    `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}`,
				"force_detach_policies": false,
				"max_session_duration":  3600,
				"name":                  c.name + "-" + g.hex(4),
				"path":                  "/",
			}
			return setNull(m, "description", "permissions_boundary")
		},
		computed: func(g *gen, c *instCtx) []kv {
			return []kv{
				{name: "arn", known: "arn:aws:iam::" + c.account + ":role/" + c.name},
				{name: "create_date", known: "2024-11-02T10:11:12Z"},
				{name: "id", known: c.name},
				{name: "inline_policy", known: []any{}},
				{name: "managed_policy_arns", known: []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
				{name: "name_prefix", known: ""},
				{name: "unique_id", known: "AROA" + strings.ToUpper(g.hex(17))},
			}
		},
		sensitive:   func() map[string]any { return empties("inline_policy", "managed_policy_arns") },
		update:      func(g *gen, after map[string]any) { after["max_session_duration"] = 7200 },
		replaceAttr: "name", replaceOld: "old-role",
	},
	{
		typ: "aws_cloudwatch_log_group", cloud: "aws", taggable: true, weight: 20,
		names:  []string{"app", "access", "audit", "flow_logs", "lambda", "ecs"},
		config: []string{"name", "retention_in_days", "tags"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{
				"log_group_class":   "STANDARD",
				"name":              "/acme/" + c.name,
				"retention_in_days": []int{7, 14, 30, 90, 365}[g.r.IntN(5)],
				"skip_destroy":      false,
			}
			return setNull(m, "kms_key_id")
		},
		computed: func(g *gen, c *instCtx) []kv {
			return []kv{
				{name: "arn", known: arn(c, "logs", "log-group:/acme/"+c.name)},
				{name: "id", known: "/acme/" + c.name},
				{name: "name_prefix", known: ""},
			}
		},
		update:      func(g *gen, after map[string]any) { after["retention_in_days"] = 30 },
		replaceAttr: "name", replaceOld: "/acme/old",
	},
	{
		typ: "aws_iam_role_policy_attachment", cloud: "aws", weight: 30,
		names:  []string{"basic", "ssm", "ecr_read", "s3_read", "xray", "cloudwatch"},
		refs:   []string{"role=aws_iam_role.this"},
		config: []string{"policy_arn"},
		configured: func(g *gen, c *instCtx) map[string]any {
			return map[string]any{
				"policy_arn": "arn:aws:iam::aws:policy/" + g.pick([]string{"AmazonSSMManagedInstanceCore", "AmazonEC2ContainerRegistryReadOnly", "AmazonS3ReadOnlyAccess", "AWSXRayDaemonWriteAccess", "CloudWatchAgentServerPolicy"}),
				"role":       c.name + "-role",
			}
		},
		computed: func(g *gen, c *instCtx) []kv {
			return []kv{{name: "id", known: c.name + "-role-" + g.hex(20)}}
		},
		replaceAttr: "role", replaceOld: "old-role",
	},
	{
		typ: "aws_security_group_rule", cloud: "aws", weight: 25, schemaVersion: 2,
		names:  []string{"ingress_https", "ingress_ssh", "egress_all", "ingress_app", "ingress_db"},
		refs:   []string{"security_group_id=aws_security_group.this"},
		config: []string{"type", "from_port", "to_port", "protocol", "cidr_blocks"},
		configured: func(g *gen, c *instCtx) map[string]any {
			port := []int{443, 22, 8080, 5432, 6379}[g.r.IntN(5)]
			var desc any
			if g.pct(50) {
				desc = "managed by terraform"
			}
			m := map[string]any{
				"cidr_blocks":       []any{"10.0.0.0/8"},
				"description":       desc,
				"from_port":         port,
				"protocol":          "tcp",
				"security_group_id": "sg-0" + g.hex(16),
				"to_port":           port,
				"type":              g.pick([]string{"ingress", "ingress", "egress"}),
			}
			return setNull(m, "ipv6_cidr_blocks", "prefix_list_ids", "timeouts")
		},
		computed: func(g *gen, c *instCtx) []kv {
			return []kv{
				{name: "id", known: "sgrule-" + fmt.Sprint(g.r.Uint32())},
				{name: "security_group_rule_id", known: "sgr-0" + g.hex(16)},
				{name: "self", known: false},
				{name: "source_security_group_id", known: nil},
			}
		},
		sensitive: func() map[string]any { return empties("cidr_blocks") },
		update:    func(g *gen, after map[string]any) { after["description"] = "updated by terraform" },
	},
	{
		typ: "aws_iam_policy_document", cloud: "aws", data: true, weight: 1,
		names: []string{"assume", "read_only", "kms_use"},
		configured: func(g *gen, c *instCtx) map[string]any {
			return map[string]any{
				"statement": []any{map[string]any{"actions": []any{"s3:GetObject", "s3:ListBucket"}, "condition": []any{}, "effect": "Allow", "not_actions": nil, "not_principals": []any{}, "not_resources": nil, "principals": []any{}, "sid": nil}},
			}
		},
		computed: func(g *gen, c *instCtx) []kv {
			return []kv{{name: "id", known: g.hex(10)}, {name: "json", known: "{}"}, {name: "minified_json", known: "{}"}, {name: "statement", mark: []any{map[string]any{"resources": true}}, known: nil}}
		},
		refs: []string{"statement=aws_s3_bucket.this"},
	},
	{
		typ: "google_compute_instance", cloud: "google", taggable: true, weight: 1, schemaVersion: 6,
		names:  []string{"vm", "runner", "proxy", "worker", "db_client"},
		config: []string{"machine_type", "zone", "labels"},
		configured: func(g *gen, c *instCtx) map[string]any {
			m := map[string]any{
				"advanced_machine_features": []any{},
				"allow_stopping_for_update": true,
				"attached_disk":             []any{},
				"boot_disk":                 []any{map[string]any{"auto_delete": true, "disk_encryption_key_raw": nil, "initialize_params": []any{map[string]any{"enable_confidential_compute": nil, "image": "debian-cloud/debian-12", "resource_manager_tags": nil, "size": 20, "storage_pool": nil}}, "interface": nil, "mode": "READ_WRITE"}},
				"can_ip_forward":            false,
				"deletion_protection":       false,
				"machine_type":              g.pick([]string{"e2-medium", "e2-standard-4", "n2-standard-8", "c3-standard-4"}),
				"name":                      c.name,
				"network_interface":         []any{map[string]any{"access_config": []any{}, "alias_ip_range": []any{}, "ipv6_access_config": []any{}, "network": "default", "nic_type": nil, "queue_count": nil}},
				"project":                   c.project,
				"scratch_disk":              []any{},
				"service_account":           []any{map[string]any{"scopes": []any{"https://www.googleapis.com/auth/cloud-platform"}}},
				"shielded_instance_config":  []any{},
				"tags":                      []any{"ssh", "http-server"},
				"zone":                      "europe-west1-" + g.pick([]string{"b", "c", "d"}),
			}
			return setNull(m, "description", "desired_status", "enable_display", "hostname", "metadata", "metadata_startup_script", "resource_policies", "timeouts")
		},
		computed: func(g *gen, c *instCtx) []kv {
			id := fmt.Sprint(1000000000000000000 + g.r.Int64N(8000000000000000000))
			return []kv{
				{name: "confidential_instance_config", known: []any{}},
				{name: "cpu_platform", known: "Intel Broadwell"},
				{name: "creation_timestamp", known: "2025-04-01T08:00:00.000-07:00"},
				{name: "current_status", known: "RUNNING"},
				{name: "guest_accelerator", known: []any{}},
				{name: "id", known: "projects/" + c.project + "/zones/europe-west1-b/instances/" + c.name},
				{name: "instance_id", known: id},
				{name: "label_fingerprint", known: g.hex(11)},
				{name: "metadata_fingerprint", known: g.hex(11)},
				{name: "min_cpu_platform", known: ""},
				{name: "reservation_affinity", known: []any{}},
				{name: "scheduling", known: []any{map[string]any{"automatic_restart": true, "on_host_maintenance": "MIGRATE", "preemptible": false, "provisioning_model": "STANDARD"}}},
				{name: "self_link", known: "https://www.googleapis.com/compute/v1/projects/" + c.project + "/zones/europe-west1-b/instances/" + c.name},
				{name: "tags_fingerprint", known: g.hex(11)},
			}
		},
		sensitive: func() map[string]any {
			m := empties("advanced_machine_features", "attached_disk", "confidential_instance_config", "guest_accelerator", "network_interface", "reservation_affinity", "scheduling", "scratch_disk", "service_account", "shielded_instance_config", "tags")
			m["boot_disk"] = []any{map[string]any{"disk_encryption_key_raw": true, "initialize_params": []any{map[string]any{}}}}
			return m
		},
		update:      func(g *gen, after map[string]any) { after["machine_type"] = "e2-standard-8" },
		replaceAttr: "zone", replaceOld: "europe-west1-d",
	},
}
