package gate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// fixturePlans lists testdata/plans/*.json except the negative fixture.
func fixturePlans(tb testing.TB) []string {
	tb.Helper()
	all, err := filepath.Glob("../testdata/plans/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, p := range all {
		if !strings.HasPrefix(filepath.Base(p), "negative_") {
			out = append(out, p)
		}
	}
	if len(out) < 40 {
		tb.Fatalf("found %d fixture plans, want the 43 of testdata/plans", len(out))
	}
	return out
}

func loadFixture(tb testing.TB, name string) *Plan {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/plans", name))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ParsePlan(b, name)
	if err != nil {
		tb.Fatalf("parse %s: %v", name, err)
	}
	return p
}

func TestParsePlanFixtures(t *testing.T) {
	for _, path := range fixturePlans(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParsePlan(b, path)
			if err != nil {
				t.Fatalf("ParsePlan: %v", err)
			}
			if p.Typed.FormatVersion == "" || p.Raw["format_version"] != p.Typed.FormatVersion {
				t.Errorf("format_version typed %q raw %v", p.Typed.FormatVersion, p.Raw["format_version"])
			}
			rcRaw, _ := p.Raw["resource_changes"].(json.RawMessage)
			rcAny, err := decodeRaw(rcRaw)
			if err != nil {
				t.Fatal(err)
			}
			rc, _ := rcAny.([]any)
			if len(rc) != len(p.Typed.ResourceChanges) {
				t.Errorf("raw has %d resource changes, typed %d", len(rc), len(p.Typed.ResourceChanges))
			}
			if len(p.SHA256) != 64 {
				t.Errorf("sha256 %q", p.SHA256)
			}
		})
	}
}

func utf16LE(s string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(s)) {
		_ = binary.Write(&b, binary.LittleEndian, u)
	}
	return b.Bytes()
}

func TestParsePlanEncodings(t *testing.T) {
	base, err := os.ReadFile("../testdata/plans/aws_delete_only.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParsePlan(base, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	utf16file, err := os.ReadFile("../testdata/plans/aws_s3_utf16_encoded.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		data []byte
		n    int
	}{
		"utf8 bom":            {append([]byte{0xEF, 0xBB, 0xBF}, base...), len(want.Typed.ResourceChanges)},
		"utf16le bom":         {utf16LE(string(base)), len(want.Typed.ResourceChanges)},
		"powershell fixture":  {utf16file, 1},
		"leading whitespace":  {append([]byte("\n\n  "), base...), len(want.Typed.ResourceChanges)},
		"trailing whitespace": {append(append([]byte{}, base...), "\r\n\n"...), len(want.Typed.ResourceChanges)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := ParsePlan(tc.data, name)
			if err != nil {
				t.Fatalf("ParsePlan: %v", err)
			}
			if got := len(p.Typed.ResourceChanges); got != tc.n {
				t.Errorf("resource changes = %d, want %d", got, tc.n)
			}
		})
	}
}

func TestParsePlanErrors(t *testing.T) {
	wrapper, err := os.ReadFile("../testdata/plans/negative_gha_terraform_wrapper_stdout.json")
	if err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile("../testdata/plans/aws_delete_only.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		data       string
		wantMsg    []string
		wantLine   int
		wantColumn int
	}{
		"empty":                         {data: "  \n", wantMsg: []string{"empty"}},
		"binary plan":                   {data: "PK\x03\x04\x14\x00\x00\x00tfplan", wantMsg: []string{"binary plan file", "terraform show -json PLAN > plan.json"}},
		"gha wrapper":                   {data: string(wrapper), wantMsg: []string{"GitHub Actions terraform wrapper", "terraform_wrapper: false", "[command]"}, wantLine: 1, wantColumn: 1},
		"text before":                   {data: "Terraform will perform the following actions:\n{}", wantMsg: []string{"text before the JSON", "Terraform will perform"}, wantLine: 1, wantColumn: 1},
		"truncated":                     {data: string(valid[:len(valid)/2]), wantMsg: []string{"truncated"}},
		"invalid json":                  {data: "{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [,]\n}", wantMsg: []string{"invalid JSON", "invalid character ','"}, wantLine: 3, wantColumn: 24},
		"trailing junk":                 {data: string(valid) + "\nRelease the lock", wantMsg: []string{"unexpected text after the JSON document"}},
		"format 2":                      {data: `{"format_version":"2.0","resource_changes":[]}`, wantMsg: []string{`format_version "2.0" is not supported`, "0.x and 1.x"}},
		"not a plan":                    {data: `{"hello":"world"}`, wantMsg: []string{"not a Terraform plan"}},
		"array":                         {data: `[1,2]`, wantMsg: []string{"JSON array, not a plan object"}},
		"raw state":                     {data: `{"version":4,"serial":3,"resources":[]}`, wantMsg: []string{"raw state file"}},
		"shown state":                   {data: `{"format_version":"1.0","values":{"root_module":{}}}`, wantMsg: []string{"JSON of a state"}},
		"after string":                  {data: `{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"actions":["create"],"after":"x"}}]}`, wantMsg: []string{"resource_changes[0].change.after: expected object, got string"}},
		"no actions":                    {data: `{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"after":{}}}]}`, wantMsg: []string{"resource_changes[0].change.actions"}},
		"bad utf8":                      {data: "{\"format_version\":\"1.2\xff\"}", wantMsg: []string{"not valid UTF-8"}},
		"bad escape in a lazy member":   {data: `{"format_version":"1.2","planned_values":{"a":"\q"},"resource_changes":[]}`, wantMsg: []string{"invalid JSON"}},
		"control char in a lazy member": {data: "{\"format_version\":\"1.2\",\"prior_state\":{\"a\":\"x\ty\"}}", wantMsg: []string{"invalid JSON"}},
		"config resources not array":    {data: `{"format_version":"1.2","configuration":{"root_module":{"resources":{}}},"resource_changes":[]}`, wantMsg: []string{"configuration.root_module.resources: expected array, got object"}},
		"provider config type":          {data: `{"format_version":"1.2","configuration":{"provider_config":{"aws":{"name":5}}},"resource_changes":[]}`, wantMsg: []string{"provider_config"}},
		"typed mistake":                 {data: `{"format_version":"1.2","resource_changes":[{"address":5,"change":{"actions":["create"]}}]}`, wantMsg: []string{"expected string"}},
		"later entry's index":           {data: `{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"actions":["create"]}},{"address":"a.c","change":{"actions":["create"],"before":"x"}}]}`, wantMsg: []string{"resource_changes[1].change.before: expected object, got string"}},
		"bad number in a lazy member":   {data: `{"format_version":"1.2","planned_values":{"a":1.e5},"resource_changes":[]}`, wantMsg: []string{"invalid JSON"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tc.data), "plan.json")
			if err == nil {
				t.Fatal("ParsePlan succeeded, want an error")
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if !strings.HasPrefix(err.Error(), "plan.json") {
				t.Errorf("error %q does not name the file", err)
			}
			if tc.wantLine > 0 && (ie.Line != tc.wantLine || ie.Column != tc.wantColumn) {
				t.Errorf("position = %d:%d, want %d:%d", ie.Line, ie.Column, tc.wantLine, tc.wantColumn)
			}
		})
	}
}

