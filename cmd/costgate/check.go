package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/spf13/cobra"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/store"
)

// checkParams are the flags of `costgate check`.
type checkParams struct {
	plan              string
	policyPaths       []string
	noDefaultPolicies bool
	dataFiles         []string
	format            string
	out               string
	tfDir             string
	context           []string
	failOnWarn        bool
	regoVersion       string
	noColor           bool
	maxPlanMiB        int64
	noCost            bool
	est               estimateParams
	log               bool
}

func newCheckCmd(a *app) *cobra.Command {
	p := &checkParams{}
	cmd := &cobra.Command{
		Use:   "check [PLAN.json | -]",
		Short: "Judge a Terraform plan against the policies",
		Long: `check reads the output of ` + "`terraform show -json PLAN`" + ` (or tofu show -json),
builds the Rego input document, evaluates the default policy library and
any --policy directories, applies waivers, and prints the decision.

PLAN is a file, or - (the default) for standard input. UTF-8 with or
without a byte order mark and UTF-16 with a byte order mark are accepted.

Exit codes: 0 allowed (warnings allowed unless --fail-on-warn), 1 denied,
2 usage, input, config or policy error (nothing is evaluated).`,
		Example: `  terraform plan -out tfplan && terraform show -json tfplan > plan.json
  costgate check plan.json
  costgate check --format github plan.json
  costgate check --format markdown --out comment.md --tf-dir . plan.json
  terraform show -json tfplan | costgate check --policy ./policy -`,
		Args: cobra.MaximumNArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.plan = "-"
			if len(args) == 1 {
				p.plan = args[0]
			}
			return p.validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), a, p)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.policyPaths, "policy", nil, "extra policy file or directory of .rego files (repeatable)")
	f.BoolVar(&p.noDefaultPolicies, "no-default-policies", false, "leave out the embedded default policy library")
	f.StringArrayVar(&p.dataFiles, "data", nil, "JSON or YAML file merged into data.costgate.config (repeatable)")
	f.StringVarP(&p.format, "format", "f", "text", "output format: "+strings.Join(gate.Formats(), ", "))
	f.StringVarP(&p.out, "out", "o", "", "also write the output to this file")
	f.StringVar(&p.tfDir, "tf-dir", "", "Terraform source directory, to report file:line of each resource")
	f.StringArrayVar(&p.context, "context", nil, "context key=value for input.context (repeatable), e.g. team=payments")
	f.BoolVar(&p.failOnWarn, "fail-on-warn", false, "exit 1 when there are warnings")
	f.StringVar(&p.regoVersion, "rego-version", "v1", "Rego version of --policy files: v1 or v0")
	f.BoolVar(&p.noColor, "no-color", false, "no colour in text output (also NO_COLOR)")
	f.Int64Var(&p.maxPlanMiB, "max-plan-size", gate.MaxPlanSize>>20, "largest plan to read, in MiB")
	f.BoolVar(&p.noCost, "no-cost", false, "skip the cost estimate (input.resources[].cost, input.cost and the cost.* rules then find nothing)")
	addEstimateFlags(f, &p.est, "calibration, history and data.costgate.spend")
	f.BoolVar(&p.log, "log", false, "record the decision in the decision log (decision_log.dsn, default costgate-decisions.db)")
	return cmd
}

func (p *checkParams) validate() error {
	if _, err := gate.NewFormatter(p.format, gate.FormatOptions{}); err != nil {
		return usageErr("--format: %v", err)
	}
	if _, err := parseRegoVersion(p.regoVersion); err != nil {
		return err
	}
	if _, err := parseContext(p.context); err != nil {
		return err
	}
	if p.maxPlanMiB <= 0 {
		return usageErr("--max-plan-size must be positive")
	}
	return nil
}

func parseRegoVersion(s string) (ast.RegoVersion, error) {
	switch s {
	case "v1", "1", "":
		return ast.RegoV1, nil
	case "v0", "0":
		return ast.RegoV0, nil
	}
	return ast.RegoUndefined, usageErr("--rego-version %q: use v1 or v0", s)
}

