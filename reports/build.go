package reports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// Defaults of Options.
const (
	DefaultTeamTag = "team"
	DefaultEnvTag  = "env"
	DefaultTopN    = 10
	DefaultMovers  = 5
)

// ErrFutureMonth reports a month that has not started yet.
var ErrFutureMonth = errors.New("month has not started")

// Options say which report to build and what to put in it.
type Options struct {
	Month costgate.Month
	// Team makes a team report: only line items whose TeamTag is Team.
	Team string
	// TeamTag and EnvTag are the tag keys of teams and environments
	// (defaults "team" and "env").
	TeamTag string
	EnvTag  string
	// Measure is the summed cost (default EffectiveCost).
	Measure costgate.Measure
	// Budgets are monthly budgets by team.
	Budgets map[string]costgate.Money
	// Waivers are the configured waivers; those expiring within 30 days
	// are listed in the gate section (with those seen in decisions).
	Waivers []costgate.Waiver
	// Decisions feeds the gate section; nil leaves it out.
	Decisions DecisionSource
	// Inventory helps match the gate's per-resource estimates with
	// billing when their ids were unknown at plan time; nil matches by
	// the ids the plans knew only.
	Inventory InventorySource
	// Now is the clock (default time.Now): it decides whether the month
	// is open and pins the forecast and waiver expiry.
	Now func() time.Time
	// TopN is the length of the top-resource lists (default 10); Movers
	// the number of increases and decreases (default 5).
	TopN   int
	Movers int
	// Parallel is how many store queries run at once (default 2).
	Parallel int
	Logger   *slog.Logger
}

type builder struct {
	r       costgate.CostReader
	opts    Options
	measure costgate.Measure
	month   costgate.Month
	prev    costgate.Month
	yearAgo costgate.Month
	now     time.Time
	open    bool
	// cmpDays is the number of days compared in earlier months (0: whole
	// months).
	cmpDays int

	mu   sync.Mutex
	gens map[uint64]bool
}

