// Package gcp reads Google Cloud's billing data from its BigQuery export:
// the standard (gcp_billing_export_v1_*) and detailed
// (gcp_billing_export_resource_v1_*) usage cost tables, and Google's FOCUS
// export, with the cloud.google.com/go/bigquery client.
//
// A collect asks BigQuery first for a summary of each (billing account,
// invoice month) in the configured window: its row count and latest
// export_time. A partition whose summary equals the export id the store
// holds is left alone without reading a row; any other partition (a new
// month, the open month after a new export, a restated month) is read
// whole and replaces the store's partition in one commit. Every query
// filters on the table's partitioning column (read off its metadata:
// _PARTITIONTIME for an ingestion-time partitioned export, the field of a
// column-partitioned copy; configurable) so BigQuery scans only the
// partitions that can hold the months asked for.
//
// Mapping (standard and detailed tables), following the FinOps
// Foundation's converter where it speaks:
//   - billing_account_id → BillingAccountId; project.id/name →
//     SubAccountId/SubAccountName; invoice.month (a Pacific-time month,
//     as Google invoices) → BillingPeriodStart/End; usage_start/end_time →
//     ChargePeriodStart/End; cost → BilledCost and EffectiveCost;
//     cost_at_list → ListCost (cost where the table has no cost_at_list);
//     cost_type → ChargeCategory (regular: Usage, tax: Tax, adjustment and
//     rounding_error: Adjustment); service.description → ServiceName;
//     sku.id/description → SkuId/ChargeDescription; location.region (else
//     location.location) → RegionId; location.zone → AvailabilityZone;
//     usage.amount_in_pricing_units/pricing_unit → PricingQuantity/Unit and
//     ConsumedQuantity/Unit (usage.amount is in base units, byte-seconds
//     among them, beyond the store's exact quantity range; it is used
//     only where a row has no pricing unit);
//     resource.global_name/name → ResourceId/ResourceName (detailed).
//   - labels become Tags; project labels fill in keys the resource's own
//     labels lack (a team label set once on the project applies to all
//     its costs).
//   - Each entry of credits becomes its own row with ChargeCategory
//     Credit, its amount (negative) as BilledCost and EffectiveCost, the
//     same dimensions and tags as the row it belongs to, and
//     x_CreditType/x_CreditId/x_CreditName. So BilledCost sums to the
//     invoice (cost after credits) and a credit can be told from the usage
//     it offsets.
//
// Amounts come as FLOAT64; each is converted from the shortest decimal
// that round-trips the float (what BigQuery itself prints) to exact
// nano-units, so sums are exact over the values BigQuery holds.
package gcp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
)

// Type is the config type name.
const Type = "gcp_bigquery"

// DefaultMonths is how many invoice months a collect looks at: the open
// month and the two before it, which covers Google's late usage and
// adjustments.
const DefaultMonths = 3

// IngestionTime is the pseudo column of an ingestion-time partitioned
// table; by default the partition column is read off the table's
// metadata: its time-partitioning field, this for ingestion-time
// partitioning, none for an unpartitioned table.
const IngestionTime = "_PARTITIONTIME"

// Kinds of export table.
const (
	KindStandard = "standard"
	KindDetailed = "detailed"
	KindFOCUS    = "focus"
)

// Factory registers gcp_bigquery.
var Factory = collector.Factory{
	Check: check,
	New: func(s collector.Spec, env collector.Env) (collector.Source, error) {
		return New(s, env), nil
	},
}

var (
	idRE       = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	tableRE    = regexp.MustCompile(`^[A-Za-z0-9_$-]+$`)
	partColRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	detailedRE = regexp.MustCompile(`^gcp_billing_export_resource_v1_`)
	focusRE    = regexp.MustCompile(`(?i)focus`)
)

