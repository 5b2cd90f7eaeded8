package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/pricing"
	"github.com/costgate/costgate/pricing/breakdown"
	"github.com/costgate/costgate/pricing/estimators"
	"github.com/costgate/costgate/store"
)

// estimateParams are the flags of `costgate estimate`.
type estimateParams struct {
	plan          string
	format        string
	out           string
	snapshot      string
	usageFile     string
	store         string
	noCalibration bool
	now           string
	maxPlanMiB    int64
}

func newEstimateCmd(a *app) *cobra.Command {
	p := &estimateParams{}
	cmd := &cobra.Command{
		Use:   "estimate [PLAN.json | -]",
		Short: "Estimate what a Terraform plan costs per month, before and after",
		Long: `estimate prices every resource of a plan from the price catalog: cost
components (quantity × unit price) per resource, monthly before, after and
delta, and plan totals. Usage-based resources (Lambda, S3, ...) are priced
from the usage file or the store's billing history, and listed as unpriced
otherwise, never as zero.

With a cost store (--store, or the config's store: key), list prices are
calibrated to the bill: each service's effective-to-list ratio over the
last 30 days turns list prices into what the company pays after discounts,
Savings Plans, Reserved Instances and committed-use discounts. Both figures
are shown.

Config keys: pricing.snapshot, pricing.usage_file, pricing.currency,
pricing.calibrate, store.

--format json is a stable schema (version 1): money as decimal strings,
null where unpriced.`,
		Example: `  costgate estimate plan.json
  costgate estimate --format json plan.json | jq .total
  costgate estimate --usage-file usage.yml --format markdown --out cost.md plan.json`,
		Args: cobra.MaximumNArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.plan = "-"
			if len(args) == 1 {
				p.plan = args[0]
			}
			return p.validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEstimate(cmd.Context(), a, p)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&p.format, "format", "f", "table", "output format: "+strings.Join(breakdown.Formats(), ", "))
	f.StringVarP(&p.out, "out", "o", "", "also write the output to this file")
	addEstimateFlags(f, p, "calibration and history")
	f.StringVar(&p.now, "now", "", "estimate as of this day (YYYY-MM-DD; default today), for replays")
	f.Int64Var(&p.maxPlanMiB, "max-plan-size", gate.MaxPlanSize>>20, "largest plan to read, in MiB")
	return cmd
}

func (p *estimateParams) validate() error {
	if _, err := breakdown.New(p.format, io.Discard); err != nil {
		return usageErr("--format: %v", err)
	}
	if p.now != "" {
		if _, err := costgate.ParseDate(p.now); err != nil {
			return usageErr("--now: %v", err)
		}
	}
	if p.maxPlanMiB <= 0 {
		return usageErr("--max-plan-size must be positive")
	}
	return nil
}

// addEstimateFlags defines the flags that choose how a plan is priced,
// the same on every command that estimates (check, estimate, policy
// input); storeUse says what the cost store is read for.
func addEstimateFlags(f *pflag.FlagSet, p *estimateParams, storeUse string) {
	f.StringVar(&p.snapshot, "snapshot", "", "price snapshot file or directory (default: pricing.snapshot, else the embedded one)")
	f.StringVar(&p.usageFile, "usage-file", "", "usage file for usage-based resources (default: pricing.usage_file)")
	f.StringVar(&p.store, "store", "", "cost store for "+storeUse+" (default: the config's store:, else ./.costgate when it exists)")
	f.BoolVar(&p.noCalibration, "no-calibration", false, "estimate at list prices only")
}

// loadPricingConfig reads the config file for a command that estimates
// and checks its pricing: section.
func loadPricingConfig(a *app) (*loadedConfig, error) {
	cfg, err := loadConfig(a.configPath, nil)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	if err := cfg.Pricing.validate(orDefault(cfg.Path, "config")); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return cfg, nil
}

func runEstimate(ctx context.Context, a *app, p *estimateParams) error {
	plan, err := readPlanArg(a, p.plan, p.maxPlanMiB)
	if err != nil {
		return err
	}
	cfg, err := loadPricingConfig(a)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if p.now != "" {
		d, _ := costgate.ParseDate(p.now)
		now = d.Time
	}
	est, closeFn, err := newEstimator(ctx, cfg, p, now)
	if err != nil {
		return err
	}
	defer closeFn()
	reg := priceRegistry()
	resources, err := plannedResources(gate.BuildInput(plan, gate.InputOptions{}), func(r *gate.Resource) bool {
		return r.Mode != "data" && reg.NeedsValues(r.Type)
	})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	pe, err := est.Estimate(ctx, resources)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w, _ := breakdown.New(p.format, &buf)
	if err := w.Write(pe); err != nil {
		return err
	}
	if _, err := a.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if p.out != "" {
		if err := writeFileAtomic(p.out, buf.Bytes()); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--out: %w", err)}
		}
	}
	return nil
}