func parseContext(kvs []string) (map[string]string, error) {
	m := gate.ContextFromEnv(os.Getenv)
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageErr("--context %q: use key=value", kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// loadCheckEngine reads the config and compiles the policies for check,
// with data.costgate.spend from the cost store when there is one.
func loadCheckEngine(ctx context.Context, a *app, p *checkParams) (*gate.Engine, *loadedConfig, error) {
	cfg, err := loadConfig(a.configPath, p.dataFiles)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	rv, err := parseRegoVersion(p.regoVersion)
	if err != nil {
		return nil, nil, err
	}
	var spend map[string]any
	if !p.noCost {
		if spend, err = spendFromStore(ctx, cfg, p.est.store, time.Now()); err != nil {
			return nil, nil, err
		}
	}
	eng, err := gate.New(ctx, gate.Options{
		PolicyPaths:       p.policyPaths,
		NoDefaultPolicies: p.noDefaultPolicies,
		RegoVersion:       rv,
		Config:            policyData(cfg.Data), // without server: and decision_log: secrets
		Spend:             spend,
		Waivers:           cfg.Waivers,
		Severities:        cfg.Severities,
	})
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	return eng, cfg, nil
}

// spendFromStore builds data.costgate.spend from the cost store and the
// configured budgets. Without a store (none given and ./.costgate absent)
// the document holds the budgets alone. Month-to-date runs to now.
func spendFromStore(ctx context.Context, cfg *loadedConfig, storeFlag string, now time.Time) (map[string]any, error) {
	budgets := map[string]costgate.Money{}
	for team, v := range cfg.Budgets.Teams {
		budgets[team], _ = costgate.ParseMoney(v.String()) // validated
	}
	opts := gate.SpendOptions{Now: now, TeamTag: cfg.Cost.TeamTag, EnvTag: cfg.Cost.EnvTag, Budgets: budgets}
	dir := orDefault(storeFlag, orDefault(cfg.Store, defaultStoreDir))
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	switch {
	case errors.Is(err, fs.ErrNotExist) && storeFlag == "" && cfg.Store == "":
		return gate.SpendDocument(ctx, emptyReader{}, opts)
	case err != nil:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("open cost store %s: %w", dir, err)}
	}
	defer st.Close()
	return gate.SpendDocument(ctx, st, opts)
}

// emptyReader is a cost reader with no spend.
type emptyReader struct{}

func (emptyReader) Query(context.Context, costgate.CostQuery) (*costgate.CostResult, error) {
	return &costgate.CostResult{}, nil
}

// estimatePlan prices the plan's resources with the catalog, usage file
// and calibration the config names. It also returns the per-resource
// estimates the decision log keeps (estimatedResources).
// estimatePlan prices in's plan; with keep it also returns the
// per-resource estimates a decision log records (nil otherwise, to spare
// the work when nothing is logged).
func estimatePlan(ctx context.Context, cfg *loadedConfig, ep *estimateParams, in *gate.Input, keep bool) (*costgate.PlanEstimate, []costgate.EstimatedResource, error) {
	est, closeFn, err := newEstimator(ctx, cfg, ep, time.Now().UTC())
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	return estimateWith(ctx, est, in, keep)
}

// estimateWith is estimatePlan with an estimator made beforehand.
func estimateWith(ctx context.Context, est *pricing.Estimator, in *gate.Input, keep bool) (*costgate.PlanEstimate, []costgate.EstimatedResource, error) {
	reg := priceRegistry()
	resources, err := plannedResources(in, func(r *gate.Resource) bool {
		return r.Mode != "data" && reg.NeedsValues(r.Type)
	})
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	pe, err := est.Estimate(ctx, resources)
	if err != nil {
		return nil, nil, fmt.Errorf("estimate %s: %w", in.Plan.Name, err)
	}
	if !keep {
		return pe, nil, nil
	}
	return pe, estimatedResources(in, resources, pe), nil
}

// readPlanArg reads PLAN or stdin.
func readPlanArg(a *app, path string, maxMiB int64) (*gate.Plan, error) {
	var (
		plan *gate.Plan
		err  error
	)
	if path == "-" {
		plan, err = gate.ReadPlan(a.stdin, "<stdin>", maxMiB<<20)
	} else {
		plan, err = gate.ReadPlanFile(path, maxMiB<<20)
	}
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return plan, nil
}

func runCheck(ctx context.Context, a *app, p *checkParams) error {
	// Compile the policies while the plan is read: on a large plan the two
	// take about as long, and CI machines have more than one core.
	// The estimator (price catalog, usage file, calibration from the
	// cost store) is made there too.
	type compiled struct {
		eng      *gate.Engine
		cfg      *loadedConfig
		est      *pricing.Estimator
		closeEst func()
		err      error
	}
	engc := make(chan compiled, 1)
	go func() {
		c := compiled{closeEst: func() {}}
		c.eng, c.cfg, c.err = loadCheckEngine(ctx, a, p)
		if c.err == nil && !p.noCost {
			c.est, c.closeEst, c.err = newEstimator(ctx, c.cfg, &p.est, time.Now().UTC())
		}
		engc <- c
	}()
	plan, err := readPlanArg(a, p.plan, p.maxPlanMiB)
	c := <-engc
	defer c.closeEst()
	if err != nil {
		return err
	}
	if c.err != nil {
		return c.err
	}
	eng := c.eng
	inOpts := gate.InputOptions{}
	inOpts.Context, _ = parseContext(p.context)
	if p.tfDir != "" {
		idx, err := gate.LoadSources(ctx, p.tfDir)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--tf-dir: %w", err)}
		}
		inOpts.Source = sourceFunc(p.tfDir, idx)
	}
	in := gate.BuildInput(plan, inOpts)
	var (
		est       *costgate.PlanEstimate
		estimates []costgate.EstimatedResource
	)
	if !p.noCost {
		if est, estimates, err = estimateWith(ctx, c.est, in, p.log); err != nil {
			return err
		}
		in.AttachEstimate(est, c.cfg.Cost.TeamTag, c.cfg.Cost.EnvTag)
	}
	d, err := eng.Evaluate(ctx, in)
	if err != nil {
		return err
	}
	if err := writeDecision(a, p, d, est); err != nil {
		return err
	}
	if err := logCheckDecision(ctx, a, p.log, in, d, estimates); err != nil {
		return err
	}
	deny, warn, _ := d.Counts()
	switch {
	case deny > 0:
		return &exitError{code: exitDeny}
	case warn > 0 && p.failOnWarn:
		return &exitError{code: exitDeny}
	}
	return nil
}