func check(s collector.Spec) error {
	field := func(f, msg string) error { return &collector.FieldError{Field: f, Msg: msg} }
	switch {
	case s.Project == "":
		return field("project", "required: the Google Cloud project that holds the billing export dataset")
	case !idRE.MatchString(s.Project):
		return field("project", fmt.Sprintf("%q is not a project id", s.Project))
	case s.Dataset == "":
		return field("dataset", "required: the BigQuery dataset of the billing export")
	case !tableRE.MatchString(s.Dataset):
		return field("dataset", fmt.Sprintf("%q is not a dataset name", s.Dataset))
	case s.Table == "":
		return field("table", "required: the export table, e.g. gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX")
	case !tableRE.MatchString(s.Table):
		return field("table", fmt.Sprintf("%q is not a table name (give the table alone; project and dataset have their own keys)", s.Table))
	case s.Path != "" || s.URI != "":
		return field("path", "a gcp_bigquery source reads a table: give project, dataset and table, not path or uri")
	case s.Months < 0 || s.Months > 36:
		return field("months", fmt.Sprintf("%d: give 1 to 36 invoice months (default %d)", s.Months, DefaultMonths))
	case s.PartitionColumn != "" && s.PartitionColumn != "none" && !partColRE.MatchString(s.PartitionColumn):
		return field("partition_column", fmt.Sprintf("%q: give a column name, or none for an unpartitioned table", s.PartitionColumn))
	}
	switch s.Format {
	case "", KindStandard, KindDetailed, KindFOCUS:
	default:
		return field("format", fmt.Sprintf("%q: use standard, detailed or focus (or leave it out to go by the table's columns)", s.Format))
	}
	return nil
}

// Source reads one billing export table.
type Source struct {
	spec collector.Spec
	env  collector.Env
	// partCol is the partition column of the current collect.
	partCol string
	// Options are added to the client's (tests: the endpoint and no
	// authentication come from the spec's endpoint key).
	Options []option.ClientOption
}

// New returns a source for spec.
func New(s collector.Spec, env collector.Env) *Source {
	if env.Now == nil {
		env.Now = time.Now
	}
	return &Source{spec: s, env: env}
}

// Name returns the configured name.
func (s *Source) Name() string { return s.spec.Name }

// Type returns "gcp_bigquery".
func (s *Source) Type() string { return Type }

func (s *Source) tableRef() string {
	return "`" + s.spec.Project + "." + s.spec.Dataset + "." + s.spec.Table + "`"
}

func (s *Source) client(ctx context.Context) (*bigquery.Client, error) {
	opts := append([]option.ClientOption(nil), s.Options...)
	if s.spec.Endpoint != "" {
		// An emulator or a test server: no Google credentials.
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(s.spec.Endpoint, "/")+"/"), option.WithoutAuthentication())
	}
	c, err := bigquery.NewClient(ctx, s.spec.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery client for project %s: %w (credentials come from GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login or the workload identity)", s.spec.Project, err)
	}
	if s.spec.Location != "" {
		c.Location = s.spec.Location
	}
	return c, nil
}

// summary is what BigQuery says of one (account, invoice month).
type summary struct {
	account    string
	month      costgate.Month
	rows       int64
	lastExport time.Time
}

func (m summary) exportID(table string) string {
	return fmt.Sprintf("bq:%s:%s:%s:rows=%d:export=%s", table, m.account, m.month,
		m.rows, m.lastExport.UTC().Format(time.RFC3339Nano))
}

// Collect loads every (account, invoice month) of the window whose
// summary changed.
func (s *Source) Collect(ctx context.Context, sink collector.Sink) error {
	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	sc, err := s.schema(ctx, c)
	if err != nil {
		return err
	}
	kind := s.spec.Format
	if kind == "" {
		kind = sc.kind(s.spec.Table)
	}
	if err := sc.require(kind); err != nil {
		return fmt.Errorf("table %s: %w", s.tableRef(), err)
	}
	now := s.env.Now()
	months := s.spec.Months
	if months == 0 {
		months = DefaultMonths
	}
	first := addMonths(costgate.MonthOf(now.In(pacific)), -(months - 1))
	sums, err := s.summaries(ctx, c, kind, first)
	if err != nil {
		return err
	}
	known := map[costgate.Partition]string{}
	for _, l := range sink.Known() {
		known[l.Partition] = l.ExportID
	}
	table := s.spec.Project + "." + s.spec.Dataset + "." + s.spec.Table
	var todo []summary
	for _, m := range sums {
		p := costgate.Partition{Source: s.spec.Name, BillingAccountID: m.account, BillingPeriod: m.month}
		if known[p] == m.exportID(table) {
			sink.Unchanged(p)
			continue
		}
		todo = append(todo, m)
	}
	prog := sink.Progress()
	prog.PlanPartitions(len(todo))
	log := sink.Logger()
	log.Info("bigquery export", "table", table, "kind", kind, "partition_column", s.partCol, "months", len(sums), "changed", len(todo))
	var rows []costgate.LineItem
	for _, m := range todo {
		p := costgate.Partition{Source: s.spec.Name, BillingAccountID: m.account, BillingPeriod: m.month}
		rows = rows[:0]
		rows, err = s.read(ctx, c, kind, sc, m, rows, sink)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sink.Fail(fmt.Errorf("read %s %s: %w", table, p, err), p)
			continue
		}
		if err := sink.Replace(ctx, p, rows, m.exportID(table), contentHash(m, rows)); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		prog.PartitionDone()
	}
	return nil
}

