package plangen

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"regexp"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

func generate(tb testing.TB, opts Options) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, opts); err != nil {
		tb.Fatalf("Write(%+v): %v", opts, err)
	}
	return buf.Bytes()
}

func TestWriteTerraformJSON(t *testing.T) {
	tests := map[string]struct {
		opts Options
	}{
		"empty":        {Options{Resources: 0, Seed: 1}},
		"one":          {Options{Resources: 1, Seed: 1, UntaggedPercent: 10}},
		"seven":        {Options{Resources: 7, Seed: 42, UntaggedPercent: 50}},
		"thousand":     {Options{Resources: 1000, Seed: 1, UntaggedPercent: 10}},
		"all untagged": {Options{Resources: 300, Seed: 9, UntaggedPercent: 100}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := generate(t, tc.opts)
			if !bytes.HasSuffix(out, []byte("}\n")) || bytes.Count(out, []byte("\n")) != 1 {
				t.Errorf("want one line of JSON ending in a newline, as terraform show -json writes")
			}
			var p tfjson.Plan
			if err := json.Unmarshal(out, &p); err != nil {
				t.Fatalf("unmarshal tfjson.Plan: %v", err)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if p.FormatVersion != "1.2" || p.TerraformVersion != "1.9.0" {
				t.Errorf("versions = %q, %q; want 1.2, 1.9.0", p.FormatVersion, p.TerraformVersion)
			}
			if got := len(p.ResourceChanges); got != tc.opts.Resources {
				t.Errorf("len(resource_changes) = %d, want %d", got, tc.opts.Resources)
			}
			if p.Config == nil || p.Config.ProviderConfigs["aws"] == nil {
				t.Fatal("configuration.provider_config.aws missing")
			}
			seen := map[string]bool{}
			for _, rc := range p.ResourceChanges {
				if seen[rc.Address] {
					t.Errorf("duplicate address %s", rc.Address)
				}
				seen[rc.Address] = true
				if rc.Change == nil || len(rc.Change.Actions) == 0 {
					t.Errorf("%s: no change actions", rc.Address)
				}
			}
			planned := plannedAddresses(p.PlannedValues.RootModule)
			for _, rc := range p.ResourceChanges {
				if deleted := rc.Change.Actions.Delete(); planned[rc.Address] == deleted {
					t.Errorf("%s (delete=%v): in planned_values = %v", rc.Address, deleted, planned[rc.Address])
				}
			}
		})
	}
}

func plannedAddresses(m *tfjson.StateModule) map[string]bool {
	out := map[string]bool{}
	if m == nil {
		return out
	}
	for _, r := range m.Resources {
		out[r.Address] = true
	}
	for _, c := range m.ChildModules {
		maps.Copy(out, plannedAddresses(c))
	}
	return out
}

func TestWriteDeterministic(t *testing.T) {
	opts := Options{Resources: 500, Seed: 7, UntaggedPercent: 10}
	a, b := generate(t, opts), generate(t, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("same options gave different bytes")
	}
	opts.Seed = 8
	if c := generate(t, opts); bytes.Equal(a, c) {
		t.Error("different seeds gave the same bytes")
	}
}

func TestWriteInvalidOptions(t *testing.T) {
	tests := map[string]Options{
		"negative resources": {Resources: -1},
		"percent over 100":   {Resources: 1, UntaggedPercent: 101},
		"negative percent":   {Resources: 1, UntaggedPercent: -5},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			if err := Write(io.Discard, opts); err == nil {
				t.Errorf("Write(%+v) = nil, want error", opts)
			}
		})
	}
}

// rawPlan is the subset of the document the tag checks read, decoded
// without terraform-json so nothing is dropped.
type rawPlan struct {
	ResourceChanges []struct {
		Address       string `json:"address"`
		ModuleAddress string `json:"module_address"`
		Mode          string `json:"mode"`
		Type          string `json:"type"`
		Name          string `json:"name"`
		Change        struct {
			Actions      []string       `json:"actions"`
			After        map[string]any `json:"after"`
			AfterUnknown map[string]any `json:"after_unknown"`
		} `json:"change"`
	} `json:"resource_changes"`
	Configuration struct {
		ProviderConfig map[string]struct {
			Expressions map[string]any `json:"expressions"`
		} `json:"provider_config"`
		RootModule rawConfigModule `json:"root_module"`
	} `json:"configuration"`
}

type rawConfigModule struct {
	Resources []struct {
		Address           string `json:"address"`
		ProviderConfigKey string `json:"provider_config_key"`
	} `json:"resources"`
	ModuleCalls map[string]struct {
		Module rawConfigModule `json:"module"`
	} `json:"module_calls"`
}

var instanceKey = regexp.MustCompile(`\[[^\]]*\]`)

