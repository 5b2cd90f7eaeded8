package gcp

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/focus"
)

// col is one selected column of the standard and detailed tables: the
// path in the export's schema and the type of the NULL selected in its
// place when the table lacks it (older exports have no cost_at_list,
// standard ones no resource).
type col struct {
	path string
	null string
}

// exportCols are selected in this order; the row decoder reads them by
// position.
var exportCols = [...]col{
	cAccount:         {"billing_account_id", "STRING"},
	cServiceDesc:     {"service.description", "STRING"},
	cSkuID:           {"sku.id", "STRING"},
	cSkuDesc:         {"sku.description", "STRING"},
	cUsageStart:      {"usage_start_time", "TIMESTAMP"},
	cUsageEnd:        {"usage_end_time", "TIMESTAMP"},
	cProjectID:       {"project.id", "STRING"},
	cProjectName:     {"project.name", "STRING"},
	cProjectLabels:   {"project.labels", "LABELS"},
	cLabels:          {"labels", "LABELS"},
	cLocation:        {"location.location", "STRING"},
	cRegion:          {"location.region", "STRING"},
	cZone:            {"location.zone", "STRING"},
	cCost:            {"cost", "FLOAT64"},
	cCostAtList:      {"cost_at_list", "FLOAT64"},
	cCurrency:        {"currency", "STRING"},
	cUsageAmount:     {"usage.amount", "FLOAT64"},
	cUsageUnit:       {"usage.unit", "STRING"},
	cPricingAmount:   {"usage.amount_in_pricing_units", "FLOAT64"},
	cPricingUnit:     {"usage.pricing_unit", "STRING"},
	cCredits:         {"credits", "CREDITS"},
	cInvoiceMonth:    {"invoice.month", "STRING"},
	cCostType:        {"cost_type", "STRING"},
	cResourceName:    {"resource.name", "STRING"},
	cResourceGlobal:  {"resource.global_name", "STRING"},
	cSellerName:      {"seller_name", "STRING"},
	cServiceID:       {"service.id", "STRING"},
	cTransactionType: {"transaction_type", "STRING"},
}

const (
	cAccount = iota
	cServiceDesc
	cSkuID
	cSkuDesc
	cUsageStart
	cUsageEnd
	cProjectID
	cProjectName
	cProjectLabels
	cLabels
	cLocation
	cRegion
	cZone
	cCost
	cCostAtList
	cCurrency
	cUsageAmount
	cUsageUnit
	cPricingAmount
	cPricingUnit
	cCredits
	cInvoiceMonth
	cCostType
	cResourceName
	cResourceGlobal
	cSellerName
	cServiceID
	cTransactionType
	nCols
)

// selectList builds the SELECT list for the table's schema.
func (sc tableSchema) selectList() string {
	parts := make([]string, 0, nCols)
	for i, c := range exportCols {
		alias := fmt.Sprintf("c%d", i)
		expr := c.path
		if !sc.has(c.path) {
			switch c.null {
			case "LABELS":
				expr = "ARRAY<STRUCT<key STRING, value STRING>>[]"
			case "CREDITS":
				expr = "ARRAY<STRUCT<name STRING, amount FLOAT64, full_name STRING, id STRING, type STRING>>[]"
			default:
				expr = "CAST(NULL AS " + c.null + ")"
			}
		} else if c.null == "CREDITS" {
			// Older exports lack some credit fields: select what exists,
			// by name.
			var fs []string
			for _, f := range []string{"name", "amount", "full_name", "id", "type"} {
				if sc.has("credits." + f) {
					fs = append(fs, "cr."+f+" AS "+f)
				} else if f == "amount" {
					fs = append(fs, "CAST(NULL AS FLOAT64) AS amount")
				} else {
					fs = append(fs, "CAST(NULL AS STRING) AS "+f)
				}
			}
			expr = "ARRAY(SELECT AS STRUCT " + strings.Join(fs, ", ") + " FROM UNNEST(credits) AS cr)"
		}
		parts = append(parts, expr+" AS "+alias)
	}
	return strings.Join(parts, ",\n  ")
}