// contentHash identifies what was read: the summary and the exact sums.
func contentHash(m summary, rows []costgate.LineItem) string {
	var billed, eff costgate.Sum
	for i := range rows {
		billed.Add(rows[i].BilledCost)
		eff.Add(rows[i].EffectiveCost)
	}
	h := sha256.New()
	fmt.Fprintf(h, "gcp_bigquery/1\n%s\n%s\n%d\n%s\n%s\n%s\n", m.account, m.month, m.rows,
		m.lastExport.UTC().Format(time.RFC3339Nano), billed.String(), eff.String())
	return hex.EncodeToString(h.Sum(nil))
}

// tableSchema is the export table's columns, by dotted path.
type tableSchema map[string]bigquery.FieldType

func (s *Source) schema(ctx context.Context, c *bigquery.Client) (tableSchema, error) {
	md, err := c.Dataset(s.spec.Dataset).Table(s.spec.Table).Metadata(ctx)
	if err != nil {
		var ge *googleapi.Error
		if errors.As(err, &ge) && ge.Code == 404 {
			return nil, fmt.Errorf("table %s not found: check project, dataset and table (the export table is named gcp_billing_export_v1_<BILLING_ACCOUNT_ID> or gcp_billing_export_resource_v1_<...>): %w", s.tableRef(), err)
		}
		if errors.As(err, &ge) && ge.Code == 403 {
			return nil, fmt.Errorf("table %s: access denied: the credentials need roles/bigquery.dataViewer on the dataset and roles/bigquery.jobUser on project %s: %w", s.tableRef(), s.spec.Project, err)
		}
		return nil, fmt.Errorf("read metadata of table %s: %w", s.tableRef(), err)
	}
	sc := tableSchema{}
	var walk func(prefix string, fs bigquery.Schema)
	walk = func(prefix string, fs bigquery.Schema) {
		for _, f := range fs {
			name := prefix + strings.ToLower(f.Name)
			sc[name] = f.Type
			if f.Type == bigquery.RecordFieldType {
				walk(name+".", f.Schema)
			}
		}
	}
	walk("", md.Schema)
	s.partCol = s.spec.PartitionColumn
	if s.partCol == "" {
		switch tp := md.TimePartitioning; {
		case tp == nil:
			s.partCol = "none"
		case tp.Field != "":
			s.partCol = tp.Field
		default:
			s.partCol = IngestionTime
		}
	}
	return sc, nil
}

func (sc tableSchema) has(col string) bool { _, ok := sc[strings.ToLower(col)]; return ok }

// kind tells the export's kind by its columns.
func (sc tableSchema) kind(table string) string {
	switch {
	case sc.has("BilledCost") && sc.has("ChargePeriodStart"):
		return KindFOCUS
	case sc.has("resource.global_name") || detailedRE.MatchString(table):
		return KindDetailed
	case focusRE.MatchString(table):
		return KindFOCUS
	}
	return KindStandard
}

