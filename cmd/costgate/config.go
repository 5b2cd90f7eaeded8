package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/costgate/costgate"
)

// defaultConfigFile is read when --config is not given and it exists.
const defaultConfigFile = "costgate.yaml"

// Config is costgate.yaml. Every key is documented in README.md.
type Config struct {
	// Store is the cost store directory (used by later commands).
	Store string `json:"store,omitempty"`
	// Tags parameterise the tags.* rules.
	Tags TagsConfig `json:"tags,omitempty"`
	// Compute parameterises compute.allowed_types.
	Compute ComputeConfig `json:"compute,omitempty"`
	// Rules override a rule's severity by rule_id.
	Rules map[string]RuleConfig `json:"rules,omitempty"`
	// Waivers exempt findings until they expire.
	Waivers []WaiverConfig `json:"waivers,omitempty"`
	// Params is free-form data for custom policies
	// (data.costgate.config.params).
	Params map[string]any `json:"params,omitempty"`
	// Cost parameterises the cost.* rules.
	Cost CostConfig `json:"cost,omitempty"`
	// Budgets are the teams' monthly budgets (cost.budget).
	Budgets BudgetsConfig `json:"budgets,omitempty"`

	Server      ServerConfig      `json:"server,omitempty"`
	Kubernetes  KubernetesConfig  `json:"kubernetes,omitempty"`
	DecisionLog DecisionLogConfig `json:"decision_log,omitempty"`
	Pricing     PricingConfig     `json:"pricing,omitempty"`
	Report      ReportConfig      `json:"report,omitempty"`
	Sources     []SourceConfig    `json:"sources,omitempty"`
	Collect     CollectConfig     `json:"collect,omitempty"`
}

// TagsConfig is the tags: section.
type TagsConfig struct {
	Required      []string       `json:"required,omitempty"`
	AllowedValues map[string]any `json:"allowed_values,omitempty"`
}

// ComputeConfig is the compute: section.
type ComputeConfig struct {
	EnvTag       string              `json:"env_tag,omitempty"`
	AllowedTypes map[string][]string `json:"allowed_types,omitempty"`
}

// CostConfig is the cost: section.
type CostConfig struct {
	MaxMonthlyIncrease map[string]json.Number `json:"max_monthly_increase,omitempty"`
	ExpensiveResource  json.Number            `json:"expensive_resource,omitempty"`
	Unpriced           bool                   `json:"unpriced,omitempty"`
	TeamTag            string                 `json:"team_tag,omitempty"`
	EnvTag             string                 `json:"env_tag,omitempty"`
}

// BudgetsConfig is the budgets: section.
type BudgetsConfig struct {
	Teams  map[string]json.Number `json:"teams,omitempty"`
	WarnAt json.Number            `json:"warn_at,omitempty"`
}

// RuleConfig overrides one rule.
type RuleConfig struct {
	Severity string `json:"severity,omitempty"`
}

// WaiverConfig is one waivers: entry.
type WaiverConfig struct {
	RuleID  string `json:"rule_id"`
	Address string `json:"address"`
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Ticket  string `json:"ticket,omitempty"`
	Expires string `json:"expires"`
}

// ConfigError names the file and the field that is wrong.
type ConfigError struct {
	File  string
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Msg)
}

// loadedConfig is the typed config plus the merged data document that
// policies see as data.costgate.config.
type loadedConfig struct {
	Config
	Path       string
	Data       map[string]any
	Waivers    []costgate.Waiver
	Severities map[string]costgate.Severity
}

// loadConfig reads the config file (explicit path, else ./costgate.yaml
// when it exists, else defaults) and merges the --data files into it.
func loadConfig(path string, dataFiles []string) (*loadedConfig, error) {
	lc := &loadedConfig{Data: map[string]any{}}
	if path == "" {
		if _, err := os.Stat(defaultConfigFile); err == nil {
			path = defaultConfigFile
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &ConfigError{File: path, Msg: "no such file (give --config an existing file)"}
			}
			return nil, fmt.Errorf("read config %s: %w", path, err)
		}
		if err := yaml.UnmarshalStrict(b, &lc.Config); err != nil {
			return nil, &ConfigError{File: path, Msg: cleanYAMLError(err) + " (see README.md, \"Configuration\", for every key)"}
		}
		if err := decodeData(b, path, lc.Data); err != nil {
			return nil, err
		}
		lc.Path = path
	}
	for _, f := range dataFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read data %s: %w", f, err)
		}
		extra := map[string]any{}
		if err := decodeData(b, f, extra); err != nil {
			return nil, err
		}
		var part Config
		if err := yaml.Unmarshal(b, &part); err != nil {
			return nil, &ConfigError{File: f, Msg: cleanYAMLError(err)}
		}
		if err := part.validate(f); err != nil {
			return nil, err
		}
		mergeData(lc.Data, extra)
		lc.Waivers = append(lc.Waivers, mustWaivers(part.Waivers)...)
		for k, v := range part.Rules {
			if lc.Rules == nil {
				lc.Rules = map[string]RuleConfig{}
			}
			lc.Rules[k] = v
		}
	}
	if err := lc.Config.validate(orDefault(lc.Path, "config")); err != nil {
		return nil, err
	}
	if err := lc.Config.Pricing.validate(orDefault(lc.Path, "config")); err != nil {
		return nil, err
	}
	lc.Waivers = append(mustWaivers(lc.Config.Waivers), lc.Waivers...)
	lc.Severities = map[string]costgate.Severity{}
	for id, r := range lc.Rules {
		if r.Severity != "" {
			lc.Severities[id], _ = costgate.ParseSeverity(r.Severity)
		}
	}
	return lc, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// decodeData decodes YAML or JSON into a generic map, numbers kept exact.