// Build computes the report from r. Every amount is an exact sum from r's
// queries; r should be one consistent view of the store (a snapshot) so
// that the figures agree with one another.
func Build(ctx context.Context, r costgate.CostReader, opts Options) (*Report, error) {
	if opts.Month.IsZero() {
		return nil, errors.New("build report: no month")
	}
	if opts.TeamTag == "" {
		opts.TeamTag = DefaultTeamTag
	}
	if opts.EnvTag == "" {
		opts.EnvTag = DefaultEnvTag
	}
	if opts.Measure == "" {
		opts.Measure = costgate.MeasureEffectiveCost
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TopN <= 0 {
		opts.TopN = DefaultTopN
	}
	if opts.Movers <= 0 {
		opts.Movers = DefaultMovers
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	b := &builder{r: r, opts: opts, measure: opts.Measure, month: opts.Month, prev: opts.Month.Prev(),
		yearAgo: costgate.Month{Year: opts.Month.Year - 1, Month: opts.Month.Month}, now: opts.Now().UTC(), gens: map[uint64]bool{}}
	if !b.now.After(b.month.Start()) {
		return nil, fmt.Errorf("build report %s: %w (now is %s)", b.month, ErrFutureMonth, b.now.Format(time.RFC3339))
	}
	b.open = b.now.Before(b.month.End())
	rep, err := b.build(ctx)
	if err != nil {
		return nil, fmt.Errorf("build report %s: %w", b.month, err)
	}
	return rep, nil
}

func (b *builder) build(ctx context.Context) (*Report, error) {
	rep := &Report{Version: ReportVersion, Month: b.month, Team: b.opts.Team, TeamTag: b.opts.TeamTag, EnvTag: b.opts.EnvTag,
		Measure: b.measure, GeneratedAt: b.now, Open: b.open}
	log := b.opts.Logger.With("component", "reports", "month", b.month.String(), "team", b.opts.Team)
	start := time.Now()

	// The daily totals of the month, the previous month and the same
	// month last year decide the totals, the comparison periods and the
	// forecast.
	daily, err := b.query(ctx, costgate.CostQuery{
		Filters: b.filters(in("month", b.month.String(), b.prev.String(), b.yearAgo.String())),
		GroupBy: []string{"day"},
	})
	if err != nil {
		return nil, err
	}
	days := map[string]costgate.Sum{}
	for _, row := range daily.Rows {
		days[row.Keys[0]] = row.Values[0]
	}
	b.dailyTotals(rep, days)

	// Everything else depends only on the periods: run it concurrently.
	var (
		byTeam, byAccount, byService, byEnv periodSums
		resCur, resPrev                     []costgate.CostRow
		currencies                          []string
		names                               map[string]string
		compl                               *complianceData
		teamDaily                           map[string]map[string]costgate.Sum
	)
	tasks := []func(context.Context) error{
		func(ctx context.Context) (err error) { byAccount, err = b.twoPeriods(ctx, "SubAccountId"); return },
		func(ctx context.Context) (err error) { byService, err = b.twoPeriods(ctx, "ServiceName"); return },
		func(ctx context.Context) (err error) { byEnv, err = b.twoPeriods(ctx, "tag:"+b.opts.EnvTag); return },
		func(ctx context.Context) (err error) { resCur, resPrev, err = b.periodRows(ctx, "ResourceId"); return },
		func(ctx context.Context) (err error) { currencies, err = b.currencies(ctx); return },
		func(ctx context.Context) (err error) { names, err = b.accountNames(ctx); return },
		func(ctx context.Context) (err error) { compl, err = b.compliance(ctx); return },
		func(ctx context.Context) (err error) { rep.Gate, err = b.gateActivity(ctx); return },
	}
	if b.opts.Team == "" {
		tasks = append(tasks, func(ctx context.Context) (err error) {
			byTeam, err = b.twoPeriods(ctx, "tag:"+b.opts.TeamTag)
			return
		})
		if b.open && len(b.opts.Budgets) > 0 {
			tasks = append(tasks, func(ctx context.Context) (err error) { teamDaily, err = b.teamDaily(ctx); return })
		}
	}
	if err := b.run(ctx, tasks); err != nil {
		return nil, err
	}

	rep.Currencies = currencies
	if len(currencies) > 1 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("The month's line items are billed in %d currencies (%s): the totals add them as they are.",
			len(currencies), strings.Join(currencies, ", ")))
	}
	accountLabel := func(k string) string {
		if k == "" {
			return "(no account)"
		}
		if n := names[k]; n != "" && n != k {
			return k + " " + n
		}
		return k
	}
	if byTeam.cur != nil {
		rep.ByTeam = b.lines(byTeam, rep.Total, untaggedLabel)
	}
	rep.ByAccount = b.lines(byAccount, rep.Total, accountLabel)
	rep.ByService = b.lines(byService, rep.Total, func(k string) string { return orNone(k) })
	rep.ByEnv = b.lines(byEnv, rep.Total, untaggedLabel)
	rep.ServiceMovers = b.movers(rep.ByService)

	// Resources are many (hundreds of thousands): select the top lists
	// without building a line for each.
	rep.TopResources, rep.ResourceMovers = b.topResources(resCur, resPrev, rep.Total)

	rep.Compliance = b.complianceReport(compl, rep, accountLabel)

	// Name the resources the report shows.
	if err := b.labelResources(ctx, rep); err != nil {
		return nil, err
	}
	rep.Budgets = b.budgets(rep, byTeam, teamDaily)

	if len(b.gens) == 1 {
		for g := range b.gens {
			rep.Generation = g
		}
	} else if len(b.gens) > 1 {
		rep.Notes = append(rep.Notes, "The store changed while the report was built; build it again from one snapshot for figures that agree.")
	}
	log.Debug("built report", "elapsed", time.Since(start), "total", rep.Total.Format(2))
	return rep, nil
}

// run runs the tasks, at most opts.Parallel at once, and returns the first
// error.
func (b *builder) run(ctx context.Context, tasks []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, b.opts.Parallel)
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if errs[i] = t(ctx); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