// read reads one (account, invoice month) whole.
func (s *Source) read(ctx context.Context, c *bigquery.Client, kind string, sc tableSchema, m summary, rows []costgate.LineItem, sink collector.Sink) ([]costgate.LineItem, error) {
	if kind == KindFOCUS {
		return s.readFOCUS(ctx, c, m, rows, sink)
	}
	prog := sink.Progress()
	where, params := s.partitionFilter(partitionLow(m.month))
	sql := fmt.Sprintf("SELECT\n  %s\nFROM %s\nWHERE %s AND billing_account_id = @account AND invoice.month = @month",
		sc.selectList(), s.tableRef(), where)
	q := c.Query(sql)
	q.Parameters = append(params,
		bigquery.QueryParameter{Name: "account", Value: m.account},
		bigquery.QueryParameter{Name: "month", Value: invoiceMonth(m.month)})
	it, err := q.Read(ctx)
	if err != nil {
		return rows, err
	}
	d := newRowDecoder(m)
	var vals []bigquery.Value
	n := 0
	for {
		err := it.Next(&vals)
		if err == iterator.Done {
			break
		}
		if err != nil {
			return rows, err
		}
		n++
		if rows, err = d.decode(vals, rows); err != nil {
			return rows, fmt.Errorf("row %d: %w", n, err)
		}
		if n&1023 == 0 {
			prog.AddRows(1024)
		}
	}
	prog.AddRows(n & 1023)
	if int64(n) != m.rows {
		// Rows arrived between the summary and the read: the export id
		// would not describe what was read.
		return rows, fmt.Errorf("read %d rows where the summary counted %d: the export changed while collecting; run collect again", n, m.rows)
	}
	return rows, nil
}

// rowDecoder maps export rows to line items, sharing strings and tag
// maps between rows.
type rowDecoder struct {
	m         summary
	periodS   time.Time
	periodE   time.Time
	strs      map[string]string
	tagCache  map[string]map[string]string
	tagKey    []byte
	creditExt map[[3]string]map[string]string
}

func newRowDecoder(m summary) *rowDecoder {
	return &rowDecoder{
		m:         m,
		periodS:   invoiceStart(m.month),
		periodE:   invoiceStart(m.month.Next()),
		strs:      map[string]string{},
		tagCache:  map[string]map[string]string{},
		creditExt: map[[3]string]map[string]string{},
	}
}

func (d *rowDecoder) str(v bigquery.Value) string {
	s, _ := v.(string)
	if s == "" {
		return ""
	}
	if t, ok := d.strs[s]; ok {
		return t
	}
	if len(d.strs) > 1<<16 {
		clear(d.strs)
	}
	d.strs[s] = s
	return s
}

// money converts a FLOAT64 exactly as BigQuery prints it.
func money(v bigquery.Value, name string) (costgate.Money, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is %v", name, f)
	}
	m, err := costgate.ParseMoney(strconv.FormatFloat(f, 'g', -1, 64))
	if err != nil {
		return 0, fmt.Errorf("%s %v: %w", name, f, err)
	}
	return m, nil
}

func quantity(v bigquery.Value, name string) (costgate.Quantity, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is %v", name, f)
	}
	q, err := costgate.ParseQuantity(strconv.FormatFloat(f, 'g', -1, 64))
	if err != nil {
		return 0, fmt.Errorf("%s %v: %w", name, f, err)
	}
	return q, nil
}

// labels reads an ARRAY<STRUCT<key, value>> into dst.
func labels(v bigquery.Value, dst map[string]string, override bool) {
	arr, _ := v.([]bigquery.Value)
	for _, e := range arr {
		kv, _ := e.([]bigquery.Value)
		if len(kv) < 2 {
			continue
		}
		k, _ := kv[0].(string)
		val, _ := kv[1].(string)
		if k == "" {
			continue
		}
		if _, ok := dst[k]; ok && !override {
			continue
		}
		dst[k] = val
	}
}

