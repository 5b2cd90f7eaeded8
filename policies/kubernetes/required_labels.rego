# Package costgate.kubernetes.required_labels reports Kubernetes objects
# that lack a required label, so that every workload's cost can be
# charged to a team.
#
# Parameters (data.costgate.config):
#
#	kubernetes:
#	  required_labels: [team, cost-center]   # default: tags.required
#
# Judged: objects being created or updated through the admission webhook
# (input.kubernetes) that no controller owns (a ReplicaSet's pods are
# judged through their Deployment). Each key must be a label of the object
# with a non-empty value; for workloads with a pod template (Deployment,
# StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) the pod template must
# carry it too, since cost tools charge pods by their labels. Without
# input.kubernetes (a plan) or without configured keys, nothing is found.
package costgate.kubernetes.required_labels

rule_id := "kubernetes.required_labels"

config := data.costgate.config

# configured is the list of keys from kubernetes.required_labels, else
# tags.required.
configured := object.get(config, ["kubernetes", "required_labels"], object.get(config, ["tags", "required"], []))

required_keys contains key if {
	is_array(configured)
	some key in configured
	is_string(key)
	trim_space(key) != ""
}

judged if {
	input.kubernetes.operation in {"CREATE", "UPDATE"}
	input.kubernetes.owned != true
}

template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}

deny contains finding if {
	judged
	some key in required_keys
	not has_label(input.kubernetes.labels, key)
	k := input.kubernetes
	finding := {
		"msg": sprintf("%s: missing required label %q (add it to metadata.labels)", [k.address, key]),
		"address": k.address,
		"rule_id": rule_id,
	}
}

deny contains finding if {
	judged
	input.kubernetes.kind.kind in template_kinds
	some key in required_keys
	not has_label(input.kubernetes.pod_labels, key)
	k := input.kubernetes
	finding := {
		"msg": sprintf("%s: pod template lacks required label %q (add it to the template's metadata.labels)", [k.address, key]),
		"address": k.address,
		"rule_id": rule_id,
	}
}

has_label(labels, key) if {
	v := labels[key]
	is_string(v)
	trim_space(v) != ""
}