// query runs q with the report's measure and records the generation read.
func (b *builder) query(ctx context.Context, q costgate.CostQuery) (*costgate.CostResult, error) {
	q.Measures = []costgate.Measure{b.measure}
	start := time.Now()
	res, err := b.r.Query(ctx, q)
	b.opts.Logger.Debug("report query", "query", describe(q), "elapsed", time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", describe(q), err)
	}
	if len(res.Measures) != 1 {
		return nil, fmt.Errorf("query %s: %d measures in the result, want 1", describe(q), len(res.Measures))
	}
	for _, row := range res.Rows {
		if len(row.Keys) != len(q.GroupBy) || len(row.Values) != 1 {
			return nil, fmt.Errorf("query %s: malformed row %v", describe(q), row.Keys)
		}
	}
	b.mu.Lock()
	b.gens[res.Generation] = true
	b.mu.Unlock()
	return res, nil
}

func describe(q costgate.CostQuery) string {
	var parts []string
	for _, f := range q.Filters {
		s := f.String()
		if len(s) > 80 {
			s = s[:77] + "..."
		}
		parts = append(parts, s)
	}
	s := strings.Join(parts, " and ")
	if len(q.GroupBy) > 0 {
		s += " by " + strings.Join(q.GroupBy, ", ")
	}
	return s
}

// filters prepends the report's scope (the team) to extra.
func (b *builder) filters(extra ...costgate.CostFilter) []costgate.CostFilter {
	var out []costgate.CostFilter
	if b.opts.Team != "" {
		out = append(out, eq("tag:"+b.opts.TeamTag, b.opts.Team))
	}
	return append(out, extra...)
}

func eq(col, v string) costgate.CostFilter {
	return costgate.CostFilter{Op: costgate.FilterIn, Column: col, Values: []string{v}}
}

func in(col string, vs ...string) costgate.CostFilter {
	return costgate.CostFilter{Op: costgate.FilterIn, Column: col, Values: vs}
}

func tagAbsent(key string) costgate.CostFilter {
	return costgate.CostFilter{Op: costgate.FilterTagPresent, Column: "tag:" + key, Negate: true}
}

// periodSums are one column's sums in the report's period (Cur) and the
// compared period (Prev), by key.
type periodSums struct{ cur, prev map[string]costgate.Sum }

// periodRows sums the measure by col in the report's period and in the
// compared previous period, each result sorted by key. It runs two
// single-column queries: the store groups one column through dense
// slots, far faster than grouping by (month, col) when col has many
// values (resources).
func (b *builder) periodRows(ctx context.Context, col string) (cur, prev []costgate.CostRow, err error) {
	for i, f := range []costgate.CostFilter{eq("month", b.month.String()), b.prevFilter()} {
		res, err := b.query(ctx, costgate.CostQuery{Filters: b.filters(f), GroupBy: []string{col}})
		if err != nil {
			return nil, nil, err
		}
		rows := res.Rows
		if !sort.SliceIsSorted(rows, func(i, j int) bool { return rows[i].Keys[0] < rows[j].Keys[0] }) {
			sort.Slice(rows, func(i, j int) bool { return rows[i].Keys[0] < rows[j].Keys[0] })
		}
		if i == 0 {
			cur = rows
		} else {
			prev = rows
		}
	}
	return cur, prev, nil
}

// twoPeriods is periodRows as maps, for columns with few values.
func (b *builder) twoPeriods(ctx context.Context, col string) (periodSums, error) {
	cur, prev, err := b.periodRows(ctx, col)
	if err != nil {
		return periodSums{}, err
	}
	ps := periodSums{cur: make(map[string]costgate.Sum, len(cur)), prev: make(map[string]costgate.Sum, len(prev))}
	for _, r := range cur {
		ps.cur[r.Keys[0]] = r.Values[0]
	}
	for _, r := range prev {
		ps.prev[r.Keys[0]] = r.Values[0]
	}
	return ps, nil
}

