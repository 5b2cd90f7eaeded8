package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
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
//
// Values Terraform marks sensitive (before_sensitive, after_sensitive) are
// never kept: a sensitive tag is dropped, a sensitive id is not used, and
// a tag map marked sensitive as a whole keeps no tags.
func estimatedResources(in *gate.Input, planned []costgate.PlannedResource, est *costgate.PlanEstimate) []costgate.EstimatedResource {
	if est == nil {
		return nil
	}
	change := make(map[string]int, len(in.Resources))
	for i := range in.Resources {
		change[in.Resources[i].Address] = i
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
			var sens sensitivity
			if i, ok := change[r.Address]; ok {
				sens = sensitivityOf(in.Plan, i)
			}
			if len(p.Tags) > 0 && !sens.allTags {
				e.Tags = maps.Clone(p.Tags)
				for k := range sens.tags {
					delete(e.Tags, k)
				}
				if len(e.Tags) == 0 {
					e.Tags = nil
				}
			}
			e.IDs = knownIDs(p, sens)
		}
		out = append(out, e)
	}
	return out
}

// knownIDs returns the identifying attributes of p that the plan already
// knows, without repeats.
func knownIDs(p *costgate.PlannedResource, sens sensitivity) []string {
	type side struct {
		vals map[string]any
		sens map[string]bool
	}
	var sides []side
	switch p.Action {
	case costgate.ActionUpdate, costgate.ActionNoOp:
		sides = []side{{p.Before, sens.before}, {p.After, sens.after}}
	case costgate.ActionCreate, costgate.ActionReplace:
		sides = []side{{p.After, sens.after}}
	}
	var ids []string
	for _, key := range idAttributes {
		for _, sd := range sides {
			if sd.sens[key] {
				continue
			}
			side := sd.vals
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

// sensitivity is what a resource change marks sensitive among the
// attributes a decision log would keep.
type sensitivity struct {
	before, after map[string]bool // top-level attributes sensitive as a whole
	tags          map[string]bool // tag keys marked sensitive
	allTags       bool            // a tag map marked sensitive as a whole
}

// tagAttributes hold a resource's tags across providers.
var tagAttributes = []string{"tags", "tags_all", "labels", "effective_labels", "terraform_labels"}

func sensitivityOf(p *gate.Plan, i int) sensitivity {
	before, after, err := p.SensitiveMembers(i)
	if err != nil {
		// Unreadable markers: keep nothing that could be marked.
		return sensitivity{allTags: true, before: allIDs(), after: allIDs()}
	}
	var s sensitivity
	whole := func(ms map[string]json.RawMessage) map[string]bool {
		out := map[string]bool{}
		for k, v := range ms {
			if string(bytes.TrimSpace(v)) == "true" {
				out[k] = true
			}
		}
		return out
	}
	s.before, s.after = whole(before), whole(after)
	for _, side := range []map[string]json.RawMessage{before, after} {
		for _, attr := range tagAttributes {
			v, ok := side[attr]
			if !ok {
				continue
			}
			if string(bytes.TrimSpace(v)) == "true" {
				s.allTags = true
				continue
			}
			ms, err := gate.RawMembers(v)
			if err != nil {
				s.allTags = true
				continue
			}
			for k, mv := range ms {
				if string(bytes.TrimSpace(mv)) != "false" {
					if s.tags == nil {
						s.tags = map[string]bool{}
					}
					s.tags[k] = true
				}
			}
		}
	}
	return s
}

func allIDs() map[string]bool {
	m := map[string]bool{}
	for _, k := range idAttributes {
		m[k] = true
	}
	return m
}
