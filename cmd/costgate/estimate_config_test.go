package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/pricing"
)

// TestProviderConfigsMatchParse: the regions pricing reads from the
// provider configurations ParsePlan decoded (providerConfigs,
// pricing.NewPlanConfig) are those pricing.ParsePlanConfig reads from
// the configuration's JSON, for every resource and provider
// configuration of every plan in testdata, and for constants, root
// variables, locations, nested blocks and other references.
func TestProviderConfigsMatchParse(t *testing.T) {
	files, err := filepath.Glob("../../testdata/plans/*.json")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../testdata/infracost/*/*.json")
	files = append(files, more...)
	files = append(files, writeFile(t, t.TempDir(), "regions.json", `{"format_version":"1.2",
 "variables":{"region":{"value":"eu-west-3"},"n":{"value":3}},
 "resource_changes":[],
 "configuration":{"provider_config":{
  "aws":{"name":"aws","expressions":{"region":{"constant_value":"us-west-2"}}},
  "aws.var":{"name":"aws","alias":"var","expressions":{"region":{"references":["var.region"]}}},
  "aws.num":{"name":"aws","alias":"num","expressions":{"region":{"references":["var.n"]}}},
  "aws.local":{"name":"aws","alias":"local","expressions":{"region":{"references":["local.r"]}}},
  "aws.block":{"name":"aws","alias":"block","expressions":{"region":[{"x":{"constant_value":"no"}}]}},
  "google":{"name":"google","expressions":{"region":{"constant_value":""},"location":{"constant_value":"europe-west1"}}},
  "azurerm":{"name":"azurerm","expressions":{"features":[{}]}}}}}`))
	regions := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := gate.ParsePlan(b, f)
		if err != nil {
			continue // the negative fixtures
		}
		vars := map[string]any{}
		for k, v := range p.Typed.Variables {
			if v != nil {
				vars[k] = v.Value
			}
		}
		var raw []byte
		if r, ok := p.Raw["configuration"].(json.RawMessage); ok {
			raw = r
		}
		want, err := pricing.ParsePlanConfig(raw, vars)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		got := pricing.NewPlanConfig(providerConfigs(p.Typed.Config), vars, nil)
		in := gate.BuildInput(p, gate.InputOptions{})
		type where struct{ key, module, provider string }
		asks := []where{}
		for _, r := range in.Resources {
			asks = append(asks, where{r.ProviderConfigKey, r.Module, r.Provider})
		}
		if p.Typed.Config != nil {
			for key, pc := range p.Typed.Config.ProviderConfigs {
				asks = append(asks, where{key, "", pc.Name})
			}
		}
		for _, a := range asks {
			g, w := got.ProviderRegion(a.key, a.module, a.provider), want.ProviderRegion(a.key, a.module, a.provider)
			if g != w {
				t.Errorf("%s: region of %+v: %q from the typed view, %q from the JSON", filepath.Base(f), a, g, w)
			}
			if g != "" {
				regions++
			}
		}
	}
	if regions < 50 {
		t.Errorf("only %d regions found over %d plans: the comparison proves little", regions, len(files))
	}
	p, err := gate.ParsePlan([]byte(mustRead(t, files[len(files)-1])), "regions.json")
	if err != nil {
		t.Fatal(err)
	}
	pc := pricing.NewPlanConfig(providerConfigs(p.Typed.Config), map[string]any{"region": "eu-west-3", "n": 3.0}, nil)
	for key, want := range map[string]string{"aws": "us-west-2", "aws.var": "eu-west-3", "aws.num": "", "aws.local": "", "aws.block": "", "google": "europe-west1", "azurerm": ""} {
		if got := pc.ProviderRegion(key, "", "x"); got != want {
			t.Errorf("%s: region %q, want %q", key, got, want)
		}
	}
}
