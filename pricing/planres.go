package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// PlanConfig is what the estimators need from a plan's "configuration"
// block that the gate's typed plan does not keep: each provider
// configuration's region, and the references between resources (an
// autoscaling group's launch_template = aws_launch_template.web.id).
type PlanConfig struct {
	providers map[string]providerConf
	refs      map[string]map[string][]string // config address -> attribute -> referenced config addresses
	vars      map[string]any
	referring func(typ string) bool
}

type providerConf struct {
	name   string
	region string
}

// ParsePlanConfig reads the raw "configuration" member of a plan (nil
// gives an empty config). variables are the plan's root variable values,
// used when a provider's region is a root variable.
func ParsePlanConfig(configuration []byte, variables map[string]any) (*PlanConfig, error) {
	return ParsePlanConfigFor(configuration, variables, nil)
}

// ParsePlanConfigFor is ParsePlanConfig collecting references only from
// resources whose type referring accepts (nil: every type); on a large
// plan most resources refer to others the estimators never follow, and
// decoding their expressions is most of the work.
func ParsePlanConfigFor(configuration []byte, variables map[string]any, referring func(typ string) bool) (*PlanConfig, error) {
	c := &PlanConfig{providers: map[string]providerConf{}, refs: map[string]map[string][]string{}, vars: variables, referring: referring}
	if len(bytes.TrimSpace(configuration)) == 0 || string(bytes.TrimSpace(configuration)) == "null" {
		return c, nil
	}
	var doc struct {
		ProviderConfig map[string]struct {
			Name        string                     `json:"name"`
			Expressions map[string]json.RawMessage `json:"expressions"`
		} `json:"provider_config"`
		RootModule *cfgModule `json:"root_module"`
	}
	dec := json.NewDecoder(bytes.NewReader(configuration))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("read plan configuration: %w", err)
	}
	for key, pc := range doc.ProviderConfig {
		conf := providerConf{name: pc.Name}
		for _, attr := range []string{"region", "location"} {
			if raw, ok := pc.Expressions[attr]; ok {
				conf.region = c.exprString(raw)
				if conf.region != "" {
					break
				}
			}
		}
		c.providers[key] = conf
	}
	c.walk(doc.RootModule, "")
	return c, nil
}

// ProviderConfig is a provider configuration of a plan's configuration
// as a typed view (terraform-json's) already holds it: its name and the
// constant value or references of its region and location expressions.
type ProviderConfig struct {
	Name             string
	Region, Location Expression
}

// Expression is an expression's constant value (as encoding/json decodes
// it) and the references it makes.
type Expression struct {
	ConstantValue any
	References    []string
}

// NewPlanConfig is ParsePlanConfigFor for a plan whose resources refer to
// nothing the estimators follow, from provider configurations already
// decoded (keyed by provider_config_key): it reads no JSON. The regions
// are those ParsePlanConfigFor finds in the same configuration.
func NewPlanConfig(providers map[string]ProviderConfig, variables map[string]any, referring func(typ string) bool) *PlanConfig {
	c := &PlanConfig{providers: make(map[string]providerConf, len(providers)), refs: map[string]map[string][]string{}, vars: variables, referring: referring}
	for key, pc := range providers {
		conf := providerConf{name: pc.Name}
		if conf.region = c.exprValue(pc.Region); conf.region == "" {
			conf.region = c.exprValue(pc.Location)
		}
		c.providers[key] = conf
	}
	return c
}

type cfgModule struct {
	Resources []struct {
		Address string `json:"address"`
		Mode    string `json:"mode"`
		Type    string `json:"type"`
		// Expressions stay raw until a resource's type is known to be
		// one whose references are followed.
		Expressions json.RawMessage `json:"expressions"`
	} `json:"resources"`
	ModuleCalls map[string]struct {
		Module *cfgModule `json:"module"`
	} `json:"module_calls"`
}

func (c *PlanConfig) walk(m *cfgModule, prefix string) {
	if m == nil {
		return
	}
	for _, r := range m.Resources {
		if r.Mode == "data" || len(r.Expressions) == 0 || (c.referring != nil && !c.referring(r.Type)) {
			continue
		}
		if !bytes.Contains(r.Expressions, refsKey) {
			continue
		}
		var exprs map[string]json.RawMessage
		if json.Unmarshal(r.Expressions, &exprs) != nil {
			continue
		}
		addr := joinAddr(prefix, r.Address)
		for attr, raw := range exprs {
			var refs []string
			collectRefs(raw, func(ref string) {
				if t := resourceRef(ref); t != "" {
					refs = appendUnique(refs, joinAddr(prefix, t))
				}
			})
			if len(refs) > 0 {
				if c.refs[addr] == nil {
					c.refs[addr] = map[string][]string{}
				}
				c.refs[addr][attr] = refs
			}
		}
	}
	for name, call := range m.ModuleCalls {
		c.walk(call.Module, joinAddr(prefix, "module."+name))
	}
}

