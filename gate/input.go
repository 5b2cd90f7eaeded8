package gate

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"

	tfjson "github.com/hashicorp/terraform-json"
)

// Resource is the typed view of one input.resources[] entry.
type Resource struct {
	Address           string
	Module            string
	Type              string
	Name              string
	Index             any
	Provider          string
	ProviderConfigKey string
	Mode              string
	Actions           []string
	Action            string
	Taggable          bool
	TagsKnown         bool
	Tags              map[string]*string // nil value: known only after apply
	TagsUnknown       []string
	Source            string
}

// Input is the Rego input document for one plan.
type Input struct {
	Plan      *Plan
	Resources []Resource
	Summary   costgate.Summary
	Context   map[string]string
}

// InputOptions add what the plan alone does not say.
type InputOptions struct {
	// Context is who and where: repository, branch, commit, pull_request,
	// workspace, team, stage, run_id, actor, plus any --context key.
	Context map[string]string
	// Source returns "file:line" of a resource block, or "".
	Source func(address string) string
}

// BuildInput derives input.resources, input.summary and input.context
// from a plan.
func BuildInput(p *Plan, opts InputOptions) *Input {
	in := &Input{Plan: p, Context: opts.Context}
	if in.Context == nil {
		in.Context = map[string]string{}
	}
	defaults := newProviderDefaults(p.Typed)
	in.Resources = make([]Resource, len(p.Typed.ResourceChanges))
	for i, rc := range p.Typed.ResourceChanges {
		r := &in.Resources[i]
		r.Address = rc.Address
		r.Module = rc.ModuleAddress
		r.Type = rc.Type
		r.Name = rc.Name
		r.Index = rc.Index
		r.Provider = rc.ProviderName
		r.ProviderConfigKey = defaults.configKey(rc)
		r.Mode = string(rc.Mode)
		if rc.Change != nil {
			for _, a := range rc.Change.Actions {
				r.Actions = append(r.Actions, string(a))
			}
			r.Action = actionOf(rc.Change.Actions)
			if rc.Mode == tfjson.ManagedResourceMode {
				t := effectiveTags(rc, defaults)
				r.Taggable, r.TagsKnown, r.Tags = t.taggable, t.known, t.tags
				r.TagsUnknown = t.unknownKeys()
			}
		}
		if r.Tags == nil {
			r.Tags = map[string]*string{}
		}
		if opts.Source != nil {
			r.Source = opts.Source(rc.Address)
		}
		countAction(&in.Summary, r.Action)
	}
	in.Summary.Total = len(in.Resources)
	return in
}

// actionOf folds Terraform's action list into one word.
func actionOf(a tfjson.Actions) string {
	switch {
	case a.Replace():
		return "replace"
	case a.Create():
		return "create"
	case a.Update():
		return "update"
	case a.Delete():
		return "delete"
	case a.Read():
		return "read"
	}
	return "no-op" // no-op, forget
}

func countAction(s *costgate.Summary, action string) {
	switch action {
	case "create":
		s.Create++
	case "update":
		s.Update++
	case "delete":
		s.Delete++
	case "replace":
		s.Replace++
	case "read":
		s.Read++
	default:
		s.NoOp++
	}
}

// Value builds the Rego input document.
//
// OPA hashes every value it builds, and hashing a value converts all of
// it, so the document is a lazy object at the root: input.plan is
// converted member by member, only as far as a policy reads it (members
// kept as raw JSON by ParsePlan are decoded then). resource_changes is
// converted once, and its before/after/after_unknown terms are shared
// with input.resources.
func (in *Input) Value() (ast.Value, error) {
	var changes *ast.Array
	if rc, ok := in.Plan.Raw["resource_changes"]; ok && rc != nil {
		v, err := ast.InterfaceToValue(rc)
		if err != nil {
			return nil, fmt.Errorf("convert %s resource_changes: %w", in.Plan.Name, err)
		}
		changes, _ = v.(*ast.Array)
	}
	resources := make([]*ast.Term, len(in.Resources))
	for i := range in.Resources {
		var change ast.Object
		if changes != nil && i < changes.Len() {
			if rc, ok := changes.Elem(i).Value.(ast.Object); ok {
				if c := rc.Get(ast.InternedTerm("change")); c != nil {
					change, _ = c.Value.(ast.Object)
				}
			}
		}
		resources[i] = ast.NewTerm(in.Resources[i].value(change))
	}
	plan := make(map[string]any, len(in.Plan.Raw))
	for k, v := range in.Plan.Raw {
		plan[k] = v
	}
	if changes != nil {
		plan["resource_changes"] = changes
	}
	ctx := make([][2]*ast.Term, 0, len(in.Context))
	for k, v := range in.Context {
		ctx = append(ctx, [2]*ast.Term{ast.StringTerm(k), ast.StringTerm(v)})
	}
	return ast.LazyObject(map[string]any{
		"plan":      plan,
		"resources": ast.NewArray(resources...),
		"summary":   summaryValue(in.Summary),
		"context":   ast.NewObject(ctx...),
	}), nil
}

