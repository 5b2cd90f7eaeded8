package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate/policies"
)

// PolicyError is a policy that does not parse or compile. It names every
// problem as file:row:col; the CLI exits 2 on it.
type PolicyError struct {
	Errs []string
}

func (e *PolicyError) Error() string {
	if len(e.Errs) == 1 {
		return "policy error: " + e.Errs[0]
	}
	return fmt.Sprintf("%d policy errors:\n  %s", len(e.Errs), strings.Join(e.Errs, "\n  "))
}

// newPolicyError formats OPA's errors (ast.Errors) with their locations.
func newPolicyError(err error) error {
	var astErrs ast.Errors
	if !errors.As(err, &astErrs) {
		return &PolicyError{Errs: []string{err.Error()}}
	}
	pe := &PolicyError{}
	for _, e := range astErrs {
		loc := "(unknown location)"
		if e.Location != nil {
			loc = fmt.Sprintf("%s:%d:%d", e.Location.File, e.Location.Row, e.Location.Col)
		}
		pe.Errs = append(pe.Errs, fmt.Sprintf("%s: %s: %s", loc, e.Code, e.Message))
	}
	return pe
}

// policyFile is one Rego source.
type policyFile struct {
	name string // as shown in messages: "policies/tags/required.rego" or a user path
	src  string
	test bool // a _test.rego file
}

// defaultPolicies returns the embedded library, tests included.
func defaultPolicies() ([]policyFile, error) {
	var files []policyFile
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		b, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		files = append(files, policyFile{name: "policies/" + path, src: string(b), test: strings.HasSuffix(path, "_test.rego")})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded policies: %w", err)
	}
	return files, nil
}

// readPolicyPaths reads every .rego file under the given files or
// directories, in a stable order.
func readPolicyPaths(paths []string) ([]policyFile, error) {
	var files []policyFile
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("read policies %s: %w", root, err)
		}
		if !info.IsDir() {
			b, err := os.ReadFile(root)
			if err != nil {
				return nil, fmt.Errorf("read policy %s: %w", root, err)
			}
			files = append(files, policyFile{name: root, src: string(b), test: strings.HasSuffix(root, "_test.rego")})
			continue
		}
		var found int
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".rego") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			found++
			files = append(files, policyFile{name: path, src: string(b), test: strings.HasSuffix(path, "_test.rego")})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read policies %s: %w", root, err)
		}
		if found == 0 {
			return nil, fmt.Errorf("read policies %s: no .rego files there", root)
		}
	}
	return files, nil
}

// parsePolicies parses files with the given Rego version, collecting
// every syntax error with its location.
func parsePolicies(files []policyFile, version ast.RegoVersion) (map[string]*ast.Module, error) {
	mods := make(map[string]*ast.Module, len(files))
	var all ast.Errors
	for _, f := range files {
		m, err := ast.ParseModuleWithOpts(f.name, f.src, ast.ParserOptions{RegoVersion: version, ProcessAnnotation: true})
		if err != nil {
			var errs ast.Errors
			if errors.As(err, &errs) {
				all = append(all, errs...)
				continue
			}
			return nil, newPolicyError(fmt.Errorf("%s: %w", f.name, err))
		}
		if m == nil {
			continue // an empty file
		}
		mods[f.name] = m
	}
	if len(all) > 0 {
		return nil, newPolicyError(all)
	}
	return mods, nil
}

// ruleSet names one deny/warn/violation set in one package.
type ruleSet struct {
	pkg string // "costgate.tags.required" or "main"
	set string // deny, warn or violation
}

// findRuleSets lists the deny, warn and violation rules of every package
// under costgate and of main, the sets costgate evaluates.
func findRuleSets(mods map[string]*ast.Module) []ruleSet {
	seen := map[ruleSet]bool{}
	for _, m := range mods {
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		if pkg != "main" && pkg != "costgate" && !strings.HasPrefix(pkg, "costgate.") && !strings.HasPrefix(pkg, "main.") {
			continue
		}
		for _, r := range m.Rules {
			name := r.Head.Name.String()
			if len(r.Head.Reference) > 0 {
				name = r.Head.Reference[0].Value.String()
			}
			if (name == "deny" || name == "warn" || name == "violation") && len(r.Head.Args) == 0 {
				seen[ruleSet{pkg: pkg, set: name}] = true
			}
		}
	}
	sets := make([]ruleSet, 0, len(seen))
	for s := range seen {
		sets = append(sets, s)
	}
	sort.Slice(sets, func(i, j int) bool {
		if sets[i].pkg != sets[j].pkg {
			return sets[i].pkg < sets[j].pkg
		}
		return sets[i].set < sets[j].set
	})
	return sets
}

const queryPackage = "costgate_internal_query"

// queryModule builds the one module that gathers every rule set's
// elements as [package, set, element] triples, so a plan is judged with a
// single evaluation, and the value_types the given packages declare.
//
// admission_findings gathers the same from every package but those in
// planOnly (see planOnlyPackages): what an admission request is judged
// by.
func queryModule(sets []ruleSet, valueTypePkgs []string, planOnly map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\n", queryPackage)
	if len(sets) == 0 {
		b.WriteString("findings := set()\n\n")
	}
	admission := 0
	for _, s := range sets {
		ref := "data." + quoteRef(s.pkg) + "." + s.set
		fmt.Fprintf(&b, "findings contains [%q, %q, v] if {\n\tsome v in %s\n}\n\n", s.pkg, s.set, ref)
		if !planOnly[s.pkg] {
			fmt.Fprintf(&b, "admission_findings contains [%q, %q, v] if {\n\tsome v in %s\n}\n\n", s.pkg, s.set, ref)
			admission++
		}
	}
	if admission == 0 {
		b.WriteString("admission_findings := set()\n\n")
	}
	if len(valueTypePkgs) == 0 {
		b.WriteString("value_types := set()\n")
	}
	for _, pkg := range valueTypePkgs {
		fmt.Fprintf(&b, "value_types contains t if {\n\tsome t in data.%s.value_types\n}\n\n", quoteRef(pkg))
	}
	return b.String()
}

// valueTypeRules lists the packages that declare value_types.
func valueTypeRules(mods map[string]*ast.Module) []string {
	seen := map[string]bool{}
	for _, m := range mods {
		for _, r := range m.Rules {
			if r.Head.Name.String() == "value_types" && len(r.Head.Args) == 0 {
				seen[strings.TrimPrefix(m.Package.Path.String(), "data.")] = true
			}
		}
	}
	pkgs := make([]string, 0, len(seen))
	for p := range seen {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	return pkgs
}

// quoteRef writes a package path as a Rego ref, quoting segments that are
// not identifiers.
func quoteRef(pkg string) string {
	parts := strings.Split(pkg, ".")
	var b strings.Builder
	for i, p := range parts {
		if isIdent(p) {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
			continue
		}
		fmt.Fprintf(&b, "[%q]", p)
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// revision is a digest of the policies and their data, recorded with each
// decision so that it can be replayed.
func revision(files []policyFile, data any) string {
	h := sha256.New()
	sorted := append([]policyFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, f := range sorted {
		if f.test {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%s", f.name, len(f.src), f.src)
	}
	b, _ := json.Marshal(data) // maps marshal with sorted keys
	h.Write(b)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