func joinAddr(prefix, addr string) string {
	if prefix == "" {
		return addr
	}
	return prefix + "." + addr
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// collectRefs calls fn for every string in a "references" array anywhere
// in an expression (nested blocks are lists of attribute maps).
func collectRefs(raw json.RawMessage, fn func(string)) {
	if !bytes.Contains(raw, refsKey) {
		return // a constant: most expressions
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "references" {
					if list, ok := e.([]any); ok {
						for _, r := range list {
							if s, ok := r.(string); ok {
								fn(s)
							}
						}
					}
					continue
				}
				if k == "constant_value" {
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

var refsKey = []byte(`"references"`)

var managedRefRE = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)`)

// resourceRef turns a reference ("aws_launch_template.web.id",
// "aws_instance.x[0].arn") into the resource's config address, or "" for
// variables, locals, module outputs and data sources.
func resourceRef(ref string) string {
	for _, p := range []string{"var.", "local.", "module.", "data.", "each.", "count.", "path.", "self.", "terraform."} {
		if strings.HasPrefix(ref, p) {
			return ""
		}
	}
	m := managedRefRE.FindStringSubmatch(ref)
	if m == nil || !strings.Contains(m[1], "_") {
		return ""
	}
	return m[1] + "." + m[2]
}

// exprString evaluates a constant string, or a root variable reference.
func (c *PlanConfig) exprString(raw json.RawMessage) string {
	var e struct {
		ConstantValue any      `json:"constant_value"`
		References    []string `json:"references"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	return c.exprValue(Expression{e.ConstantValue, e.References})
}

// exprValue is a string constant, else the string value of the first
// root variable referenced; "" when neither.
func (c *PlanConfig) exprValue(e Expression) string {
	if s, ok := e.ConstantValue.(string); ok {
		return s
	}
	for _, ref := range e.References {
		if name, ok := strings.CutPrefix(ref, "var."); ok && !strings.Contains(name, ".") {
			if s, ok := c.vars[name].(string); ok {
				return s
			}
		}
	}
	return ""
}

// References returns, for a resource address (instance keys allowed),
// each attribute's references to other resources as config addresses.
func (c *PlanConfig) References(address string) map[string][]string {
	if c == nil {
		return nil
	}
	return c.refs[ConfigAddress(address)]
}

// ProviderRegion returns the region (or location) of the provider
// configuration a resource uses: its provider_config_key, else the
// nearest enclosing module's configuration of the same provider, else
// the root one; "" when no constant or root variable gives it.
func (c *PlanConfig) ProviderRegion(configKey, module, providerName string) string {
	if c == nil {
		return ""
	}
	if pc, ok := c.providers[configKey]; ok && pc.region != "" {
		return pc.region
	}
	short := providerName
	if i := strings.LastIndex(short, "/"); i >= 0 {
		short = short[i+1:]
	}
	mod := ConfigAddress(module)
	if configKey != "" {
		k := configKey
		if before, after, ok := strings.Cut(configKey, ":"); ok {
			k = after
			if mod == "" {
				mod = before
			}
		}
		short = k
	}
	for mod != "" {
		if pc, ok := c.providers[mod+":"+short]; ok && pc.region != "" {
			return pc.region
		}
		i := strings.LastIndex(mod, ".module.")
		if i < 0 {
			break
		}
		mod = mod[:i]
	}
	if pc, ok := c.providers[short]; ok && pc.region != "" {
		return pc.region
	}
	// An aliased configuration ("aws.west") falls back to the default one
	// only when it has no region of its own, as Terraform would not; so
	// stop here.
	return ""
}

// ResourceRegion returns the region a resource's own attributes give:
// "region", an AWS availability_zone or a Google zone (less the zone
// letter), a Google or Azure "location" (Azure display names such as
// "West Europe" become "westeurope"); "" when they give none.
func ResourceRegion(typ string, values map[string]any) string {
	if values == nil {
		return ""
	}
	get := func(k string) string { s, _ := str(values[k]); return s }
	switch {
	case strings.HasPrefix(typ, "azurerm_"):
		return azureLocation(get("location"))
	case strings.HasPrefix(typ, "google_"):
		if r := get("region"); r != "" {
			return r
		}
		if z := get("zone"); z != "" {
			return zoneRegion(z)
		}
		if l := get("location"); l != "" {
			if strings.Count(l, "-") == 2 {
				return zoneRegion(l)
			}
			return l
		}
	case strings.HasPrefix(typ, "aws_"):
		if r := get("region"); r != "" {
			return r
		}
		if az := get("availability_zone"); az != "" {
			return strings.TrimRight(az, "abcdefghijklmnopqrstuvwxyz")
		}
	}
	return ""
}

// zoneRegion turns "us-central1-a" into "us-central1".
func zoneRegion(z string) string {
	if i := strings.LastIndexByte(z, '-'); i > 0 && strings.Count(z, "-") == 2 {
		return z[:i]
	}
	return z
}

func azureLocation(l string) string {
	return strings.ToLower(strings.ReplaceAll(l, " ", ""))
}

// ResourceAccount returns the account a resource's attributes show: the
// account of an AWS ARN, a Google project, an Azure subscription.
func ResourceAccount(typ string, values map[string]any) string {
	if values == nil {
		return ""
	}
	get := func(k string) string { s, _ := str(values[k]); return s }
	switch {
	case strings.HasPrefix(typ, "aws_"):
		if arn := get("arn"); strings.HasPrefix(arn, "arn:") {
			if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
				return parts[4]
			}
		}
	case strings.HasPrefix(typ, "google_"):
		return get("project")
	case strings.HasPrefix(typ, "azurerm_"):
		if id := get("id"); strings.HasPrefix(strings.ToLower(id), "/subscriptions/") {
			rest := id[len("/subscriptions/"):]
			sub, _, _ := strings.Cut(rest, "/")
			return sub
		}
	}
	return ""
}
