package gate

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

// referenceProviderConfigs decodes as decodeConfig did before the fast
// path: encoding/json with terraform-json's types.
func referenceProviderConfigs(b []byte) (map[string]*tfjson.ProviderConfig, error) {
	var out map[string]*tfjson.ProviderConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err := dec.Decode(&out)
	return out, err
}

// checkProviderConfigs: where decodeProviderConfigs answers, it answers
// what encoding/json does; it declines everything encoding/json rejects.
func checkProviderConfigs(t *testing.T, name string, b []byte) bool {
	t.Helper()
	want, wantErr := referenceProviderConfigs(b)
	got, ok := decodeProviderConfigs(b)
	if !ok {
		return false
	}
	if wantErr != nil {
		t.Errorf("%s: decoded %s although encoding/json fails: %v", name, b, wantErr)
		return true
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s: decoded\n%s\nwant\n%s", name, g, w)
	}
	return true
}

func TestDecodeProviderConfigsFixtures(t *testing.T) {
	n := 0
	for _, path := range fixturePlans(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Configuration struct {
				ProviderConfig json.RawMessage `json:"provider_config"`
			} `json:"configuration"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || doc.Configuration.ProviderConfig == nil {
			continue
		}
		if !checkProviderConfigs(t, path, doc.Configuration.ProviderConfig) {
			t.Errorf("%s: the fast path declined a fixture's provider_config", path)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d fixture plans have a provider_config", n)
	}
}

func TestDecodeProviderConfigs(t *testing.T) {
	// Decoded by the fast path, and equal to encoding/json's result.
	fast := map[string]string{
		"null":              `null`,
		"empty":             `{}`,
		"null provider":     `{"aws": null}`,
		"strings":           `{"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "alias": "west", "module_address": "module.a", "version_constraint": "~> 5.0"}}`,
		"null strings":      `{"aws": {"name": null, "alias": null}}`,
		"unknown members":   `{"aws": {"name": "aws", "extra": [1, {"x": 2}], "expressions": {"region": {"constant_value": "x", "other": true}}}}`,
		"constants":         `{"aws": {"expressions": {"n": {"constant_value": 9007199254740993}, "f": {"constant_value": 1.5e300}, "o": {"constant_value": {"a": [1, 2.5, {"b": -0}]}}, "b": {"constant_value": false}, "z": {"constant_value": null}}}}`,
		"references":        `{"aws": {"expressions": {"region": {"references": ["var.region", null]}, "e": {"references": []}, "both": {"constant_value": 5, "references": ["local.x"]}}}}`,
		"default tags":      `{"aws": {"expressions": {"default_tags": [{"tags": {"constant_value": {"team": "a", "cost-center": "cc-1"}}}]}}}`,
		"nested edge cases": `{"aws": {"expressions": {"blocks": [null, {}, {"inner": [{"x": {"references": ["a"]}}], "nil": null}], "none": [], "nothing": null}}}`,
		"null expressions":  `{"aws": {"expressions": null}}`,
		"escapes":           `{"a\u0077s": {"name": "\u00e9t\u00e9 \"q\""}}`,
		"duplicate keys":    `{"aws": {"name": "a", "name": "b", "expressions": {"r": {"constant_value": 1, "constant_value": "two"}}}}`,
	}
	for name, doc := range fast {
		if !checkProviderConfigs(t, name, []byte(doc)) {
			t.Errorf("%s: the fast path declined %s", name, doc)
		}
	}
	// Declined (encoding/json decodes or rejects these itself).
	declined := map[string]string{
		"array":               `[1]`,
		"provider not object": `{"aws": 5}`,
		"name not string":     `{"aws": {"name": 5}}`,
		"folded field":        `{"aws": {"Name": "x"}}`,
		"folded expression":   `{"aws": {"expressions": {"r": {"Constant_Value": 1}}}}`,
		"scalar expression":   `{"aws": {"expressions": {"r": "us-east-1"}}}`,
		"array of scalars":    `{"aws": {"expressions": {"r": [1, 2]}}}`,
		"reference not str":   `{"aws": {"expressions": {"r": {"references": [1]}}}}`,
		"references object":   `{"aws": {"expressions": {"r": {"references": {}}}}}`,
		"number past float64": `{"aws": {"expressions": {"r": {"constant_value": 1e400}}}}`,
		"invalid utf-8":       "{\"aws\": {\"name\": \"\xff\"}}",
		"expressions array":   `{"aws": {"expressions": []}}`,
	}
	for name, doc := range declined {
		if checkProviderConfigs(t, name, []byte(doc)) {
			t.Errorf("%s: the fast path decoded %s; it should leave it to encoding/json", name, doc)
		}
	}
}

// TestDecodeConfigProviderFallback: a provider_config the fast path
// declines is still decoded (or rejected) by encoding/json through
// ParsePlan.
func TestDecodeConfigProviderFallback(t *testing.T) {
	doc := `{"format_version":"1.2","configuration":{"provider_config":{"aws":{"Name":"aws","expressions":{"region":{"constant_value":"eu-west-1"}}}}},"resource_changes":[]}`
	p, err := ParsePlan([]byte(doc), "fold.json")
	if err != nil {
		t.Fatal(err)
	}
	pc := p.Typed.Config.ProviderConfigs["aws"]
	if pc == nil || pc.Name != "aws" || pc.Expressions["region"].ConstantValue != "eu-west-1" {
		t.Fatalf("provider config %+v", pc)
	}
}

func FuzzDecodeProviderConfigs(f *testing.F) {
	f.Add([]byte(`{"aws": {"name": "aws", "expressions": {"default_tags": [{"tags": {"constant_value": {"a": 1}}}], "r": {"references": ["x"]}}}}`))
	f.Add([]byte(`{"g": {"expressions": {"b": [null, {"c": {"constant_value": [1, "x", null]}}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		checkProviderConfigs(t, "fuzz", b)
	})
}
