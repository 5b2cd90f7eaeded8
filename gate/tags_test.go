package gate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func tagsOf(r Resource) map[string]string {
	out := map[string]string{}
	for k, v := range r.Tags {
		if v == nil {
			out[k] = "<unknown>"
		} else {
			out[k] = *v
		}
	}
	return out
}

// stripAfterKey rewrites a plan without one key in every change.after and
// change.after_unknown, the way older providers write it.
func stripAfterKey(tb testing.TB, name string, keys ...string) *Plan {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/plans", name))
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatal(err)
	}
	for _, rc := range doc["resource_changes"].([]any) {
		ch := rc.(map[string]any)["change"].(map[string]any)
		for _, part := range []string{"after", "after_unknown"} {
			if m, ok := ch[part].(map[string]any); ok {
				for _, k := range keys {
					delete(m, k)
				}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ParsePlan(out, name+" (stripped)")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestEffectiveTagsDefaultTagsAliasedNestedModules(t *testing.T) {
	for _, name := range []string{"aws_default_tags_aliased_provider_sqs.json", "aws_default_tags_aliased_provider_sqs_x20.json"} {
		t.Run(name, func(t *testing.T) {
			withAll := BuildInput(loadFixture(t, name), InputOptions{})
			withoutAll := BuildInput(stripAfterKey(t, name, "tags_all"), InputOptions{})
			if len(withAll.Resources) == 0 || len(withAll.Resources) != len(withoutAll.Resources) {
				t.Fatalf("resources: %d vs %d", len(withAll.Resources), len(withoutAll.Resources))
			}
			for i, r := range withAll.Resources {
				want := tagsOf(r)
				if want["DefaultNotOverride"] == "" || want["DefaultOverride"] != "sqs-def" {
					t.Fatalf("%s: tags_all view %v lacks the merged defaults", r.Address, want)
				}
				got := tagsOf(withoutAll.Resources[i])
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s (provider %q): from default_tags %v, want tags_all %v", r.Address, withoutAll.Resources[i].ProviderConfigKey, got, want)
				}
				if !r.Taggable || !withoutAll.Resources[i].Taggable || !withoutAll.Resources[i].TagsKnown {
					t.Errorf("%s: taggable/known wrong", r.Address)
				}
			}
		})
	}
}

func TestEffectiveTagsCases(t *testing.T) {
	const planHead = `{"format_version":"1.2","terraform_version":"1.9.0",
	"variables":{"default_tags":{"value":{"team":"from-var","env":"dev"}}},
	"configuration":{"provider_config":{
		"aws":{"name":"aws","expressions":{"default_tags":[{"tags":{"constant_value":{"team":"platform","cost-center":"cc-100"}}}]}},
		"aws.var":{"name":"aws","alias":"var","expressions":{"default_tags":[{"tags":{"references":["var.default_tags"]}}]}},
		"aws.local":{"name":"aws","alias":"local","expressions":{"default_tags":[{"tags":{"references":["local.tags"]}}]}},
		"google":{"name":"google","expressions":{"default_labels":{"constant_value":{"team":"data"}}}}},
	"root_module":{"resources":[
		{"address":"aws_s3_bucket.own","provider_config_key":"aws"},
		{"address":"aws_s3_bucket.unknown_value","provider_config_key":"aws"},
		{"address":"aws_s3_bucket.wholly_unknown","provider_config_key":"aws"},
		{"address":"aws_s3_bucket.via_var","provider_config_key":"aws.var"},
		{"address":"aws_s3_bucket.via_local","provider_config_key":"aws.local"},
		{"address":"aws_iam_role_policy_attachment.notags","provider_config_key":"aws"},
		{"address":"google_compute_instance.vm","provider_config_key":"google"},
		{"address":"google_compute_instance.eff","provider_config_key":"google"},
		{"address":"aws_autoscaling_group.asg","provider_config_key":"aws"}]}},
	"resource_changes":[`
	const planTail = `]}`
	rc := func(addr, typ, after, unknown string) string {
		return `{"address":"` + addr + `","mode":"managed","type":"` + typ + `","name":"` + strings.SplitN(addr, ".", 2)[1] + `","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["create"],"before":null,"after":` + after + `,"after_unknown":` + unknown + `}}`
	}
	grc := func(addr, after, unknown string) string {
		return `{"address":"` + addr + `","mode":"managed","type":"google_compute_instance","name":"` + strings.SplitN(addr, ".", 2)[1] + `","provider_name":"registry.terraform.io/hashicorp/google","change":{"actions":["create"],"before":null,"after":` + after + `,"after_unknown":` + unknown + `}}`
	}
	changes := []string{
		rc("aws_s3_bucket.own", "aws_s3_bucket", `{"tags":{"team":"payments"}}`, `{"tags_all":true}`),
		rc("aws_s3_bucket.unknown_value", "aws_s3_bucket", `{"tags":{"team":"x"}}`, `{"tags":{"owner":true},"tags_all":true}`),
		rc("aws_s3_bucket.wholly_unknown", "aws_s3_bucket", `{}`, `{"tags":true,"tags_all":true}`),
		rc("aws_s3_bucket.via_var", "aws_s3_bucket", `{"tags":null}`, `{"tags_all":true}`),
		rc("aws_s3_bucket.via_local", "aws_s3_bucket", `{"tags":null}`, `{"tags_all":true}`),
		rc("aws_iam_role_policy_attachment.notags", "aws_iam_role_policy_attachment", `{"role":"r"}`, `{}`),
		grc("google_compute_instance.vm", `{"labels":{"env":"prod"}}`, `{"effective_labels":true}`),
		grc("google_compute_instance.eff", `{"labels":{"env":"prod"},"effective_labels":{"env":"prod","team":"data","goog-x":"1"}}`, `{}`),
		rc("aws_autoscaling_group.asg", "aws_autoscaling_group", `{"tag":[{"key":"team","value":"web","propagate_at_launch":true},{"key":"env"}]}`, `{"tag":[{},{"value":true}]}`),
	}
	doc := planHead
	for i, c := range changes {
		if i > 0 {
			doc += ","
		}
		doc += c
	}
	doc += planTail
	p, err := ParsePlan([]byte(doc), "cases.json")
	if err != nil {
		t.Fatal(err)
	}
	in := BuildInput(p, InputOptions{})
	type want struct {
		taggable, known bool
		tags            map[string]string
		unknown         []string
	}
	wants := map[string]want{
		"aws_s3_bucket.own":                     {true, true, map[string]string{"team": "payments", "cost-center": "cc-100"}, nil},
		"aws_s3_bucket.unknown_value":           {true, true, map[string]string{"team": "x", "cost-center": "cc-100", "owner": "<unknown>"}, []string{"owner"}},
		"aws_s3_bucket.wholly_unknown":          {true, false, map[string]string{"team": "platform", "cost-center": "cc-100"}, nil},
		"aws_s3_bucket.via_var":                 {true, true, map[string]string{"team": "from-var", "env": "dev"}, nil},
		"aws_s3_bucket.via_local":               {true, false, map[string]string{}, nil},
		"aws_iam_role_policy_attachment.notags": {false, true, map[string]string{}, nil},
		"google_compute_instance.vm":            {true, true, map[string]string{"team": "data", "env": "prod"}, nil},
		"google_compute_instance.eff":           {true, true, map[string]string{"team": "data", "env": "prod", "goog-x": "1"}, nil},
		"aws_autoscaling_group.asg":             {true, true, map[string]string{"team": "web", "env": "<unknown>"}, []string{"env"}},
	}
	if len(in.Resources) != len(wants) {
		t.Fatalf("%d resources", len(in.Resources))
	}
	for _, r := range in.Resources {
		w := wants[r.Address]
		if r.Taggable != w.taggable || r.TagsKnown != w.known {
			t.Errorf("%s: taggable=%v known=%v, want %v %v", r.Address, r.Taggable, r.TagsKnown, w.taggable, w.known)
		}
		if got := tagsOf(r); !reflect.DeepEqual(got, w.tags) {
			t.Errorf("%s: tags %v, want %v", r.Address, got, w.tags)
		}
		if !reflect.DeepEqual(r.TagsUnknown, w.unknown) {
			t.Errorf("%s: tags_unknown %v, want %v", r.Address, r.TagsUnknown, w.unknown)
		}
	}
}

func TestEffectiveTagsASGFixture(t *testing.T) {
	in := BuildInput(loadFixture(t, "aws_tags_variety_asg_dynamodb.json"), InputOptions{})
	for _, r := range in.Resources {
		got := tagsOf(r)
		want := map[string]string{"tag1": "test", "tag2": "test"}
		if !reflect.DeepEqual(got, want) || !r.Taggable {
			t.Errorf("%s: tags %v taggable %v, want %v", r.Address, got, r.Taggable, want)
		}
	}
}

func TestInputSummaryAndActions(t *testing.T) {
	in := BuildInput(loadFixture(t, "aws_s3_create_update_delete_noop.json"), InputOptions{})
	s := in.Summary
	if s.Create != 1 || s.Update != 1 || s.Delete != 1 || s.NoOp != 1 || s.Total != 4 {
		t.Errorf("summary %+v", s)
	}
	for name, want := range map[string]string{"aws_replace_create_before_destroy.json": "replace", "edge_replace_action_reason_null.json": "replace", "aws_delete_only.json": "delete"} {
		in := BuildInput(loadFixture(t, name), InputOptions{})
		if got := in.Resources[0].Action; got != want {
			t.Errorf("%s: action %q, want %q", name, got, want)
		}
	}
	in = BuildInput(loadFixture(t, "aws_oidc_iam_default_tags_module.json"), InputOptions{})
	if in.Summary.Read != 4 || in.Summary.Create != 5 {
		t.Errorf("oidc summary %+v", in.Summary)
	}
}

func TestStripInstanceKeys(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"module.a":                       "module.a",
		`module.a["x.y[0]"].module.b[3]`: "module.a.module.b",
		`module.a["q\"]"]`:               "module.a",
	} {
		if got := stripInstanceKeys(in); got != want {
			t.Errorf("stripInstanceKeys(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInputJSONShape(t *testing.T) {
	in := BuildInput(loadFixture(t, "aws_default_tags_aliased_provider_sqs.json"), InputOptions{Context: map[string]string{"team": "payments"}, Source: func(a string) string { return "mymodule/main.tf:3" }})
	b, err := in.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Plan      map[string]any   `json:"plan"`
		Resources []map[string]any `json:"resources"`
		Summary   map[string]int   `json:"summary"`
		Context   map[string]string
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Plan["format_version"] != "1.2" || doc.Context["team"] != "payments" || doc.Summary["create"] != 1 {
		t.Errorf("doc: plan %v context %v summary %v", doc.Plan["format_version"], doc.Context, doc.Summary)
	}
	r := doc.Resources[0]
	var keys []string
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"action", "actions", "address", "after", "after_unknown", "before", "cost", "index", "mode", "module", "name", "provider", "provider_config_key", "source", "taggable", "tags", "tags_known", "tags_unknown", "type"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("resource keys %v, want %v", keys, want)
	}
	if r["source"] != "mymodule/main.tf:3" || r["provider_config_key"] != "aws.env" || r["module"] != "module.mine" {
		t.Errorf("resource %v", r)
	}
}

// TestProviderConfigKeys: input resources name their provider
// configuration from the configuration's modules, for managed and data
// resources, at the root and in module instances.
func TestProviderConfigKeys(t *testing.T) {
	doc := `{"format_version":"1.2",
	"configuration":{"provider_config":{"aws":{"name":"aws"},"aws.west":{"name":"aws","alias":"west"}},
	"root_module":{"resources":[
		{"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b","provider_config_key":"aws.west"},
		{"address":"data.aws_ami.a","mode":"data","type":"aws_ami","name":"a","provider_config_key":"aws"}],
	"module_calls":{"app":{"module":{"resources":[
		{"address":"aws_s3_bucket.logs","mode":"managed","type":"aws_s3_bucket","name":"logs","provider_config_key":"app:aws"},
		{"address":"data.aws_ami.a","mode":"data","type":"aws_ami","name":"a","provider_config_key":"app:aws"}]}}}}},
	"resource_changes":[
		{"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["create"],"before":null,"after":{}}},
		{"address":"data.aws_ami.a","mode":"data","type":"aws_ami","name":"a","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["read"],"before":null,"after":{}}},
		{"address":"module.app[\"x\"].aws_s3_bucket.logs","module_address":"module.app[\"x\"]","mode":"managed","type":"aws_s3_bucket","name":"logs","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["create"],"before":null,"after":{}}},
		{"address":"module.app[\"x\"].data.aws_ami.a","module_address":"module.app[\"x\"]","mode":"data","type":"aws_ami","name":"a","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["read"],"before":null,"after":{}}}]}`
	p, err := ParsePlan([]byte(doc), "keys.json")
	if err != nil {
		t.Fatal(err)
	}
	in := BuildInput(p, InputOptions{})
	want := []string{"aws.west", "aws", "app:aws", "app:aws"}
	for i, r := range in.Resources {
		if r.ProviderConfigKey != want[i] {
			t.Errorf("%s: provider_config_key %q, want %q", r.Address, r.ProviderConfigKey, want[i])
		}
	}
}
