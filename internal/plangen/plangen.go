// Package plangen writes synthetic Terraform plans: deterministic
// `terraform show -json` documents of any size, shaped like real ones
// (modules, aliased providers with default_tags, count and for_each
// instances, creates, updates, replaces, deletes, prior_state), for
// benchmarks and load tests of the gate.
package plangen

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Options shape a generated plan.
type Options struct {
	// Resources is the number of resource_changes entries.
	Resources int
	// Seed picks the plan; the same Options give the same bytes.
	Seed int64
	// UntaggedPercent is roughly the share (0-100) of taggable resources
	// whose tags lack the "team" key. Every other taggable resource has
	// team and cost-center (the latter from the provider's default tags
	// or labels).
	UntaggedPercent int
}

const (
	formatVersion    = "1.2"
	terraformVersion = "1.9.0"
	timestamp        = "2025-06-02T09:30:00Z"
	awsProvider      = "registry.terraform.io/hashicorp/aws"
	googleProvider   = "registry.terraform.io/hashicorp/google"
)

// Write writes one plan as `terraform show -json` does: a single line of
// JSON followed by a newline.
func Write(w io.Writer, opts Options) error {
	if opts.Resources < 0 {
		return fmt.Errorf("plangen: resources: must not be negative, got %d", opts.Resources)
	}
	if opts.UntaggedPercent < 0 || opts.UntaggedPercent > 100 {
		return fmt.Errorf("plangen: untagged percent: must be 0-100, got %d", opts.UntaggedPercent)
	}
	g := newGen(opts)
	g.generate()
	doc := g.document()
	enc := json.NewEncoder(w)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("plangen: write plan: %w", err)
	}
	return nil
}

// call is a module call (or the root module) and the provider
// configuration its resources use.
type call struct {
	path        []string // module call names from the root; nil for root
	source      string
	instances   []string // module instance addresses; "" for root
	forEach     []string // for_each keys; nil without for_each
	providerKey string   // configuration.provider_config key
	cloud       string   // "aws" or "google"
	weight      int
	providers   map[string]string // module block's providers argument
	blocks      []*block
	children    []*call
}

// block is one resource or data block of the configuration.
type block struct {
	spec     *typeSpec
	mode     string
	name     string
	count    int      // instances per module instance with count; 0 without
	forEach  []string // for_each keys; nil without
	untagged bool
	team     string
	exprs    map[string]any
}

// instance is one resource_changes entry.
type instance struct {
	call                            *call
	block                           *block
	module                          string
	address                         string
	index                           any
	actions                         []string
	before, after                   map[string]any
	afterUnknown                    map[string]any
	beforeSensitive, afterSensitive any
	actionReason                    string
	replacePaths                    [][]string
}

type gen struct {
	opts      Options
	r         *rand.Rand
	root      *call
	calls     []*call // root first, in declaration order
	insts     []*instance
	names     map[string]int // per call path: block names used
	providers map[string]map[string]any
}