// priceRegistry is every provider's estimators, built once: a
// pricing.Registry is only read once built, and building one takes
// longer than pricing a small plan.
var priceRegistry = sync.OnceValue(estimators.Registry)

// newEstimator wires the catalog, usage file, calibration and billing
// history into an Estimator. The returned func closes the store.
func newEstimator(ctx context.Context, cfg *loadedConfig, p *estimateParams, now time.Time) (*pricing.Estimator, func(), error) {
	noop := func() {}
	var (
		history costgate.CostReader
		closeFn = noop
	)
	if !p.noCalibration && cfg.Pricing.calibrate() {
		dir := orDefault(p.store, orDefault(cfg.Store, defaultStoreDir))
		st, err := store.Open(dir, store.Options{ReadOnly: true})
		switch {
		case errors.Is(err, fs.ErrNotExist) && p.store == "":
			// No store yet: list prices only.
		case err != nil:
			return nil, noop, &exitError{code: exitUsage, err: fmt.Errorf("open cost store %s: %w", dir, err)}
		default:
			history, closeFn = st, func() { st.Close() }
		}
	}
	est, err := estimatorOver(ctx, cfg, p, history, func() time.Time { return now })
	if err != nil {
		closeFn()
		return nil, noop, err
	}
	return est, closeFn, nil
}

// estimatorOver is newEstimator over a cost reader the caller keeps open
// (nil: list prices only, no calibration or history). serve makes one per
// policy snapshot over its own store handle; calibration is taken at
// now() when it is made, history is read as plans need it.
func estimatorOver(ctx context.Context, cfg *loadedConfig, p *estimateParams, r costgate.CostReader, now func() time.Time) (*pricing.Estimator, error) {
	snap := orDefault(p.snapshot, cfg.Pricing.Snapshot)
	cat := pricing.Default()
	if snap != "" {
		c, err := pricing.Load(snap)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		cat = c
	}
	if cur := cfg.Pricing.Currency; cur != "" && cur != cat.Currency() {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("pricing.currency is %s but the price snapshot %s is in %s", cur, cat.ID(), cat.Currency())}
	}
	opts := pricing.Options{Now: now, Logger: slog.Default(), Registry: priceRegistry()}
	if uf := orDefault(p.usageFile, cfg.Pricing.UsageFile); uf != "" {
		u, err := pricing.LoadUsageFile(uf)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		opts.Usage = u
	}
	if r != nil && !p.noCalibration && cfg.Pricing.calibrate() {
		t := now()
		cal, err := pricing.Calibrate(ctx, r, t)
		if err != nil {
			return nil, err
		}
		opts.Calibration = cal
		opts.History = pricing.NewStoreHistory(r, t, nil)
	}
	return estimators.New(cat, opts), nil
}

// plannedResources maps the gate's view of a plan to the estimators'
// input: plan values before and after, the region (the resource's own
// attributes, else its provider configuration's), the account, the
// effective tags and the configuration references between resources.
//
// needValues, when not nil, says which resources need their plan values
// decoded; the others (free types, data sources) keep only their
// address, type and action, which is all the estimators read of them.
func plannedResources(in *gate.Input, needValues func(*gate.Resource) bool) ([]costgate.PlannedResource, error) {
	reg := priceRegistry()
	return plannedResourcesFor(in, needValues, reg.FollowsReferences, reg.ReadsValues, reg.AttributeKeys())
}

func anyReferring(in *gate.Input, referring func(string) bool) bool {
	for i := range in.Resources {
		if referring(in.Resources[i].Type) {
			return true
		}
	}
	return false
}

// providerConfigs is the provider configurations of a plan's typed
// configuration as pricing.NewPlanConfig takes them.
func providerConfigs(c *tfjson.Config) map[string]pricing.ProviderConfig {
	if c == nil {
		return nil
	}
	out := make(map[string]pricing.ProviderConfig, len(c.ProviderConfigs))
	expr := func(pc *tfjson.ProviderConfig, name string) pricing.Expression {
		e := pc.Expressions[name]
		if e == nil || e.ExpressionData == nil {
			return pricing.Expression{}
		}
		return pricing.Expression{ConstantValue: e.ConstantValue, References: e.References}
	}
	for key, pc := range c.ProviderConfigs {
		if pc == nil {
			continue
		}
		out[key] = pricing.ProviderConfig{Name: pc.Name, Region: expr(pc, "region"), Location: expr(pc, "location")}
	}
	return out
}

var identityKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range pricing.IdentityAttributes {
		m[k] = true
	}
	return m
}()

