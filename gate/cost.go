package gate

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"
)

// costIndex holds a plan estimate arranged for the input document:
// per-resource figures by address and exact totals per team and
// environment tag value.
type costIndex struct {
	est *costgate.PlanEstimate
	// byIndex[i] is the estimate of input.resources[i] when the estimate
	// lists the resources in input order (as the estimators return
	// them); otherwise byAddr finds them.
	byIndex []*costgate.ResourceEstimate
	byAddr  map[string]*costgate.ResourceEstimate
	byTeam  map[string]*groupSums
	byEnv   map[string]*groupSums
	teamTag string
	envTag  string
	// notEstimated is the cost object of a resource the estimate does not
	// list, free that of a free one (each made once: a plan may have
	// thousands).
	notEstimated, free func() *ast.Term
}

// Member names of the cost objects, made once.
var (
	kPriced, kFree, kUsageBased, kCurrency = ast.StringTerm("priced"), ast.StringTerm("free"), ast.StringTerm("usage_based"), ast.StringTerm("currency")
	kMonthlyBefore, kMonthlyAfter          = ast.StringTerm("monthly_before"), ast.StringTerm("monthly_after")
	kMonthlyDelta, kListMonthlyBefore      = ast.StringTerm("monthly_delta"), ast.StringTerm("list_monthly_before")
	kListMonthlyAfter, kListMonthlyDelta   = ast.StringTerm("list_monthly_after"), ast.StringTerm("list_monthly_delta")
	kComponents, kReason, kUnit            = ast.StringTerm("components"), ast.StringTerm("reason"), ast.StringTerm("unit")
	kQuantity, kUnitPrice, kMonthly        = ast.StringTerm("quantity"), ast.StringTerm("unit_price"), ast.StringTerm("monthly")
	kListUnitPrice, zeroMoney              = ast.StringTerm("list_unit_price"), ast.NumberTerm(json.Number("0"))
)

// isFree reports whether re is the estimate of a type that costs
// nothing by itself: priced at exactly zero on both sides, without
// components, usage or a reason.
func isFree(re *costgate.ResourceEstimate) bool {
	zero := func(m *costgate.Money) bool { return m != nil && *m == 0 }
	return re.Free && re.Priced && !re.UsageBased && !re.Partial && len(re.Components) == 0 && len(re.BeforeComponents) == 0 && re.Reason == "" &&
		zero(re.MonthlyBefore) && zero(re.MonthlyAfter) && zero(re.MonthlyDelta) &&
		zero(re.ListMonthlyBefore) && zero(re.ListMonthlyAfter) && zero(re.ListMonthlyDelta)
}

// groupSums are exact monthly totals of a group of resources.
type groupSums struct {
	before, after, delta costgate.Sum
	unpriced             int
}

