# Package costgate.compute.allowed_types reports instance, machine and VM
# sizes that are not allowed in the resource's environment.
#
# Parameters (data.costgate.config):
#
#	compute:
#	  env_tag: env                  # optional; the tag naming the environment
#	  allowed_types:                # env tag value -> glob patterns
#	    dev: ['t3.*', 'e2-*']
#	    '*': ['*']                  # optional; for any other env, or no env tag
#
# Patterns are matched with glob.match without delimiters, so '*' matches
# any run of characters including dots ('t3.*' allows t3.micro and
# t3.2xlarge; 'm5.*large' allows m5.large and m5.24xlarge). A resource
# whose env tag value has an entry must match that entry. Otherwise the
# '*' entry applies when configured; without one the resource is not
# judged. When the env tag is known only after apply, a size is reported
# only if no entry at all allows it and a '*' entry exists (the env might
# otherwise turn out to be one without an entry). Unknown sizes are not
# judged. Without compute.allowed_types the rule finds nothing.
#
# Sizes are read from the planned values (after):
#
#	aws_instance.instance_type, aws_launch_template.instance_type,
#	aws_launch_configuration.instance_type, aws_db_instance.instance_class,
#	aws_rds_cluster_instance.instance_class,
#	aws_eks_node_group.instance_types[*],
#	google_compute_instance.machine_type,
#	google_compute_instance_template.machine_type,
#	google_container_node_pool.node_config[*].machine_type,
#	azurerm_linux_virtual_machine.size, azurerm_windows_virtual_machine.size,
#	azurerm_virtual_machine.vm_size
#
# Judged: managed resources being created, updated or replaced.
package costgate.compute.allowed_types

import data.costgate.lib

rule_id := "compute.allowed_types"

# size_attribute maps a resource type to the attribute of after that holds
# its size as a single string.
size_attribute := {
	"aws_instance": "instance_type",
	"aws_launch_template": "instance_type",
	"aws_launch_configuration": "instance_type",
	"aws_db_instance": "instance_class",
	"aws_rds_cluster_instance": "instance_class",
	"google_compute_instance": "machine_type",
	"google_compute_instance_template": "machine_type",
	"azurerm_linux_virtual_machine": "size",
	"azurerm_windows_virtual_machine": "size",
	"azurerm_virtual_machine": "vm_size",
}

# sizes(r) is the set of [attribute path, size] pairs of r with a known
# size.
sizes(r) := ({[attr, size] |
	attr := size_attribute[r.type]
	size := r.after[attr]
	is_string(size)
} | {[sprintf("instance_types[%d]", [i]), size] |
	r.type == "aws_eks_node_group"
	some i, size in r.after.instance_types
	is_string(size)
}) | {[sprintf("node_config[%d].machine_type", [i]), size] |
	r.type == "google_container_node_pool"
	some i, nc in r.after.node_config
	size := nc.machine_type
	is_string(size)
}

allowed_types := data.costgate.config.compute.allowed_types

env_tag := data.costgate.config.compute.env_tag if {
	is_string(data.costgate.config.compute.env_tag)
	data.costgate.config.compute.env_tag != ""
} else := "env"

# env_unknown(r) holds when r's environment is known only after apply.
env_unknown(r) if lib.tag_unknown(r, env_tag)

env_unknown(r) if r.tags_known == false

# entry(r) is the allowed_types key that applies to r with a known env.
entry(r) := env if {
	not env_unknown(r)
	env := lib.tag_value(r, env_tag)
	is_string(env)
	allowed_types[env]
} else := "*" if {
	not env_unknown(r)
	allowed_types["*"]
}

patterns(key) := lib.as_list(allowed_types[key])

matches(size, key) if {
	some p in patterns(key)
	is_string(p)
	glob.match(p, null, size)
}

# sized_resources are the changed resources of a type that has a size.
sized_resources := [r |
	count(allowed_types) > 0
	some r in lib.changed_resources
	sized_types[r.type]
]

sized_types := {t | some t, _ in size_attribute} | {"aws_eks_node_group", "google_container_node_pool"}

# value_types names the resource types whose before/after/after_unknown
# this package reads. When only the embedded library is loaded, the engine
# fills those fields for these types alone (null elsewhere), which is what
# makes large plans fast; every embedded package that reads them declares
# value_types (a test checks), "*" meaning every type.
value_types := sized_types if count(allowed_types) > 0

else := set()

deny contains finding if {
	some r in sized_resources
	key := entry(r)
	some [attr, size] in sizes(r)
	not matches(size, key)
	finding := {
		"msg": sprintf(
			"%s: %s %q is not allowed %s (allowed: %s; pick an allowed size or change compute.allowed_types[%q] in the config)",
			[r.address, attr, size, where(r, key), lib.quote_list(patterns(key)), key],
		),
		"address": r.address,
		"rule_id": rule_id,
	}
}

# With the env unknown until apply, report only what no entry allows.
deny contains finding if {
	some r in sized_resources
	env_unknown(r)
	allowed_types["*"]
	some [attr, size] in sizes(r)
	not matches_any(size)
	finding := {
		"msg": sprintf(
			"%s: %s %q is not allowed in any environment (the %q tag is known only after apply; allowed: %s; pick an allowed size or change compute.allowed_types in the config)",
			[r.address, attr, size, env_tag, lib.quote_list(all_patterns)],
		),
		"address": r.address,
		"rule_id": rule_id,
	}
}

matches_any(size) if {
	some key, _ in allowed_types
	matches(size, key)
}

all_patterns := sort({p | some key, _ in allowed_types; some p in patterns(key)})

where(r, key) := sprintf("for %s %q", [env_tag, key]) if {
	key != "*"
} else := sprintf("for %s %q (rule '*')", [env_tag, lib.tag_value(r, env_tag)]) if {
	lib.tag_value(r, env_tag)
} else := sprintf("without a %q tag (rule '*')", [env_tag])
