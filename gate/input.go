package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

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
	// Estimate is the plan's cost estimate, when an estimator ran; it
	// fills input.resources[].cost and input.cost.
	Estimate *costgate.PlanEstimate

	costs *costIndex
}

// InputOptions add what the plan alone does not say.
type InputOptions struct {
	// Context is who and where: repository, branch, commit, pull_request,
	// workspace, team, stage, run_id, actor, plus any --context key.
	Context map[string]string
	// Source returns "file:line" of a resource block, or "".
	Source func(address string) string
	// Estimate is the plan's cost estimate (from a costgate.Estimator).
	Estimate *costgate.PlanEstimate
	// TeamTag and EnvTag name the tags input.cost.by_team and by_env
	// group by (default "team" and "env").
	TeamTag, EnvTag string
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
	inParallel(len(in.Resources), 2000, func(lo, hi int) {
		pl := newPlucker()
		for i := lo; i < hi; i++ {
			in.Resources[i] = buildResource(p, i, pl, defaults, opts.Source)
		}
	})
	for i := range in.Resources {
		countAction(&in.Summary, in.Resources[i].Action)
	}
	in.Summary.Total = len(in.Resources)
	in.AttachEstimate(opts.Estimate, opts.TeamTag, opts.EnvTag)
	return in
}

func buildResource(p *Plan, i int, pl *plucker, defaults providerDefaults, source func(string) string) Resource {
	rc := p.Typed.ResourceChanges[i]
	r := Resource{
		Address:           rc.Address,
		Module:            rc.ModuleAddress,
		Type:              rc.Type,
		Name:              rc.Name,
		Index:             rc.Index,
		Provider:          rc.ProviderName,
		ProviderConfigKey: defaults.configKey(rc),
		Mode:              string(rc.Mode),
	}
	if rc.Change != nil {
		for _, a := range rc.Change.Actions {
			r.Actions = append(r.Actions, string(a))
		}
		r.Action = actionOf(rc.Change.Actions)
		if rc.Mode == tfjson.ManagedResourceMode {
			after, unknown := p.tagValues(pl, i)
			t := effectiveTags(rc, after, unknown, defaults)
			r.Taggable, r.TagsKnown, r.Tags = t.taggable, t.known, t.tags
			r.TagsUnknown = t.unknownKeys()
		}
	}
	if r.Tags == nil {
		r.Tags = map[string]*string{}
	}
	if source != nil {
		r.Source = source(rc.Address)
	}
	return r
}

// AttachEstimate adds a cost estimate to an input built without one
// (estimators read the input's resources, so the estimate comes after):
// it fills input.resources[].cost and input.cost, grouped by the given
// team and environment tags (default "team" and "env").
func (in *Input) AttachEstimate(est *costgate.PlanEstimate, teamTag, envTag string) {
	in.Estimate = est
	in.costs = newCostIndex(in, est, teamTag, envTag)
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
	if raw, ok := in.Plan.Raw["resource_changes"].(json.RawMessage); ok && !isNull(raw) {
		full, err := decodeRaw(raw)
		if err != nil {
			return nil, fmt.Errorf("plan %s: resource_changes: %w", in.Plan.Name, err)
		}
		v, err := ast.InterfaceToValue(full)
		if err != nil {
			return nil, fmt.Errorf("convert %s resource_changes: %w", in.Plan.Name, err)
		}
		changes, _ = v.(*ast.Array)
	}
	cache := newTermCache()
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
		resources[i] = ast.NewTerm(in.Resources[i].value(i, cache, change, in.costs))
	}
	plan := make(map[string]any, len(in.Plan.Raw))
	for k, v := range in.Plan.Raw {
		plan[k] = v
	}
	if changes != nil {
		plan["resource_changes"] = changes
	}
	return in.root(plan, resources), nil
}

