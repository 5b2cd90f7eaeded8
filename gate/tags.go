package gate

import (
	"encoding/json"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// tagKeys names a provider family's tag attributes: the resource's own
// tags, the provider-computed effective set, and the provider default.
type tagKeys struct {
	own, all, defaults string
	defaultsIsBlock    bool // aws default_tags { tags = {...} } vs google default_labels = {...}
}

var (
	awsTagKeys    = tagKeys{own: "tags", all: "tags_all", defaults: "default_tags", defaultsIsBlock: true}
	googleTagKeys = tagKeys{own: "labels", all: "effective_labels", defaults: "default_labels"}
)

func tagKeysFor(resourceType, provider string) tagKeys {
	if strings.HasPrefix(resourceType, "google_") || strings.Contains(provider, "/google") {
		return googleTagKeys
	}
	return awsTagKeys
}

// tagAttrs are the attributes effectiveTags reads; ParsePlan's lazy
// values are plucked for these alone.
var tagAttrs = map[string]bool{"tags": true, "tags_all": true, "labels": true, "effective_labels": true, "tag": true}

// tagResult is the effective tag set of one resource.
type tagResult struct {
	taggable bool
	known    bool               // false: the resource's own tags are wholly unknown
	tags     map[string]*string // nil value: known only after apply
}

func (t tagResult) unknownKeys() []string {
	var keys []string
	for k, v := range t.tags {
		if v == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// effectiveTags applies the effective-tag rule: tags_all (effective_labels)
// when it is a known object; otherwise the resolved provider defaults
// overlaid by the resource's own tags. Keys whose values are unknown until
// apply are present with a nil value.
//
// after and unknown hold at least the tag attributes (tagAttrs) of the
// change's after and after_unknown; for a delete, after is the before.
func effectiveTags(rc *tfjson.ResourceChange, after, unknown map[string]any, defaults providerDefaults) tagResult {
	keys := tagKeysFor(rc.Type, rc.ProviderName)
	if rc.Type == "aws_autoscaling_group" {
		if res, ok := asgTags(after, unknown); ok {
			return res
		}
	}
	_, hasOwn := after[keys.own]
	_, hasAll := after[keys.all]
	_, ownUnknownKey := unknown[keys.own]
	_, allUnknownKey := unknown[keys.all]
	res := tagResult{taggable: hasOwn || hasAll || ownUnknownKey || allUnknownKey, known: true}
	if !res.taggable {
		return res
	}
	if unknown[keys.all] != true {
		if all, ok := after[keys.all].(map[string]any); ok {
			res.tags = tagMap(all, unknown[keys.all])
			return res
		}
	}
	if unknown[keys.own] == true {
		res.known = false
	}
	def, defKnown := defaults.lookup(rc)
	if !defKnown {
		// Provider defaults come from an expression costgate cannot
		// evaluate, and the plan did not compute the effective set.
		res.known = false
	}
	res.tags = make(map[string]*string, len(def))
	for k, v := range def {
		res.tags[k] = v
	}
	own, _ := after[keys.own].(map[string]any)
	for k, v := range tagMap(own, unknown[keys.own]) {
		res.tags[k] = v
	}
	return res
}

// tagMap converts a tag object, marking keys that after_unknown flags.
func tagMap(m map[string]any, unknown any) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		if v == nil {
			continue // an explicit null tag is not set
		}
		s := scalarString(v)
		out[k] = &s
	}
	if um, ok := unknown.(map[string]any); ok {
		for k, u := range um {
			if u == true {
				out[k] = nil
			}
		}
	}
	return out
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// asgTags reads aws_autoscaling_group `tag` blocks and the legacy `tags`
// list of maps; both count as the group's tags.
func asgTags(after, unknown map[string]any) (tagResult, bool) {
	blocks, okTag := after["tag"].([]any)
	legacy, okTags := after["tags"].([]any)
	_, tagKey := after["tag"]
	if !okTag && !okTags && !tagKey {
		return tagResult{}, false
	}
	res := tagResult{taggable: true, known: unknown["tag"] != true && unknown["tags"] != true, tags: map[string]*string{}}
	add := func(list []any, unknownList any) {
		ul, _ := unknownList.([]any)
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			key, _ := m["key"].(string)
			var um map[string]any
			if i < len(ul) {
				um, _ = ul[i].(map[string]any)
			}
			if key == "" {
				continue
			}
			if um["value"] == true || m["value"] == nil && um != nil {
				res.tags[key] = nil
				continue
			}
			s := scalarString(m["value"])
			res.tags[key] = &s
		}
	}
	add(blocks, unknown["tag"])
	add(legacy, unknown["tags"])
	return res, true
}

// providerDefaults resolves, for each resource, the default tags of the
// provider configuration it actually uses.
type providerDefaults struct {
	configs   map[string]*tfjson.ProviderConfig
	keys      map[string]string // "module.a.module.b|aws_s3_bucket.x" -> provider_config_key
	variables map[string]any
}

func newProviderDefaults(p *tfjson.Plan) providerDefaults {
	d := providerDefaults{keys: map[string]string{}, variables: map[string]any{}}
	for name, v := range p.Variables {
		if v != nil {
			d.variables[name] = v.Value
		}
	}
	if p.Config == nil {
		return d
	}
	d.configs = p.Config.ProviderConfigs
	var walk func(m *tfjson.ConfigModule, prefix string)
	walk = func(m *tfjson.ConfigModule, prefix string) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			d.keys[prefix+"|"+r.Address] = r.ProviderConfigKey
		}
		for name, call := range m.ModuleCalls {
			p := "module." + name
			if prefix != "" {
				p = prefix + "." + p
			}
			walk(call.Module, p)
		}
	}
	walk(p.Config.RootModule, "")
	return d
}