func newGen(opts Options) *gen {
	g := &gen{
		opts:  opts,
		r:     rand.New(rand.NewPCG(uint64(opts.Seed), 0x636f737467617465)),
		names: map[string]int{},
	}
	root := &call{instances: []string{""}, providerKey: "aws", cloud: "aws", weight: 20}
	network := &call{path: []string{"network"}, source: "./modules/network", instances: []string{"module.network"}, providerKey: "aws", cloud: "aws", weight: 15}
	app := &call{path: []string{"app"}, source: "./modules/app", forEach: []string{"api", "web", "worker"}, providerKey: "aws", cloud: "aws", weight: 6}
	for _, k := range app.forEach {
		app.instances = append(app.instances, `module.app["`+k+`"]`)
	}
	data := &call{path: []string{"data"}, source: "./modules/data", instances: []string{"module.data"}, providerKey: "aws.us_west_2", cloud: "aws", weight: 15, providers: map[string]string{"aws": "aws.us_west_2"}}
	backup := &call{path: []string{"data", "backup"}, source: "./backup", instances: []string{"module.data.module.backup"}, providerKey: "aws.us_west_2", cloud: "aws", weight: 5}
	legacy := &call{path: []string{"legacy"}, source: "./modules/legacy", instances: []string{"module.legacy"}, providerKey: "module.legacy:aws", cloud: "aws", weight: 10}
	gcp := &call{path: []string{"gcp"}, source: "./modules/gcp", instances: []string{"module.gcp"}, providerKey: "google", cloud: "google", weight: 1}
	root.children = []*call{network, app, data, legacy, gcp}
	data.children = []*call{backup}
	g.root = root
	g.calls = []*call{root, network, app, data, backup, legacy, gcp}

	g.providers = map[string]map[string]any{
		"aws": awsProviderConfig("", "us-east-1", map[string]any{
			"cost-center": "cc-100", "env": "prod", "managed-by": "terraform",
		}),
		"aws.us_west_2": awsProviderConfig("us_west_2", "us-west-2", map[string]any{
			"cost-center": "cc-200", "env": "prod", "managed-by": "terraform", "dr": "true",
		}),
		"module.legacy:aws": awsProviderConfig("", "eu-west-1", map[string]any{
			"cost-center": "cc-300", "managed-by": "terraform",
		}),
		"google": {
			"name": "google", "full_name": googleProvider,
			"expressions": map[string]any{
				"project":        map[string]any{"constant_value": "acme-prod"},
				"region":         map[string]any{"constant_value": "europe-west1"},
				"default_labels": map[string]any{"constant_value": map[string]any{"cost-center": "cc-400", "managed-by": "terraform"}},
			},
		},
	}
	g.providers["module.legacy:aws"]["module_address"] = "module.legacy"
	return g
}

func awsProviderConfig(alias, region string, defaultTags map[string]any) map[string]any {
	p := map[string]any{
		"name": "aws", "full_name": awsProvider,
		"expressions": map[string]any{
			"region":       map[string]any{"constant_value": region},
			"default_tags": []any{map[string]any{"tags": map[string]any{"constant_value": defaultTags}}},
		},
	}
	if alias != "" {
		p["alias"] = alias
	}
	return p
}

// defaultTags returns the default tags (or labels) of a provider config.
func (g *gen) defaultTags(key string) map[string]any {
	exprs := g.providers[key]["expressions"].(map[string]any)
	if dl, ok := exprs["default_labels"]; ok {
		return dl.(map[string]any)["constant_value"].(map[string]any)
	}
	dt := exprs["default_tags"].([]any)[0].(map[string]any)["tags"].(map[string]any)
	return dt["constant_value"].(map[string]any)
}