func summaryValue(s costgate.Summary) ast.Object {
	return ast.NewObject(
		[2]*ast.Term{ast.InternedTerm("create"), ast.IntNumberTerm(s.Create)},
		[2]*ast.Term{ast.InternedTerm("update"), ast.IntNumberTerm(s.Update)},
		[2]*ast.Term{ast.InternedTerm("delete"), ast.IntNumberTerm(s.Delete)},
		[2]*ast.Term{ast.InternedTerm("replace"), ast.IntNumberTerm(s.Replace)},
		[2]*ast.Term{ast.InternedTerm("read"), ast.IntNumberTerm(s.Read)},
		[2]*ast.Term{ast.InternedTerm("no-op"), ast.IntNumberTerm(s.NoOp)},
		[2]*ast.Term{ast.InternedTerm("total"), ast.IntNumberTerm(s.Total)},
	)
}

func (r *Resource) value(change ast.Object) ast.Object {
	field := func(k string) *ast.Term {
		if change != nil {
			if t := change.Get(ast.InternedTerm(k)); t != nil {
				return t
			}
		}
		return ast.NullTerm()
	}
	actions := make([]*ast.Term, len(r.Actions))
	for i, a := range r.Actions {
		actions[i] = ast.StringTerm(a)
	}
	tags := make([][2]*ast.Term, 0, len(r.Tags))
	for k, v := range r.Tags {
		val := ast.NullTerm()
		if v != nil {
			val = ast.StringTerm(*v)
		}
		tags = append(tags, [2]*ast.Term{ast.StringTerm(k), val})
	}
	unknown := make([]*ast.Term, len(r.TagsUnknown))
	for i, k := range r.TagsUnknown {
		unknown[i] = ast.StringTerm(k)
	}
	index := ast.NullTerm()
	switch x := r.Index.(type) {
	case string:
		index = ast.StringTerm(x)
	case json.Number:
		index = ast.NumberTerm(x)
	case float64:
		index = ast.FloatNumberTerm(x)
	}
	return ast.NewObject(
		[2]*ast.Term{ast.InternedTerm("address"), ast.StringTerm(r.Address)},
		[2]*ast.Term{ast.InternedTerm("module"), ast.StringTerm(r.Module)},
		[2]*ast.Term{ast.InternedTerm("type"), ast.StringTerm(r.Type)},
		[2]*ast.Term{ast.InternedTerm("name"), ast.StringTerm(r.Name)},
		[2]*ast.Term{ast.InternedTerm("index"), index},
		[2]*ast.Term{ast.InternedTerm("provider"), ast.StringTerm(r.Provider)},
		[2]*ast.Term{ast.InternedTerm("provider_config_key"), ast.StringTerm(r.ProviderConfigKey)},
		[2]*ast.Term{ast.InternedTerm("mode"), ast.StringTerm(r.Mode)},
		[2]*ast.Term{ast.InternedTerm("actions"), ast.ArrayTerm(actions...)},
		[2]*ast.Term{ast.InternedTerm("action"), ast.StringTerm(r.Action)},
		[2]*ast.Term{ast.InternedTerm("before"), field("before")},
		[2]*ast.Term{ast.InternedTerm("after"), field("after")},
		[2]*ast.Term{ast.InternedTerm("after_unknown"), field("after_unknown")},
		[2]*ast.Term{ast.InternedTerm("taggable"), ast.BooleanTerm(r.Taggable)},
		[2]*ast.Term{ast.InternedTerm("tags_known"), ast.BooleanTerm(r.TagsKnown)},
		[2]*ast.Term{ast.InternedTerm("tags"), ast.ObjectTerm(tags...)},
		[2]*ast.Term{ast.InternedTerm("tags_unknown"), ast.ArrayTerm(unknown...)},
		[2]*ast.Term{ast.InternedTerm("source"), ast.StringTerm(r.Source)},
	)
}

// JSON renders the input document as indented JSON (for `policy input`).
func (in *Input) JSON() ([]byte, error) {
	v, err := in.Value()
	if err != nil {
		return nil, err
	}
	root := v.(ast.Object)
	doc := map[string]any{"plan": in.Plan.Raw}
	for _, k := range []string{"resources", "summary", "context"} {
		x, err := ast.JSON(root.Get(ast.StringTerm(k)).Value)
		if err != nil {
			return nil, fmt.Errorf("render input.%s: %w", k, err)
		}
		doc[k] = x
	}
	return json.MarshalIndent(doc, "", "  ")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