func decodeData(b []byte, name string, into map[string]any) error {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return &ConfigError{File: name, Msg: cleanYAMLError(err)}
	}
	if len(bytes.TrimSpace(j)) == 0 || string(bytes.TrimSpace(j)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return &ConfigError{File: name, Msg: "expected a mapping at the top level: " + err.Error()}
	}
	for k, v := range m {
		into[k] = v
	}
	return nil
}

// mergeData merges src into dst: mappings merge key by key, lists are
// appended (waivers from several files add up), scalars from src win.
func mergeData(dst, src map[string]any) {
	for k, sv := range src {
		dv, ok := dst[k]
		if !ok {
			dst[k] = sv
			continue
		}
		switch s := sv.(type) {
		case map[string]any:
			if d, ok := dv.(map[string]any); ok {
				mergeData(d, s)
				continue
			}
		case []any:
			if d, ok := dv.([]any); ok {
				dst[k] = append(d, s...)
				continue
			}
		}
		dst[k] = sv
	}
}

// configKeys lists Config's top-level keys from its json tags, so the
// message stays true as sections are added.
func configKeys() []string {
	t := reflect.TypeOf(Config{})
	keys := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys
}

var typeErrRE = regexp.MustCompile(`cannot unmarshal (\w+) into Go struct field \w+\.(\S+) of type (\S+)`)

func cleanYAMLError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "error unmarshaling JSON: while decoding JSON: ")
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		msg = "unknown key " + rest + " (at the top level or inside a section; the top-level keys are " + strings.Join(configKeys(), ", ") + ")"
	}
	msg = strings.TrimPrefix(msg, "json: ")
	if m := typeErrRE.FindStringSubmatch(msg); m != nil {
		want := m[3]
		switch {
		case strings.HasPrefix(want, "[]"):
			want = "a list"
		case strings.HasPrefix(want, "map["):
			want = "a mapping"
		}
		msg = fmt.Sprintf("%s: expected %s, got %s", m[2], want, m[1])
	}
	return msg
}

// validate checks the known keys and names the first bad field.
func (c *Config) validate(file string) error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	for i, k := range c.Tags.Required {
		if strings.TrimSpace(k) == "" {
			return bad(fmt.Sprintf("tags.required[%d]", i), "empty tag key")
		}
	}
	for _, key := range sortedKeys(c.Tags.AllowedValues) {
		field := "tags.allowed_values." + key
		switch v := c.Tags.AllowedValues[key].(type) {
		case string:
			if _, err := regexp.Compile(v); err != nil {
				return bad(field, "invalid regular expression %q: %v", v, err)
			}
		case []any:
			for i, e := range v {
				if _, ok := e.(string); !ok {
					return bad(fmt.Sprintf("%s[%d]", field, i), "expected a string, got %v", e)
				}
			}
		default:
			return bad(field, "expected a list of allowed values or a regular expression string")
		}
	}
	for env, pats := range c.Compute.AllowedTypes {
		if len(pats) == 0 {
			return bad("compute.allowed_types."+env, "empty list: give at least one pattern such as 't3.*'")
		}
	}
	for env, v := range c.Cost.MaxMonthlyIncrease {
		if _, err := costgate.ParseMoney(v.String()); err != nil {
			return bad("cost.max_monthly_increase."+env, "expected an amount such as 1000 or 2500.50")
		}
	}
	if v := c.Cost.ExpensiveResource; v != "" {
		if _, err := costgate.ParseMoney(v.String()); err != nil {
			return bad("cost.expensive_resource", "expected an amount such as 2000")
		}
	}
	for team, v := range c.Budgets.Teams {
		if m, err := costgate.ParseMoney(v.String()); err != nil || m <= 0 {
			return bad("budgets.teams."+team, "expected a positive monthly amount such as 5000")
		}
	}
	if v := c.Budgets.WarnAt; v != "" {
		if f, err := v.Float64(); err != nil || f <= 0 || f > 1 {
			return bad("budgets.warn_at", "expected a share between 0 and 1, such as 0.8")
		}
	}
	for id, r := range c.Rules {
		if r.Severity != "" {
			if _, err := costgate.ParseSeverity(r.Severity); err != nil {
				return bad("rules."+id+".severity", "%v", err)
			}
		}
	}
	for i, w := range c.Waivers {
		field := fmt.Sprintf("waivers[%d]", i)
		switch {
		case w.RuleID == "":
			return bad(field+".rule_id", "required (the rule_id to waive, e.g. tags.required)")
		case w.Address == "":
			return bad(field+".address", "required (a resource address glob, e.g. 'module.legacy.*')")
		case w.Reason == "":
			return bad(field+".reason", "required (why the exception is acceptable)")
		case w.Owner == "":
			return bad(field+".owner", "required (who answers for the exception)")
		case w.Expires == "":
			return bad(field+".expires", "required (YYYY-MM-DD): waivers always expire")
		}
		if _, err := costgate.ParseDate(w.Expires); err != nil {
			return bad(field+".expires", "%v", err)
		}
	}
	return nil
}

// mustWaivers converts validated waiver entries.
func mustWaivers(ws []WaiverConfig) []costgate.Waiver {
	out := make([]costgate.Waiver, 0, len(ws))
	for _, w := range ws {
		d, _ := costgate.ParseDate(w.Expires)
		out = append(out, costgate.Waiver{RuleID: w.RuleID, Address: w.Address, Reason: w.Reason, Owner: w.Owner, Ticket: w.Ticket, Expires: d})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