// tags merges project labels under the row's own labels, sharing equal
// maps between rows.
func (d *rowDecoder) tags(project, own bigquery.Value) map[string]string {
	pa, _ := project.([]bigquery.Value)
	oa, _ := own.([]bigquery.Value)
	if len(pa) == 0 && len(oa) == 0 {
		return nil
	}
	m := make(map[string]string, len(pa)+len(oa))
	labels(own, m, true)
	labels(project, m, false)
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d.tagKey = d.tagKey[:0]
	for _, k := range keys {
		d.tagKey = append(d.tagKey, k...)
		d.tagKey = append(d.tagKey, 0)
		d.tagKey = append(d.tagKey, m[k]...)
		d.tagKey = append(d.tagKey, 0)
	}
	if t, ok := d.tagCache[string(d.tagKey)]; ok {
		return t
	}
	if len(d.tagCache) > 1<<16 {
		clear(d.tagCache)
	}
	d.tagCache[string(d.tagKey)] = m
	return m
}

var chargeCategory = map[string]string{
	"regular":        "Usage",
	"tax":            "Tax",
	"adjustment":     "Adjustment",
	"rounding_error": "Adjustment",
}

// serviceCategory maps the services that carry most spend to FOCUS
// service categories; others are "Other".
var serviceCategory = map[string]string{
	"Compute Engine":                  "Compute",
	"Kubernetes Engine":               "Compute",
	"Cloud Run":                       "Compute",
	"Cloud Run Functions":             "Compute",
	"Cloud Functions":                 "Compute",
	"App Engine":                      "Compute",
	"Cloud Storage":                   "Storage",
	"Filestore":                       "Storage",
	"Cloud SQL":                       "Databases",
	"Cloud Spanner":                   "Databases",
	"Cloud Bigtable":                  "Databases",
	"Firestore":                       "Databases",
	"Cloud Memorystore for Redis":     "Databases",
	"AlloyDB":                         "Databases",
	"BigQuery":                        "Analytics",
	"Dataflow":                        "Analytics",
	"Dataproc":                        "Analytics",
	"Pub/Sub":                         "Integration",
	"Cloud Pub/Sub":                   "Integration",
	"Networking":                      "Networking",
	"Cloud DNS":                       "Networking",
	"Cloud Load Balancing":            "Networking",
	"Cloud CDN":                       "Networking",
	"Cloud Logging":                   "Management and Governance",
	"Cloud Monitoring":                "Management and Governance",
	"Secret Manager":                  "Security",
	"Cloud Key Management Service":    "Security",
	"Vertex AI":                       "AI and Machine Learning",
	"Gemini API":                      "AI and Machine Learning",
	"Artifact Registry":               "Developer Tools",
	"Cloud Build":                     "Developer Tools",
	"Support":                         "Other",
	"Invoice":                         "Other",
	"Cloud Memorystore for Memcached": "Databases",
}

// resourceType names the kind of a detailed export's resource by its
// global name, e.g. //compute.googleapis.com/projects/p/zones/z/instances/1
// → compute.googleapis.com/instances.
func resourceType(global string) string {
	rest, ok := strings.CutPrefix(global, "//")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 {
		return ""
	}
	// Segments after the host alternate collection/id.
	coll := ""
	for i := 1; i+1 < len(parts); i += 2 {
		coll = parts[i]
	}
	if coll == "" {
		return parts[0]
	}
	return parts[0] + "/" + coll
}

