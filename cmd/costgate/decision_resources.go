package main

import (
	"maps"
	"slices"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// idAttributes are the plan attributes that name a cloud resource the way
// billing exports and inventories do, most specific first: the AWS ARN,
// the provider's id (an EC2 instance id, an S3 bucket name, an Azure
// resource id) and Google Cloud's self_link.
var idAttributes = []string{"arn", "id", "self_link"}

// estimatedResources lists what the decision log keeps of a priced plan,
// so that the monthly report can compare each estimate with the
// resource's bill: every priced resource that exists after the change
// (created, updated, replaced or unchanged; deletes, free types, data
// sources and unpriced resources are left out), with its effective
// monthly estimate, provider, region, account, effective tags and the
// ids the plan already knows.
//
// planned are the estimators' view of the plan (plannedResources), est
// their estimate of it. Known ids come from the plan values: the before
// side of an update or a no-op (an in-place change keeps the id), and the
// after side where a value is already known. A replacement gets a new id
// at apply, so its before side is not used: the inventory finds the new
// one by address.
func estimatedResources(planned []costgate.PlannedResource, est *costgate.PlanEstimate) []costgate.EstimatedResource {
	if est == nil {
		return nil
	}
	byAddress := make(map[string]*costgate.PlannedResource, len(planned))
	for i := range planned {
		byAddress[planned[i].Address] = &planned[i]
	}
	var out []costgate.EstimatedResource
	for i := range est.Resources {
		r := &est.Resources[i]
		if !r.Priced || r.Free || r.MonthlyAfter == nil {
			continue
		}
		switch r.Action {
		case costgate.ActionCreate, costgate.ActionUpdate, costgate.ActionReplace, costgate.ActionNoOp:
		default:
			continue // a delete leaves nothing to bill; a read is a data source
		}
		e := costgate.EstimatedResource{Address: r.Address, Type: r.Type, Action: r.Action, Monthly: *r.MonthlyAfter}
		if p := byAddress[r.Address]; p != nil {
			if p.Mode == "data" {
				continue
			}
			e.Provider, e.Region, e.Account = p.ProviderName, p.Region, p.Account
			if len(p.Tags) > 0 {
				e.Tags = maps.Clone(p.Tags)
			}
			e.IDs = knownIDs(p)
		}
		out = append(out, e)
	}
	return out
}

// knownIDs returns the identifying attributes of p that the plan already
// knows, without repeats.
func knownIDs(p *costgate.PlannedResource) []string {
	var sides []map[string]any
	switch p.Action {
	case costgate.ActionUpdate, costgate.ActionNoOp:
		sides = []map[string]any{p.Before, p.After}
	case costgate.ActionCreate, costgate.ActionReplace:
		sides = []map[string]any{p.After}
	}
	var ids []string
	for _, key := range idAttributes {
		for _, side := range sides {
			// An after value known only at apply is null in the plan (and
			// marked in after_unknown), so a string here is known.
			s, _ := pricing.Value(side[key]).(string)
			if s == "" || slices.Contains(ids, s) {
				continue
			}
			ids = append(ids, s)
		}
	}
	return ids
}
