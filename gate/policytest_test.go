package gate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// writePolicyFiles writes name -> source into a new temporary directory.
func writePolicyFiles(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

const teamPolicy = `package costgate.team

deny contains msg if {
	some r in input.resources
	not r.tags.team
	msg := sprintf("%s: no team", [r.address])
}
`

func TestRunPolicyTestsDefaultLibrary(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := RunPolicyTests(context.Background(), &out, PolicyTestOptions{IncludeDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if passed == 0 || failed != 0 {
		t.Fatalf("passed %d, failed %d, want >0 and 0; report:\n%s", passed, failed, out.String())
	}
	if !strings.Contains(out.String(), "PASS: ") {
		t.Errorf("report lacks the PASS summary:\n%s", out.String())
	}
	t.Logf("default library: %d Rego tests passed", passed)
}

func TestRunPolicyTestsVerboseNamesTests(t *testing.T) {
	var out bytes.Buffer
	_, _, err := RunPolicyTests(context.Background(), &out, PolicyTestOptions{IncludeDefault: true, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"policies/tags/required_test.rego:",
		"data.costgate.tags.required_test.test_missing_tag: PASS",
		"data.costgate.compute.allowed_types_test.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verbose report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunPolicyTestsUserDirs(t *testing.T) {
	tests := map[string]struct {
		files          map[string]string
		opts           PolicyTestOptions
		passed, failed int
		report         []string
	}{
		"passing": {
			files: map[string]string{
				"team.rego": teamPolicy,
				"team_test.rego": `package costgate.team_test

import data.costgate.team

test_denied if {
	team.deny == {"a: no team"} with input as {"resources": [{"address": "a", "tags": {}}]}
}

test_allowed if {
	count(team.deny) == 0 with input as {"resources": [{"address": "a", "tags": {"team": "x"}}]}
}
`,
			},
			passed: 2,
			report: []string{"PASS: 2/2"},
		},
		"failing": {
			files: map[string]string{
				"team.rego": teamPolicy,
				"sub/team_test.rego": `package costgate.team_test

import data.costgate.team

test_wrong if {
	count(team.deny) == 0 with input as {"resources": [{"address": "a", "tags": {}}]}
}

test_right if {
	count(team.deny) == 1 with input as {"resources": [{"address": "a", "tags": {}}]}
}
`,
			},
			passed: 1,
			failed: 1,
			report: []string{"data.costgate.team_test.test_wrong: FAIL", "FAIL: 1/2", filepath.Join("sub", "team_test.rego") + ":5:"},
		},
		"error counts as failure": {
			files: map[string]string{
				"conflict_test.rego": `package costgate.conflict_test

x := 1 if input.a
x := 2 if input.b

test_conflict if {
	x == 1 with input as {"a": true, "b": true}
}
`,
			},
			failed: 1,
			report: []string{"ERROR: 1/1", "eval_conflict_error"},
		},
		"skipped counts as neither": {
			files: map[string]string{
				"skip_test.rego": "package costgate.skip_test\n\ntodo_test_later if false\n\ntest_now if true\n",
			},
			passed: 1,
			report: []string{"SKIPPED: 1/2"},
		},
		"rego v0 with the default library": {
			files: map[string]string{
				"old.rego":      "package main\n\ndeny[msg] {\n\tinput.x\n\tmsg := \"x\"\n}\n",
				"old_test.rego": "package main\n\ntest_deny {\n\tdeny[\"x\"] with input as {\"x\": true}\n}\n",
			},
			opts:   PolicyTestOptions{IncludeDefault: true, RegoVersion: ast.RegoV0},
			passed: -1, // the library's count plus one
		},
		"no tests": {
			files: map[string]string{"team.rego": teamPolicy},
		},
	}
	base, _, err := RunPolicyTests(context.Background(), &bytes.Buffer{}, PolicyTestOptions{IncludeDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writePolicyFiles(t, tt.files)
			opts := tt.opts
			opts.Dirs = []string{dir}
			var out bytes.Buffer
			passed, failed, err := RunPolicyTests(context.Background(), &out, opts)
			if err != nil {
				t.Fatalf("%v; report:\n%s", err, out.String())
			}
			want := tt.passed
			if want < 0 {
				want = base + 1
			}
			if passed != want || failed != tt.failed {
				t.Errorf("passed %d, failed %d; want %d, %d; report:\n%s", passed, failed, want, tt.failed, out.String())
			}
			for _, s := range tt.report {
				if !strings.Contains(out.String(), s) {
					t.Errorf("report lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func TestRunPolicyTestsBrokenPolicy(t *testing.T) {
	tests := map[string]struct {
		src     string
		version ast.RegoVersion
		where   string // file:row:col
	}{
		"parse error": {
			src:   "package costgate.broken\n\ndeny contains msg if {\n\tmsg := )\n}\n",
			where: "broken.rego:4:",
		},
		"compile error": {
			src:   "package costgate.broken\n\ndeny contains msg if {\n\tinput.x == y\n\tmsg := \"x\"\n}\n",
			where: "broken.rego:4:",
		},
		"v0 syntax read as v1": {
			src:   "package costgate.broken\n\ndeny[msg] {\n\tmsg := \"x\"\n}\n",
			where: "broken.rego:3:",
		},
		"v1 keyword misuse read as v0": {
			src:     "package costgate.broken\n\nimport future.keywords.in\n\ndeny[msg] {\n\tsome x in input.xs\n\tmsg := y\n}\n",
			version: ast.RegoV0,
			where:   "broken.rego:7:",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writePolicyFiles(t, map[string]string{"broken.rego": tt.src})
			var out bytes.Buffer
			_, _, err := RunPolicyTests(context.Background(), &out, PolicyTestOptions{Dirs: []string{dir}, RegoVersion: tt.version, IncludeDefault: true})
			if err == nil {
				t.Fatalf("no error; report:\n%s", out.String())
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Errorf("error %T, want *PolicyError: %v", err, err)
			}
			re := regexp.MustCompile(regexp.QuoteMeta(filepath.Join(dir, tt.where)) + `\d+: `)
			if !re.MatchString(err.Error()) {
				t.Errorf("error does not name %s<col>:\n%v", tt.where, err)
			}
			if out.Len() != 0 {
				t.Errorf("tests ran despite the error:\n%s", out.String())
			}
		})
	}
}

func TestRunPolicyTestsMissingDir(t *testing.T) {
	_, _, err := RunPolicyTests(context.Background(), &bytes.Buffer{}, PolicyTestOptions{Dirs: []string{filepath.Join(t.TempDir(), "nope")}})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("error %v, want one naming the directory", err)
	}
}

func TestRunPolicyTestsNothingToTest(t *testing.T) {
	if _, _, err := RunPolicyTests(context.Background(), &bytes.Buffer{}, PolicyTestOptions{}); err == nil {
		t.Fatal("no error for no policies")
	}
}
