package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// typedPlan fills the terraform-json view from the decoded document
// without decoding the whole text a second time: resource changes are
// taken from the tree, the configuration (whose expression encoding
// terraform-json understands best) is decoded from its own bytes.
func typedPlan(obj map[string]any, text []byte, spans map[string][2]int, chunks [][]changeLite, name string) (*tfjson.Plan, []changeRaw, error) {
	p := &tfjson.Plan{}
	p.FormatVersion, _ = obj["format_version"].(string)
	p.TerraformVersion, _ = obj["terraform_version"].(string)
	if err := p.Validate(); err != nil {
		return nil, nil, &InputError{Name: name, Offset: -1, Msg: err.Error(), Hint: showHint}
	}
	if vars, ok := obj["variables"].(map[string]any); ok {
		p.Variables = make(map[string]*tfjson.PlanVariable, len(vars))
		for k, v := range vars {
			if m, ok := v.(map[string]any); ok {
				p.Variables[k] = &tfjson.PlanVariable{Value: m["value"]}
			}
		}
	}
	if span, ok := spans["configuration"]; ok && obj["configuration"] != nil {
		cfg, err := decodeConfig(text[span[0]:span[1]])
		if err != nil {
			var ute *json.UnmarshalTypeError
			var se *shapeError
			if errors.As(err, &se) {
				return nil, nil, posError(text, name, int64(span[0]+se.off), se.msg, showHint)
			}
			if errors.As(err, &ute) {
				return nil, nil, posError(text, name, int64(span[0])+ute.Offset, fmt.Sprintf("configuration.%s: expected %s, got JSON %s", ute.Field, ute.Type, ute.Value), showHint)
			}
			return nil, nil, &InputError{Name: name, Offset: -1, Msg: "configuration: " + err.Error(), Hint: showHint}
		}
		p.Config = cfg
	}
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	// One block each for the changes and their Change structs, and one
	// Actions slice per distinct list (nearly all are ["create"] and a
	// few others): a large plan is then a handful of allocations here
	// rather than three per resource.
	p.ResourceChanges = make([]*tfjson.ResourceChange, n)
	rcs := make([]tfjson.ResourceChange, n)
	chs := make([]tfjson.Change, n)
	raws := make([]changeRaw, n)
	acts := actionLists{}
	i := 0
	for _, chunk := range chunks {
		for k := range chunk {
			c := &chunk[k]
			chs[i].Actions = acts.of(c.Actions)
			rcs[i] = tfjson.ResourceChange{
				Address:         c.Address,
				PreviousAddress: c.PreviousAddress,
				ModuleAddress:   c.ModuleAddress,
				Mode:            tfjson.ResourceMode(c.Mode),
				Type:            c.Type,
				Name:            c.Name,
				Index:           c.Index,
				ProviderName:    c.ProviderName,
				DeposedKey:      c.Deposed,
				ActionReason:    tfjson.ActionReason(c.ActionReason),
				Change:          &chs[i],
			}
			p.ResourceChanges[i] = &rcs[i]
			raws[i] = c.raw
			i++
		}
	}
	return p, raws, nil
}

// actionLists shares one tfjson.Actions per distinct list of actions.
// The lists are read, never changed, by everything that uses a plan.
type actionLists map[string]tfjson.Actions

func (m actionLists) of(actions []string) tfjson.Actions {
	key := strings.Join(actions, ",")
	if a, ok := m[key]; ok {
		return a
	}
	a := make(tfjson.Actions, len(actions))
	for j, s := range actions {
		a[j] = tfjson.Action(s)
	}
	m[key] = a
	return a
}

// decodeConfig reads the configuration's provider configurations with
// terraform-json's own types (their expressions carry the default tags)
// and, from the module tree, only which provider configuration each
// resource uses: the expressions of every resource, most of a large
// configuration, are skipped without being decoded.
func decodeConfig(b []byte) (*tfjson.Config, error) {
	// ParsePlan's first pass validated b.
	d := &jsonDecoder{data: b, intern: newInternTable(512), validated: true}
	cfg := &tfjson.Config{}
	err := d.members("configuration", func(key string) error {
		switch key {
		case "provider_config":
			start := d.pos
			if err := d.skip(); err != nil {
				return err
			}
			if pcs, ok := decodeProviderConfigs(b[start:d.pos]); ok {
				cfg.ProviderConfigs = pcs
				return nil
			}
			dec := json.NewDecoder(bytes.NewReader(b[start:d.pos]))
			dec.UseNumber()
			err := dec.Decode(&cfg.ProviderConfigs)
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) {
				return &shapeError{off: start + int(ute.Offset), msg: fmt.Sprintf("configuration.provider_config: %s: expected %s, got JSON %s", ute.Field, ute.Type, ute.Value)}
			}
			return err
		case "root_module":
			m, err := d.configModule("configuration.root_module")
			cfg.RootModule = m
			return err
		}
		return d.skip()
	})
	d.skipSpace()
	return cfg, err
}

func (d *jsonDecoder) configModule(path string) (*tfjson.ConfigModule, error) {
	if d.pos < len(d.data) && d.data[d.pos] == 'n' {
		return nil, d.literal("null")
	}
	m := &tfjson.ConfigModule{}
	err := d.members(path, func(key string) error {
		switch key {
		case "resources":
			return d.elements(path+".resources", func(i int) error {
				r := &tfjson.ConfigResource{}
				m.Resources = append(m.Resources, r)
				p := fmt.Sprintf("%s.resources[%d]", path, i)
				return d.members(p, func(key string) error {
					var mode string
					var err error
					switch key {
					case "address":
						err = d.optString(p+".address", &r.Address)
					case "type":
						err = d.optString(p+".type", &r.Type)
					case "name":
						err = d.optString(p+".name", &r.Name)
					case "provider_config_key":
						err = d.optString(p+".provider_config_key", &r.ProviderConfigKey)
					case "mode":
						err = d.optString(p+".mode", &mode)
						r.Mode = tfjson.ResourceMode(mode)
					default:
						err = d.skip()
					}
					return err
				})
			})
		case "module_calls":
			return d.members(path+".module_calls", func(name string) error {
				call := &tfjson.ModuleCall{}
				if m.ModuleCalls == nil {
					m.ModuleCalls = map[string]*tfjson.ModuleCall{}
				}
				m.ModuleCalls[name] = call
				p := path + ".module_calls." + name
				return d.members(p, func(key string) error {
					switch key {
					case "source":
						return d.optString(p+".source", &call.Source)
					case "module":
						mod, err := d.configModule(p + ".module")
						call.Module = mod
						return err
					}
					return d.skip()
				})
			})
		}
		return d.skip()
	})
	return m, err
}