// decode appends the row and one row per credit.
func (d *rowDecoder) decode(v []bigquery.Value, rows []costgate.LineItem) ([]costgate.LineItem, error) {
	if len(v) != nCols {
		return rows, fmt.Errorf("%d columns, want %d", len(v), nCols)
	}
	var li costgate.LineItem
	li.BillingAccountID = d.str(v[cAccount])
	if li.BillingAccountID != d.m.account {
		return rows, fmt.Errorf("billing_account_id %q in the rows of account %s", li.BillingAccountID, d.m.account)
	}
	start, ok := v[cUsageStart].(time.Time)
	if !ok {
		return rows, fmt.Errorf("usage_start_time is null")
	}
	li.ChargePeriodStart = start.UTC()
	if end, ok := v[cUsageEnd].(time.Time); ok {
		li.ChargePeriodEnd = end.UTC()
	}
	li.BillingPeriodStart, li.BillingPeriodEnd = d.periodS, d.periodE
	li.ProviderName = "Google Cloud"
	li.InvoiceIssuerName = "Google Cloud"
	li.PublisherName = "Google Cloud"
	if sn := d.str(v[cSellerName]); sn != "" {
		li.PublisherName = sn
	}
	li.SubAccountID = d.str(v[cProjectID])
	li.SubAccountName = d.str(v[cProjectName])
	li.ServiceName = d.str(v[cServiceDesc])
	li.ServiceCategory = "Other"
	if c, ok := serviceCategory[li.ServiceName]; ok {
		li.ServiceCategory = c
	}
	li.SkuID = d.str(v[cSkuID])
	li.ChargeDescription = d.str(v[cSkuDesc])
	li.RegionID = d.str(v[cRegion])
	if li.RegionID == "" {
		li.RegionID = d.str(v[cLocation])
	}
	li.AvailabilityZone = d.str(v[cZone])
	li.ResourceID = d.str(v[cResourceGlobal])
	li.ResourceName = d.str(v[cResourceName])
	if li.ResourceID != "" {
		li.ResourceType = d.str(resourceType(li.ResourceID))
	}
	li.BillingCurrency = d.str(v[cCurrency])
	ct := d.str(v[cCostType])
	li.ChargeCategory = "Usage"
	if c, ok := chargeCategory[ct]; ok {
		li.ChargeCategory = c
	}
	if li.ChargeCategory == "Usage" {
		li.ChargeFrequency = "Usage-Based"
	}
	var err error
	if li.BilledCost, err = money(v[cCost], "cost"); err != nil {
		return rows, err
	}
	li.EffectiveCost = li.BilledCost
	li.ListCost = li.BilledCost
	if v[cCostAtList] != nil {
		if li.ListCost, err = money(v[cCostAtList], "cost_at_list"); err != nil {
			return rows, err
		}
	}
	// Consumed and pricing quantities are both in Google's pricing
	// units: usage.amount is in base units (a TiB stored for a month is
	// 2.9e18 byte-seconds), beyond the store's exact quantity range.
	if li.PricingQuantity, err = quantity(v[cPricingAmount], "usage.amount_in_pricing_units"); err != nil {
		return rows, err
	}
	li.PricingUnit = d.str(v[cPricingUnit])
	li.ConsumedQuantity, li.ConsumedUnit = li.PricingQuantity, li.PricingUnit
	if li.PricingUnit == "" {
		// Rows without pricing units (some marketplace SKUs) carry
		// usage.amount alone; it fits when it is not in bytes.
		if q, err := quantity(v[cUsageAmount], "usage.amount"); err == nil {
			li.ConsumedQuantity, li.ConsumedUnit = q, d.str(v[cUsageUnit])
		}
	}
	li.Tags = d.tags(v[cProjectLabels], v[cLabels])
	if ct != "" && ct != "regular" {
		li.Extensions = d.ext("x_CostType", ct, "", "")
	}
	rows = append(rows, li)

	credits, _ := v[cCredits].([]bigquery.Value)
	for _, e := range credits {
		cr, _ := e.([]bigquery.Value)
		if len(cr) < 5 {
			return rows, fmt.Errorf("credits: %d fields, want 5", len(cr))
		}
		amt, err := money(cr[1], "credits.amount")
		if err != nil {
			return rows, err
		}
		c := li
		c.ChargeCategory = "Credit"
		c.ChargeFrequency = ""
		c.BilledCost, c.EffectiveCost, c.ListCost = amt, amt, 0
		c.ConsumedQuantity, c.PricingQuantity = 0, 0
		name := d.str(cr[2]) // full_name
		if name == "" {
			name = d.str(cr[0])
		}
		c.ChargeDescription = name
		c.Extensions = d.ext("x_CreditType", d.str(cr[4]), d.str(cr[3]), d.str(cr[0]))
		rows = append(rows, c)
	}
	return rows, nil
}

// ext returns a shared extensions map.
func (d *rowDecoder) ext(k, v, id, name string) map[string]string {
	key := [3]string{k + "=" + v, id, name}
	if m, ok := d.creditExt[key]; ok {
		return m
	}
	m := map[string]string{}
	if v != "" {
		m[k] = v
	}
	if id != "" {
		m["x_CreditId"] = id
	}
	if name != "" {
		m["x_CreditName"] = name
	}
	if len(d.creditExt) > 1<<14 {
		clear(d.creditExt)
	}
	d.creditExt[key] = m
	return m
}