func TestReadPlanLimit(t *testing.T) {
	valid, err := os.ReadFile("../testdata/plans/aws_delete_only.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(bytes.NewReader(valid), "p", int64(len(valid))); err != nil {
		t.Fatalf("plan at the limit: %v", err)
	}
	_, err = ReadPlan(bytes.NewReader(valid), "p", int64(len(valid)-1))
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("plan over the limit: %v", err)
	}
}

func FuzzParsePlan(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/plans/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"format_version":"1.2","resource_changes":[{"address":"a.b","type":"aws_autoscaling_group","mode":"managed","change":{"actions":["create"],"after":{"tag":[{"key":"k"}],"tags":[1]},"after_unknown":{"tag":[true]}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePlan(data, "fuzz.json")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *InputError: %v", err, err)
			}
			return
		}
		in := BuildInput(p, InputOptions{})
		if _, err := in.Value(); err != nil {
			t.Fatalf("Value: %v", err)
		}
	})
}

// TestParsePlanManyChanges crosses changeList's chunk boundaries: every
// entry arrives once, in plan order, and a shape error deep in the list
// names its own index.
func TestParsePlanManyChanges(t *testing.T) {
	const n = 1300 // two full chunks of 512 and a partial one
	var b strings.Builder
	b.WriteString(`{"format_version":"1.2","resource_changes":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"address":"aws_s3_bucket.b%d","mode":"managed","type":"aws_s3_bucket","name":"b%d","change":{"actions":["create"],"before":null,"after":{"bucket":"b%d"}}}`, i, i, i)
	}
	b.WriteString(`]}`)
	p, err := ParsePlan([]byte(b.String()), "many.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Typed.ResourceChanges); got != n {
		t.Fatalf("%d resource changes, want %d", got, n)
	}
	for i, rc := range p.Typed.ResourceChanges {
		if want := fmt.Sprintf("aws_s3_bucket.b%d", i); rc.Address != want {
			t.Fatalf("change %d is %s, want %s", i, rc.Address, want)
		}
		if i%511 == 0 {
			v, err := p.ChangeValues(i)
			after, _ := v.After.(map[string]any)
			if err != nil || after["bucket"] != fmt.Sprintf("b%d", i) {
				t.Fatalf("change %d values %v, %v", i, v.After, err)
			}
		}
	}
	bad := strings.Replace(b.String(), `"name":"b1100","change":{"actions":["create"]`, `"name":"b1100","change":{"actions":[7]`, 1)
	_, err = ParsePlan([]byte(bad), "many.json")
	if err == nil || !strings.Contains(err.Error(), "resource_changes[1100].change.actions[0]: expected string") {
		t.Fatalf("error %v, want one naming resource_changes[1100].change.actions[0]", err)
	}
}

// TestReadPlanFile reads plans through the file mapping: the same plan
// as ReadPlan, and the same errors.
func TestReadPlanFile(t *testing.T) {
	path := "../testdata/plans/aws_delete_only.json"
	mapped, err := ReadPlanFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ParsePlan(data, path)
	if err != nil {
		t.Fatal(err)
	}
	if mapped.SHA256 != read.SHA256 || len(mapped.Typed.ResourceChanges) != len(read.Typed.ResourceChanges) {
		t.Errorf("mapped plan differs: sha %s vs %s, %d vs %d changes", mapped.SHA256, read.SHA256,
			len(mapped.Typed.ResourceChanges), len(read.Typed.ResourceChanges))
	}
	if _, err := ReadPlanFile(path, 100); err == nil || !strings.Contains(err.Error(), "larger than the 0 MiB limit") {
		t.Errorf("over the limit: %v", err)
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlanFile(empty, 0); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := ReadPlanFile(filepath.Join(dir, "missing.json"), 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	truncated := filepath.Join(dir, "truncated.json")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var ie *InputError
	if _, err := ReadPlanFile(truncated, 0); !errors.As(err, &ie) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated file: %v", err)
	}
}
