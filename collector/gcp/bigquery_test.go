package gcp

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	bq "google.golang.org/api/bigquery/v2"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/bqtest"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

const (
	proj    = "acme-billing"
	dataset = "billing_export"
	stdTab  = "gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9"
	detTab  = "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9"
	focTab  = "gcp_billing_export_focus_01A2B3_C4D5E6_F7A8B9"
	account = "01A2B3-C4D5E6-F7A8B9"
	other   = "0F0F0F-1A1A1A-2B2B2B"
)

// now is inside November 2024 (Pacific), so the default window is the
// invoice months September to November.
var now = time.Date(2024, 11, 20, 12, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(tb.TempDir(), store.Options{NoSync: true, Logger: quiet()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func collect(tb testing.TB, st *store.Store, src collector.Source) collector.Summary {
	tb.Helper()
	sums, err := collector.Run(context.Background(), collectstore.New(st), []collector.Source{src},
		collector.Options{Logger: quiet(), Now: func() time.Time { return now }})
	if len(sums) != 1 {
		tb.Fatalf("%d summaries (err %v)", len(sums), err)
	}
	return sums[0]
}

func newSource(tb testing.TB, srv *bqtest.Server, table string, extra func(*collector.Spec)) collector.Source {
	tb.Helper()
	spec := collector.Spec{Name: "gcp", Type: Type, Project: proj, Dataset: dataset, Table: table, Endpoint: srv.URL}
	if extra != nil {
		extra(&spec)
	}
	reg := collector.NewRegistry()
	reg.Register(Type, Factory)
	src, err := reg.New(spec, collector.Env{Logger: quiet(), Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

func months(y int, from, to time.Month) (time.Time, time.Time) {
	return time.Date(y, from, 1, 0, 0, 0, 0, time.UTC), time.Date(y, to, 1, 0, 0, 0, 0, time.UTC)
}

// nanos converts a float the generator rounded to 6 places to exact
// nano-units through its 6-place decimal text: a path independent of the
// collector's shortest-round-trip conversion.
func nanos(tb testing.TB, v any) *big.Rat {
	tb.Helper()
	x, ok := v.(float64)
	if !ok {
		return new(big.Rat)
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'f', 6, 64))
	if !ok {
		tb.Fatalf("bad float %v", x)
	}
	return r
}

type okey struct{ month, service, account string }

type osum struct {
	count       int64
	billed, eff *big.Rat
	credits     int64
}

// oracle totals the export rows directly: BilledCost and EffectiveCost
// are cost plus credits, one store row per export row and per credit.
func oracle(tb testing.TB, rows []map[string]any, from string) map[okey]*osum {
	out := map[okey]*osum{}
	for _, r := range rows {
		inv := r["invoice"].(map[string]any)["month"].(string)
		if inv < from {
			continue
		}
		// The store's month is the month of ChargePeriodStart (late
		// usage invoiced in the next month counts in its own month).
		k := okey{r["usage_start_time"].(time.Time).Format("2006-01"), r["service"].(map[string]any)["description"].(string), r["billing_account_id"].(string)}
		s := out[k]
		if s == nil {
			s = &osum{billed: new(big.Rat), eff: new(big.Rat)}
			out[k] = s
		}
		s.count++
		c := nanos(tb, r["cost"])
		s.billed.Add(s.billed, c)
		s.eff.Add(s.eff, c)
		for _, cr := range r["credits"].([]any) {
			a := nanos(tb, cr.(map[string]any)["amount"])
			s.billed.Add(s.billed, a)
			s.eff.Add(s.eff, a)
			s.count++
			s.credits++
		}
	}
	return out
}

func checkOracle(tb testing.TB, st *store.Store, want map[okey]*osum) {
	tb.Helper()
	res, err := st.Query(context.Background(), store.Query{
		Measures: []store.Measure{store.BilledCost, store.EffectiveCost},
		GroupBy:  []string{"month", "ServiceName", "BillingAccountId"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	seen := 0
	for _, row := range res.Rows {
		k := okey{row.Keys[0], row.Keys[1], row.Keys[2]}
		w := want[k]
		if w == nil {
			tb.Errorf("store has %+v, the export does not", k)
			continue
		}
		seen++
		rat := func(s costgate.Sum) *big.Rat {
			return new(big.Rat).SetFrac(s.Big(), big.NewInt(costgate.NanosPerUnit))
		}
		if row.Count != w.count {
			tb.Errorf("%+v: %d rows, export %d", k, row.Count, w.count)
		}
		if b := rat(row.Values[0]); b.Cmp(w.billed) != 0 {
			tb.Errorf("%+v: BilledCost %s, export %s", k, b.FloatString(9), w.billed.FloatString(9))
		}
		if e := rat(row.Values[1]); e.Cmp(w.eff) != 0 {
			tb.Errorf("%+v: EffectiveCost %s, export %s", k, e.FloatString(9), w.eff.FloatString(9))
		}
	}
	if seen != len(want) {
		tb.Errorf("store has %d of the export's %d (month, service, account) groups", seen, len(want))
	}
}

func TestStandardExport(t *testing.T) {
	srv := bqtest.Start(t)
	srv.PageSize = 250
	from, to := months(2024, 7, 11)
	rows := bqtest.BillingRows(1, []string{account, other}, from, to, false, now)
	srv.Put(proj, dataset, stdTab, &bqtest.Table{Schema: bqtest.BillingSchema(false), Rows: rows, PartitionTime: bqtest.PartitionByExportDay})
	st := openStore(t)
	src := newSource(t, srv, stdTab, nil)

	s := collect(t, st, src)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	want := oracle(t, rows, "202409")
	var wantRows int64
	for _, w := range want {
		wantRows += w.count
	}
	// Three invoice months of two accounts.
	if s.Loaded != 6 || s.Rows != wantRows {
		t.Fatalf("summary %s; want 6 partitions, %d rows", s.String(), wantRows)
	}
	checkOracle(t, st, want)

	// Every query was pruned by partition: the summary reads from
	// August (a month before the window), each partition from the month
	// before its invoice month.
	for i, q := range srv.Queries {
		if !strings.Contains(q, "_PARTITIONTIME >= @partition_lo") {
			t.Errorf("query %d has no partition filter:\n%s", i, q)
		}
	}
	if lo := srv.Params[0]["partition_lo"]; !strings.HasPrefix(lo, "2024-08-01 00:00:00") {
		t.Errorf("summary partition_lo %q, want 2024-08-01", lo)
	}
	if srv.RowsScanned[0] >= len(rows) {
		t.Errorf("summary scanned %d of %d rows: July's partitions were not pruned", srv.RowsScanned[0], len(rows))
	}

	// Mapping of one partition, read back from the store.
	checkMapping(t, st)

	// Unchanged export: only the summary query runs.
	nq := len(srv.Queries)
	s = collect(t, st, src)
	if s.Loaded != 0 || s.Unchanged != 6 || s.Err() != nil {
		t.Fatalf("second run: %s", s.String())
	}
	if got := len(srv.Queries) - nq; got != 1 {
		t.Fatalf("second run sent %d queries, want the summary alone", got)
	}

	// Google restates October for one account (a new export_time and a
	// corrected cost): that partition alone is read again.
	srv.Update(proj, dataset, stdTab, func(tb *bqtest.Table) {
		for _, r := range tb.Rows {
			if r["billing_account_id"] == account && r["invoice"].(map[string]any)["month"] == "202410" {
				r["export_time"] = now
				if r["cost_type"] == "tax" {
					r["cost"] = r["cost"].(float64) + 1.25
				}
			}
		}
	})
	s = collect(t, st, src)
	if s.Loaded != 1 || s.Unchanged != 5 || s.Err() != nil {
		t.Fatalf("restated run: %s", s.String())
	}
	checkOracle(t, st, oracle(t, rows, "202409"))
	if n := len(st.Partitions()); n != 6 {
		t.Fatalf("%d partitions after a restatement, want 6", n)
	}
}

// checkMapping looks at the FOCUS columns of the loaded rows.
func checkMapping(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	q := func(groupBy ...string) map[string]costgate.Sum {
		res, err := st.Query(ctx, store.Query{Measures: []store.Measure{store.BilledCost}, GroupBy: groupBy})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]costgate.Sum{}
		for _, r := range res.Rows {
			out[strings.Join(r.Keys, "|")] = r.Values[0]
		}
		return out
	}
	cats := q("ChargeCategory")
	for _, c := range []string{"Usage", "Credit", "Tax", "Adjustment"} {
		if _, ok := cats[c]; !ok {
			t.Errorf("no %s rows; categories %v", c, cats)
		}
	}
	if s := cats["Credit"]; s.Sign() >= 0 {
		t.Errorf("credits sum to %s, want negative", s.String())
	}
	prov := q("ProviderName", "ServiceCategory")
	for _, k := range []string{"Google Cloud|Compute", "Google Cloud|Storage", "Google Cloud|Analytics", "Google Cloud|Databases"} {
		if _, ok := prov[k]; !ok {
			t.Errorf("no %s; have %v", k, keys(prov))
		}
	}
	subs := q("SubAccountId")
	if _, ok := subs["acme-payments-0"]; !ok {
		t.Errorf("project ids are not SubAccountId: %v", keys(subs))
	}
	teams := q("tag:team")
	for _, team := range []string{"payments", "search", "platform", "data"} {
		if _, ok := teams[team]; !ok {
			t.Errorf("no cost tagged team=%s (labels, project labels): %v", team, keys(teams))
		}
	}
	if _, ok := q("tag:app")["app-1"]; !ok {
		t.Error("resource labels are not tags")
	}
	regions := q("RegionId")
	if _, ok := regions["us-central1"]; !ok {
		t.Errorf("regions %v", keys(regions))
	}
	if _, ok := regions["US"]; !ok {
		t.Errorf("multi-region location.location is not the RegionId: %v", keys(regions))
	}
}

func keys(m map[string]costgate.Sum) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDetailedExportPolledAndPaged(t *testing.T) {
	srv := bqtest.Start(t)
	srv.PageSize = 97
	srv.Incomplete = true // every query must be polled
	srv.FailNext = 2      // and the client retries Google's 503s
	from, to := months(2024, 9, 11)
	rows := bqtest.BillingRows(7, []string{account}, from, to, true, now)
	srv.Put(proj, dataset, detTab, &bqtest.Table{Schema: bqtest.BillingSchema(true), Rows: rows, PartitionTime: bqtest.PartitionByExportDay})
	st := openStore(t)
	s := collect(t, st, newSource(t, srv, detTab, nil))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	checkOracle(t, st, oracle(t, rows, "202409"))
	res, err := st.Query(context.Background(), store.Query{Measures: []store.Measure{store.BilledCost}, GroupBy: []string{"ResourceType"}})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, r := range res.Rows {
		types[r.Keys[0]] = true
	}
	for _, typ := range []string{"compute.googleapis.com/instances", "compute.googleapis.com/disks", "container.googleapis.com/clusters", "sqladmin.googleapis.com/instances"} {
		if !types[typ] {
			t.Errorf("no resource type %s: %v", typ, types)
		}
	}
	res, err = st.Query(context.Background(), store.Query{Measures: []store.Measure{store.BilledCost}, GroupBy: []string{"ResourceId"},
		Filters: []costgate.CostFilter{{Op: costgate.FilterIn, Column: "ResourceName", Values: []string{"payments-instance-1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 || !strings.HasPrefix(res.Rows[0].Keys[0], "//compute.googleapis.com/projects/") {
		t.Errorf("resource.global_name is not ResourceId: %+v", res.Rows)
	}
}

// An older export without cost_at_list, seller_name and the newer credit
// fields still loads: the missing columns are selected as NULL.
func TestOlderSchema(t *testing.T) {
	srv := bqtest.Start(t)
	from, to := months(2024, 11, 11)
	rows := bqtest.BillingRows(3, []string{account}, from, to, false, now)
	var schema []*bq.TableFieldSchema
	for _, f := range bqtest.BillingSchema(false) {
		switch f.Name {
		case "cost_at_list", "seller_name", "transaction_type":
			continue
		case "credits":
			c := *f
			c.Fields = c.Fields[:2] // name, amount
			f = &c
		}
		schema = append(schema, f)
	}
	srv.Put(proj, dataset, stdTab, &bqtest.Table{Schema: schema, Rows: rows, PartitionTime: bqtest.PartitionByExportDay})
	st := openStore(t)
	s := collect(t, st, newSource(t, srv, stdTab, nil))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	checkOracle(t, st, oracle(t, rows, "202411"))
}

func TestBadTables(t *testing.T) {
	srv := bqtest.Start(t)
	from, to := months(2024, 11, 11)
	rows := bqtest.BillingRows(3, []string{account}, from, to, false, now)

	st := openStore(t)
	s := collect(t, st, newSource(t, srv, stdTab, nil))
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "not found: check project, dataset and table") {
		t.Fatalf("missing table: %v", err)
	}

	// Not a billing export: the error names the missing columns.
	var schema []*bq.TableFieldSchema
	for _, f := range bqtest.BillingSchema(false) {
		if f.Name != "invoice" {
			schema = append(schema, f)
		}
	}
	srv.Put(proj, dataset, stdTab, &bqtest.Table{Schema: schema, Rows: rows, PartitionTime: bqtest.PartitionByExportDay})
	s = collect(t, st, newSource(t, srv, stdTab, nil))
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "invoice.month") {
		t.Fatalf("table without invoice: %v", err)
	}

	// An unpartitioned copy told it is ingestion-time partitioned:
	// BigQuery's own error comes through and nothing is written. Left to
	// the table's metadata, the source filters on no partition column.
	srv.Put(proj, dataset, stdTab, &bqtest.Table{Schema: bqtest.BillingSchema(false), Rows: rows})
	s = collect(t, st, newSource(t, srv, stdTab, func(s *collector.Spec) { s.PartitionColumn = IngestionTime }))
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "Unrecognized name: _PARTITIONTIME") {
		t.Fatalf("unpartitioned table: %v", err)
	}
	if n := len(st.Partitions()); n != 0 {
		t.Fatalf("failed runs wrote %d partitions", n)
	}
	nq := len(srv.Queries)
	s = collect(t, st, newSource(t, srv, stdTab, nil))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for _, q := range srv.Queries[nq:] {
		if strings.Contains(q, "partition_lo") {
			t.Errorf("a query on an unpartitioned table filters on a partition column:\n%s", q)
		}
	}
	checkOracle(t, st, oracle(t, rows, "202411"))

	// A row with a non-finite cost fails its partition and leaves the
	// stored one exactly as it was.
	before := st.Partitions()
	srv.Update(proj, dataset, stdTab, func(tb *bqtest.Table) {
		tb.Rows[3]["cost"] = nil
		tb.Rows[4]["usage_start_time"] = nil
		tb.Rows[0]["export_time"] = now.Add(time.Hour)
	})
	s = collect(t, st, newSource(t, srv, stdTab, nil))
	if s.Failed != 1 || !strings.Contains(s.Err().Error(), "usage_start_time is null") {
		t.Fatalf("bad row: %s %v", s.String(), s.Err())
	}
	after := st.Partitions()
	if len(after) != len(before) || after[0].ExportID != before[0].ExportID {
		t.Fatalf("a failed partition changed the store: %+v → %+v", before, after)
	}
}

// A copy partitioned on export_time (its metadata says so) is pruned on
// that column.
func TestColumnPartitioned(t *testing.T) {
	srv := bqtest.Start(t)
	from, to := months(2024, 7, 11)
	rows := bqtest.BillingRows(9, []string{account}, from, to, false, now)
	srv.Put(proj, dataset, stdTab, &bqtest.Table{Schema: bqtest.BillingSchema(false), Rows: rows, PartitionField: "export_time"})
	st := openStore(t)
	s := collect(t, st, newSource(t, srv, stdTab, nil))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for i, q := range srv.Queries {
		if !strings.Contains(q, "export_time >= @partition_lo") {
			t.Errorf("query %d is not pruned on export_time:\n%s", i, q)
		}
	}
	checkOracle(t, st, oracle(t, rows, "202409"))
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		spec  collector.Spec
		field string
	}{
		{collector.Spec{Dataset: "d", Table: "t"}, "project"},
		{collector.Spec{Project: "p", Table: "t"}, "dataset"},
		{collector.Spec{Project: "p", Dataset: "d"}, "table"},
		{collector.Spec{Project: "p", Dataset: "d", Table: "p.d.t"}, "table"},
		{collector.Spec{Project: "p", Dataset: "d", Table: "t", Path: "x.csv"}, "path"},
		{collector.Spec{Project: "p", Dataset: "d", Table: "t", Months: 40}, "months"},
		{collector.Spec{Project: "p", Dataset: "d", Table: "t", PartitionColumn: "a b"}, "partition_column"},
		{collector.Spec{Project: "p", Dataset: "d", Table: "t", Format: "csv"}, "format"},
	} {
		err := check(c.spec)
		fe, ok := err.(*collector.FieldError)
		if !ok || fe.Field != c.field {
			t.Errorf("%+v: %v, want a %s error", c.spec, err, c.field)
		}
	}
	if err := check(collector.Spec{Project: "p", Dataset: "d", Table: "t", Months: 12, PartitionColumn: "export_time"}); err != nil {
		t.Error(err)
	}
}

// Google's FOCUS export goes through the FOCUS decoder.
func TestFOCUSExport(t *testing.T) {
	srv := bqtest.Start(t)
	schema := []*bq.TableFieldSchema{
		{Name: "BillingAccountId", Type: "STRING"}, {Name: "BillingAccountName", Type: "STRING"},
		{Name: "BillingPeriodStart", Type: "TIMESTAMP"}, {Name: "BillingPeriodEnd", Type: "TIMESTAMP"},
		{Name: "ChargePeriodStart", Type: "TIMESTAMP"}, {Name: "ChargePeriodEnd", Type: "TIMESTAMP"},
		{Name: "ChargeCategory", Type: "STRING"}, {Name: "ProviderName", Type: "STRING"},
		{Name: "ServiceName", Type: "STRING"}, {Name: "SubAccountId", Type: "STRING"},
		{Name: "BilledCost", Type: "FLOAT"}, {Name: "EffectiveCost", Type: "FLOAT"}, {Name: "ListCost", Type: "FLOAT"},
		{Name: "BillingCurrency", Type: "STRING"},
		{Name: "Tags", Type: "RECORD", Mode: "REPEATED", Fields: []*bq.TableFieldSchema{{Name: "key", Type: "STRING"}, {Name: "value", Type: "STRING"}}},
		{Name: "x_ExportTime", Type: "TIMESTAMP"},
	}
	var rows []map[string]any
	want := map[string]*big.Rat{}
	for i := 0; i < 300; i++ {
		m := time.Date(2024, time.Month(9+i%3), 1, 7, 0, 0, 0, time.UTC)
		cost := float64(i%97) + float64(i)/1000
		svc := []string{"Compute Engine", "Cloud Storage"}[i%2]
		rows = append(rows, map[string]any{
			"BillingAccountId": account, "BillingAccountName": "Acme",
			"BillingPeriodStart": m, "BillingPeriodEnd": m.AddDate(0, 1, 0),
			"ChargePeriodStart": m.Add(time.Duration(i) * time.Hour), "ChargePeriodEnd": m.Add(time.Duration(i+1) * time.Hour),
			"ChargeCategory": "Usage", "ProviderName": "Google Cloud", "ServiceName": svc, "SubAccountId": "acme-payments-0",
			"BilledCost": cost, "EffectiveCost": cost, "ListCost": cost, "BillingCurrency": "USD",
			"Tags":         []any{map[string]any{"key": "team", "value": "payments"}},
			"x_ExportTime": m.AddDate(0, 1, 2),
		})
		k := m.Format("2006-01") + "|" + svc
		if want[k] == nil {
			want[k] = new(big.Rat)
		}
		want[k].Add(want[k], nanos(t, cost))
	}
	srv.Put(proj, dataset, focTab, &bqtest.Table{Schema: schema, Rows: rows,
		PartitionTime: func(r map[string]any) time.Time { return r["x_ExportTime"].(time.Time).Truncate(24 * time.Hour) }})
	st := openStore(t)
	s := collect(t, st, newSource(t, srv, focTab, nil))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if s.Loaded != 3 || s.Rows != 300 {
		t.Fatalf("%s", s.String())
	}
	res, err := st.Query(context.Background(), store.Query{Measures: []store.Measure{store.BilledCost}, GroupBy: []string{"month", "ServiceName"},
		Filters: []costgate.CostFilter{{Op: costgate.FilterIn, Column: "tag:team", Values: []string{"payments"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(res.Rows), len(want))
	}
	for _, r := range res.Rows {
		got := new(big.Rat).SetFrac(r.Values[0].Big(), big.NewInt(costgate.NanosPerUnit))
		if w := want[strings.Join(r.Keys, "|")]; w == nil || got.Cmp(w) != 0 {
			t.Errorf("%v: %s, want %v", r.Keys, got.FloatString(9), w)
		}
	}
	if s := collect(t, st, newSource(t, srv, focTab, nil)); s.Unchanged != 3 || s.Loaded != 0 {
		t.Fatalf("second run: %s", s.String())
	}
}