// readFOCUS reads one partition of Google's FOCUS export through the
// FOCUS decoder the file sources use.
func (s *Source) readFOCUS(ctx context.Context, c *bigquery.Client, m summary, rows []costgate.LineItem, sink collector.Sink) ([]costgate.LineItem, error) {
	where, params := s.partitionFilter(partitionLow(m.month))
	sql := fmt.Sprintf("SELECT * FROM %s\nWHERE %s AND BillingAccountId = @account AND BillingPeriodStart >= @ms AND BillingPeriodStart < @me",
		s.tableRef(), where)
	q := c.Query(sql)
	q.Parameters = append(params,
		bigquery.QueryParameter{Name: "account", Value: m.account},
		bigquery.QueryParameter{Name: "ms", Value: m.month.Start()},
		bigquery.QueryParameter{Name: "me", Value: m.month.End()})
	it, err := q.Read(ctx)
	if err != nil {
		return rows, err
	}
	rec := &valueRecords{it: it, table: s.tableRef()}
	if err := rec.init(); err != nil {
		return rows, err
	}
	add := collector.NewRows(func(li *costgate.LineItem) error {
		rows = append(rows, *li)
		return nil
	})
	if err := focus.DecodeRecords(ctx, s.tableRef(), rec, sink, add); err != nil {
		return rows, err
	}
	if int64(rec.n) != m.rows {
		return rows, fmt.Errorf("read %d rows where the summary counted %d: the export changed while collecting; run collect again", rec.n, m.rows)
	}
	return rows, nil
}

// valueRecords presents query rows as text records for the FOCUS
// decoder: nested and repeated values (Tags) as JSON, times as RFC 3339.
type valueRecords struct {
	it     *bigquery.RowIterator
	table  string
	cols   []string
	vals   []bigquery.Value
	fields [][]byte
	n      int
	err    error
	peeked bool
	done   bool
}

func (r *valueRecords) init() error {
	// The schema is known once the first page is read.
	err := r.it.Next(&r.vals)
	switch {
	case err == iterator.Done:
		r.done = true
	case err != nil:
		return err
	default:
		r.peeked = true
	}
	for _, f := range r.it.Schema {
		r.cols = append(r.cols, f.Name)
	}
	return nil
}

func (r *valueRecords) Columns() []string { return r.cols }

func (r *valueRecords) Next() bool {
	if r.done {
		return false
	}
	if r.peeked {
		r.peeked = false
	} else {
		err := r.it.Next(&r.vals)
		if err == iterator.Done {
			r.done = true
			return false
		}
		if err != nil {
			r.err, r.done = err, true
			return false
		}
	}
	r.n++
	r.fields = r.fields[:0]
	for i, v := range r.vals {
		r.fields = append(r.fields, r.text(i, v))
	}
	return true
}

func (r *valueRecords) text(i int, v bigquery.Value) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []byte(x)
	case float64:
		return strconv.AppendFloat(nil, x, 'g', -1, 64)
	case int64:
		return strconv.AppendInt(nil, x, 10)
	case bool:
		return strconv.AppendBool(nil, x)
	case time.Time:
		return x.UTC().AppendFormat(nil, time.RFC3339Nano)
	case []bigquery.Value:
		// Tags as ARRAY<STRUCT<key, value, ...>>: a JSON object.
		m := map[string]string{}
		for _, e := range x {
			if kv, ok := e.([]bigquery.Value); ok && len(kv) >= 2 {
				k, _ := kv[0].(string)
				val, _ := kv[1].(string)
				if k != "" {
					m[k] = val
				}
			}
		}
		b, _ := json.Marshal(m)
		return b
	default:
		return []byte(fmt.Sprint(x))
	}
}

func (r *valueRecords) Field(i int) []byte {
	if i < len(r.fields) {
		return r.fields[i]
	}
	return nil
}

func (r *valueRecords) Where() string { return fmt.Sprintf("row %d", r.n) }

func (r *valueRecords) Err() error { return r.err }
