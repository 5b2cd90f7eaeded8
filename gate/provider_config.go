package gate

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	tfjson "github.com/hashicorp/terraform-json"
)

// decodeProviderConfigs reads configuration.provider_config (b is its
// bytes, a valid JSON value) as encoding/json with terraform-json's types
// would, without reflection: terraform-json decodes each expression two
// or three times over (Expression.UnmarshalJSON tries it as nested blocks
// first), and that was a third of the CPU serve spent reading a
// 100-resource plan's configuration. ok is false when the value has a
// shape whose decoding this does not mirror exactly (a member name
// differing from a field's only in case, a wrong type, a number past
// float64, invalid UTF-8): the caller then lets encoding/json decode it,
// with its errors.
func decodeProviderConfigs(b []byte) (map[string]*tfjson.ProviderConfig, bool) {
	if !utf8.Valid(b) {
		return nil, false // encoding/json replaces invalid bytes
	}
	d := &jsonDecoder{data: b}
	v, err := d.value()
	if err != nil {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]*tfjson.ProviderConfig, len(obj))
	for key, pv := range obj {
		if pv == nil {
			out[key] = nil
			continue
		}
		pm, ok := pv.(map[string]any)
		if !ok {
			return nil, false
		}
		pc := &tfjson.ProviderConfig{}
		for name, fv := range pm {
			var into *string
			switch name {
			case "name":
				into = &pc.Name
			case "full_name":
				into = &pc.FullName
			case "alias":
				into = &pc.Alias
			case "module_address":
				into = &pc.ModuleAddress
			case "version_constraint":
				into = &pc.VersionConstraint
			case "expressions":
				exprs, ok := expressionMap(fv)
				if !ok {
					return nil, false
				}
				pc.Expressions = exprs
				continue
			default:
				if foldsToField(name, "name", "full_name", "alias", "module_address", "version_constraint", "expressions") {
					return nil, false
				}
				continue // encoding/json ignores unknown members
			}
			switch s := fv.(type) {
			case nil:
			case string:
				*into = s
			default:
				return nil, false
			}
		}
		out[key] = pc
	}
	return out, true
}

// expressionMap is a map[string]*tfjson.Expression member.
func expressionMap(v any) (map[string]*tfjson.Expression, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]*tfjson.Expression, len(m))
	for k, ev := range m {
		e, ok := expression(ev)
		if !ok {
			return nil, false
		}
		out[k] = e
	}
	return out, true
}

// expression mirrors tfjson.Expression.UnmarshalJSON: an array of objects
// is nested blocks, an object an ExpressionData whose constant_value is
// decoded without UseNumber (numbers are float64), and any references make
// the constant unknown. null is a nil pointer.
func expression(v any) (*tfjson.Expression, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []any:
		var blocks []map[string]*tfjson.Expression
		for _, el := range x {
			bm, ok := el.(map[string]any)
			if el != nil && !ok {
				return nil, false
			}
			block := make(map[string]*tfjson.Expression, len(bm))
			for k, bv := range bm {
				e, ok := expression(bv)
				if !ok {
					return nil, false
				}
				block[k] = e
			}
			blocks = append(blocks, block)
		}
		return &tfjson.Expression{ExpressionData: &tfjson.ExpressionData{NestedBlocks: blocks}}, true
	case map[string]any:
		data := &tfjson.ExpressionData{}
		for k, fv := range x {
			switch k {
			case "constant_value":
				c, ok := floatNumbers(fv)
				if !ok {
					return nil, false
				}
				data.ConstantValue = c
			case "references":
				refs, ok := stringList(fv)
				if !ok {
					return nil, false
				}
				data.References = refs
			default:
				if foldsToField(k, "constant_value", "references") {
					return nil, false
				}
			}
		}
		if len(data.References) > 0 {
			data.ConstantValue = tfjson.UnknownConstantValue
		}
		return &tfjson.Expression{ExpressionData: data}, true
	}
	return nil, false
}

// stringList is a []string member: null is nil, null elements are "".
func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, el := range list {
		switch s := el.(type) {
		case nil:
		case string:
			out[i] = s
		default:
			return nil, false
		}
	}
	return out, true
}

// floatNumbers turns the json.Numbers of a decoded value into float64,
// in place, as json.Unmarshal into an interface{} decodes them.
func floatNumbers(v any) (any, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, false
		}
		return f, true
	case map[string]any:
		for k, el := range x {
			c, ok := floatNumbers(el)
			if !ok {
				return nil, false
			}
			x[k] = c
		}
	case []any:
		for i, el := range x {
			c, ok := floatNumbers(el)
			if !ok {
				return nil, false
			}
			x[i] = c
		}
	}
	return v, true
}

// foldsToField says whether name would match one of fields in
// encoding/json's case-insensitive matching.
func foldsToField(name string, fields ...string) bool {
	for _, f := range fields {
		if strings.EqualFold(name, f) {
			return true
		}
	}
	return false
}