// require checks the columns every row is built from.
func (sc tableSchema) require(kind string) error {
	var need []string
	if kind == KindFOCUS {
		need = []string{"BillingAccountId", "BillingPeriodStart", "ChargePeriodStart", "BilledCost"}
	} else {
		need = []string{"billing_account_id", "invoice.month", "usage_start_time", "cost", "export_time"}
	}
	var missing []string
	for _, c := range need {
		if !sc.has(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not a %s billing export: column %s missing (set format: standard, detailed or focus if the kind was guessed wrong)", kind, strings.Join(missing, ", "))
	}
	return nil
}

// partitionFilter limits a query to partitions written from lo on.
func (s *Source) partitionFilter(lo time.Time) (string, []bigquery.QueryParameter) {
	col := s.partCol
	if col == "" || col == "none" {
		return "TRUE", nil
	}
	return col + " >= @partition_lo", []bigquery.QueryParameter{{Name: "partition_lo", Value: lo}}
}

// partitionLow is the earliest partition a month's rows can be in: usage
// is exported after it happens, and an invoice month holds usage from at
// most the month before (late usage).
func partitionLow(m costgate.Month) time.Time {
	return m.Prev().Start()
}

func addMonths(m costgate.Month, n int) costgate.Month {
	for ; n < 0; n++ {
		m = m.Prev()
	}
	for ; n > 0; n-- {
		m = m.Next()
	}
	return m
}

func (s *Source) summaries(ctx context.Context, c *bigquery.Client, kind string, first costgate.Month) ([]summary, error) {
	where, params := s.partitionFilter(partitionLow(first))
	var sql string
	if kind == KindFOCUS {
		sql = fmt.Sprintf(`SELECT BillingAccountId AS account, FORMAT_TIMESTAMP('%%Y%%m', BillingPeriodStart) AS month,
  COUNT(*) AS n, MAX(%s) AS last_export
FROM %s
WHERE %s AND BillingPeriodStart >= @first_start
GROUP BY account, month`, focusExportTime, s.tableRef(), where)
		params = append(params, bigquery.QueryParameter{Name: "first_start", Value: first.Start()})
	} else {
		sql = fmt.Sprintf(`SELECT billing_account_id AS account, invoice.month AS month, COUNT(*) AS n, MAX(export_time) AS last_export
FROM %s
WHERE %s AND invoice.month >= @first_month
GROUP BY account, month`, s.tableRef(), where)
		params = append(params, bigquery.QueryParameter{Name: "first_month", Value: invoiceMonth(first)})
	}
	q := c.Query(sql)
	q.Parameters = params
	it, err := q.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("summarise %s: %w", s.tableRef(), err)
	}
	var out []summary
	for {
		var r struct {
			Account    bigquery.NullString    `bigquery:"account"`
			Month      bigquery.NullString    `bigquery:"month"`
			N          int64                  `bigquery:"n"`
			LastExport bigquery.NullTimestamp `bigquery:"last_export"`
		}
		err := it.Next(&r)
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("summarise %s: %w", s.tableRef(), err)
		}
		if !r.Account.Valid || r.Account.StringVal == "" {
			return nil, fmt.Errorf("summarise %s: %d rows have no billing account id", s.tableRef(), r.N)
		}
		m, err := parseInvoiceMonth(r.Month.StringVal)
		if err != nil {
			return nil, fmt.Errorf("summarise %s: account %s: %w", s.tableRef(), r.Account.StringVal, err)
		}
		out = append(out, summary{account: r.Account.StringVal, month: m, rows: r.N, lastExport: r.LastExport.Timestamp})
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := out[i].month.Start(), out[j].month.Start(); !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].account < out[j].account
	})
	return out, nil
}

// focusExportTime is the column of Google's FOCUS export that moves when
// a month is exported again.
const focusExportTime = "x_ExportTime"

// pacific is the time zone of Google's invoice months.
var pacific = func() *time.Location {
	l, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		// No tz database: a fixed PST offset is one hour off in summer,
		// which moves no row across a month boundary that matters here.
		return time.FixedZone("PST", -8*3600)
	}
	return l
}()

func invoiceMonth(m costgate.Month) string { return fmt.Sprintf("%04d%02d", m.Year, int(m.Month)) }

func parseInvoiceMonth(s string) (costgate.Month, error) {
	if len(s) != 6 {
		return costgate.Month{}, fmt.Errorf("invoice month %q: want YYYYMM", s)
	}
	y, err1 := strconv.Atoi(s[:4])
	mo, err2 := strconv.Atoi(s[4:])
	if err1 != nil || err2 != nil || mo < 1 || mo > 12 {
		return costgate.Month{}, fmt.Errorf("invoice month %q: want YYYYMM", s)
	}
	return costgate.Month{Year: y, Month: time.Month(mo)}, nil
}

// invoiceStart is the first instant of an invoice month (Pacific time) in
// UTC.
func invoiceStart(m costgate.Month) time.Time {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, pacific).UTC()
}