// joinRows calls fn for every key of two key-sorted results, with its sum
// in each (zero where absent).
func joinRows(cur, prev []costgate.CostRow, fn func(key string, cur, prev costgate.Sum)) {
	i, j := 0, 0
	for i < len(cur) || j < len(prev) {
		switch {
		case j == len(prev) || i < len(cur) && cur[i].Keys[0] < prev[j].Keys[0]:
			fn(cur[i].Keys[0], cur[i].Values[0], costgate.Sum{})
			i++
		case i == len(cur) || prev[j].Keys[0] < cur[i].Keys[0]:
			fn(prev[j].Keys[0], costgate.Sum{}, prev[j].Values[0])
			j++
		default:
			fn(cur[i].Keys[0], cur[i].Values[0], prev[j].Values[0])
			i++
			j++
		}
	}
}

// prevFilter selects the compared period of the previous month: the
// whole month, or its first days for an open month.
func (b *builder) prevFilter() costgate.CostFilter {
	if !b.open {
		return eq("month", b.prev.String())
	}
	var days []string
	p := b.comparePeriod(b.prev)
	for t := p.From; t.Before(p.To); t = t.AddDate(0, 0, 1) {
		days = append(days, dayKey(t))
	}
	if len(days) == 0 { // no data in the open month yet: compare nothing
		return costgate.CostFilter{Op: costgate.FilterTimeRange, Column: "ChargePeriodStart", From: p.From, To: p.From.Add(time.Nanosecond)}
	}
	return in("day", days...)
}

// periodFilter selects the report's month and the compared period of the
// previous month: whole months, or the days of an open month.
func (b *builder) periodFilter() costgate.CostFilter {
	if !b.open {
		return in("month", b.month.String(), b.prev.String())
	}
	var days []string
	for d := 0; d < daysIn(b.month); d++ {
		days = append(days, dayKey(b.month.Start().AddDate(0, 0, d)))
	}
	p := b.comparePeriod(b.prev)
	for t := p.From; t.Before(p.To); t = t.AddDate(0, 0, 1) {
		days = append(days, dayKey(t))
	}
	return in("day", days...)
}