func (g *gen) pct(p int) bool { return g.r.IntN(100) < p }

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) ip() string {
	return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

var teams = []string{"payments", "search", "platform", "data", "identity", "growth", "ml", "sre", "checkout", "mobile"}

// generate lays out blocks until there are opts.Resources instances.
func (g *gen) generate() {
	remaining := g.opts.Resources
	for remaining > 0 {
		c := g.pickCall()
		spec := g.pickSpec(c.cloud)
		b := &block{spec: spec, mode: "managed", team: g.pick(teams)}
		if spec.data {
			b.mode = "data"
		}
		b.untagged = spec.taggable && g.pct(g.opts.UntaggedPercent)
		per := 1
		switch n := g.r.IntN(10); {
		case n < 3 && !spec.data:
			b.count = 2 + g.r.IntN(7)
			per = b.count
		case n < 4 && !spec.data:
			b.forEach = forEachKeys[g.r.IntN(len(forEachKeys))]
			per = len(b.forEach)
		}
		total := per * len(c.instances)
		if total > remaining {
			if len(c.instances) > 1 {
				continue // try a smaller module
			}
			per = remaining
			if b.count > 0 {
				b.count = per
			}
			if b.forEach != nil {
				b.forEach = b.forEach[:per]
			}
		}
		b.name = g.blockName(c, spec)
		c.blocks = append(c.blocks, b)
		for _, mod := range c.instances {
			for i := 0; i < per; i++ {
				var idx any
				switch {
				case b.count > 0:
					idx = i
				case b.forEach != nil:
					idx = b.forEach[i]
				}
				g.addInstance(c, b, mod, idx)
				remaining--
			}
		}
	}
	sort.SliceStable(g.insts, func(i, j int) bool { return g.insts[i].address < g.insts[j].address })
}

var forEachKeys = [][]string{
	{"blue", "green"},
	{"eu", "us", "ap"},
	{"primary", "replica"},
	{"a", "b", "c", "d"},
}

func (g *gen) pickCall() *call {
	total := 0
	for _, c := range g.calls {
		total += c.weight
	}
	n := g.r.IntN(total)
	for _, c := range g.calls {
		if n < c.weight {
			return c
		}
		n -= c.weight
	}
	return g.root
}

func (g *gen) pickSpec(cloud string) *typeSpec {
	total := 0
	for _, s := range specs {
		if s.cloud == cloud {
			total += s.weight
		}
	}
	n := g.r.IntN(total)
	for _, s := range specs {
		if s.cloud != cloud {
			continue
		}
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	panic("plangen: no resource types for " + cloud)
}

func (g *gen) blockName(c *call, s *typeSpec) string {
	base := g.pick(s.names)
	key := strings.Join(c.path, ".") + "|" + s.mode() + "." + s.typ + "." + base
	g.names[key]++
	if n := g.names[key]; n > 1 {
		return base + "_" + strconv.Itoa(n)
	}
	return base
}

// instCtx is what attribute generators know about one instance.
type instCtx struct {
	name    string // a human name: block name plus instance key
	region  string
	account string
	project string
}

// addInstance creates one resource_changes entry: its action, before and
// after values.
func (g *gen) addInstance(c *call, b *block, mod string, idx any) {
	s := b.spec
	addr := s.mode() + "." + s.typ + "." + b.name
	if s.mode() == "managed" {
		addr = s.typ + "." + b.name
	}
	human := strings.ReplaceAll(b.name, "_", "-")
	switch v := idx.(type) {
	case int:
		addr += "[" + strconv.Itoa(v) + "]"
		human += "-" + strconv.Itoa(v)
	case string:
		addr += `["` + v + `"]`
		human += "-" + v
	}
	if mod != "" {
		addr = mod + "." + addr
		if k := strings.LastIndex(mod, `["`); k >= 0 {
			human = mod[k+2:len(mod)-2] + "-" + human
		}
	}
	ctx := &instCtx{name: human, region: "us-east-1", account: "123456789012", project: "acme-prod"}
	switch c.providerKey {
	case "aws.us_west_2":
		ctx.region = "us-west-2"
	case "module.legacy:aws":
		ctx.region = "eu-west-1"
	}
	in := &instance{call: c, block: b, module: mod, address: addr, index: idx}

	// Own tags (labels for Google) and the effective ones.
	var own, all map[string]any
	if s.taggable {
		own = map[string]any{"team": b.team, "service": b.name}
		switch {
		case s.typ == "aws_instance":
			own["Name"] = human
		case s.cloud == "google":
			own["service"] = strings.ReplaceAll(b.name, "_", "-")
		}
		if b.untagged {
			delete(own, "team")
		}
		if g.pct(3) {
			own["env"] = "production" // a value an allowed_values rule rejects
		}
		all = map[string]any{}
		for k, v := range g.defaultTags(c.providerKey) {
			all[k] = v
		}
		for k, v := range own {
			all[k] = v
		}
	}

	if s.data {
		in.actions = []string{"read"}
		in.actionReason = "read_because_dependency_pending"
		in.after = s.configured(g, ctx)
		in.afterUnknown = markAll(s.computed(g, ctx))
		in.beforeSensitive = false
		in.afterSensitive = map[string]any{}
		if b.exprs == nil {
			b.exprs = expressions(s, in.after)
		}
		g.insts = append(g.insts, in)
		return
	}

	action := "create"
	switch n := g.r.IntN(100); {
	case n < 3:
		action = "update"
	case n < 6:
		action = "no-op"
	case n < 7:
		action = "delete"
	case n < 8:
		action = "replace"
	}

	configured := s.configured(g, ctx)
	computed := s.computed(g, ctx)
	tagsKey, allKey := "tags", "tags_all"
	if s.cloud == "google" {
		tagsKey, allKey = "labels", "effective_labels"
	}
	withTags := func(m map[string]any, tags, tagsAll map[string]any) map[string]any {
		if s.taggable {
			m[tagsKey] = tags
			m[allKey] = tagsAll
			if s.cloud == "google" {
				tl := map[string]any{}
				for k, v := range tagsAll {
					tl[k] = v
				}
				m["terraform_labels"] = tl
				m[allKey] = mergeTags(tagsAll, map[string]any{"goog-terraform-provisioned": "true"})
			}
		}
		return m
	}
	sensitive := s.sensitiveSkeleton()
	existing := func() map[string]any {
		m := copyMap(configured)
		for _, kv := range computed {
			m[kv.name] = kv.known
		}
		return withTags(m, copyTags(own), copyTags(all))
	}

	switch action {
	case "create":
		in.actions = []string{"create"}
		in.after = withTags(copyMap(configured), own, all)
		in.afterUnknown = markAll(computed)
		in.beforeSensitive = false
		in.afterSensitive = sensitive
	case "update":
		in.actions = []string{"update"}
		in.before = existing()
		in.after = copyMap(in.before)
		if s.taggable && g.pct(50) {
			// A tag change: the update most plans are full of.
			oldOwn := copyTags(own)
			oldOwn["service"] = "legacy-" + b.name
			oldAll := mergeTags(all, oldOwn)
			if s.cloud == "google" {
				oldAll = mergeTags(oldAll, map[string]any{"goog-terraform-provisioned": "true"})
			}
			in.before[tagsKey], in.before[allKey] = oldOwn, oldAll
		} else if s.update != nil {
			s.update(g, in.after)
		}
		in.afterUnknown = skeleton(in.after)
		in.beforeSensitive = sensitive
		in.afterSensitive = s.sensitiveSkeleton()
	case "no-op":
		in.actions = []string{"no-op"}
		in.before = existing()
		in.after = copyMap(in.before)
		in.afterUnknown = skeleton(in.after)
		in.beforeSensitive = sensitive
		in.afterSensitive = s.sensitiveSkeleton()
	case "replace":
		in.actions = []string{"delete", "create"}
		if g.pct(40) {
			in.actions = []string{"create", "delete"}
		}
		in.before = existing()
		in.after = withTags(copyMap(configured), own, all)
		in.afterUnknown = markAll(computed)
		in.beforeSensitive = sensitive
		in.afterSensitive = s.sensitiveSkeleton()
		if s.replaceAttr != "" {
			in.replacePaths = [][]string{{s.replaceAttr}}
			in.before[s.replaceAttr] = s.replaceOld
		}
		in.actionReason = ""
	case "delete":
		in.actions = []string{"delete"}
		in.before = existing()
		in.afterUnknown = map[string]any{}
		in.beforeSensitive = sensitive
		in.afterSensitive = false
		if b.count > 0 {
			in.actionReason = "delete_because_count_index"
		}
	}
	if b.exprs == nil {
		b.exprs = expressions(s, withTags(copyMap(configured), own, nil))
	}
	g.insts = append(g.insts, in)
}

// kv is a computed attribute: unknown at create, known once it exists.
type kv struct {
	name  string
	known any
	mark  any // after_unknown value at create: true or a nested skeleton
}

func markAll(computed []kv) map[string]any {
	m := make(map[string]any, len(computed)+2)
	for _, c := range computed {
		if c.mark != nil {
			m[c.name] = c.mark
		} else {
			m[c.name] = true
		}
	}
	return m
}

// skeleton returns the after_unknown shape of a fully known value: empty
// objects and lists where the value has them, nothing for leaves.
func skeleton(v map[string]any) map[string]any {
	out := map[string]any{}
	for k, x := range v {
		switch x := x.(type) {
		case map[string]any:
			out[k] = map[string]any{}
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				if m, ok := e.(map[string]any); ok {
					l[i] = skeleton(m)
				} else {
					l[i] = false
				}
			}
			out[k] = l
		}
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copyTags(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return copyMap(m)
}

func mergeTags(a, b map[string]any) map[string]any {
	out := copyMap(a)
	for k, v := range b {
		out[k] = v
	}
	return out
}

// expressions renders a configuration block's expressions from the
// first instance's configured values.
func expressions(s *typeSpec, values map[string]any) map[string]any {
	exprs := map[string]any{}
	for _, k := range s.config {
		v, ok := values[k]
		if !ok || v == nil {
			continue
		}
		exprs[k] = map[string]any{"constant_value": v}
	}
	for _, ref := range s.refs {
		name, target, _ := strings.Cut(ref, "=")
		exprs[name] = map[string]any{"references": []any{target + ".id", target}}
	}
	return exprs
}

// JSON shapes, in the field order Terraform writes them.

type planDoc struct {
	FormatVersion    string                    `json:"format_version"`
	TerraformVersion string                    `json:"terraform_version"`
	Variables        map[string]map[string]any `json:"variables,omitempty"`
	PlannedValues    valuesDoc                 `json:"planned_values"`
	ResourceChanges  []resourceChangeDoc       `json:"resource_changes"`
	OutputChanges    map[string]any            `json:"output_changes,omitempty"`
	PriorState       *stateDoc                 `json:"prior_state,omitempty"`
	Configuration    configDoc                 `json:"configuration"`
	Timestamp        string                    `json:"timestamp"`
	Applyable        bool                      `json:"applyable"`
	Complete         bool                      `json:"complete"`
	Errored          bool                      `json:"errored"`
}

type valuesDoc struct {
	Outputs    map[string]any `json:"outputs,omitempty"`
	RootModule *moduleDoc     `json:"root_module"`
}

type stateDoc struct {
	FormatVersion    string    `json:"format_version"`
	TerraformVersion string    `json:"terraform_version"`
	Values           valuesDoc `json:"values"`
}

type moduleDoc struct {
	Resources    []resourceDoc `json:"resources,omitempty"`
	Address      string        `json:"address,omitempty"`
	ChildModules []*moduleDoc  `json:"child_modules,omitempty"`
}

type resourceDoc struct {
	Address         string         `json:"address"`
	Mode            string         `json:"mode"`
	Type            string         `json:"type"`
	Name            string         `json:"name"`
	Index           any            `json:"index,omitempty"`
	ProviderName    string         `json:"provider_name"`
	SchemaVersion   int            `json:"schema_version"`
	Values          map[string]any `json:"values"`
	SensitiveValues any            `json:"sensitive_values"`
}

type resourceChangeDoc struct {
	Address       string    `json:"address"`
	ModuleAddress string    `json:"module_address,omitempty"`
	Mode          string    `json:"mode"`
	Type          string    `json:"type"`
	Name          string    `json:"name"`
	Index         any       `json:"index,omitempty"`
	ProviderName  string    `json:"provider_name"`
	Change        changeDoc `json:"change"`
	ActionReason  string    `json:"action_reason,omitempty"`
}

type changeDoc struct {
	Actions         []string       `json:"actions"`
	Before          map[string]any `json:"before"`
	After           map[string]any `json:"after"`
	AfterUnknown    map[string]any `json:"after_unknown"`
	BeforeSensitive any            `json:"before_sensitive"`
	AfterSensitive  any            `json:"after_sensitive"`
	ReplacePaths    [][]string     `json:"replace_paths,omitempty"`
}

type configDoc struct {
	ProviderConfig map[string]map[string]any `json:"provider_config"`
	RootModule     *configModuleDoc          `json:"root_module"`
}

type configModuleDoc struct {
	Resources   []configResourceDoc      `json:"resources,omitempty"`
	ModuleCalls map[string]moduleCallDoc `json:"module_calls,omitempty"`
}

type configResourceDoc struct {
	Address           string         `json:"address"`
	Mode              string         `json:"mode"`
	Type              string         `json:"type"`
	Name              string         `json:"name"`
	ProviderConfigKey string         `json:"provider_config_key"`
	Expressions       map[string]any `json:"expressions,omitempty"`
	SchemaVersion     int            `json:"schema_version"`
	CountExpression   map[string]any `json:"count_expression,omitempty"`
	ForEachExpression map[string]any `json:"for_each_expression,omitempty"`
}

type moduleCallDoc struct {
	Source            string           `json:"source"`
	Module            *configModuleDoc `json:"module"`
	ForEachExpression map[string]any   `json:"for_each_expression,omitempty"`
}

// document assembles the plan from the generated instances.
func (g *gen) document() *planDoc {
	doc := &planDoc{
		FormatVersion:    formatVersion,
		TerraformVersion: terraformVersion,
		Variables: map[string]map[string]any{
			"environment": {"value": "prod"},
			"region":      {"value": "us-east-1"},
		},
		ResourceChanges: make([]resourceChangeDoc, 0, len(g.insts)),
		Configuration:   configDoc{ProviderConfig: g.providers, RootModule: g.configModule(g.root)},
		Timestamp:       timestamp,
		Applyable:       len(g.insts) > 0,
		Complete:        true,
	}
	planned := newModuleTree()
	prior := newModuleTree()
	for _, in := range g.insts {
		s := in.block.spec
		doc.ResourceChanges = append(doc.ResourceChanges, resourceChangeDoc{
			Address:       in.address,
			ModuleAddress: in.module,
			Mode:          s.mode(),
			Type:          s.typ,
			Name:          in.block.name,
			Index:         in.index,
			ProviderName:  s.providerName(),
			Change: changeDoc{
				Actions:         in.actions,
				Before:          in.before,
				After:           in.after,
				AfterUnknown:    in.afterUnknown,
				BeforeSensitive: in.beforeSensitive,
				AfterSensitive:  in.afterSensitive,
				ReplacePaths:    in.replacePaths,
			},
			ActionReason: in.actionReason,
		})
		res := resourceDoc{
			Address:       in.address,
			Mode:          s.mode(),
			Type:          s.typ,
			Name:          in.block.name,
			Index:         in.index,
			ProviderName:  s.providerName(),
			SchemaVersion: s.schemaVersion,
		}
		if in.after != nil {
			r := res
			r.Values, r.SensitiveValues = in.after, in.afterSensitive
			planned.add(in.module, r)
		}
		if in.before != nil {
			r := res
			r.Values, r.SensitiveValues = in.before, in.beforeSensitive
			prior.add(in.module, r)
		}
	}
	doc.PlannedValues = valuesDoc{RootModule: planned.root()}
	if len(prior.mods) > 0 {
		doc.PriorState = &stateDoc{
			FormatVersion:    "1.0",
			TerraformVersion: terraformVersion,
			Values:           valuesDoc{RootModule: prior.root()},
		}
	}
	return doc
}

// moduleTree collects resources per module instance and nests them.
type moduleTree struct {
	mods map[string]*moduleDoc
}

func newModuleTree() *moduleTree { return &moduleTree{mods: map[string]*moduleDoc{}} }

func (t *moduleTree) get(addr string) *moduleDoc {
	if m, ok := t.mods[addr]; ok {
		return m
	}
	m := &moduleDoc{Address: addr}
	t.mods[addr] = m
	if addr != "" {
		parent := ""
		if i := strings.LastIndex(addr, ".module."); i >= 0 {
			parent = addr[:i]
		}
		p := t.get(parent)
		p.ChildModules = append(p.ChildModules, m)
	}
	return m
}

func (t *moduleTree) add(module string, r resourceDoc) {
	m := t.get(module)
	m.Resources = append(m.Resources, r)
}

// root returns the root module with children sorted by address.
func (t *moduleTree) root() *moduleDoc {
	r := t.get("")
	var sortChildren func(m *moduleDoc)
	sortChildren = func(m *moduleDoc) {
		sort.Slice(m.ChildModules, func(i, j int) bool { return m.ChildModules[i].Address < m.ChildModules[j].Address })
		for _, c := range m.ChildModules {
			sortChildren(c)
		}
	}
	sortChildren(r)
	return r
}

// configModule renders the configuration of one module call.
func (g *gen) configModule(c *call) *configModuleDoc {
	m := &configModuleDoc{}
	for _, b := range c.blocks {
		s := b.spec
		addr := s.typ + "." + b.name
		if s.data {
			addr = "data." + addr
		}
		r := configResourceDoc{
			Address:           addr,
			Mode:              s.mode(),
			Type:              s.typ,
			Name:              b.name,
			ProviderConfigKey: c.providerKey,
			Expressions:       b.exprs,
			SchemaVersion:     s.schemaVersion,
		}
		if b.count > 0 {
			r.CountExpression = map[string]any{"constant_value": b.count}
		}
		if b.forEach != nil {
			r.ForEachExpression = map[string]any{"references": []any{"local." + b.name + "_keys"}}
		}
		m.Resources = append(m.Resources, r)
	}
	sort.Slice(m.Resources, func(i, j int) bool { return m.Resources[i].Address < m.Resources[j].Address })
	for _, child := range c.children {
		if m.ModuleCalls == nil {
			m.ModuleCalls = map[string]moduleCallDoc{}
		}
		mc := moduleCallDoc{Source: child.source, Module: g.configModule(child)}
		if child.forEach != nil {
			mc.ForEachExpression = map[string]any{"references": []any{"var.services"}}
		}
		m.ModuleCalls[child.path[len(child.path)-1]] = mc
	}
	return m
}
