package policies_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/costgate/costgate/policies"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestPolicyFilesEmbedded guards the go:embed pattern: every .rego
// file in this directory tree must be in FS, and every policy must have a
// test beside it.
func TestPolicyFilesEmbedded(t *testing.T) {
	files, err := policies.Files()
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".rego") {
			onDisk = append(onDisk, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var embedded []string
	for path, src := range files {
		embedded = append(embedded, path)
		if src == "" {
			t.Errorf("%s: empty", path)
		}
	}
	slices.Sort(onDisk)
	slices.Sort(embedded)
	if !slices.Equal(onDisk, embedded) {
		t.Fatalf("embedded %v, on disk %v: fix the go:embed pattern in embed.go", embedded, onDisk)
	}
	for path := range files {
		if policies.IsTest(path) {
			continue
		}
		test := strings.TrimSuffix(path, ".rego") + policies.TestSuffix
		if _, ok := files[test]; !ok {
			t.Errorf("%s: no %s beside it", path, test)
		}
	}
}

// TestPolicyRegoTests runs every test_ rule of the embedded library through OPA's
// tester: `go test ./policies` fails when a Rego test fails.
func TestPolicyRegoTests(t *testing.T) {
	files, err := policies.Files()
	if err != nil {
		t.Fatal(err)
	}
	modules := make(map[string]*ast.Module, len(files))
	for path, src := range files {
		m, err := ast.ParseModuleWithOpts(path, src, ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		modules[path] = m
	}

	ch, err := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetModules(modules).
		RunTests(context.Background(), nil)
	if err != nil {
		t.Fatalf("compile policies: %v", err)
	}
	passed := 0
	for r := range ch {
		name := r.Package + "." + r.Name
		switch {
		case r.Error != nil:
			t.Errorf("%s (%s:%d): error: %v", name, r.Location.File, r.Location.Row, r.Error)
		case r.Fail:
			t.Errorf("%s (%s:%d): FAIL", name, r.Location.File, r.Location.Row)
		case r.Skip:
			t.Errorf("%s (%s:%d): skipped; the default library must not skip tests", name, r.Location.File, r.Location.Row)
		default:
			passed++
		}
	}
	if passed == 0 {
		t.Fatal("no Rego tests ran")
	}
	t.Logf("%d Rego tests passed", passed)
}