func (b *builder) currencies(ctx context.Context) ([]string, error) {
	res, err := b.query(ctx, costgate.CostQuery{Filters: b.filters(eq("month", b.month.String())), GroupBy: []string{"BillingCurrency"}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, row := range res.Rows {
		if row.Keys[0] != "" {
			out = append(out, row.Keys[0])
		}
	}
	sort.Strings(out)
	return out, nil
}

func (b *builder) accountNames(ctx context.Context) (map[string]string, error) {
	res, err := b.query(ctx, costgate.CostQuery{Filters: b.filters(b.periodFilter()), GroupBy: []string{"SubAccountId", "SubAccountName"}})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, row := range res.Rows {
		if row.Keys[1] != "" {
			out[row.Keys[0]] = row.Keys[1]
		}
	}
	return out, nil
}

// teamDaily sums the open month by day and team, for budget forecasts.
func (b *builder) teamDaily(ctx context.Context) (map[string]map[string]costgate.Sum, error) {
	res, err := b.query(ctx, costgate.CostQuery{Filters: b.filters(eq("month", b.month.String())), GroupBy: []string{"tag:" + b.opts.TeamTag, "day"}})
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]costgate.Sum{}
	for _, row := range res.Rows {
		m := out[row.Keys[0]]
		if m == nil {
			m = map[string]costgate.Sum{}
			out[row.Keys[0]] = m
		}
		m[row.Keys[1]] = row.Values[0]
	}
	return out, nil
}

// lines turns period sums into breakdown lines, largest first.
func (b *builder) lines(ps periodSums, total costgate.Sum, label func(string) string) []Line {
	keys := map[string]bool{}
	for k := range ps.cur {
		keys[k] = true
	}
	for k := range ps.prev {
		keys[k] = true
	}
	out := make([]Line, 0, len(keys))
	for k := range keys {
		l := Line{Key: k, Label: label(k), Current: ps.cur[k], Previous: ps.prev[k]}
		l.Delta = sub(l.Current, l.Previous)
		l.Pct, l.HasPct = pct(l.Delta, l.Previous)
		l.Share = share(l.Current, total)
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Current.Cmp(out[j].Current); c != 0 {
			return c > 0
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func (b *builder) movers(lines []Line) Movers {
	var m Movers
	for _, l := range lines {
		switch l.Delta.Sign() {
		case 1:
			m.Increases = append(m.Increases, l)
		case -1:
			m.Decreases = append(m.Decreases, l)
		}
	}
	sort.SliceStable(m.Increases, func(i, j int) bool {
		if c := m.Increases[i].Delta.Cmp(m.Increases[j].Delta); c != 0 {
			return c > 0
		}
		return m.Increases[i].Key < m.Increases[j].Key
	})
	sort.SliceStable(m.Decreases, func(i, j int) bool {
		if c := m.Decreases[i].Delta.Cmp(m.Decreases[j].Delta); c != 0 {
			return c < 0
		}
		return m.Decreases[i].Key < m.Decreases[j].Key
	})
	if len(m.Increases) > b.opts.Movers {
		m.Increases = m.Increases[:b.opts.Movers]
	}
	if len(m.Decreases) > b.opts.Movers {
		m.Decreases = m.Decreases[:b.opts.Movers]
	}
	return m
}

// ranked keeps the n best entries under less (a bounded selection: one
// pass, no sort of the whole input).
type ranked struct {
	n    int
	less func(x, y *Line) bool // x ranks before y
	top  []Line
}

func (r *ranked) offer(l *Line) {
	if r.n <= 0 {
		return
	}
	if len(r.top) == r.n && !r.less(l, &r.top[len(r.top)-1]) {
		return
	}
	i := sort.Search(len(r.top), func(i int) bool { return r.less(l, &r.top[i]) })
	if len(r.top) < r.n {
		r.top = append(r.top, Line{})
	}
	copy(r.top[i+1:], r.top[i:len(r.top)-1])
	r.top[i] = *l
}

// topResources selects the most expensive resources and the largest
// movers from per-resource sums; line items without a resource are left
// out.
func (b *builder) topResources(cur, prev []costgate.CostRow, total costgate.Sum) ([]Line, Movers) {
	byKey := func(x, y *Line) bool { return x.Key < y.Key }
	top := &ranked{n: b.opts.TopN, less: func(x, y *Line) bool {
		if c := x.Current.Cmp(y.Current); c != 0 {
			return c > 0
		}
		return byKey(x, y)
	}}
	up := &ranked{n: b.opts.Movers, less: func(x, y *Line) bool {
		if c := x.Delta.Cmp(y.Delta); c != 0 {
			return c > 0
		}
		return byKey(x, y)
	}}
	down := &ranked{n: b.opts.Movers, less: func(x, y *Line) bool {
		if c := x.Delta.Cmp(y.Delta); c != 0 {
			return c < 0
		}
		return byKey(x, y)
	}}
	visit := func(k string, c, p costgate.Sum) {
		if k == "" {
			return
		}
		l := Line{Key: k, Label: k, Current: c, Previous: p, Delta: sub(c, p)}
		if c.Sign() > 0 {
			top.offer(&l)
		}
		switch l.Delta.Sign() {
		case 1:
			up.offer(&l)
		case -1:
			down.offer(&l)
		}
	}
	joinRows(cur, prev, visit)
	finish := func(ls []Line) []Line {
		for i := range ls {
			ls[i].Pct, ls[i].HasPct = pct(ls[i].Delta, ls[i].Previous)
			ls[i].Share = share(ls[i].Current, total)
		}
		return ls
	}
	return finish(top.top), Movers{Increases: finish(up.top), Decreases: finish(down.top)}
}

// labelResources names the resources shown (top, movers, untagged) with
// one query over their ids.
func (b *builder) labelResources(ctx context.Context, rep *Report) error {
	lists := [][]Line{rep.TopResources, rep.ResourceMovers.Increases, rep.ResourceMovers.Decreases, rep.Compliance.Largest}
	seen := map[string]bool{}
	var ids []string
	for _, l := range lists {
		for _, x := range l {
			if !seen[x.Key] {
				seen[x.Key] = true
				ids = append(ids, x.Key)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	// One query per resource: an equality on ResourceId is a cheap
	// dictionary lookup in the store, a long In list is not.
	type info struct{ name, detail string }
	infos := make([]info, len(ids))
	tasks := make([]func(context.Context) error, len(ids))
	for i, id := range ids {
		tasks[i] = func(ctx context.Context) error {
			res, err := b.query(ctx, costgate.CostQuery{
				Filters: []costgate.CostFilter{in("month", b.month.String(), b.prev.String()), eq("ResourceId", id)},
				GroupBy: []string{"ResourceName", "ResourceType", "ServiceName", "SubAccountId"},
				OrderBy: []costgate.CostOrder{{By: string(b.measure), Desc: true}},
				Limit:   1,
			})
			if err != nil || len(res.Rows) == 0 {
				return err
			}
			k := res.Rows[0].Keys
			var parts []string
			for _, p := range []string{k[2], k[1], k[3]} {
				if p != "" {
					parts = append(parts, p)
				}
			}
			infos[i] = info{name: k[0], detail: strings.Join(parts, " · ")}
			return nil
		}
	}
	if err := b.run(ctx, tasks); err != nil {
		return err
	}
	byID := make(map[string]info, len(ids))
	for i, id := range ids {
		byID[id] = infos[i]
	}
	for _, l := range lists {
		for i := range l {
			in := byID[l[i].Key]
			l[i].Label = l[i].Key
			if in.name != "" && in.name != l[i].Key {
				l[i].Label = in.name
				l[i].Detail = l[i].Key
				if in.detail != "" {
					l[i].Detail += " · " + in.detail
				}
			} else {
				l[i].Detail = in.detail
			}
		}
	}
	return nil
}

// budgets compares each budgeted team's actual and forecast spend with
// its budget.
func (b *builder) budgets(rep *Report, byTeam periodSums, teamDaily map[string]map[string]costgate.Sum) []BudgetLine {
	var teams []string
	for t := range b.opts.Budgets {
		if b.opts.Team == "" || t == b.opts.Team {
			teams = append(teams, t)
		}
	}
	sort.Strings(teams)
	var out []BudgetLine
	for _, t := range teams {
		bl := BudgetLine{Team: t, Budget: b.opts.Budgets[t]}
		switch {
		case b.opts.Team != "":
			bl.Actual = rep.Total
			bl.Forecast = rep.Total
			if rep.Forecast != nil {
				bl.Forecast = rep.Forecast.Total
			}
		default:
			bl.Actual = byTeam.cur[t]
			bl.Forecast = bl.Actual
			if b.open {
				var daily []DayPoint
				for _, p := range rep.Daily {
					s, ok := teamDaily[t][dayKey(p.Day)]
					// A day with data for the company counts as complete for
					// every team, whether or not the team spent that day.
					daily = append(daily, DayPoint{Day: p.Day, Total: s, HasData: ok || p.HasData})
				}
				if f := b.forecast(daily); f != nil {
					bl.Forecast = f.Total
				}
			}
		}
		budget := costgate.SumOf(bl.Budget)
		bl.ActualPct = share(bl.Actual, budget) * 100
		bl.ForecastPct = share(bl.Forecast, budget) * 100
		switch {
		case bl.Actual.Cmp(budget) > 0:
			bl.Status = BudgetOver
		case bl.Forecast.Cmp(budget) > 0:
			bl.Status = BudgetAtRisk
		default:
			bl.Status = BudgetOK
		}
		out = append(out, bl)
	}
	return out
}

func untaggedLabel(k string) string {
	if k == "" {
		return "(untagged)"
	}
	return k
}

func orNone(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}
