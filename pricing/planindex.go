package pricing

import (
	"strings"
	"sync"

	"github.com/costgate/costgate"
)

// PlanIndex finds the other resources of a plan a resource depends on:
// an autoscaling group's launch template, the autoscaling targets of a
// DynamoDB table. Resources are found by configuration reference (the
// way Terraform wires them) or by name.
type PlanIndex struct {
	resources []costgate.PlannedResource
	// The maps are built on the first lookup: most plans have no
	// resource whose estimator looks another up.
	once      sync.Once
	byAddr    map[string]*costgate.PlannedResource
	byConfig  map[string][]*costgate.PlannedResource // address without instance keys
	byType    map[string][]*costgate.PlannedResource
	referrers map[string][]referrer // config address -> who refers to it
}

type referrer struct {
	attr string
	res  *costgate.PlannedResource
}

// NewPlanIndex indexes resources (the slice is not copied). It is safe
// for concurrent use.
func NewPlanIndex(resources []costgate.PlannedResource) *PlanIndex {
	return &PlanIndex{resources: resources}
}

func (ix *PlanIndex) build() *PlanIndex {
	ix.once.Do(func() {
		resources := ix.resources
		ix.byAddr = make(map[string]*costgate.PlannedResource, len(resources))
		ix.byConfig = make(map[string][]*costgate.PlannedResource, len(resources))
		ix.byType = map[string][]*costgate.PlannedResource{}
		ix.referrers = map[string][]referrer{}
		for i := range resources {
			r := &resources[i]
			ix.byAddr[r.Address] = r
			ca := ConfigAddress(r.Address)
			ix.byConfig[ca] = append(ix.byConfig[ca], r)
			ix.byType[r.Type] = append(ix.byType[r.Type], r)
			for attr, refs := range r.References {
				for _, ref := range refs {
					ix.referrers[ref] = append(ix.referrers[ref], referrer{attr, r})
				}
			}
		}
	})
	return ix
}

// Get returns the resource at address.
func (ix *PlanIndex) Get(address string) *costgate.PlannedResource { return ix.build().byAddr[address] }

// Referenced returns the resources of type typ that from's attribute attr
// refers to in the configuration; of several instances (count,
// for_each), those in from's own module instance come first.
func (ix *PlanIndex) Referenced(from *costgate.PlannedResource, attr, typ string) []*costgate.PlannedResource {
	ix.build()
	var out []*costgate.PlannedResource
	for _, ref := range from.References[attr] {
		for _, r := range ix.byConfig[ref] {
			if typ == "" || r.Type == typ {
				out = append(out, r)
			}
		}
	}
	return preferModule(out, from.Module)
}

// Referrers returns the resources of type typ whose configuration refers
// to target, with the attribute that does.
func (ix *PlanIndex) Referrers(target *costgate.PlannedResource, typ string) []*costgate.PlannedResource {
	ix.build()
	var out []*costgate.PlannedResource
	for _, rf := range ix.referrers[ConfigAddress(target.Address)] {
		if typ == "" || rf.res.Type == typ {
			out = append(out, rf.res)
		}
	}
	return preferModule(out, target.Module)
}

// ByAttr returns the resources of type typ whose after value (or before,
// for a delete) of attr equals value.
func (ix *PlanIndex) ByAttr(typ, attr, value string) []*costgate.PlannedResource {
	ix.build()
	var out []*costgate.PlannedResource
	for _, r := range ix.byType[typ] {
		vals := r.After
		if vals == nil {
			vals = r.Before
		}
		if v, ok := str(vals[attr]); ok && v == value {
			out = append(out, r)
		}
	}
	return out
}

// OfType returns the resources of a type.
func (ix *PlanIndex) OfType(typ string) []*costgate.PlannedResource { return ix.build().byType[typ] }

func preferModule(rs []*costgate.PlannedResource, module string) []*costgate.PlannedResource {
	if len(rs) < 2 {
		return rs
	}
	out := make([]*costgate.PlannedResource, 0, len(rs))
	for _, r := range rs {
		if r.Module == module {
			out = append(out, r)
		}
	}
	for _, r := range rs {
		if r.Module != module {
			out = append(out, r)
		}
	}
	return out
}

// ConfigAddress strips instance keys from an address:
// module.a["x"].aws_instance.b[0] becomes module.a.aws_instance.b.
func ConfigAddress(addr string) string {
	if !strings.Contains(addr, "[") {
		return addr
	}
	var b strings.Builder
	depth := 0
	inString := false
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"' && depth > 0:
			inString = true
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
