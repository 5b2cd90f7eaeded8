package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	tfjson "github.com/hashicorp/terraform-json"
)

// typedPlan fills the terraform-json view from the decoded document
// without decoding the whole text a second time: resource changes are
// taken from the tree, the configuration (whose expression encoding
// terraform-json understands best) is decoded from its own bytes.
func typedPlan(obj map[string]any, text []byte, spans map[string][2]int, name string) (*tfjson.Plan, error) {
	p := &tfjson.Plan{}
	p.FormatVersion, _ = obj["format_version"].(string)
	p.TerraformVersion, _ = obj["terraform_version"].(string)
	if err := p.Validate(); err != nil {
		return nil, &InputError{Name: name, Offset: -1, Msg: err.Error(), Hint: showHint}
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
			if errors.As(err, &ute) {
				return nil, posError(text, name, int64(span[0])+ute.Offset, fmt.Sprintf("configuration.%s: expected %s, got JSON %s", ute.Field, ute.Type, ute.Value), showHint)
			}
			return nil, &InputError{Name: name, Offset: -1, Msg: "configuration: " + err.Error(), Hint: showHint}
		}
		p.Config = cfg
	}
	list, _ := obj["resource_changes"].([]any)
	p.ResourceChanges = make([]*tfjson.ResourceChange, 0, len(list))
	for i, e := range list {
		rc, err := resourceChange(e.(map[string]any), i, name)
		if err != nil {
			return nil, err
		}
		p.ResourceChanges = append(p.ResourceChanges, rc)
	}
	return p, nil
}

func resourceChange(m map[string]any, i int, name string) (*tfjson.ResourceChange, error) {
	var err error
	str := func(key string) string {
		v, ok := m[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok && err == nil {
			err = &InputError{Name: name, Offset: -1, Msg: fmt.Sprintf("resource_changes[%d].%s: expected string, got %s", i, key, jsonKind(v)), Hint: showHint}
		}
		return s
	}
	rc := &tfjson.ResourceChange{
		Address:         str("address"),
		PreviousAddress: str("previous_address"),
		ModuleAddress:   str("module_address"),
		Mode:            tfjson.ResourceMode(str("mode")),
		Type:            str("type"),
		Name:            str("name"),
		Index:           m["index"],
		ProviderName:    str("provider_name"),
		DeposedKey:      str("deposed"),
		ActionReason:    tfjson.ActionReason(str("action_reason")),
	}
	if err != nil {
		return nil, err
	}
	ch := m["change"].(map[string]any) // checked by checkPlanShape
	c := &tfjson.Change{
		Before:          ch["before"],
		After:           ch["after"],
		AfterUnknown:    ch["after_unknown"],
		BeforeSensitive: ch["before_sensitive"],
		AfterSensitive:  ch["after_sensitive"],
	}
	for j, a := range ch["actions"].([]any) {
		s, ok := a.(string)
		if !ok {
			return nil, &InputError{Name: name, Offset: -1, Msg: fmt.Sprintf("resource_changes[%d].change.actions[%d]: expected string, got %s", i, j, jsonKind(a)), Hint: showHint}
		}
		c.Actions = append(c.Actions, tfjson.Action(s))
	}
	rc.Change = c
	return rc, nil
}

// slimModule is the part of a configuration module costgate reads: which
// provider configuration each resource uses. Expressions, which are most
// of a large configuration, are skipped rather than decoded.
type slimModule struct {
	Resources []struct {
		Address           string              `json:"address"`
		Mode              tfjson.ResourceMode `json:"mode"`
		Type              string              `json:"type"`
		Name              string              `json:"name"`
		ProviderConfigKey string              `json:"provider_config_key"`
	} `json:"resources"`
	ModuleCalls map[string]struct {
		Source string      `json:"source"`
		Module *slimModule `json:"module"`
	} `json:"module_calls"`
}

// decodeConfig decodes provider configurations with terraform-json's own
// types (their expressions carry the default tags) and the module tree in
// slim form.
func decodeConfig(b []byte) (*tfjson.Config, error) {
	var slim struct {
		ProviderConfig map[string]*tfjson.ProviderConfig `json:"provider_config"`
		RootModule     *slimModule                       `json:"root_module"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&slim); err != nil {
		return nil, err
	}
	return &tfjson.Config{ProviderConfigs: slim.ProviderConfig, RootModule: slim.RootModule.typed()}, nil
}

func (m *slimModule) typed() *tfjson.ConfigModule {
	if m == nil {
		return nil
	}
	out := &tfjson.ConfigModule{}
	for _, r := range m.Resources {
		out.Resources = append(out.Resources, &tfjson.ConfigResource{
			Address: r.Address, Mode: r.Mode, Type: r.Type, Name: r.Name, ProviderConfigKey: r.ProviderConfigKey,
		})
	}
	if len(m.ModuleCalls) > 0 {
		out.ModuleCalls = make(map[string]*tfjson.ModuleCall, len(m.ModuleCalls))
		for name, c := range m.ModuleCalls {
			out.ModuleCalls[name] = &tfjson.ModuleCall{Source: c.Source, Module: c.Module.typed()}
		}
	}
	return out
}
