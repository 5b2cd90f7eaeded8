package costgate_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/costgate/costgate"

// allowedInternal names, for each package (by prefix, relative to the
// module), the module packages it may import; see DESIGN.md, "Packages
// and the way arrows point". "" is the root domain package.
var allowedInternal = map[string][]string{
	"":                      {},
	"store":                 {"", "store"},
	"collector":             {"", "collector"},
	"pricing":               {"", "pricing"},
	"policies":              {},
	"gate":                  {"", "policies", "gate"},
	"webhooks":              {"", "gate", "webhooks"},
	"reports":               {"", "reports"},
	"decisionlog":           {"", "decisionlog"},
	"internal/plangen":      {"internal/plangen"},
	"internal/billgen":      {"", "internal/billgen"},
	"internal/collectstore": {"", "store", "collector", "internal/collectstore"}, // wiring, like cmd
	"internal/s3test":       {"internal/s3test"},
	"internal/bqtest":       {"internal/bqtest"},
	"internal/rowdiff":      {""},                                                // test helper: compares line items
	"internal/testdisk":     {"internal/testdisk"},                               // test helper: a small tmpfs that fills up
	"internal/reportdemo":   {"", "store", "decisionlog", "internal/reportdemo"}, // demo data and SMTP sink (wiring, like cmd)
	"cmd":                   nil,                                                 // anything
}

// stdlibOnly are packages that may import nothing outside the standard
// library (besides what allowedInternal grants).
var stdlibOnly = map[string]bool{"": true, "policies": true, "reports": false}

type listed struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// TestImportRules keeps the arrows of DESIGN.md true: the domain at the
// root imports only the standard library, adapters import the root and
// their own SDKs, the gate, reports and webhooks never reach into the
// store, pricing or collectors, and nothing imports cmd.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var checked int
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		rule, ok := ruleFor(rel)
		if !ok {
			t.Errorf("package %s has no import rule: add it to allowedInternal and DESIGN.md", p.ImportPath)
			continue
		}
		checked++
		for _, imp := range p.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				target := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				if strings.HasPrefix(target, "cmd") {
					t.Errorf("%s imports %s: nothing imports cmd", p.ImportPath, imp)
				}
				if rule != nil && !allowedTarget(rule, target) {
					t.Errorf("%s imports %s, which DESIGN.md does not allow", p.ImportPath, imp)
				}
				continue
			}
			if stdlibOnly[ruleKey(rel)] && strings.Contains(strings.Split(imp, "/")[0], ".") {
				t.Errorf("%s imports %s: it may import only the standard library", p.ImportPath, imp)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d packages: go list found too few", checked)
	}
}

func ruleKey(rel string) string {
	best := ""
	found := false
	for prefix := range allowedInternal {
		if rel == prefix || prefix != "" && strings.HasPrefix(rel, prefix+"/") || prefix == "" && rel == "" {
			if !found || len(prefix) > len(best) {
				best, found = prefix, true
			}
		}
	}
	return best
}

func ruleFor(rel string) ([]string, bool) {
	key := ruleKey(rel)
	if key == "" && rel != "" {
		return nil, false
	}
	return allowedInternal[key], true
}

func allowedTarget(rule []string, target string) bool {
	for _, a := range rule {
		if target == a || a != "" && strings.HasPrefix(target, a+"/") {
			return true
		}
	}
	return false
}
