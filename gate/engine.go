package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/costgate/costgate"
)

// Options configure an Engine.
type Options struct {
	// PolicyPaths are extra policy files or directories (--policy).
	PolicyPaths []string
	// NoDefaultPolicies leaves out the embedded library.
	NoDefaultPolicies bool
	// RegoVersion of the user policies; the zero value means Rego v1.
	// The embedded library is always v1.
	RegoVersion ast.RegoVersion
	// Config is data.costgate.config: the config file merged with --data.
	Config map[string]any
	// Spend is data.costgate.spend: actual spend and budgets from the
	// cost store (see SpendDocument).
	Spend map[string]any
	// Waivers exempt findings until they expire.
	Waivers []costgate.Waiver
	// Severities lower (or raise) a rule's findings by rule_id.
	Severities map[string]costgate.Severity
	// Now is the clock for waiver expiry; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Engine evaluates plans against one compiled policy set. It is safe for
// concurrent use: compile once, evaluate many.
type Engine struct {
	pq rego.PreparedEvalQuery
	// admission is the query of admission requests: every rule set but
	// those of packages that read only a plan's input.
	admission func() (rego.PreparedEvalQuery, error)
	// slim is set when only the embedded library is loaded: resources
	// then carry before/after/after_unknown only for valueTypes.
	slim       bool
	valueTypes map[string]bool
	sets       []ruleSet
	revision   string
	waivers    []costgate.Waiver
	severities map[string]costgate.Severity
	now        func() time.Time
	log        *slog.Logger
}

// New loads, parses and compiles the policies. A policy that does not
// compile is a *PolicyError naming file:row:col.
func New(ctx context.Context, opts Options) (*Engine, error) {
	version := opts.RegoVersion
	if version == ast.RegoUndefined {
		version = ast.RegoV1
	}
	var files []policyFile
	var mods = map[string]*ast.Module{}
	if !opts.NoDefaultPolicies {
		def, err := defaultPolicies()
		if err != nil {
			return nil, err
		}
		def = nonTest(def)
		m, err := parsePolicies(def, ast.RegoV1)
		if err != nil {
			return nil, err
		}
		files = append(files, def...)
		for k, v := range m {
			mods[k] = v
		}
	}
	user, err := readPolicyPaths(opts.PolicyPaths)
	if err != nil {
		return nil, err
	}
	user = nonTest(user)
	m, err := parsePolicies(user, version)
	if err != nil {
		return nil, err
	}
	files = append(files, user...)
	for k, v := range m {
		mods[k] = v
	}
	sets := findRuleSets(mods)
	qsrc := queryModule(sets, valueTypeRules(mods), planOnlyPackages(mods))
	qmod, err := ast.ParseModuleWithOpts(queryPackage+".rego", qsrc, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("build query module: %w", err)
	}
	config := opts.Config
	if config == nil {
		config = map[string]any{}
	}
	doc := map[string]any{"config": config}
	if opts.Spend != nil {
		doc["spend"] = opts.Spend
	}
	data, err := jsonRoundTrip(map[string]any{"costgate": doc})
	if err != nil {
		return nil, fmt.Errorf("policy data: %w", err)
	}
	// Compile once; the findings query and the value_types query share
	// the compiler and the data.
	all := make(map[string]*ast.Module, len(mods)+1)
	for k, v := range mods {
		all[k] = v
	}
	all[queryPackage+".rego"] = qmod
	compiler := ast.NewCompiler()
	if compiler.Compile(all); compiler.Failed() {
		return nil, newPolicyError(compiler.Errors)
	}
	// Data is held as Rego values: every evaluation reads
	// data.costgate.config, and a store of Go values converts it on each read.
	store := inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
	pq, err := rego.New(
		rego.Query("data."+queryPackage+".findings"),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.StrictBuiltinErrors(false),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, newPolicyError(err)
	}
	// The admission query is prepared when first used (check never
	// needs it; serve calls PrepareAdmission at load). It is partially
	// evaluated with input unknown: what reads only data (the config,
	// label lists, limits) is computed here once, which halves an
	// admission request's evaluation. The plan query is not: per-resource
	// rules dominate it, and the residual was no faster (measured).
	admission := sync.OnceValues(func() (rego.PreparedEvalQuery, error) {
		pq, err := rego.New(
			rego.Query("data."+queryPackage+".admission_findings"),
			rego.Compiler(compiler),
			rego.Store(store),
			rego.StrictBuiltinErrors(false),
		).PrepareForEval(context.Background(), rego.WithPartialEval())
		if err != nil {
			return pq, newPolicyError(err)
		}
		return pq, nil
	})
	var valueTypes map[string]bool
	slim := len(user) == 0 && !opts.NoDefaultPolicies
	if slim {
		if valueTypes, err = declaredValueTypes(ctx, compiler, store); err != nil {
			return nil, err
		}
		slim = !valueTypes["*"]
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Engine{
		pq:         pq,
		admission:  admission,
		slim:       slim,
		valueTypes: valueTypes,
		sets:       sets,
		revision:   revision(files, config),
		waivers:    opts.Waivers,
		severities: opts.Severities,
		now:        now,
		log:        log.With("component", "gate"),
	}, nil
}

// declaredValueTypes evaluates the value_types rules of the embedded
// packages (gathered by the query module): the resource types whose
// values the library reads.
func declaredValueTypes(ctx context.Context, compiler *ast.Compiler, store storage.Store) (map[string]bool, error) {
	rs, err := rego.New(
		rego.Query("data."+queryPackage+".value_types"),
		rego.Compiler(compiler),
		rego.Store(store),
	).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate value_types: %w", err)
	}
	types := map[string]bool{}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return types, nil
	}
	list, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("value_types: want a set of resource types, got %T", rs[0].Expressions[0].Value)
	}
	for _, t := range list {
		if s, ok := t.(string); ok {
			types[s] = true
		}
	}
	return types, nil
}

