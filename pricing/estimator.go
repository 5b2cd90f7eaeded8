package pricing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// TypeFunc estimates one side of a resource of one type: a mapping from
// plan values to typed attributes, then the pricing of those attributes.
// An error marks the side unpriced and says why (see Unpriced).
type TypeFunc func(env *Env, s Side) (*Result, error)

// Result is the cost of one side of a resource at list prices.
type Result struct {
	Components  []costgate.CostComponent
	Assumptions []string
}

// Env is what a TypeFunc may use besides the resource.
type Env struct {
	Pricer Pricer
	// Plan finds the resource's related resources (launch templates,
	// autoscaling targets, ...).
	Plan *PlanIndex
	// Usage is the usage the usage file gives for the resource (empty
	// when none).
	Usage Usage
	// Now is the estimate's clock (RDS Extended Support depends on the
	// date).
	Now time.Time
	// memo holds the estimates of value-free resources by what they
	// depend on (see Estimator.resource); nil: none kept.
	memo map[string]costgate.ResourceEstimate
}

// Registry maps resource types to their estimators and lists the types
// that cost nothing by themselves.
type Registry struct {
	types        map[string]TypeFunc
	free         map[string]bool
	freePrefixes []string
	related      map[string]bool
	referring    map[string]bool
	valueless    map[string]bool
	attributes   map[string]bool // ReadsAttributes; nil: any
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: map[string]TypeFunc{}, free: map[string]bool{}, related: map[string]bool{}, referring: map[string]bool{}, valueless: map[string]bool{}}
}

// ValuesUnread marks types whose estimators read none of their plan
// values (usage-based ones priced from a usage file or history): a plan
// reader gives them only IdentityAttributes, which the region, account
// and id of a resource come from.
func (r *Registry) ValuesUnread(types ...string) {
	for _, t := range types {
		r.valueless[t] = true
	}
}

// ReadsValues reports whether the estimators read typ's plan values
// beyond IdentityAttributes.
func (r *Registry) ReadsValues(typ string) bool { return !r.valueless[typ] }

// ReadsAttributes declares every top-level plan attribute name the
// estimators may read, of any type (package estimators declares the
// string literals of the estimator packages, kept current by a test). A
// plan reader may then keep only these members of a resource's values:
// most of a large plan's attributes are never priced.
func (r *Registry) ReadsAttributes(names ...string) {
	if r.attributes == nil {
		r.attributes = make(map[string]bool, len(names)+len(IdentityAttributes))
		for _, n := range IdentityAttributes {
			r.attributes[n] = true
		}
	}
	for _, n := range names {
		r.attributes[n] = true
	}
}

// AttributeKeys returns the attribute names ReadsAttributes declared,
// IdentityAttributes included, or nil when none were (the estimators
// may then read any). The map must not be modified.
func (r *Registry) AttributeKeys() map[string]bool { return r.attributes }

// IdentityAttributes are the plan attributes ResourceRegion and
// ResourceAccount read, and the ids a decision log keeps (arn, id,
// self_link).
var IdentityAttributes = []string{"region", "availability_zone", "location", "zone", "arn", "id", "project", "self_link"}

// Referring marks the types whose configuration references the
// estimators follow (PlanIndex.Referenced from them, or Referrers of
// them): an autoscaling group's launch_template, an autoscaling
// target's resource. ParsePlanConfig collects references for these
// types only.
func (r *Registry) Referring(types ...string) {
	for _, t := range types {
		r.referring[t] = true
	}
}

// FollowsReferences reports whether typ was marked Referring.
func (r *Registry) FollowsReferences(typ string) bool { return r.referring[typ] }

// Related marks free types whose plan values other estimators read (a
// launch template, for its autoscaling group).
func (r *Registry) Related(types ...string) {
	for _, t := range types {
		r.related[t] = true
	}
}

// NeedsValues reports whether the estimators read a type's plan values:
// a plan reader may skip decoding them for the other types.
func (r *Registry) NeedsValues(typ string) bool {
	return r.related[typ] || !r.IsFree(typ)
}

// Register sets the estimator of a resource type.
func (r *Registry) Register(typ string, fn TypeFunc) { r.types[typ] = fn }

// Free lists types that cost nothing by themselves: they are priced at
// exactly 0 with no components.
func (r *Registry) Free(types ...string) {
	for _, t := range types {
		r.free[t] = true
	}
}