// newCostIndex arranges est for the resources of in. Resources group by
// their effective teamTag and envTag values ("" when absent or unknown).
func newCostIndex(in *Input, est *costgate.PlanEstimate, teamTag, envTag string) *costIndex {
	if est == nil {
		return nil
	}
	if teamTag == "" {
		teamTag = "team"
	}
	if envTag == "" {
		envTag = "env"
	}
	c := &costIndex{est: est,
		byTeam: map[string]*groupSums{}, byEnv: map[string]*groupSums{}, teamTag: teamTag, envTag: envTag}
	c.notEstimated = sync.OnceValue(func() *ast.Term {
		return ast.ObjectTerm(
			[2]*ast.Term{kPriced, ast.InternedTerm(false)},
			[2]*ast.Term{kFree, ast.InternedTerm(false)},
			[2]*ast.Term{kCurrency, ast.StringTerm(est.Currency)},
			[2]*ast.Term{kMonthlyBefore, ast.InternedNullTerm},
			[2]*ast.Term{kMonthlyAfter, ast.InternedNullTerm},
			[2]*ast.Term{kMonthlyDelta, ast.InternedNullTerm},
			[2]*ast.Term{kComponents, ast.ArrayTerm()},
			[2]*ast.Term{kReason, ast.StringTerm("not estimated")},
		)
	})
	c.free = sync.OnceValue(func() *ast.Term {
		return ast.ObjectTerm(
			[2]*ast.Term{kPriced, ast.InternedTerm(true)},
			[2]*ast.Term{kFree, ast.InternedTerm(true)},
			[2]*ast.Term{kUsageBased, ast.InternedTerm(false)},
			[2]*ast.Term{kCurrency, ast.StringTerm(est.Currency)},
			[2]*ast.Term{kMonthlyBefore, zeroMoney},
			[2]*ast.Term{kMonthlyAfter, zeroMoney},
			[2]*ast.Term{kMonthlyDelta, zeroMoney},
			[2]*ast.Term{kListMonthlyBefore, zeroMoney},
			[2]*ast.Term{kListMonthlyAfter, zeroMoney},
			[2]*ast.Term{kListMonthlyDelta, zeroMoney},
			[2]*ast.Term{kComponents, ast.ArrayTerm()},
			[2]*ast.Term{kReason, ast.StringTerm("")},
		)
	})
	aligned := len(est.Resources) == len(in.Resources)
	for i := 0; aligned && i < len(in.Resources); i++ {
		aligned = est.Resources[i].Address == in.Resources[i].Address
	}
	if aligned {
		c.byIndex = make([]*costgate.ResourceEstimate, len(in.Resources))
		for i := range est.Resources {
			c.byIndex[i] = &est.Resources[i]
		}
	} else {
		c.byAddr = make(map[string]*costgate.ResourceEstimate, len(est.Resources))
		for i := range est.Resources {
			c.byAddr[est.Resources[i].Address] = &est.Resources[i]
		}
	}
	for i := range in.Resources {
		r := &in.Resources[i]
		re := c.lookup(i, r.Address)
		if re == nil {
			continue
		}
		add := func(groups map[string]*groupSums, key string) {
			g := groups[key]
			if g == nil {
				g = &groupSums{}
				groups[key] = g
			}
			if !re.Priced {
				if !re.Free {
					g.unpriced++
				}
				return
			}
			addMoney(&g.before, re.MonthlyBefore)
			addMoney(&g.after, re.MonthlyAfter)
			addMoney(&g.delta, re.MonthlyDelta)
		}
		add(c.byTeam, tagValue(r, teamTag))
		add(c.byEnv, tagValue(r, envTag))
	}
	return c
}

func addMoney(s *costgate.Sum, m *costgate.Money) {
	if m != nil {
		s.Add(*m)
	}
}

func tagValue(r *Resource, key string) string {
	if v := r.Tags[key]; v != nil {
		return *v
	}
	return ""
}

// moneyTerm is an exact OPA number for m, or null.
func moneyTerm(m *costgate.Money) *ast.Term {
	if m == nil {
		return ast.InternedNullTerm
	}
	if *m == 0 {
		return zeroMoney
	}
	return ast.NumberTerm(json.Number(m.String()))
}

func sumTerm(s costgate.Sum) *ast.Term { return ast.NumberTerm(json.Number(s.String())) }

// lookup is the estimate of input.resources[i] (at address), or nil.
func (c *costIndex) lookup(i int, address string) *costgate.ResourceEstimate {
	if c.byIndex != nil {
		if i >= 0 && i < len(c.byIndex) {
			return c.byIndex[i]
		}
		return nil
	}
	return c.byAddr[address]
}