// slimValue builds the input document for the embedded library alone:
// like Value, but before/after/after_unknown are filled only for the
// given resource types (null for the rest) and input.plan stays wholly
// lazy. The library reads nothing else, so its findings are the same;
// what is saved is converting the whole plan into OPA values.
func (in *Input) slimValue(valueTypes map[string]bool) (ast.Value, error) {
	resources := make([]*ast.Term, len(in.Resources))
	errs := make([]error, len(in.Resources))
	inParallel(len(in.Resources), 2000, func(lo, hi int) {
		cache := newTermCache()
		for i := lo; i < hi; i++ {
			var change ast.Object
			if r := &in.Resources[i]; valueTypes[r.Type] && i < len(in.Plan.Typed.ResourceChanges) {
				c, err := in.Plan.ChangeValues(i)
				if err == nil {
					var v ast.Value
					v, err = ast.InterfaceToValue(map[string]any{"before": c.Before, "after": c.After, "after_unknown": c.AfterUnknown})
					change, _ = v.(ast.Object)
				}
				if err != nil {
					errs[i] = fmt.Errorf("convert %s: %w", r.Address, err)
					continue
				}
			}
			resources[i] = ast.NewTerm(in.Resources[i].value(i, cache, change, in.costs))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in.root(in.Plan.Raw, resources), nil
}

// root assembles the lazy top-level object.
func (in *Input) root(plan map[string]any, resources []*ast.Term) ast.Value {
	ctx := make([][2]*ast.Term, 0, len(in.Context))
	for k, v := range in.Context {
		ctx = append(ctx, [2]*ast.Term{ast.StringTerm(k), ast.StringTerm(v)})
	}
	root := map[string]any{
		"plan":      plan,
		"resources": ast.NewArray(resources...),
		"index":     in.indexValue(),
		"summary":   summaryValue(in.Summary),
		"context":   ast.NewObject(ctx...),
	}
	if in.costs != nil {
		root["cost"] = in.costs.totals()
	}
	return ast.LazyObject(root)
}

// Index lists positions in input.resources that the library's
// selections would otherwise find by iterating every resource in Rego:
// Changed holds the managed resources the plan creates, updates or
// replaces (costgate.lib.changed), TagJudged those of them that are
// taggable with known tags (costgate.lib.tag_judged), and TagBlank those
// of them with a tag whose value is white space only
// (costgate.lib.tag_blank). All are in input order. On a 10,000-resource
// plan the first two comprehensions were half of the evaluation time;
// read from the index they cost nothing. tags.required's check for blank
// values, one function call per judged resource, was a tenth of
// /v1/check's CPU on a 100-resource plan; it now visits only TagBlank,
// usually empty.
type Index struct {
	Changed   []int `json:"changed"`
	TagJudged []int `json:"tag_judged"`
	TagBlank  []int `json:"tag_blank"`
}

// Index computes input.index.
func (in *Input) Index() Index {
	x := Index{Changed: []int{}, TagJudged: []int{}, TagBlank: []int{}}
	for i := range in.Resources {
		r := &in.Resources[i]
		if !r.changed() {
			continue
		}
		x.Changed = append(x.Changed, i)
		if r.Taggable && r.TagsKnown {
			x.TagJudged = append(x.TagJudged, i)
			if hasBlankTag(r.Tags) {
				x.TagBlank = append(x.TagBlank, i)
			}
		}
	}
	return x
}

// hasBlankTag says whether a tag's value is a string of white space only,
// as Rego's trim_space(v) == "" tests it (strings.TrimSpace); unknown
// values (nil) are not blank.
func hasBlankTag(tags map[string]*string) bool {
	for _, v := range tags {
		if v != nil && strings.TrimSpace(*v) == "" {
			return true
		}
	}
	return false
}

// changed is costgate.lib.changed: a managed resource being created,
// updated or replaced.
func (r *Resource) changed() bool {
	if r.Mode != string(tfjson.ManagedResourceMode) {
		return false
	}
	switch r.Action {
	case "create", "update", "replace":
		return true
	}
	return false
}

func (in *Input) indexValue() ast.Object {
	x := in.Index()
	return ast.NewObject(
		[2]*ast.Term{ast.InternedTerm("changed"), positions(x.Changed)},
		[2]*ast.Term{ast.InternedTerm("tag_judged"), positions(x.TagJudged)},
		[2]*ast.Term{ast.InternedTerm("tag_blank"), positions(x.TagBlank)},
	)
}

func positions(ix []int) *ast.Term {
	terms := make([]*ast.Term, len(ix))
	for k, i := range ix {
		terms[k] = ast.InternedTerm(i)
	}
	return ast.ArrayTerm(terms...)
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

// termCache shares the terms that repeat across resources (types,
// providers, actions, tag sets): OPA values are immutable, so one term can
// sit in many objects, and a large plan then costs far fewer allocations.
type termCache struct {
	strs  map[string]*ast.Term
	sets  map[string]*ast.Term
	costs map[string]*ast.Term // resources' cost objects, by content
	rates map[string]*ast.Term // unit prices, by Rate.AppendKey
	buf   []byte
	rbuf  []byte
	keys  []string
}

func newTermCache() *termCache {
	return &termCache{strs: map[string]*ast.Term{}, sets: map[string]*ast.Term{}, costs: map[string]*ast.Term{}, rates: map[string]*ast.Term{}}
}

func (c *termCache) str(s string) *ast.Term {
	if t, ok := c.strs[s]; ok {
		return t
	}
	t := ast.StringTerm(s)
	c.strs[s] = t
	return t
}

// strings returns an array term of ss, shared between equal lists.
func (c *termCache) strings(ss []string) *ast.Term {
	c.buf = c.buf[:0]
	for _, s := range ss {
		c.buf = append(c.buf, s...)
		c.buf = append(c.buf, 0)
	}
	if t, ok := c.sets[string(c.buf)]; ok {
		return t
	}
	elems := make([]*ast.Term, len(ss))
	for i, s := range ss {
		elems[i] = c.str(s)
	}
	t := ast.ArrayTerm(elems...)
	c.sets[string(c.buf)] = t
	return t
}

// tags returns an object term of a tag set, shared between equal sets.
func (c *termCache) tags(m map[string]*string) *ast.Term {
	keys := c.keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	c.keys = keys
	c.buf = append(c.buf[:0], 1)
	for _, k := range keys {
		c.buf = append(c.buf, k...)
		if v := m[k]; v != nil {
			c.buf = append(c.buf, 0)
			c.buf = append(c.buf, *v...)
		}
		c.buf = append(c.buf, 1)
	}
	if t, ok := c.sets[string(c.buf)]; ok {
		return t
	}
	pairs := make([][2]*ast.Term, len(keys))
	for i, k := range keys {
		val := ast.InternedNullTerm
		if v := m[k]; v != nil {
			val = c.str(*v)
		}
		pairs[i] = [2]*ast.Term{c.str(k), val}
	}
	t := ast.ObjectTerm(pairs...)
	c.sets[string(c.buf)] = t
	return t
}

// The member names of an input.resources[] object, made once.
var (
	kAddress, kModule, kType, kName, kIndex                 = ast.StringTerm("address"), ast.StringTerm("module"), ast.StringTerm("type"), ast.StringTerm("name"), ast.StringTerm("index")
	kProvider, kProviderConfigKey, kMode, kActions, kAction = ast.StringTerm("provider"), ast.StringTerm("provider_config_key"), ast.StringTerm("mode"), ast.StringTerm("actions"), ast.StringTerm("action")
	kBefore, kAfter, kAfterUnknown                          = ast.StringTerm("before"), ast.StringTerm("after"), ast.StringTerm("after_unknown")
	kTaggable, kTagsKnown, kTags, kTagsUnknown              = ast.StringTerm("taggable"), ast.StringTerm("tags_known"), ast.StringTerm("tags"), ast.StringTerm("tags_unknown")
	kSource, kCost                                          = ast.StringTerm("source"), ast.StringTerm("cost")
)

// canonicalInt reports whether s is written as OPA writes the integer
// (no sign but a minus, no leading zero), so the interned term prints
// the same.
func canonicalInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	return d != "" && (d[0] != '0' || d == "0") && d[0] != '+' && s != "-0"
}

func (r *Resource) value(i int, c *termCache, change ast.Object, costs *costIndex) ast.Object {
	cost := ast.InternedNullTerm
	if costs != nil {
		cost = costs.resourceCost(i, r.Address, c)
	}
	field := func(k *ast.Term) *ast.Term {
		if change != nil {
			if t := change.Get(k); t != nil {
				return t
			}
		}
		return ast.InternedNullTerm
	}
	index := ast.InternedNullTerm
	switch x := r.Index.(type) {
	case string:
		index = ast.StringTerm(x)
	case json.Number:
		// count indexes are small integers: OPA keeps one term of each.
		if n, err := strconv.Atoi(string(x)); err == nil && canonicalInt(string(x)) {
			index = ast.InternedTerm(n)
		} else {
			index = ast.NumberTerm(x)
		}
	case float64:
		index = ast.FloatNumberTerm(x)
	}
	return ast.NewObject(
		[2]*ast.Term{kAddress, ast.StringTerm(r.Address)},
		[2]*ast.Term{kModule, c.str(r.Module)},
		[2]*ast.Term{kType, c.str(r.Type)},
		[2]*ast.Term{kName, c.str(r.Name)},
		[2]*ast.Term{kIndex, index},
		[2]*ast.Term{kProvider, c.str(r.Provider)},
		[2]*ast.Term{kProviderConfigKey, c.str(r.ProviderConfigKey)},
		[2]*ast.Term{kMode, c.str(r.Mode)},
		[2]*ast.Term{kActions, c.strings(r.Actions)},
		[2]*ast.Term{kAction, c.str(r.Action)},
		[2]*ast.Term{kBefore, field(kBefore)},
		[2]*ast.Term{kAfter, field(kAfter)},
		[2]*ast.Term{kAfterUnknown, field(kAfterUnknown)},
		[2]*ast.Term{kTaggable, ast.InternedTerm(r.Taggable)},
		[2]*ast.Term{kTagsKnown, ast.InternedTerm(r.TagsKnown)},
		[2]*ast.Term{kTags, c.tags(r.Tags)},
		[2]*ast.Term{kTagsUnknown, c.strings(r.TagsUnknown)},
		[2]*ast.Term{kSource, c.str(r.Source)},
		[2]*ast.Term{kCost, cost},
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
	for _, k := range []string{"resources", "index", "summary", "context", "cost"} {
		t := root.Get(ast.StringTerm(k))
		if t == nil {
			continue
		}
		x, err := ast.JSON(t.Value)
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
