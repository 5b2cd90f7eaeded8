package gate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// writeTree writes files (slash paths relative to dir) and returns dir.
func writeTree(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// sourceTree is a root module with nested local modules, a registry
// module, a git module, count/for_each, data sources, a .tf.json file,
// an override file and files Terraform ignores.
var sourceTree = map[string]string{
	"main.tf": `terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_instance" "web" {
  count         = 2
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.micro"
}

data "aws_ami" "ubuntu" {
  most_recent = true
}

module "net" {
  source = "./modules/net"
}

module "apps" {
  source   = "./modules/app"
  for_each = toset(["a", "b"])
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}

module "git" {
  source = "git::https://example.com/mod.git"
}
`,
	"buckets.tf": `# buckets
resource "aws_s3_bucket" "logs" {
  for_each = toset(["a", "b"])
  bucket   = each.key
}
`,
	"queues.tf.json": `{
  "resource": {
    "aws_sqs_queue": {
      "q": {
        "name": "q"
      }
    }
  },
  "data": {
    "aws_caller_identity": {
      "me": {}
    }
  }
}
`,
	"override.tf": `resource "aws_instance" "web" {
  instance_type = "t3.small"
}
`,
	".hidden.tf":   `this is { not terraform`,
	"main.tf~":     `this is { not terraform`,
	"README.md":    `resource "x" "y" {}`,
	"notes.tfvars": `region = "eu-west-1"`,
	"modules/net/main.tf": `variable "cidr" {}

resource "aws_subnet" "a" {
  count      = 3
  cidr_block = var.cidr
}

module "sg" {
  source = "../sg"
}
`,
	"modules/sg/sg.tf": `

resource "aws_security_group" "this" {}
`,
	"modules/app/app.tf": `module "svc" {
  source = "./svc"
  count  = 2
}
`,
	"modules/app/svc/svc.tf": `resource "aws_lambda_function" "fn" {
  function_name = "x"
}

ephemeral "random_password" "pw" {
  length = 16
}
`,
}

func TestSourceIndexLookup(t *testing.T) {
	dir := writeTree(t, sourceTree)
	idx, err := LoadSources(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		address string
		want    string
	}{
		"root resource":             {"aws_instance.web", "main.tf:9"},
		"count instance":            {"aws_instance.web[0]", "main.tf:9"},
		"for_each instance":         {`aws_s3_bucket.logs["a"]`, "buckets.tf:2"},
		"key with dots and bracket": {`aws_s3_bucket.logs["a.b]c\"d"]`, "buckets.tf:2"},
		"data source":               {"data.aws_ami.ubuntu", "main.tf:15"},
		"json resource":             {"aws_sqs_queue.q", "queues.tf.json:4"},
		"json data source":          {"data.aws_caller_identity.me", "queues.tf.json:11"},
		"module resource":           {"module.net.aws_subnet.a[1]", "modules/net/main.tf:3"},
		"module via ../":            {"module.net.module.sg.aws_security_group.this", "modules/sg/sg.tf:3"},
		"nested keyed modules":      {`module.apps["a"].module.svc[0].aws_lambda_function.fn`, "modules/app/svc/svc.tf:1"},
		"ephemeral":                 {`module.apps["b"].module.svc[1].ephemeral.random_password.pw`, "modules/app/svc/svc.tf:5"},
		"registry module":           {"module.vpc.aws_vpc.this[0]", "main.tf:28"},
		"registry module nested":    {"module.vpc.module.x.aws_vpc.this", "main.tf:28"},
		"git module":                {"module.git.aws_s3_bucket.b", "main.tf:33"},
		"unknown resource":          {"aws_instance.nope", ""},
		"unknown module":            {"module.nope.aws_instance.web", ""},
		"unknown in local module":   {"module.net.aws_subnet.nope", ""},
		"module without resource":   {"module.net", ""},
		"empty":                     {"", ""},
		"unterminated key":          {`aws_s3_bucket.logs["a`, ""},
		"double dot":                {"aws_instance..web", ""},
		"too many parts":            {"aws_instance.web.extra", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := idx.Lookup(tc.address); got != tc.want {
				t.Errorf("Lookup(%q) = %q, want %q", tc.address, got, tc.want)
			}
		})
	}
}

func TestSourceIndexNil(t *testing.T) {
	var idx *SourceIndex
	if got := idx.Lookup("aws_instance.web"); got != "" {
		t.Errorf("nil Lookup = %q, want empty", got)
	}
}