// resourceCost is input.resources[i].cost. Equal estimates share one
// term through tc, the calling goroutine's cache (a shared one behind a
// lock cost more than it saved).
func (c *costIndex) resourceCost(i int, address string, tc *termCache) *ast.Term {
	re := c.lookup(i, address)
	if re == nil {
		return c.notEstimated()
	}
	if isFree(re) {
		return c.free()
	}
	// Equal estimates (free types, unpriced ones, the same instance type
	// twice) share one term, found by a key of everything the term
	// holds. Most resources of a large plan cost nothing by themselves
	// or are unpriced for one reason: without components, the key is
	// short.
	kb := append(append(tc.buf[:0], c.est.Currency...), 0)
	kb = appendBools(kb, re.Priced, re.Free, re.UsageBased)
	for _, m := range [...]*costgate.Money{re.MonthlyBefore, re.MonthlyAfter, re.MonthlyDelta, re.ListMonthlyBefore, re.ListMonthlyAfter, re.ListMonthlyDelta} {
		kb = appendOptMoney(kb, m)
	}
	kb = append(append(kb, re.Reason...), 0)
	for _, cc := range re.Components {
		kb = append(append(kb, cc.Name...), 1)
		kb = append(append(kb, cc.Unit...), 1)
		if cc.MonthlyQuantity == nil {
			kb = append(kb, '-')
		} else {
			kb = strconv.AppendInt(kb, int64(*cc.MonthlyQuantity), 10)
		}
		kb = cc.UnitPrice.AppendKey(append(kb, 1))
		kb = cc.ListUnitPrice.AppendKey(append(kb, 1))
		kb = appendOptMoney(append(kb, 1), cc.Monthly)
		kb = appendBools(kb, cc.UsageBased)
	}
	tc.buf = kb
	t, ok := tc.costs[string(kb)]
	if !ok {
		if t, ok = sharedCosts.get(kb); !ok {
			t = c.build(re, tc)
			sharedCosts.put(kb, t)
		}
		tc.costs[string(kb)] = t
	}
	return t
}

// sharedCosts keeps resources' cost objects across inputs, by the same
// key as termCache.costs (which includes the currency). A server judges
// plan after plan of the same resource types at the same prices: the
// objects (seven members per component, prices formatted from exact
// rationals) were 5% of /v1/check's CPU on a 100-resource plan, built
// anew for every request. Terms are immutable once built, so inputs
// evaluated at once may share them.
var sharedCosts = &boundedTerms{max: 4096}

// boundedTerms is a bounded map of terms: when it holds max, it is emptied
// and refills with what is asked for next (cheaper than recency
// bookkeeping on every hit; the working set of one price catalog is far
// smaller than max).
type boundedTerms struct {
	mu  sync.RWMutex
	m   map[string]*ast.Term
	max int
}

func (c *boundedTerms) get(key []byte) (*ast.Term, bool) {
	c.mu.RLock()
	t, ok := c.m[string(key)]
	c.mu.RUnlock()
	return t, ok
}

func (c *boundedTerms) put(key []byte, t *ast.Term) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]*ast.Term, min(c.max, 256))
	}
	c.m[string(key)] = t
	c.mu.Unlock()
}

func (c *boundedTerms) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// build makes the cost object of re.
func (c *costIndex) build(re *costgate.ResourceEstimate, tc *termCache) *ast.Term {
	comps := make([]*ast.Term, len(re.Components))
	for i, cc := range re.Components {
		qty := ast.InternedNullTerm
		if cc.MonthlyQuantity != nil {
			qty = ast.NumberTerm(json.Number(cc.MonthlyQuantity.String()))
		}
		comps[i] = ast.ObjectTerm(
			[2]*ast.Term{kName, tc.str(cc.Name)},
			[2]*ast.Term{kUnit, tc.str(cc.Unit)},
			[2]*ast.Term{kQuantity, qty},
			[2]*ast.Term{kUnitPrice, tc.rate(cc.UnitPrice)},
			[2]*ast.Term{kListUnitPrice, tc.rate(cc.ListUnitPrice)},
			[2]*ast.Term{kMonthly, moneyTerm(cc.Monthly)},
			[2]*ast.Term{kUsageBased, ast.InternedTerm(cc.UsageBased)},
		)
	}
	return ast.ObjectTerm(
		[2]*ast.Term{kPriced, ast.InternedTerm(re.Priced)},
		[2]*ast.Term{kFree, ast.InternedTerm(re.Free)},
		[2]*ast.Term{kUsageBased, ast.InternedTerm(re.UsageBased)},
		[2]*ast.Term{kCurrency, tc.str(c.est.Currency)},
		[2]*ast.Term{kMonthlyBefore, moneyTerm(re.MonthlyBefore)},
		[2]*ast.Term{kMonthlyAfter, moneyTerm(re.MonthlyAfter)},
		[2]*ast.Term{kMonthlyDelta, moneyTerm(re.MonthlyDelta)},
		[2]*ast.Term{kListMonthlyBefore, moneyTerm(re.ListMonthlyBefore)},
		[2]*ast.Term{kListMonthlyAfter, moneyTerm(re.ListMonthlyAfter)},
		[2]*ast.Term{kListMonthlyDelta, moneyTerm(re.ListMonthlyDelta)},
		[2]*ast.Term{kComponents, ast.ArrayTerm(comps...)},
		[2]*ast.Term{kReason, tc.str(re.Reason)},
	)
}

