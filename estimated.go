package costgate

// EstimatedResource is what a decision keeps of one priced resource of
// the judged plan: its monthly estimate and what identifies it, so that a
// report can find the resource in billing later and compare the estimate
// with the actual cost.
//
// At plan time a new resource's cloud id is usually unknown. What a later
// inventory (a Terraform state, the AWS tagging API) can match is kept
// instead: the address, the type, the effective tags, the provider,
// region and account. IDs holds the identifiers the plan already knows
// (for an update, the resource's ARN, id or self_link).
type EstimatedResource struct {
	// Address is the Terraform resource address
	// ("module.db.aws_db_instance.this[0]").
	Address string `json:"address"`
	// Type is the resource type ("aws_db_instance").
	Type string `json:"type"`
	// Action is the planned action (ActionCreate, ActionUpdate,
	// ActionReplace or ActionNoOp).
	Action string `json:"action"`
	// Provider is the provider source address
	// ("registry.terraform.io/hashicorp/aws").
	Provider string `json:"provider,omitempty"`
	// Region and Account are where the resource runs, when the plan
	// shows it (an AWS region and account ID, a Google region and
	// project, an Azure location and subscription).
	Region  string `json:"region,omitempty"`
	Account string `json:"account,omitempty"`
	// Monthly is the effective monthly estimate after the change.
	Monthly Money `json:"monthly"`
	// IDs are the cloud identifiers known at plan time, as the plan
	// writes them (arn, id, self_link), most specific first.
	IDs []string `json:"ids,omitempty"`
	// Tags are the effective tags known at plan time (labels on Google
	// Cloud), as the gate computed them for input.resources[].tags; tags
	// whose values are known only after apply are left out.
	Tags map[string]string `json:"tags,omitempty"`
}