// plannedResourcesFor is plannedResources collecting configuration
// references from the types referring accepts, and plan values only of
// the types readsValues accepts (the others get IdentityAttributes);
// nil accepts every type. Of the values read, only the members named in
// attrs are kept (nil keeps all): most attributes of a large plan are
// never priced, and a member left out costs no map entry.
func plannedResourcesFor(in *gate.Input, needValues func(*gate.Resource) bool, referring, readsValues func(string) bool, attrs map[string]bool) ([]costgate.PlannedResource, error) {
	vars := map[string]any{}
	for k, v := range in.Plan.Typed.Variables {
		if v != nil {
			vars[k] = v.Value
		}
	}
	// The configuration gives regions (its provider configurations) and
	// references. Without a resource whose references the estimators
	// follow, only the regions are read, from the provider configurations
	// ParsePlan already decoded; otherwise the configuration parses
	// beside the values, and each worker, done with its resources'
	// values, waits for it to place them.
	type parsed struct {
		pc  *pricing.PlanConfig
		err error
	}
	var cfg parsed
	cfgDone := make(chan struct{})
	if referring != nil && !anyReferring(in, referring) {
		cfg.pc = pricing.NewPlanConfig(providerConfigs(in.Plan.Typed.Config), vars, referring)
		close(cfgDone)
	} else {
		var cfgRaw []byte
		switch c := in.Plan.Raw["configuration"].(type) {
		case json.RawMessage:
			cfgRaw = c
		case nil:
		default:
			b, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("%s: configuration: %w", in.Plan.Name, err)
			}
			cfgRaw = b
		}
		go func() {
			defer close(cfgDone)
			cfg.pc, cfg.err = pricing.ParsePlanConfigFor(cfgRaw, vars, referring)
		}()
	}
	out := make([]costgate.PlannedResource, len(in.Resources))
	need := make([]bool, len(in.Resources))
	errs := make([]error, len(in.Resources))
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(in.Resources)/500))
	chunk := (len(in.Resources) + workers - 1) / max(workers, 1)
	for lo := 0; lo < len(in.Resources); lo += chunk {
		hi := min(lo+chunk, len(in.Resources))
		wg.Add(1)
		go func() {
			defer wg.Done()
			mr := in.Plan.MemberReader()
			for i := lo; i < hi; i++ {
				r := &in.Resources[i]
				pr := &out[i]
				pr.Address, pr.Module, pr.Type, pr.Name, pr.Mode = r.Address, r.Module, r.Type, r.Name, r.Mode
				pr.ProviderName, pr.Action = r.Provider, r.Action
				if needValues != nil && !needValues(r) {
					continue // free: the estimators read neither its values nor its tags
				}
				if len(r.Tags) > 0 {
					pr.Tags = make(map[string]string, len(r.Tags))
					for k, v := range r.Tags {
						if v != nil {
							pr.Tags[k] = *v
						}
					}
				}
				need[i] = true
				// Attribute values stay raw until an estimator reads
				// one (pricing.Value decodes it): estimators look at a
				// few attributes of resources that have dozens.
				var err error
				switch {
				case readsValues != nil && !readsValues(r.Type):
					// Their estimators read no attribute: the identity
					// ones place them (region, account, ids), and none
					// of those is asked of after_unknown.
					pr.Before, pr.After, err = mr.ReadKnown(i, identityKeys)
				case attrs != nil:
					pr.Before, pr.After, pr.AfterUnknown, err = mr.ReadOnly(i, attrs)
				default:
					pr.Before, pr.After, pr.AfterUnknown, err = mr.Read(i)
				}
				if err != nil {
					errs[i] = err
					continue
				}
			}
			<-cfgDone
			if cfg.err != nil {
				return
			}
			for i := lo; i < hi; i++ {
				if need[i] && errs[i] == nil {
					place(&in.Resources[i], &out[i], cfg.pc)
				}
			}
		}()
	}
	wg.Wait()
	<-cfgDone
	if cfg.err != nil {
		return nil, fmt.Errorf("%s: %w", in.Plan.Name, cfg.err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// place sets where a planned resource is: its region (its own
// attributes, else its provider configuration's), account and the
// references of its configuration.
func place(r *gate.Resource, pr *costgate.PlannedResource, pc *pricing.PlanConfig) {
	vals := pr.After
	if vals == nil {
		vals = pr.Before
	}
	pr.Region = pricing.ResourceRegion(r.Type, vals)
	if pr.Region == "" {
		pr.Region = pc.ProviderRegion(r.ProviderConfigKey, r.Module, r.Provider)
	}
	pr.Account = pricing.ResourceAccount(r.Type, vals)
	pr.References = pc.References(r.Address)
}
