package policies

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

// FS holds the library's Rego files, policies and tests, at paths relative
// to this directory, e.g. "tags/required.rego" and
// "tags/required_test.rego".
//
//go:embed */*.rego
var FS embed.FS

// TestSuffix ends the name of every Rego test file.
const TestSuffix = "_test.rego"

// Files returns the source of every Rego file in FS, tests included, keyed
// by its path in FS. Use IsTest to tell tests from policies: evaluating
// plans needs only the policies, running `policy test` needs both.
func Files() (map[string]string, error) {
	files := make(map[string]string)
	err := fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return nil
		}
		b, err := FS.ReadFile(path)
		if err != nil {
			return err
		}
		files[path] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded policies: %w", err)
	}
	return files, nil
}

// IsTest reports whether path names a Rego test file (*_test.rego).
func IsTest(path string) bool {
	return strings.HasSuffix(path, TestSuffix)
}