// FreePrefix marks every type with one of the prefixes free (providers
// whose resources never bill, such as random_ or null_).
func (r *Registry) FreePrefix(prefixes ...string) {
	r.freePrefixes = append(r.freePrefixes, prefixes...)
}

// IsFree reports whether a type costs nothing by itself.
func (r *Registry) IsFree(typ string) bool {
	if r.free[typ] {
		return true
	}
	for _, p := range r.freePrefixes {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// Supports reports whether a type has an estimator.
func (r *Registry) Supports(typ string) bool { _, ok := r.types[typ]; return ok }

// Types lists the types with an estimator, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.types))
	for t := range r.types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// History prices usage-based resources from billing history: the average
// monthly cost of similar resources (same type and tags) over recent
// days. StoreHistory implements it over a costgate.CostReader.
type History interface {
	MonthlyCost(ctx context.Context, r *costgate.PlannedResource, family string) (HistoryCost, bool, error)
}

// HistoryCost is what history says a resource costs per month.
type HistoryCost struct {
	List, Effective costgate.Money
	// Resources is the number of similar resources averaged; Days the
	// window.
	Resources int
	Days      int
	// Match says which resources were taken as similar.
	Match string
}

// Options configure an Estimator.
type Options struct {
	// Registry holds the type estimators (required).
	Registry *Registry
	// Usage gives usage for usage-based resources (optional).
	Usage *UsageFile
	// History prices usage-based resources without usage from billing
	// history (optional).
	History History
	// Calibration turns list prices into effective ones (optional).
	Calibration *Calibration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger gets debug notes (default slog.Default()).
	Logger *slog.Logger

	noMemo bool // tests: price every resource itself
}

// Estimator prices plans from a catalog; it implements
// costgate.Estimator and is safe for concurrent use.
type Estimator struct {
	cat  *Catalog
	opts Options
	log  *slog.Logger
}

var _ costgate.Estimator = (*Estimator)(nil)

// NewEstimator returns an Estimator over a catalog.
func NewEstimator(cat *Catalog, opts Options) *Estimator {
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Estimator{cat: cat, opts: opts, log: log.With("component", "pricing")}
}

// Catalog returns the estimator's catalog.
func (e *Estimator) Catalog() *Catalog { return e.cat }

// Estimate prices every resource before and after the change.
func (e *Estimator) Estimate(ctx context.Context, resources []costgate.PlannedResource) (*costgate.PlanEstimate, error) {
	out := &costgate.PlanEstimate{
		Currency:      e.cat.Currency(),
		PriceSnapshot: e.cat.ID(),
		Resources:     make([]costgate.ResourceEstimate, len(resources)),
		Unpriced:      []string{},
	}
	if e.opts.Calibration != nil {
		out.Calibration = e.opts.Calibration.String()
	}
	plan, now := NewPlanIndex(resources), e.opts.Now()
	// Resources are estimated independently (the plan index is read-only,
	// the catalog's cache is safe for concurrent use): on every core, in
	// chunks, each worker with an Env of its own.
	errs := make([]error, len(resources))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(resources)/256))
	chunk := (len(resources) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(resources); lo += chunk {
		hi := min(lo+chunk, len(resources))
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := &Env{Pricer: NewPricer(e.cat), Plan: plan, Now: now}
			if !e.opts.noMemo {
				env.memo = map[string]costgate.ResourceEstimate{}
			}
			for i := lo; i < hi; i++ {
				if (i-lo)%256 == 0 {
					if err := ctx.Err(); err != nil {
						errs[i] = err
						return
					}
				}
				re, err := e.resource(ctx, env, &resources[i])
				if err != nil {
					errs[i] = err
					return
				}
				out.Resources[i] = re
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var before, after, lBefore, lAfter costgate.Sum
	for i := range out.Resources {
		re := &out.Resources[i]
		if !re.Priced {
			if !re.Free {
				out.Unpriced = append(out.Unpriced, resources[i].Address)
			}
			continue
		}
		before.Add(*re.MonthlyBefore)
		after.Add(*re.MonthlyAfter)
		lBefore.Add(*re.ListMonthlyBefore)
		lAfter.Add(*re.ListMonthlyAfter)
	}
	var ok [4]bool
	out.MonthlyBefore, ok[0] = before.Money()
	out.MonthlyAfter, ok[1] = after.Money()
	out.ListMonthlyBefore, ok[2] = lBefore.Money()
	out.ListMonthlyAfter, ok[3] = lAfter.Money()
	for _, o := range ok {
		if !o {
			return nil, fmt.Errorf("estimate plan: total: %w", costgate.ErrMoneyRange)
		}
	}
	out.MonthlyDelta = out.MonthlyAfter - out.MonthlyBefore
	out.ListMonthlyDelta = out.ListMonthlyAfter - out.ListMonthlyBefore
	return out, nil
}

func zero() *costgate.Money { var m costgate.Money; return &m }

// sideCost is one side's priced result.
type sideCost struct {
	components  []costgate.CostComponent
	assumptions []string
	list, eff   *costgate.Money // nil: unpriced
	partial     bool
	usageBased  bool
	reason      string
}

func (e *Estimator) resource(ctx context.Context, env *Env, r *costgate.PlannedResource) (costgate.ResourceEstimate, error) {
	re := costgate.ResourceEstimate{Address: r.Address, Type: r.Type, Action: r.Action, Components: []costgate.CostComponent{}}
	if r.Mode == "data" || r.Action == costgate.ActionRead || e.opts.Registry.IsFree(r.Type) {
		re.Priced, re.Free = true, true
		z := new([6]costgate.Money) // one allocation for the six zeros
		re.MonthlyBefore, re.MonthlyAfter, re.MonthlyDelta = &z[0], &z[1], &z[2]
		re.ListMonthlyBefore, re.ListMonthlyAfter, re.ListMonthlyDelta = &z[3], &z[4], &z[5]
		return re, nil
	}
	fn, ok := e.opts.Registry.types[r.Type]
	if !ok {
		re.Reason = fmt.Sprintf("%s is not supported by costgate's estimators yet", r.Type)
		return re, nil
	}
	env.Usage = e.opts.Usage.For(r)
	// Resources of a type whose estimator reads no plan values (priced
	// from usage alone: S3 buckets, log groups), without usage of their
	// own and without billing history, cost what every other one of
	// them in the same region, account and action costs: price one and
	// share its result (a plan may hold thousands).
	var memoKey string
	if env.memo != nil && e.opts.Registry.valueless[r.Type] && !env.Usage.Has() && e.opts.History == nil && r.Region != "" {
		memoKey = r.Type + "\x00" + r.Action + "\x00" + r.Region + "\x00" + r.Account + "\x00" + env.Usage.Source +
			"\x00" + strconv.FormatBool(r.Before != nil) + strconv.FormatBool(r.After != nil)
		if m, ok := env.memo[memoKey]; ok {
			m.Address = r.Address
			return m, nil
		}
	}
	needBefore, needAfter := false, false
	switch r.Action {
	case costgate.ActionCreate:
		needAfter = true
	case costgate.ActionDelete:
		needBefore = true
	default: // update, replace, no-op
		needBefore, needAfter = true, true
	}
	var b, a *sideCost
	var err error
	if needAfter {
		if a, err = e.side(ctx, env, fn, AfterSide(r)); err != nil {
			return re, err
		}
	}
	if needBefore {
		if r.Action == costgate.ActionNoOp && a != nil {
			b = a
		} else if b, err = e.side(ctx, env, fn, BeforeSide(r)); err != nil {
			return re, err
		}
	}
	missing := &sideCost{list: zero(), eff: zero()}
	if b == nil {
		b = missing
	}
	if a == nil {
		a = missing
	}
	re.MonthlyBefore, re.MonthlyAfter = b.eff, a.eff
	re.ListMonthlyBefore, re.ListMonthlyAfter = b.list, a.list
	re.Priced = b.list != nil && a.list != nil
	if re.Priced {
		d, ld := *a.eff-*b.eff, *a.list-*b.list
		re.MonthlyDelta, re.ListMonthlyDelta = &d, &ld
	}
	re.UsageBased = a.usageBased || b.usageBased
	re.Partial = re.Priced && (a.partial || b.partial)
	switch {
	case needAfter:
		re.Components = a.components
		if needBefore && r.Action != costgate.ActionNoOp {
			re.BeforeComponents = b.components
		}
	default:
		re.Components = b.components
	}
	if re.Components == nil {
		re.Components = []costgate.CostComponent{}
	}
	re.Reason = joinReasons(b, a, needBefore && needAfter && r.Action != costgate.ActionNoOp)
	re.Assumptions = mergeAssumptions(a.assumptions, b.assumptions)
	if memoKey != "" {
		// Shared from here on, read-only: clipped so that an append
		// copies.
		re.Components = slices.Clip(re.Components)
		re.BeforeComponents = slices.Clip(re.BeforeComponents)
		re.Assumptions = slices.Clip(re.Assumptions)
		env.memo[memoKey] = re
	}
	return re, nil
}

func joinReasons(b, a *sideCost, both bool) string {
	switch {
	case !both || b.reason == a.reason:
		if a.reason != "" {
			return a.reason
		}
		return b.reason
	case b.reason == "":
		return "after: " + a.reason
	case a.reason == "":
		return "before: " + b.reason
	}
	return "before: " + b.reason + "; after: " + a.reason
}

func mergeAssumptions(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// side prices one side: the type's estimator, then usage from history,
// then calibration.
func (e *Estimator) side(ctx context.Context, env *Env, fn TypeFunc, s Side) (*sideCost, error) {
	if s.Values == nil {
		return &sideCost{reason: "no plan values on this side"}, nil
	}
	res, err := fn(env, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, costgate.ErrUnpriced) {
			e.log.Debug("estimate failed", "address", s.Resource.Address, "err", err)
		}
		return &sideCost{reason: err.Error()}, nil
	}
	sc := &sideCost{components: res.Components, assumptions: res.Assumptions}
	var unknown []string
	for _, c := range res.Components {
		if c.UsageBased {
			sc.usageBased = true
		}
		if c.MonthlyQuantity == nil {
			unknown = append(unknown, c.Name)
		}
	}
	if len(unknown) > 0 && len(unknown) == len(res.Components) && e.opts.History != nil {
		if err := e.fromHistory(ctx, sc, s.Resource); err != nil {
			return nil, err
		}
		if sc.list != nil {
			return sc, nil
		}
	}
	for i := range sc.components {
		e.calibrate(&sc.components[i], s.Resource.Account)
	}
	var list, eff costgate.Sum
	for _, c := range sc.components {
		if c.ListMonthly != nil {
			list.Add(*c.ListMonthly)
			eff.Add(*c.Monthly)
		}
	}
	if len(unknown) > 0 && len(unknown) == len(res.Components) {
		sc.reason = "usage-based, and no usage is known for " + strings.Join(unknown, ", ") +
			": give it in a usage file (pricing.usage_file) or collect billing history in the store"
		return sc, nil
	}
	if len(unknown) > 0 {
		sc.partial = true
		sc.reason = "not included, no usage known: " + strings.Join(unknown, ", ")
	}
	l, ok1 := list.Money()
	f, ok2 := eff.Money()
	if !ok1 || !ok2 {
		sc.reason = "monthly cost out of range"
		return sc, nil
	}
	sc.list, sc.eff = &l, &f
	return sc, nil
}

func (e *Estimator) fromHistory(ctx context.Context, sc *sideCost, r *costgate.PlannedResource) error {
	family := ""
	for _, c := range sc.components {
		if c.ServiceFamily != "" {
			family = c.ServiceFamily
			break
		}
	}
	hc, ok, err := e.opts.History.MonthlyCost(ctx, r, family)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.log.Warn("billing history unavailable", "address", r.Address, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	one := costgate.Quantity(costgate.NanosPerUnit)
	list, eff := hc.List, hc.Effective
	src := fmt.Sprintf("history: %d similar resources (%s), last %d days", hc.Resources, hc.Match, hc.Days)
	c := costgate.CostComponent{
		Name: "Usage-based charges (billing history)", Unit: "months", MonthlyQuantity: &one,
		ListUnitPrice: costgate.RateFromMoney(list), UnitPrice: costgate.RateFromMoney(eff),
		ListMonthly: &list, Monthly: &eff, UsageBased: true, UsageSource: src, ServiceFamily: family,
	}
	names := make([]string, 0, len(sc.components))
	for _, x := range sc.components {
		names = append(names, x.Name)
	}
	sc.assumptions = append(sc.assumptions, "no usage given for "+strings.Join(names, ", ")+"; priced from "+src)
	sc.components = []costgate.CostComponent{c}
	l, f := list, eff
	sc.list, sc.eff = &l, &f
	return nil
}

// calibrate sets a component's effective figures from its list ones.
func (e *Estimator) calibrate(c *costgate.CostComponent, account string) {
	if e.opts.Calibration == nil {
		return
	}
	ratio, ok := e.opts.Calibration.Ratio(account, c.ServiceFamily)
	if !ok {
		return
	}
	c.UnitPrice = c.ListUnitPrice.Mul(ratio)
	if c.ListMonthly != nil {
		m, err := ratio.Apply(*c.ListMonthly)
		if err != nil {
			return
		}
		c.Monthly = &m
	}
}