func writeDecision(a *app, p *checkParams, d *costgate.Decision, est *costgate.PlanEstimate) error {
	color := !p.noColor && p.format == "text" && isTerminal(a.stdout)
	fm, err := gate.NewFormatter(p.format, gate.FormatOptions{Color: color})
	if err != nil {
		return usageErr("%v", err)
	}
	report := &gate.Report{Decision: d, PlanPath: p.plan, Version: version, Estimate: est}
	var buf bytes.Buffer
	if err := fm.Format(&buf, report); err != nil {
		return fmt.Errorf("render %s: %w", p.format, err)
	}
	if _, err := a.stdout.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if p.out != "" {
		if color {
			// The file never gets terminal colour.
			buf.Reset()
			plain, _ := gate.NewFormatter(p.format, gate.FormatOptions{})
			if err := plain.Format(&buf, report); err != nil {
				return fmt.Errorf("render %s: %w", p.format, err)
			}
		}
		if err := writeFileAtomic(p.out, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes via a temporary file and rename, so a full disk
// never leaves a half-written report behind.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(dirOf(path), ".costgate-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// sourceFunc reports sources relative to the working directory (usually
// the repository root), so that CI annotations land on the right file
// when --tf-dir names a subdirectory.
func sourceFunc(tfDir string, idx *gate.SourceIndex) func(string) string {
	base := filepath.Clean(tfDir)
	return func(address string) string {
		src := idx.Lookup(address)
		if src == "" || base == "." {
			return src
		}
		return filepath.ToSlash(filepath.Join(base, src))
	}
}
