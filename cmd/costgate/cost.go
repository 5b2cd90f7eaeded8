package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

// costParams are the flags of `costgate cost`.
type costParams struct {
	store    string
	month    string
	from, to string
	by       []string
	where    []string
	measures []string
	top      int
	format   string

	query store.Query // built by validate
}

func newCostCmd(a *app) *cobra.Command {
	p := &costParams{}
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Sum spend from the cost store, grouped and filtered",
		Long: `cost sums billing line items in the cost store: by any FOCUS dimension
(ServiceName, BillingAccountId, SubAccountId, RegionId, ResourceType,
ResourceId, SkuId, ChargeCategory, ...), by tag (tag:KEY), by x_ extension
column, or by day or month of ChargePeriodStart. Amounts are exact: json
and csv carry every digit, the table rounds to cents.

--where takes COLUMN=V (or V1,V2 for any of them), COLUMN!=V, tag:KEY
(the tag is present) and !tag:KEY (untagged). Filters are ANDed.
--from and --to are days, both included (UTC).

The store is --store DIR, else the config file's store: key, else ./.costgate.`,
		Example: `  costgate cost --month 2026-10 --by ServiceName
  costgate cost --month 2026-10 --by ServiceName,tag:team --where ProviderName=AWS --top 20
  costgate cost --from 2026-10-01 --to 2026-10-07 --by day --measure BilledCost,count
  costgate cost --month 2026-10 --where '!tag:team' --by BillingAccountId --format json`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return p.validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCost(cmd.Context(), a, p, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.store, "store", "", "cost store directory (default: config store:, else ./.costgate)")
	f.StringVar(&p.month, "month", "", "billing month YYYY-MM (of ChargePeriodStart)")
	f.StringVar(&p.from, "from", "", "first day YYYY-MM-DD (UTC)")
	f.StringVar(&p.to, "to", "", "last day YYYY-MM-DD, included (UTC)")
	f.StringSliceVar(&p.by, "by", nil, "group by columns, comma-separated: FOCUS names, tag:KEY, x_NAME, day, month")
	f.StringArrayVar(&p.where, "where", nil, "filter COLUMN=V[,V...], COLUMN!=V[,V...], tag:KEY or !tag:KEY (repeatable)")
	f.StringSliceVar(&p.measures, "measure", []string{string(store.EffectiveCost)}, "what to sum: "+measureNames())
	f.IntVar(&p.top, "top", 0, "keep the N largest groups (by the first measure)")
	f.StringVarP(&p.format, "format", "f", "table", "output format: "+strings.Join(costFormatNames(), ", "))
	return cmd
}