func nonTest(files []policyFile) []policyFile {
	out := files[:0:0]
	for _, f := range files {
		if !f.test {
			out = append(out, f)
		}
	}
	return out
}

// jsonRoundTrip normalises YAML-decoded data to what JSON would give.
func jsonRoundTrip(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Revision identifies the policy set and its data.
func (e *Engine) Revision() string { return e.revision }

// RuleSets lists the evaluated sets as "package.set".
func (e *Engine) RuleSets() []string {
	out := make([]string, len(e.sets))
	for i, s := range e.sets {
		out[i] = s.pkg + "." + s.set
	}
	return out
}

// Evaluate judges one plan input and returns the decision.
func (e *Engine) Evaluate(ctx context.Context, in *Input) (*costgate.Decision, error) {
	var value ast.Value
	var err error
	if e.slim {
		value, err = in.slimValue(e.valueTypes)
	} else {
		value, err = in.Value()
	}
	if err != nil {
		return nil, err
	}
	sources := make(map[string]string, len(in.Resources))
	for _, r := range in.Resources {
		if r.Source != "" {
			sources[r.Address] = r.Source
		}
	}
	d, err := e.EvaluateValue(ctx, value, EvalMeta{Name: in.Plan.Name, InputSHA256: in.Plan.SHA256, Sources: sources})
	if err != nil {
		return nil, err
	}
	d.Summary = in.Summary
	if in.costs != nil {
		d.Cost = in.costs.decisionCost()
	}
	return d, nil
}

// EvalMeta describes an input document that is not a plan (an admission
// request, say) for EvaluateValue.
type EvalMeta struct {
	// Name names the input in errors and logs.
	Name string
	// InputSHA256 is recorded in the decision.
	InputSHA256 string
	// Sources maps addresses to file:line for findings without a source.
	Sources map[string]string
	// Admission judges a Kubernetes admission request: the packages that
	// read only a plan's input (input.resources, input.index, input.cost,
	// input.plan, input.summary, directly or through a library) are left
	// out; they would see nothing of what they read.
	Admission bool
}

// PrepareAdmission prepares the admission query now instead of on the
// first EvaluateValue with EvalMeta.Admission; serve calls it so that a
// policy set the query cannot be prepared for is rejected when it loads.
func (e *Engine) PrepareAdmission() error {
	if _, err := e.admission(); err != nil {
		return fmt.Errorf("prepare the admission query: %w", err)
	}
	return nil
}

// EvaluateValue judges any input document with the same rules, waivers
// and severities as Evaluate. The webhooks use it for inputs such as
// input.kubernetes; the decision's Summary is left zero.
func (e *Engine) EvaluateValue(ctx context.Context, input ast.Value, meta EvalMeta) (*costgate.Decision, error) {
	start := time.Now()
	now := e.now()
	pq := e.pq
	if meta.Admission {
		var err error
		if pq, err = e.admission(); err != nil {
			return nil, fmt.Errorf("prepare the admission query: %w", err)
		}
	}
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input), rego.EvalTime(now))
	if err != nil {
		return nil, fmt.Errorf("evaluate policies on %s: %w", meta.Name, err)
	}
	var findings []costgate.Finding
	if len(rs) > 0 && len(rs[0].Expressions) > 0 {
		triples, _ := rs[0].Expressions[0].Value.([]any)
		for _, t := range triples {
			tr, ok := t.([]any)
			if !ok || len(tr) != 3 {
				continue
			}
			pkg, _ := tr[0].(string)
			set, _ := tr[1].(string)
			f, err := toFinding(pkg, set, tr[2])
			if err != nil {
				return nil, err
			}
			if f.Source == "" {
				f.Source = meta.Sources[f.Address]
			}
			if s, ok := e.severities[f.RuleID]; ok {
				f.Severity = s
			}
			findings = append(findings, f)
		}
	}
	findings = applyWaivers(findings, e.waivers, now)
	sortFindings(findings)
	if findings == nil {
		findings = []costgate.Finding{}
	}
	d := &costgate.Decision{
		Version:        costgate.DecisionVersion,
		Decision:       costgate.Verdict(findings),
		Findings:       findings,
		PolicyRevision: e.revision,
		InputSHA256:    meta.InputSHA256,
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "evaluated",
		slog.String("input", meta.Name), slog.String("decision", string(d.Decision)),
		slog.Int("findings", len(findings)), slog.Duration("took", time.Since(start)))
	return d, nil
}

// toFinding turns one rule result (a string or an object) into a finding.
func toFinding(pkg, set string, v any) (costgate.Finding, error) {
	f := costgate.Finding{Package: pkg, RuleID: pkg + "." + set, Severity: costgate.SeverityDeny}
	if set == "warn" {
		f.Severity = costgate.SeverityWarn
	}
	switch v := v.(type) {
	case string:
		f.Message = v
	case map[string]any:
		f.Message = firstString(v, "msg", "message")
		if f.Message == "" {
			b, _ := json.Marshal(v)
			f.Message = string(b)
		}
		if s := firstString(v, "address", "resource"); s != "" {
			f.Address = s
		}
		if s := firstString(v, "rule_id", "id"); s != "" {
			f.RuleID = s
		}
		if s := firstString(v, "severity"); s != "" {
			sev, err := costgate.ParseSeverity(s)
			if err != nil {
				return f, fmt.Errorf("rule %s.%s: %w", pkg, set, err)
			}
			f.Severity = sev
		}
		f.Source = firstString(v, "source")
	default:
		b, _ := json.Marshal(v)
		f.Message = string(b)
	}
	return f, nil
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func sortFindings(fs []costgate.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Message < b.Message
	})
}