func TestLoadSourcesSubdirRelative(t *testing.T) {
	// Positions are relative to the directory given, also when a module
	// lives outside it.
	dir := writeTree(t, map[string]string{
		"envs/prod/main.tf":    "module \"shared\" {\n  source = \"../../shared\"\n}\n",
		"shared/main.tf":       "resource \"aws_s3_bucket\" \"b\" {}\n",
		"envs/prod/backend.tf": "terraform {\n  backend \"s3\" {}\n}\n",
	})
	idx, err := LoadSources(context.Background(), filepath.Join(dir, "envs", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idx.Lookup("module.shared.aws_s3_bucket.b"), "../../shared/main.tf:1"; got != want {
		t.Errorf("Lookup = %q, want %q", got, want)
	}
}

func TestLoadSourcesErrors(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  []string // substrings of the error
	}{
		"broken hcl": {
			files: map[string]string{
				"main.tf":   "resource \"aws_s3_bucket\" \"ok\" {}\n",
				"broken.tf": "resource \"aws_instance\" \"web\" {\n  ami = \n}\n",
			},
			want: []string{"broken.tf:2:"},
		},
		"broken in local module": {
			files: map[string]string{
				"main.tf":        "module \"m\" {\n  source = \"./m\"\n}\n",
				"m/main.tf":      "resource \"aws_instance\" \"web\" {\n",
				"m/variables.tf": "variable \"x\" {}\n",
			},
			want: []string{"m/main.tf:1:"},
		},
		"broken json": {
			files: map[string]string{"main.tf.json": "{\"resource\": {\n  \"aws_instance\": [1,\n}"},
			want:  []string{"main.tf.json:3:"},
		},
		"resource without name": {
			files: map[string]string{"main.tf": "\n\nresource \"aws_instance\" {\n}\n"},
			want:  []string{"main.tf:3:"},
		},
		"missing local module": {
			files: map[string]string{"main.tf": "module \"gone\" {\n  source = \"./gone\"\n}\n"},
			want:  []string{"main.tf:1", `module "gone"`, "./gone"},
		},
		"module cycle": {
			files: map[string]string{
				"main.tf":   "module \"a\" {\n  source = \"./a\"\n}\n",
				"a/main.tf": "module \"b\" {\n  source = \"../b\"\n}\n",
				"b/main.tf": "module \"a\" {\n  source = \"../a\"\n}\n",
			},
			want: []string{"module a calls itself"},
		},
		"no terraform files": {
			files: map[string]string{"README.md": "hi"},
			want:  []string{"no *.tf or *.tf.json files"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			idx, err := LoadSources(context.Background(), dir)
			if err == nil {
				t.Fatalf("LoadSources = %v, nil; want error", idx)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadSourcesDiagnostics(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a.tf": "resource \"x\" \"y\" {\n  a = \n}\n",
		"b.tf": "resource \"x\" \"z\" {\n  b = [\n}\n",
	})
	_, err := LoadSources(context.Background(), dir)
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("errors.As(%v, hcl.Diagnostics) = false", err)
	}
	if !diags.HasErrors() {
		t.Errorf("diagnostics have no errors: %v", diags)
	}
	// Both files are reported, not just the first.
	for _, w := range []string{"a.tf:2:", "b.tf:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

func TestLoadSourcesNotADirectory(t *testing.T) {
	dir := writeTree(t, map[string]string{"main.tf": ""})
	if _, err := LoadSources(context.Background(), filepath.Join(dir, "main.tf")); err == nil {
		t.Error("LoadSources on a file: want error")
	}
	if _, err := LoadSources(context.Background(), filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadSources on a missing dir = %v, want os.ErrNotExist", err)
	}
}

func TestLoadSourcesCanceled(t *testing.T) {
	dir := writeTree(t, sourceTree)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadSources(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadSources with canceled ctx = %v, want context.Canceled", err)
	}
}

func TestSplitAddress(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
		ok   bool
	}{
		"plain":        {"aws_instance.web", "aws_instance|web", true},
		"count":        {"aws_instance.web[12]", "aws_instance|web", true},
		"escaped":      {`module.m["a\"]."].x.y`, "module|m|x|y", true},
		"trailing dot": {"aws_instance.", "", false},
		"open bracket": {"aws_instance.web[", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			segs, ok := splitAddress(tc.in)
			if ok != tc.ok || strings.Join(segs, "|") != tc.want {
				t.Errorf("splitAddress(%q) = %q, %v; want %q, %v", tc.in, strings.Join(segs, "|"), ok, tc.want, tc.ok)
			}
		})
	}
}

func BenchmarkSourceIndexLookup(b *testing.B) {
	dir := writeTree(b, sourceTree)
	idx, err := LoadSources(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		idx.Lookup(`module.apps["a"].module.svc[0].aws_lambda_function.fn`)
	}
}