// providerKey finds the provider_config_key of a resource change in the
// configuration, the way the gate resolves it.
func (p *rawPlan) providerKey(module, address string) string {
	m := p.Configuration.RootModule
	mod := instanceKey.ReplaceAllString(module, "")
	if mod != "" {
		for _, name := range strings.Split(strings.TrimPrefix(mod, "module."), ".module.") {
			m = m.ModuleCalls[name].Module
		}
	}
	addr := instanceKey.ReplaceAllString(strings.TrimPrefix(address, module+"."), "")
	for _, r := range m.Resources {
		if r.Address == addr {
			return r.ProviderConfigKey
		}
	}
	return ""
}

func (p *rawPlan) defaultTags(key string) map[string]any {
	exprs := p.Configuration.ProviderConfig[key].Expressions
	if dl, ok := exprs["default_labels"].(map[string]any); ok {
		return dl["constant_value"].(map[string]any)
	}
	dt, _ := exprs["default_tags"].([]any)
	if len(dt) == 0 {
		return nil
	}
	return dt[0].(map[string]any)["tags"].(map[string]any)["constant_value"].(map[string]any)
}

func TestWriteTags(t *testing.T) {
	const n, pct = 4000, 10
	var p rawPlan
	if err := json.Unmarshal(generate(t, Options{Resources: n, Seed: 3, UntaggedPercent: pct}), &p); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	judged, missingTeam := 0, 0
	for _, rc := range p.ResourceChanges {
		types[rc.Type]++
		after := rc.Change.After
		if after == nil {
			continue
		}
		tagsKey, allKey := "tags", "tags_all"
		if strings.HasPrefix(rc.Type, "google_") {
			tagsKey, allKey = "labels", "effective_labels"
		}
		_, taggable := after[allKey]
		if rc.Mode == "data" || !taggable {
			if _, ok := after["tags_all"]; ok && rc.Mode == "managed" {
				t.Errorf("%s: untaggable type has tags_all", rc.Address)
			}
			continue
		}
		// tags_all must equal the provider's default tags overlaid by the
		// resource's own tags, so a gate reading either gets one answer.
		key := p.providerKey(rc.ModuleAddress, rc.Address)
		if key == "" {
			t.Fatalf("%s: no provider_config_key in the configuration", rc.Address)
		}
		want := maps.Clone(p.defaultTags(key))
		own, _ := after[tagsKey].(map[string]any)
		maps.Copy(want, own)
		all := maps.Clone(after[allKey].(map[string]any))
		if strings.HasPrefix(rc.Type, "google_") {
			delete(all, "goog-terraform-provisioned")
		}
		if !maps.Equal(stringMap(all), stringMap(want)) {
			t.Errorf("%s (%s): %s = %v, want defaults+own = %v", rc.Address, key, allKey, all, want)
		}
		if _, ok := all["cost-center"]; !ok {
			t.Errorf("%s: no cost-center in %s", rc.Address, allKey)
		}
		if isJudged(rc.Change.Actions) {
			judged++
			if _, ok := all["team"]; !ok {
				missingTeam++
			}
		}
	}
	for _, typ := range []string{"aws_instance", "aws_s3_bucket", "aws_ebs_volume", "aws_db_instance", "aws_lambda_function", "aws_iam_role", "aws_iam_role_policy_attachment", "aws_security_group_rule", "google_compute_instance"} {
		if types[typ] == 0 {
			t.Errorf("no %s in %d resources", typ, n)
		}
	}
	got := 100 * float64(missingTeam) / float64(judged)
	if got < pct-4 || got > pct+4 {
		t.Errorf("%d of %d judged taggable resources (%.1f%%) lack team, want about %d%%", missingTeam, judged, got, pct)
	}
}

func isJudged(actions []string) bool {
	for _, a := range actions {
		if a == "create" || a == "update" {
			return true
		}
	}
	return false
}

func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

func TestWriteActions(t *testing.T) {
	var p rawPlan
	if err := json.Unmarshal(generate(t, Options{Resources: 3000, Seed: 5}), &p); err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, rc := range p.ResourceChanges {
		actions[strings.Join(rc.Change.Actions, ",")]++
		unknown := rc.Change.AfterUnknown
		if rc.Change.Actions[0] == "create" && rc.Mode == "managed" && unknown["id"] != true {
			t.Errorf("%s: create without after_unknown.id = true", rc.Address)
		}
	}
	for _, a := range []string{"create", "update", "no-op", "delete", "delete,create", "create,delete", "read"} {
		if actions[a] == 0 {
			t.Errorf("no %q changes in %v", a, actions)
		}
	}
	if actions["create"] < len(p.ResourceChanges)/2 {
		t.Errorf("creates = %d of %d, want most", actions["create"], len(p.ResourceChanges))
	}
}

func TestWriteSize(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 10,000-resource plan")
	}
	out := generate(t, Options{Resources: 10000, Seed: 1, UntaggedPercent: 10})
	if mb := float64(len(out)) / 1e6; mb < 10 || mb > 16 {
		t.Errorf("10,000 resources = %.1f MB, want 10-16 MB like a real plan", mb)
	}
}

func BenchmarkWrite10k(b *testing.B) {
	for b.Loop() {
		if err := Write(io.Discard, Options{Resources: 10000, Seed: 1, UntaggedPercent: 10}); err != nil {
			b.Fatal(err)
		}
	}
}