func measureNames() string {
	var names []string
	for _, m := range costgate.Measures() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

func (p *costParams) validate() error {
	if _, ok := costFormats[p.format]; !ok {
		return usageErr("--format %q: use one of %s", p.format, strings.Join(costFormatNames(), ", "))
	}
	if p.top < 0 {
		return usageErr("--top %d: must be positive", p.top)
	}
	q := store.Query{GroupBy: p.by, Limit: p.top}
	for _, m := range p.measures {
		ms, err := costgate.ParseMeasure(strings.TrimSpace(m))
		if err != nil {
			return usageErr("--measure: %v", err)
		}
		q.Measures = append(q.Measures, ms)
	}
	if p.month != "" && (p.from != "" || p.to != "") {
		return usageErr("--month and --from/--to: give one or the other")
	}
	if p.month != "" {
		m, err := costgate.ParseMonth(p.month)
		if err != nil {
			return usageErr("--month: %v", err)
		}
		q.Filters = append(q.Filters, store.Eq("month", m.String()))
	}
	if p.from != "" || p.to != "" {
		var from, to time.Time
		var err error
		if p.from != "" {
			if from, err = time.Parse(time.DateOnly, p.from); err != nil {
				return usageErr("--from %q: want YYYY-MM-DD", p.from)
			}
		}
		if p.to != "" {
			if to, err = time.Parse(time.DateOnly, p.to); err != nil {
				return usageErr("--to %q: want YYYY-MM-DD", p.to)
			}
			to = to.AddDate(0, 0, 1)
		}
		if !from.IsZero() && !to.IsZero() && !from.Before(to) {
			return usageErr("--from %s is after --to %s", p.from, p.to)
		}
		q.Filters = append(q.Filters, store.TimeRange(from, to))
	}
	for _, w := range p.where {
		f, err := parseWhere(w)
		if err != nil {
			return err
		}
		q.Filters = append(q.Filters, f)
	}
	// Largest first, except a time series, which reads in time order.
	timeSeries := len(q.GroupBy) > 0 && (q.GroupBy[0] == "day" || q.GroupBy[0] == "month")
	if p.top > 0 || (len(q.GroupBy) > 0 && !timeSeries) {
		q.OrderBy = []store.Order{{By: string(q.Measures[0]), Desc: true}}
	}
	p.query = q
	return nil
}

// parseWhere parses one --where.
func parseWhere(w string) (store.Filter, error) {
	s := strings.TrimSpace(w)
	switch {
	case strings.HasPrefix(s, "!tag:") && !strings.ContainsAny(s, "="):
		return store.TagAbsent(strings.TrimPrefix(s, "!tag:")), nil
	case strings.HasPrefix(s, "tag:") && !strings.ContainsAny(s, "="):
		return store.TagPresent(strings.TrimPrefix(s, "tag:")), nil
	}
	neg := false
	col, vals, ok := strings.Cut(s, "!=")
	if ok {
		neg = true
	} else if col, vals, ok = strings.Cut(s, "="); !ok {
		return store.Filter{}, usageErr("--where %q: use COLUMN=VALUE, COLUMN!=VALUE, tag:KEY or !tag:KEY", w)
	}
	col = strings.TrimSpace(col)
	if col == "" {
		return store.Filter{}, usageErr("--where %q: no column", w)
	}
	f := store.In(col, strings.Split(vals, ",")...)
	if neg {
		f = store.Not(f)
	}
	return f, nil
}

func runCost(ctx context.Context, a *app, p *costParams, stdout io.Writer) error {
	dir, err := storeDir(a, p.store)
	if err != nil {
		return err
	}
	st, err := openStore(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	sn, err := st.Snapshot()
	if err != nil {
		return err
	}
	defer sn.Close()
	res, err := sn.Query(ctx, p.query)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	var total *costgate.CostRow
	if len(p.query.GroupBy) > 0 && p.format == "table" {
		tq := p.query
		tq.GroupBy, tq.OrderBy, tq.Limit = nil, nil, 0
		tr, err := sn.Query(ctx, tq)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		total = &tr.Rows[0]
	}
	return costFormats[p.format](stdout, res, total)
}

// costFormats render a result; total (table only) is the ungrouped total
// of the same query.
var costFormats = map[string]func(w io.Writer, res *store.Result, total *costgate.CostRow) error{
	"table": writeCostTable,
	"json":  writeCostJSON,
	"csv":   writeCostCSV,
}

func costFormatNames() []string {
	var names []string
	for n := range costFormats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// exactValue formats a measure value: money and quantities as exact
// decimals, counts as integers.
func exactValue(m store.Measure, r costgate.CostRow, i int) string {
	if m == store.Count {
		return fmt.Sprint(r.Count)
	}
	return r.Values[i].String()
}

// tableValue rounds costs to cents for reading; quantities keep their
// digits.
func tableValue(m store.Measure, r costgate.CostRow, i int) string {
	switch m {
	case store.Count:
		return fmt.Sprint(r.Count)
	case store.ConsumedQuantity, store.PricingQuantity:
		return r.Values[i].String()
	}
	return r.Values[i].Format(2)
}

func writeCostTable(w io.Writer, res *store.Result, total *costgate.CostRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	var head []string
	head = append(head, res.GroupBy...)
	for _, m := range res.Measures {
		head = append(head, string(m))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range res.Rows {
		cells := make([]string, 0, len(head))
		for _, k := range r.Keys {
			cells = append(cells, dash(k))
		}
		for i, m := range res.Measures {
			cells = append(cells, tableValue(m, r, i))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if total != nil {
		cells := []string{"TOTAL"}
		for range res.GroupBy[1:] {
			cells = append(cells, "")
		}
		for i, m := range res.Measures {
			cells = append(cells, tableValue(m, *total, i))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// jsonRow is one result row as a JSON object with its keys in column
// order: group-by columns, then measures.
type jsonRow struct {
	keys []string
	vals []any
}

func (r jsonRow) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(r.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func writeCostJSON(w io.Writer, res *store.Result, _ *costgate.CostRow) error {
	rows := make([]jsonRow, 0, len(res.Rows))
	for _, r := range res.Rows {
		var o jsonRow
		for i, g := range res.GroupBy {
			o.keys, o.vals = append(o.keys, g), append(o.vals, r.Keys[i])
		}
		for i, m := range res.Measures {
			o.keys = append(o.keys, string(m))
			if m == store.Count {
				o.vals = append(o.vals, r.Count)
			} else {
				o.vals = append(o.vals, r.Values[i].String())
			}
		}
		rows = append(rows, o)
	}
	out := struct {
		Version    int       `json:"version"`
		Generation uint64    `json:"generation"`
		Rows       []jsonRow `json:"rows"`
	}{1, res.Generation, rows}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeCostCSV(w io.Writer, res *store.Result, _ *costgate.CostRow) error {
	cw := csv.NewWriter(w)
	head := append([]string(nil), res.GroupBy...)
	for _, m := range res.Measures {
		head = append(head, string(m))
	}
	cw.Write(head) //nolint:errcheck // checked by cw.Error
	for _, r := range res.Rows {
		rec := append([]string(nil), r.Keys...)
		for i, m := range res.Measures {
			rec = append(rec, exactValue(m, r, i))
		}
		cw.Write(rec) //nolint:errcheck // checked by cw.Error
	}
	cw.Flush()
	return cw.Error()
}