func appendBools(b []byte, vs ...bool) []byte {
	for _, v := range vs {
		if v {
			b = append(b, 't')
		} else {
			b = append(b, 'f')
		}
	}
	return b
}

func appendOptMoney(b []byte, m *costgate.Money) []byte {
	if m == nil {
		return append(b, '-', 0)
	}
	return append(strconv.AppendInt(b, int64(*m), 10), 0)
}

// totals is input.cost.
func (c *costIndex) totals() ast.Value {
	unpriced := make([]*ast.Term, len(c.est.Unpriced))
	for i, a := range c.est.Unpriced {
		unpriced[i] = ast.StringTerm(a)
	}
	groups := func(m map[string]*groupSums) *ast.Term {
		pairs := make([][2]*ast.Term, 0, len(m))
		for _, k := range sortedKeys(m) {
			g := m[k]
			pairs = append(pairs, [2]*ast.Term{ast.StringTerm(k), ast.ObjectTerm(
				[2]*ast.Term{ast.StringTerm("monthly_before"), sumTerm(g.before)},
				[2]*ast.Term{ast.StringTerm("monthly_after"), sumTerm(g.after)},
				[2]*ast.Term{ast.StringTerm("monthly_delta"), sumTerm(g.delta)},
				[2]*ast.Term{ast.StringTerm("unpriced"), ast.IntNumberTerm(g.unpriced)},
			)})
		}
		return ast.ObjectTerm(pairs...)
	}
	e := c.est
	return ast.NewObject(
		[2]*ast.Term{ast.StringTerm("currency"), ast.StringTerm(e.Currency)},
		[2]*ast.Term{ast.StringTerm("price_snapshot"), ast.StringTerm(e.PriceSnapshot)},
		[2]*ast.Term{ast.StringTerm("monthly_before"), moneyTerm(&e.MonthlyBefore)},
		[2]*ast.Term{ast.StringTerm("monthly_after"), moneyTerm(&e.MonthlyAfter)},
		[2]*ast.Term{ast.StringTerm("monthly_delta"), moneyTerm(&e.MonthlyDelta)},
		[2]*ast.Term{ast.StringTerm("list_monthly_before"), moneyTerm(&e.ListMonthlyBefore)},
		[2]*ast.Term{ast.StringTerm("list_monthly_after"), moneyTerm(&e.ListMonthlyAfter)},
		[2]*ast.Term{ast.StringTerm("list_monthly_delta"), moneyTerm(&e.ListMonthlyDelta)},
		[2]*ast.Term{ast.StringTerm("unpriced"), ast.ArrayTerm(unpriced...)},
		[2]*ast.Term{ast.StringTerm("team_tag"), ast.StringTerm(c.teamTag)},
		[2]*ast.Term{ast.StringTerm("env_tag"), ast.StringTerm(c.envTag)},
		[2]*ast.Term{ast.StringTerm("by_team"), groups(c.byTeam)},
		[2]*ast.Term{ast.StringTerm("by_env"), groups(c.byEnv)},
	)
}

// decisionCost is the decision's cost section.
func (c *costIndex) decisionCost() *costgate.CostTotals {
	unpriced := append([]string{}, c.est.Unpriced...)
	return &costgate.CostTotals{
		Currency:      c.est.Currency,
		MonthlyBefore: c.est.MonthlyBefore,
		MonthlyAfter:  c.est.MonthlyAfter,
		MonthlyDelta:  c.est.MonthlyDelta,
		Unpriced:      unpriced,
	}
}

// rate is the number term of a unit price, made once per distinct price
// (formatting a rate exactly is dear, and plans repeat prices).
func (c *termCache) rate(r costgate.Rate) *ast.Term {
	c.rbuf = r.AppendKey(c.rbuf[:0])
	if t, ok := c.rates[string(c.rbuf)]; ok {
		return t
	}
	t := ast.NumberTerm(json.Number(r.String()))
	c.rates[string(c.rbuf)] = t
	return t
}