// configKey finds the provider_config_key of a resource change.
// The lookup key is built in a stack buffer: a map index by a converted
// []byte allocates nothing.
func (d providerDefaults) configKey(rc *tfjson.ResourceChange) string {
	var buf [128]byte
	b := append(buf[:0], stripInstanceKeys(rc.ModuleAddress)...)
	b = append(b, '|')
	if rc.Mode == tfjson.DataResourceMode {
		b = append(b, "data."...)
	}
	b = append(append(append(b, rc.Type...), '.'), rc.Name...)
	return d.keys[string(b)]
}

// lookup returns the default tags for rc, and false when they exist but
// cannot be evaluated from the plan.
func (d providerDefaults) lookup(rc *tfjson.ResourceChange) (map[string]*string, bool) {
	keys := tagKeysFor(rc.Type, rc.ProviderName)
	pc := d.provider(rc)
	if pc == nil || pc.Expressions == nil {
		return nil, true
	}
	expr := pc.Expressions[keys.defaults]
	if expr == nil || expr.ExpressionData == nil {
		return nil, true
	}
	if keys.defaultsIsBlock {
		out := map[string]*string{}
		for _, block := range expr.NestedBlocks {
			tags := block["tags"]
			if tags == nil || tags.ExpressionData == nil {
				continue
			}
			m, ok := d.exprValue(tags.ExpressionData)
			if !ok {
				return nil, false
			}
			for k, v := range m {
				out[k] = v
			}
		}
		return out, true
	}
	return d.exprValue(expr.ExpressionData)
}

// exprValue evaluates a constant map, or a map that is exactly one
// root-module variable.
func (d providerDefaults) exprValue(e *tfjson.ExpressionData) (map[string]*string, bool) {
	if e.ConstantValue != nil && e.ConstantValue != tfjson.UnknownConstantValue {
		m, ok := e.ConstantValue.(map[string]any)
		if !ok {
			return nil, false
		}
		return tagMap(m, nil), true
	}
	if len(e.References) == 0 {
		return nil, true
	}
	for _, ref := range e.References {
		name, ok := strings.CutPrefix(ref, "var.")
		if !ok || strings.Contains(name, ".") {
			continue
		}
		if m, ok := d.variables[name].(map[string]any); ok {
			return tagMap(m, nil), true
		}
	}
	return nil, false
}

// provider finds the provider configuration a resource uses: the key the
// configuration names, else the nearest enclosing module's configuration
// of the same provider, else the root one.
func (d providerDefaults) provider(rc *tfjson.ResourceChange) *tfjson.ProviderConfig {
	if len(d.configs) == 0 {
		return nil
	}
	key := d.configKey(rc)
	if pc, ok := d.configs[key]; ok {
		return pc
	}
	short := providerShortName(rc)
	if key != "" {
		if _, after, ok := strings.Cut(key, ":"); ok {
			short = after
		} else {
			short = key
		}
	}
	mod := stripInstanceKeys(rc.ModuleAddress)
	for mod != "" {
		if pc, ok := d.configs[mod+":"+short]; ok {
			return pc
		}
		i := strings.LastIndex(mod, ".module.")
		if i < 0 {
			break
		}
		mod = mod[:i]
	}
	return d.configs[short]
}

func providerShortName(rc *tfjson.ResourceChange) string {
	if i := strings.LastIndex(rc.ProviderName, "/"); i >= 0 {
		return rc.ProviderName[i+1:]
	}
	if rc.ProviderName != "" {
		return rc.ProviderName
	}
	t, _, _ := strings.Cut(rc.Type, "_")
	return t
}

// stripInstanceKeys turns module.a["x"].module.b[0] into module.a.module.b.
func stripInstanceKeys(addr string) string {
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
