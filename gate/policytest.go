package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/lineage"
)

// PolicyTestOptions configure RunPolicyTests.
type PolicyTestOptions struct {
	// Dirs are policy directories or .rego files whose tests to run, with
	// the policies they test. Only .rego files are read (no data files):
	// tests give their data with `with data.costgate.config as {...}`.
	Dirs []string
	// IncludeDefault adds the embedded default library and its tests.
	IncludeDefault bool
	// RegoVersion of the files in Dirs; the zero value means Rego v1. The
	// embedded library is always v1.
	RegoVersion ast.RegoVersion
	// Verbose reports every test, not only failures, and the notes and
	// failed expressions of failing tests (`opa test -v`).
	Verbose bool
}

// RunPolicyTests runs the test_ rules of the policies with OPA's tester
// and writes a report to w in the form `opa test` prints. passed and failed
// count test cases as the report does; a test that ends in an error counts
// as failed, a skipped one (todo_ prefix) as neither. A policy that does
// not parse or compile is an error, a *PolicyError naming file:row:col, and
// nothing runs.
func RunPolicyTests(ctx context.Context, w io.Writer, opts PolicyTestOptions) (passed, failed int, err error) {
	version := opts.RegoVersion
	if version == ast.RegoUndefined {
		version = ast.RegoV1
	}
	mods := map[string]*ast.Module{}
	if opts.IncludeDefault {
		def, err := defaultPolicies()
		if err != nil {
			return 0, 0, err
		}
		m, err := parsePolicies(def, ast.RegoV1)
		if err != nil {
			return 0, 0, err
		}
		maps.Copy(mods, m)
	}
	user, err := readPolicyPaths(opts.Dirs)
	if err != nil {
		return 0, 0, err
	}
	m, err := parsePolicies(user, version)
	if err != nil {
		return 0, 0, err
	}
	for name, mod := range m {
		if _, dup := mods[name]; dup {
			return 0, 0, fmt.Errorf("test policies: %s given twice (it clashes with the default library's name; use --no-default-policies or another path)", name)
		}
		mods[name] = mod
	}
	if len(mods) == 0 {
		return 0, 0, errors.New("test policies: no policies: give a directory or include the default library")
	}

	// Set up as `opa test` does: print() output captured, type checks from
	// schema annotations, traces only when verbose.
	compiler := ast.NewCompiler().
		WithCapabilities(ast.CapabilitiesForThisVersion()).
		WithEnablePrintStatements(true).
		WithUseTypeCheckAnnotations(true).
		WithDefaultRegoVersion(version)
	runner := tester.NewRunner().
		SetCompiler(compiler).
		CapturePrintOutput(true).
		EnableTracing(opts.Verbose).
		StackTraces(true).
		SetModules(mods)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return 0, 0, newPolicyError(err)
	}

	counted := make(chan *tester.Result)
	go func() {
		defer close(counted)
		for r := range ch {
			p, f := countTestResult(r)
			passed += p
			failed += f
			if opts.Verbose {
				// As `opa test -v` without --explain: notes and failures.
				r.Trace = lineage.Filter(r.Trace, func(e *topdown.Event) bool {
					return e.Op == topdown.NoteOp || e.Op == topdown.FailOp
				})
			}
			counted <- r
		}
	}()
	reporter := tester.PrettyReporter{Output: w, Verbose: opts.Verbose}
	if err := reporter.Report(counted); err != nil {
		for range counted { // let the counting goroutine finish
		}
		return passed, failed, fmt.Errorf("report policy tests: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return passed, failed, fmt.Errorf("test policies: %w", err)
	}
	return passed, failed, nil
}

// countTestResult counts one result as tester.PrettyReporter does: a test with
// sub-results (one per iteration of a `some ... in` in its body) counts
// each leaf. Errors count as failures; skipped tests count as neither.
func countTestResult(r *tester.Result) (passed, failed int) {
	switch {
	case r.Skip:
		return 0, 0
	case r.Error != nil:
		return 0, 1
	case len(r.SubResults) > 0:
		for _, sr := range r.SubResults.Iter {
			if len(sr.SubResults) > 0 {
				continue
			}
			if sr.Fail {
				failed++
			} else {
				passed++
			}
		}
		return passed, failed
	case r.Fail:
		return 0, 1
	default:
		return 1, 0
	}
}
