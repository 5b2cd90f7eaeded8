package aws

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/blob"
	"github.com/costgate/costgate/internal/s3test"
	"github.com/costgate/costgate/store"
)

// splitCSV cuts a CSV into parts of about n data rows, each with the
// header, as CUR splits a large report.
func splitCSV(tb testing.TB, raw []byte, n int) [][]byte {
	tb.Helper()
	r := csv.NewReader(bytes.NewReader(raw))
	recs, err := r.ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var parts [][]byte
	for i := 1; i < len(recs); i += n {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(recs[0])
		w.WriteAll(recs[i:min(i+n, len(recs))])
		parts = append(parts, buf.Bytes())
	}
	return parts
}

func legacyManifest(assembly string, keys []string) []byte {
	b, _ := json.Marshal(map[string]any{
		"assemblyId": assembly, "account": "123412340534", "reportName": "costgate", "bucket": "billing",
		"compression": "GZIP", "contentType": "text/csv", "charset": "UTF-8",
		"billingPeriod": map[string]string{"start": "20231101T000000.000Z", "end": "20231201T000000.000Z"},
		"reportKeys":    keys,
	})
	return b
}

// uploadLegacy lays the CUR sample out in S3 as a legacy report does:
// gzip CSV parts in an assembly folder and the period's manifest.
func uploadLegacy(tb testing.TB, srv *s3test.Server, assembly string, parts [][]byte) {
	tb.Helper()
	var keys []string
	for i, p := range parts {
		k := fmt.Sprintf("cur/costgate/20231101-20231201/%s/costgate-%d.csv.gz", assembly, i+1)
		srv.Put(tb, "billing", k, gz(tb, p))
		keys = append(keys, k)
	}
	srv.Put(tb, "billing", "cur/costgate/20231101-20231201/costgate-Manifest.json", legacyManifest(assembly, keys))
}

// TestCURLegacyS3: the legacy report read from an S3-compatible server
// with the real SDK client (list by prefix, read the manifest, stream
// the gzip parts) matches the oracle; the same assembly is skipped; a
// new assembly (a restatement) replaces the month.
func TestCURLegacyS3(t *testing.T) {
	srv := s3test.Start(t, "billing")
	s3test.Env(t)
	raw := slurp(t, fixture(curFixture))
	uploadLegacy(t, srv, "11111111-aaaa-bbbb-cccc-000000000001", splitCSV(t, raw, 500))
	// An older assembly's parts stay in the bucket, as they do in S3;
	// the manifest decides what is read.
	srv.Put(t, "billing", "cur/costgate/20231101-20231201/00000000-old/costgate-1.csv.gz", gz(t, []byte("junk")))

	reg := collector.NewRegistry()
	reg.Register(CURType, CURFactory)
	src, err := reg.New(collector.Spec{Name: "aws-cur", Type: CURType, URI: "s3://billing/cur/costgate", Region: "us-east-1", Endpoint: srv.URL}, collector.Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	sums, err := collect(t, st, src)
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Files != 3 || s.Rows != 1281 || s.Loaded != 1 {
		t.Fatalf("%s", s.String())
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(raw)))
	p := st.Partitions()[0]
	if p.ExportID != "s3://billing/cur/costgate/20231101-20231201/@aws_cur/1:11111111-aaaa-bbbb-cccc-000000000001" {
		t.Fatalf("export id %q", p.ExportID)
	}

	sums, err = collect(t, st, src)
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Files != 0 || s.Loaded != 0 || s.Unchanged != 1 {
		t.Fatalf("same assembly: %s", s.String())
	}

	// Restated: AWS adds a late charge and issues a new assembly.
	restated := append(append([]byte(nil), raw...), []byte(lateCharge)...)
	uploadLegacy(t, srv, "11111111-aaaa-bbbb-cccc-000000000002", splitCSV(t, restated, 700))
	sums, err = collect(t, st, src)
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Loaded != 1 || s.Rows != 1282 {
		t.Fatalf("restated: %s", s.String())
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(restated)))
	if n := len(st.Partitions()); n != 1 {
		t.Fatalf("%d partitions after a restatement, want 1", n)
	}
}

// lateCharge is one more usage row for the restatement (94 columns).
var lateCharge = "late0001," + "2023-11-30T00:00:00Z/2023-12-01T00:00:00Z,," + `"Amazon Web Services Canada, Inc.",AWS,Anniversary,123412340534,2023-11-01T00:00:00.000Z,2023-12-01T00:00:00.000Z,123412340534,Usage,2023-11-30T00:00:00.000Z,2023-12-01T00:00:00.000Z,AmazonS3,Requests-Tier1,PutObject,,100,,,USD,0.000005,0.0005,0.000005,0.0005,late charge,,"Amazon Web Services Canada, Inc.",Amazon Simple Storage Service` + strings.Repeat(",", 94-29) + "\n"

// cur2Row is the CUR 2.0 (Data Exports) Parquet schema, the columns the
// mapping reads: snake_case, doubles for amounts, timestamps, and
// resource_tags and product as maps.
type cur2Row struct {
	IdentityLineItemID     string            `parquet:"identity_line_item_id"`
	BillPayerAccountID     string            `parquet:"bill_payer_account_id"`
	BillPayerAccountName   string            `parquet:"bill_payer_account_name"`
	BillBillingPeriodStart time.Time         `parquet:"bill_billing_period_start_date,timestamp(millisecond)"`
	BillBillingPeriodEnd   time.Time         `parquet:"bill_billing_period_end_date,timestamp(millisecond)"`
	BillBillType           string            `parquet:"bill_bill_type"`
	LineItemUsageAccountID string            `parquet:"line_item_usage_account_id"`
	LineItemType           string            `parquet:"line_item_line_item_type"`
	LineItemUsageStart     time.Time         `parquet:"line_item_usage_start_date,timestamp(millisecond)"`
	LineItemUsageEnd       time.Time         `parquet:"line_item_usage_end_date,timestamp(millisecond)"`
	LineItemProductCode    string            `parquet:"line_item_product_code"`
	LineItemUsageAmount    *float64          `parquet:"line_item_usage_amount,optional"`
	LineItemCurrency       string            `parquet:"line_item_currency_code"`
	LineItemUnblendedCost  float64           `parquet:"line_item_unblended_cost"`
	LineItemResourceID     *string           `parquet:"line_item_resource_id,optional"`
	PricingUnit            *string           `parquet:"pricing_unit,optional"`
	PricingOnDemandRate    *float64          `parquet:"pricing_public_on_demand_rate,optional"`
	PricingOnDemandCost    *float64          `parquet:"pricing_public_on_demand_cost,optional"`
	ProductRegionCode      *string           `parquet:"product_region_code,optional"`
	Product                map[string]string `parquet:"product,optional"`
	ResourceTags           map[string]string `parquet:"resource_tags,optional"`
}

// legacyToCUR2 converts the legacy CSV sample to CUR 2.0 Parquet,
// tagging the S3 rows with a team.
func legacyToCUR2(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	r := csv.NewReader(bytes.NewReader(raw))
	header, _ := r.Read()
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	var rows []cur2Row
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		get := func(c string) string { return rec[idx[c]] }
		ts := func(c string) time.Time {
			v, err := time.Parse(time.RFC3339, get(c))
			if err != nil {
				tb.Fatal(err)
			}
			return v
		}
		optf := func(c string) *float64 {
			if get(c) == "" {
				return nil
			}
			f, err := strconv.ParseFloat(get(c), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return &f
		}
		opts := func(c string) *string {
			if get(c) == "" {
				return nil
			}
			v := get(c)
			return &v
		}
		row := cur2Row{
			IdentityLineItemID: get("identity/LineItemId"), BillPayerAccountID: get("bill/PayerAccountId"), BillPayerAccountName: "Payer",
			BillBillingPeriodStart: ts("bill/BillingPeriodStartDate"), BillBillingPeriodEnd: ts("bill/BillingPeriodEndDate"),
			BillBillType: get("bill/BillType"), LineItemUsageAccountID: get("lineItem/UsageAccountId"), LineItemType: get("lineItem/LineItemType"),
			LineItemUsageStart: ts("lineItem/UsageStartDate"), LineItemUsageEnd: ts("lineItem/UsageEndDate"),
			LineItemProductCode: get("lineItem/ProductCode"), LineItemUsageAmount: optf("lineItem/UsageAmount"),
			LineItemCurrency: get("lineItem/CurrencyCode"), LineItemResourceID: opts("lineItem/ResourceId"),
			PricingUnit: opts("pricing/unit"), PricingOnDemandRate: optf("pricing/publicOnDemandRate"), PricingOnDemandCost: optf("pricing/publicOnDemandCost"),
		}
		row.LineItemUnblendedCost = *optf("lineItem/UnblendedCost")
		if reg := get("product/region"); reg != "" {
			row.Product = map[string]string{"region": reg, "product_name": get("product/ProductName")}
		}
		if row.LineItemProductCode == "AmazonS3" {
			row.ResourceTags = map[string]string{"user_team": "storage", "user_env": "prod"}
		}
		rows = append(rows, row)
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[cur2Row](&buf, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestCUR2S3: CUR 2.0 from Data Exports (Parquet under
// data/BILLING_PERIOD=2023-11/) matches the oracle, tags come from the
// resource_tags map and the region from the product map.
func TestCUR2S3(t *testing.T) {
	srv := s3test.Start(t, "billing")
	s3test.Env(t)
	raw := slurp(t, fixture(curFixture))
	srv.Put(t, "billing", "exports/cur2/data/BILLING_PERIOD=2023-11/cur2-00001.snappy.parquet", legacyToCUR2(t, raw))
	srv.Put(t, "billing", "exports/cur2/metadata/BILLING_PERIOD=2023-11/cur2-Manifest.json",
		[]byte(`{"executionId": "e1", "dataFiles": ["s3://billing/exports/cur2/data/BILLING_PERIOD=2023-11/cur2-00001.snappy.parquet"]}`))
	src := NewCUR(collector.Spec{Name: "cur2", Type: CURType, URI: "s3://billing/exports/cur2/", Endpoint: srv.URL})
	st := openStore(t)
	if _, err := collect(t, st, src); err != nil {
		t.Fatal(err)
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(raw)))

	res, err := st.Query(context.Background(), store.Query{
		Measures: []store.Measure{store.BilledCost},
		GroupBy:  []string{"tag:team", "ServiceName", "RegionId"},
		Filters:  []store.Filter{store.Eq("RegionId", "ca-central-1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var teams []string
	for _, r := range res.Rows {
		teams = append(teams, r.Keys[0]+"/"+r.Keys[1])
	}
	if got := strings.Join(teams, " "); !strings.Contains(got, "storage/AmazonS3") || strings.Contains(got, "storage/AWSGlue") {
		t.Fatalf("team tags by service in ca-central-1: %s", got)
	}
}

// TestCUR2Manifest: a Data Exports period is the files its manifest's
// dataFiles list, versioned by its executionId. An older execution's
// folder and a file the manifest does not list are not read (the latest
// folder rule alone would read the stray file and double the period);
// the same executionId again is unchanged; a new one replaces the period;
// a manifest listing a file that is not there fails the period, naming
// both, and leaves it as it was.
func TestCUR2Manifest(t *testing.T) {
	srv := s3test.Start(t, "billing")
	s3test.Env(t)
	raw := slurp(t, fixture(curFixture))
	half := halfCSV(t, raw)
	const dir = "exports/cur2/data/BILLING_PERIOD=2023-11/"
	const man = "exports/cur2/metadata/BILLING_PERIOD=2023-11/cur2-Manifest.json"
	manifest := func(exec string, files ...string) []byte {
		var uris []string
		for _, f := range files {
			uris = append(uris, `"s3://billing/`+dir+f+`"`)
		}
		return []byte(`{"executionId": "` + exec + `", "exportArn": "arn:aws:bcm-data-exports:us-east-1:111122223333:export/cur2-1",
			"columns": [{"name": "bill_payer_account_id", "type": "string"}], "dataFiles": [` + strings.Join(uris, ", ") + `]}`)
	}
	srv.Put(t, "billing", dir+"exec-2/cur2-00001.snappy.parquet", legacyToCUR2(t, raw))
	srv.Put(t, "billing", dir+"exec-2/cur2-00002.snappy.parquet", legacyToCUR2(t, raw))  // not in the manifest
	srv.Put(t, "billing", dir+"exec-1/cur2-00001.snappy.parquet", legacyToCUR2(t, half)) // an older execution
	srv.Put(t, "billing", man, manifest("exec-2", "exec-2/cur2-00001.snappy.parquet"))
	src := NewCUR(collector.Spec{Name: "cur2", Type: CURType, URI: "s3://billing/exports/cur2/", Endpoint: srv.URL})
	st := openStore(t)

	sums, err := collect(t, st, src)
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Loaded == 0 || sums[0].Files != 1 {
		t.Fatalf("first collect: %+v, want a loaded partition from one file", sums[0])
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(raw)))
	for _, p := range st.Partitions() {
		if !strings.Contains(p.ExportID, "exec-2") {
			t.Fatalf("partition %s export id %q, want the manifest's executionId exec-2", p.Partition, p.ExportID)
		}
	}

	sums, err = collect(t, st, src)
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Loaded != 0 || sums[0].Unchanged == 0 {
		t.Fatalf("same executionId again: %+v, want unchanged", sums[0])
	}

	srv.Put(t, "billing", dir+"exec-3/cur2-00001.snappy.parquet", legacyToCUR2(t, half))
	srv.Put(t, "billing", man, manifest("exec-3", "exec-3/cur2-00001.snappy.parquet"))
	sums, err = collect(t, st, src)
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Loaded == 0 {
		t.Fatalf("new executionId: %+v, want the period replaced", sums[0])
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(half)))

	srv.Put(t, "billing", man, manifest("exec-4", "exec-4/cur2-00001.snappy.parquet"))
	_, err = collect(t, st, src)
	if err == nil || !strings.Contains(err.Error(), "cur2-Manifest.json lists data file s3://billing/"+dir+"exec-4/cur2-00001.snappy.parquet") {
		t.Fatalf("manifest naming a missing file: err %v", err)
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(half)))
}

// TestCUR2ManifestLocal: a local copy of a Data Exports export (path:)
// finds the manifest's s3:// data files below its own period folder.
func TestCUR2ManifestLocal(t *testing.T) {
	raw := slurp(t, fixture(curFixture))
	root := t.TempDir()
	put := func(rel string, b []byte) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("data/BILLING_PERIOD=2023-11/exec-2/cur2-00001.snappy.parquet", legacyToCUR2(t, raw))
	put("data/BILLING_PERIOD=2023-11/exec-2/cur2-00002.snappy.parquet", legacyToCUR2(t, raw)) // not in the manifest
	put("metadata/BILLING_PERIOD=2023-11/cur2-Manifest.json", []byte(`{"executionId": "exec-2",
		"dataFiles": ["s3://elsewhere/exports/cur2/data/BILLING_PERIOD=2023-11/exec-2/cur2-00001.snappy.parquet"]}`))
	st := openStore(t)
	if _, err := collect(t, st, NewCUR(collector.Spec{Name: "cur2", Type: CURType, Path: root})); err != nil {
		t.Fatal(err)
	}
	checkCUROracle(t, st, curOracle(t, bytes.NewReader(raw)))
}

// halfCSV keeps the header and the first half of the records.
func halfCSV(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(recs[:1+(len(recs)-1)/2]); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// legacyHeader is the set of legacy CUR columns the mapping tests fill.
var legacyHeader = []string{
	"bill/PayerAccountId", "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "bill/BillType",
	"lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate",
	"lineItem/ProductCode", "lineItem/UsageAmount", "lineItem/CurrencyCode", "lineItem/UnblendedCost",
	"lineItem/NetUnblendedCost", "lineItem/ResourceId", "pricing/publicOnDemandRate", "pricing/publicOnDemandCost",
	"pricing/term", "reservation/ReservationARN", "reservation/EffectiveCost",
	"reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", "reservation/UnusedRecurringFee", "reservation/TotalReservedUnits",
	"savingsPlan/SavingsPlanARN", "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/TotalCommitmentToDate",
	"savingsPlan/UsedCommitment", "resourceTags/user:team", "resourceTags/aws:createdBy",
}

// curLine builds one legacy CUR row from the columns given.
func curLine(vals map[string]string) []string {
	base := map[string]string{
		"bill/PayerAccountId": "111122223333", "bill/BillingPeriodStartDate": "2024-03-01T00:00:00.000Z",
		"bill/BillingPeriodEndDate": "2024-04-01T00:00:00.000Z", "bill/BillType": "Anniversary",
		"lineItem/UsageAccountId": "444455556666", "lineItem/UsageStartDate": "2024-03-05T10:00:00.000Z",
		"lineItem/UsageEndDate": "2024-03-05T11:00:00.000Z", "lineItem/ProductCode": "AmazonEC2",
		"lineItem/CurrencyCode": "USD",
	}
	for k, v := range vals {
		base[k] = v
	}
	out := make([]string, len(legacyHeader))
	for i, h := range legacyHeader {
		out[i] = base[h]
	}
	return out
}

const (
	spARN = "arn:aws:savingsplans::111122223333:savingsplan/sp-1"
	riARN = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/ri-1"
)

// TestCURMapping checks the converter's rules row type by row type,
// including the amortised EffectiveCost of Savings Plans and Reserved
// Instances and the tax, credit and refund rows.
func TestCURMapping(t *testing.T) {
	tests := map[string]struct {
		row                              map[string]string
		category, class, freq            string
		billed, effective, list          string
		cdID, cdType, cdCategory, cdStat string
		pricingQty                       string
	}{
		"on-demand usage": {row: map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UsageAmount": "2", "lineItem/UnblendedCost": "0.2", "pricing/publicOnDemandRate": "0.1", "pricing/term": "OnDemand"},
			category: "Usage", freq: "Usage-Based", billed: "0.2", effective: "0.2", list: "0.2", pricingQty: "2"},
		"net unblended is billed": {row: map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UsageAmount": "1", "lineItem/UnblendedCost": "1", "lineItem/NetUnblendedCost": "0.9", "pricing/publicOnDemandCost": "1.1"},
			category: "Usage", freq: "Usage-Based", billed: "0.9", effective: "1", list: "1.1", pricingQty: "1"},
		"SP covered usage": {row: map[string]string{"lineItem/LineItemType": "SavingsPlanCoveredUsage", "lineItem/UsageAmount": "1", "lineItem/UnblendedCost": "0.096", "pricing/publicOnDemandRate": "0.096", "savingsPlan/SavingsPlanARN": spARN, "savingsPlan/SavingsPlanEffectiveCost": "0.061"},
			category: "Usage", freq: "Usage-Based", billed: "0.096", effective: "0.061", list: "0.096", cdID: spARN, cdType: "Savings Plan", cdCategory: "Spend", cdStat: "Used", pricingQty: "1"},
		"SP negation": {row: map[string]string{"lineItem/LineItemType": "SavingsPlanNegation", "lineItem/UnblendedCost": "-0.096", "savingsPlan/SavingsPlanARN": spARN},
			category: "Usage", freq: "Usage-Based", billed: "-0.096", effective: "0", list: "0", cdID: spARN, cdType: "Savings Plan", cdCategory: "Spend", pricingQty: "0"},
		"SP recurring fee: unused commitment": {row: map[string]string{"lineItem/LineItemType": "SavingsPlanRecurringFee", "lineItem/UnblendedCost": "73", "savingsPlan/SavingsPlanARN": spARN, "savingsPlan/TotalCommitmentToDate": "73", "savingsPlan/UsedCommitment": "61.5"},
			category: "Purchase", freq: "Recurring", billed: "73", effective: "11.5", list: "0", cdID: spARN, cdType: "Savings Plan", cdCategory: "Spend", pricingQty: "0"},
		"SP upfront fee": {row: map[string]string{"lineItem/LineItemType": "SavingsPlanUpfrontFee", "lineItem/UnblendedCost": "8760", "savingsPlan/SavingsPlanARN": spARN},
			category: "Purchase", freq: "One-Time", billed: "8760", effective: "0", list: "0", cdID: spARN, cdType: "Savings Plan", cdCategory: "Spend", pricingQty: "0"},
		"RI discounted usage": {row: map[string]string{"lineItem/LineItemType": "DiscountedUsage", "lineItem/UsageAmount": "1", "lineItem/UnblendedCost": "0", "pricing/publicOnDemandRate": "0.0416", "reservation/ReservationARN": riARN, "reservation/EffectiveCost": "0.026"},
			category: "Usage", freq: "Usage-Based", billed: "0", effective: "0.026", list: "0.0416", cdID: riARN, cdType: "Reserved Instances (RI)", cdCategory: "Usage", cdStat: "Used", pricingQty: "1"},
		"RI fee: unused amortised and recurring": {row: map[string]string{"lineItem/LineItemType": "RIFee", "lineItem/UsageAmount": "744", "lineItem/UnblendedCost": "10.12", "reservation/ReservationARN": riARN, "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "1.25", "reservation/UnusedRecurringFee": "0.75", "reservation/TotalReservedUnits": "744"},
			category: "Purchase", freq: "Recurring", billed: "10.12", effective: "2", list: "0", cdID: riARN, cdType: "Reserved Instances (RI)", cdCategory: "Usage", pricingQty: "744"},
		"RI upfront fee": {row: map[string]string{"lineItem/LineItemType": "Fee", "lineItem/UnblendedCost": "300", "reservation/ReservationARN": riARN},
			category: "Purchase", freq: "One-Time", billed: "300", effective: "0", list: "0", cdID: riARN, cdType: "Reserved Instances (RI)", cdCategory: "Usage", pricingQty: "0"},
		"other fee": {row: map[string]string{"lineItem/LineItemType": "Fee", "lineItem/UnblendedCost": "15"},
			category: "Purchase", freq: "One-Time", billed: "15", effective: "15", list: "0", pricingQty: "0"},
		"tax": {row: map[string]string{"lineItem/LineItemType": "Tax", "lineItem/UnblendedCost": "4.2", "lineItem/UsageAmount": "1"},
			category: "Tax", freq: "Recurring", billed: "4.2", effective: "4.2", list: "0", pricingQty: "1"},
		"credit": {row: map[string]string{"lineItem/LineItemType": "Credit", "lineItem/UnblendedCost": "-25"},
			category: "Credit", freq: "Recurring", billed: "-25", effective: "-25", list: "0", pricingQty: "0"},
		"refund": {row: map[string]string{"lineItem/LineItemType": "Refund", "bill/BillType": "Refund", "lineItem/UnblendedCost": "-3.5"},
			category: "Credit", class: "Correction", freq: "One-Time", billed: "-3.5", effective: "-3.5", list: "0", pricingQty: "0"},
		"EDP discount": {row: map[string]string{"lineItem/LineItemType": "EdpDiscount", "lineItem/UnblendedCost": "-1.1"},
			category: "Usage", freq: "Usage-Based", billed: "-1.1", effective: "-1.1", list: "0", pricingQty: "0"},
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(legacyHeader)
	names := make([]string, 0, len(tests))
	for name, tc := range tests {
		names = append(names, name)
		row := map[string]string{"lineItem/ResourceId": "id-" + name}
		for k, v := range tc.row {
			row[k] = v
		}
		w.Write(curLine(row))
	}
	w.Flush()
	path := filepath.Join(t.TempDir(), "cur.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if _, err := collect(t, st, NewCUR(collector.Spec{Name: "m", Type: CURType, Path: path})); err != nil {
		t.Fatal(err)
	}
	rows, err := st.LineItems(context.Background(), costgate.Partition{Source: "m", BillingAccountID: "111122223333", BillingPeriod: costgate.Month{Year: 2024, Month: time.March}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]costgate.LineItem{}
	for _, li := range rows {
		byName[strings.TrimPrefix(li.ResourceID, "id-")] = li
	}
	for _, name := range names {
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			li, ok := byName[name]
			if !ok {
				t.Fatal("row missing")
			}
			got := []string{li.ChargeCategory, li.ChargeClass, li.ChargeFrequency, li.BilledCost.String(), li.EffectiveCost.String(), li.ListCost.String(),
				li.CommitmentDiscountID, li.CommitmentDiscountType, li.CommitmentDiscountCategory, li.CommitmentDiscountStatus, li.PricingQuantity.String()}
			want := []string{tc.category, tc.class, tc.freq, tc.billed, tc.effective, tc.list, tc.cdID, tc.cdType, tc.cdCategory, tc.cdStat, tc.pricingQty}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("category, class, frequency, billed, effective, list, commitment id/type/category/status, pricing quantity:\n got %q\nwant %q", got, want)
			}
			if li.ProviderName != "AWS" || li.SubAccountID != "444455556666" || li.BillingCurrency != "USD" || li.ServiceCategory != "Compute" {
				t.Errorf("row %+v", li)
			}
		})
	}
}

// TestCURTagsAndResources: resourceTags/user:team becomes tag team,
// aws:createdBy keeps its prefix, ARNs give ResourceType and
// ResourceName.
func TestCURTagsAndResources(t *testing.T) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(legacyHeader)
	w.Write(curLine(map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "1", "lineItem/ResourceId": "arn:aws:lambda:us-east-1:444455556666:function:checkout-api", "resourceTags/user:team": "payments", "resourceTags/aws:createdBy": "IAMUser:x"}))
	w.Write(curLine(map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "2", "lineItem/ResourceId": "arn:aws:ec2:us-east-1:444455556666:instance/i-0abc"}))
	w.Flush()
	path := filepath.Join(t.TempDir(), "cur.csv.gz")
	if err := os.WriteFile(path, gz(t, buf.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if _, err := collect(t, st, NewCUR(collector.Spec{Name: "t", Type: CURType, Path: path})); err != nil {
		t.Fatal(err)
	}
	rows, err := st.LineItems(context.Background(), costgate.Partition{Source: "t", BillingAccountID: "111122223333", BillingPeriod: costgate.Month{Year: 2024, Month: time.March}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, li := range rows {
		got[li.ResourceType+"/"+li.ResourceName] = fmt.Sprint(li.Tags)
	}
	want := map[string]string{"function/checkout-api": "map[aws:createdBy:IAMUser:x team:payments]", "instance/i-0abc": "map[]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestCURBadInput: errors name file, line and column, and a bad new
// assembly leaves the month as it was.
func TestCURBadInput(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(legacyHeader)
	w.Write(curLine(map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "1"}))
	w.Write(curLine(map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "1", "lineItem/UsageStartDate": "2024-03-05T25:00:00Z"}))
	w.Flush()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, buf.Bytes(), 0o644)
	notCUR := filepath.Join(dir, "focus.csv")
	os.WriteFile(notCUR, []byte("BillingAccountId,BilledCost\na,1\n"), 0o644)
	tests := map[string]struct {
		path string
		want []string
	}{
		"bad date":       {bad, []string{"bad.csv", "line 3", "column lineItem/UsageStartDate", "2024-03-05T25:00:00Z"}},
		"missing column": {notCUR, []string{"focus.csv", "line 1", "bill/PayerAccountId", "required CUR column missing"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := collect(t, openStore(t), NewCUR(collector.Spec{Name: "b", Type: CURType, Path: tc.path}))
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
		})
	}

	t.Run("bad assembly keeps the month", func(t *testing.T) {
		srv := s3test.Start(t, "billing")
		raw := slurp(t, fixture(curFixture))
		uploadLegacy(t, srv, "good", splitCSV(t, raw, 2000))
		src := NewCUR(collector.Spec{Name: "aws-cur", Type: CURType, URI: "cur/costgate"})
		src.Bucket = &blob.S3{Client: srv.Client, Bucket: "billing"}
		st := openStore(t)
		if _, err := collect(t, st, src); err != nil {
			t.Fatal(err)
		}
		before := st.Partitions()[0]
		full := gz(t, raw)
		srv.Put(t, "billing", "cur/costgate/20231101-20231201/broken/costgate-1.csv.gz", full[:len(full)/2])
		srv.Put(t, "billing", "cur/costgate/20231101-20231201/costgate-Manifest.json",
			legacyManifest("broken", []string{"cur/costgate/20231101-20231201/broken/costgate-1.csv.gz"}))
		sums, err := collect(t, st, src)
		if err == nil || !strings.Contains(err.Error(), "s3://billing/cur/costgate/20231101-20231201/broken/costgate-1.csv.gz: line ") || !strings.Contains(err.Error(), "truncated gzip") {
			t.Fatalf("error %v", err)
		}
		if sums[0].Failed != 1 {
			t.Fatalf("%s", sums[0].String())
		}
		after := st.Partitions()[0]
		if after.ContentHash != before.ContentHash || after.ExportID != before.ExportID || after.Rows != before.Rows {
			t.Fatalf("partition changed: %+v -> %+v", before, after)
		}
		checkCUROracle(t, st, curOracle(t, bytes.NewReader(raw)))
	})
}

// TestConversionRules walks the converter's rule table: every RENAME and
// UTC rule is checked by putting a marker in the source column and
// finding it in the FOCUS column; every other dimension it lists must be
// one TestCURMapping covers (or one the table leaves Not Defined).
func TestConversionRules(t *testing.T) {
	f, err := os.Open(fixture("focus_conversion_rules_aws_cur.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// FOCUS names of the table that FOCUS 1.0 renamed.
	renamed := map[string]string{"InvoiceIssuer": "InvoiceIssuerName", "Publisher": "PublisherName", "Provider": "ProviderName"}
	computed := map[string]bool{ // checked by TestCURMapping and TestCURTagsAndResources
		"BilledCost": true, "ChargeCategory": true, "ChargeFrequency": true, "CommitmentDiscountCategory": true,
		"CommitmentDiscountId": true, "CommitmentDiscountType": true, "EffectiveCost": true, "ListCost": true,
		"PricingQuantity": true, "ProviderName": true, "ResourceName": true, "ResourceType": true,
		"ServiceCategory": true, "SkuPriceId": true, "PricingCategory": true,
	}
	type rename struct{ src, dim string }
	var renames []rename
	for _, r := range rules[1:] {
		dim, typ := r[0], r[4]
		if d, ok := renamed[dim]; ok {
			dim = d
		}
		switch typ {
		case "RENAME_COLUMN", "ASSIGN_UTC_TIMEZONE":
			renames = append(renames, rename{src: r[2], dim: dim})
		case "Not Defined":
		default:
			if !computed[dim] {
				t.Errorf("rule for %s (%s) is not covered by a test", dim, typ)
			}
		}
	}
	header := append([]string(nil), legacyHeader...)
	vals := map[string]string{"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "1"}
	for _, rn := range renames {
		if !contains(header, rn.src) {
			header = append(header, rn.src)
		}
	}
	markers := map[string]string{}
	for i, rn := range renames {
		switch {
		case strings.Contains(rn.src, "Date"):
			markers[rn.src] = fmt.Sprintf("2024-03-%02dT00:00:00.000Z", i+1)
			if rn.src == "bill/BillingPeriodStartDate" {
				markers[rn.src] = "2024-03-01T00:00:00.000Z"
			}
		case rn.src == "lineItem/UsageAmount":
			markers[rn.src] = "7.25"
		case rn.src == "pricing/publicOnDemandRate":
			markers[rn.src] = "0.125"
		case rn.src == "bill/PayerAccountId":
			markers[rn.src] = "111122223333"
		default:
			markers[rn.src] = "m-" + strings.NewReplacer("/", "-").Replace(rn.src)
		}
		vals[rn.src] = markers[rn.src]
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	row := curLine(vals)
	for _, h := range header[len(legacyHeader):] {
		row = append(row, vals[h])
	}
	w.Write(row)
	w.Flush()
	path := filepath.Join(t.TempDir(), "rules.csv")
	os.WriteFile(path, buf.Bytes(), 0o644)
	st := openStore(t)
	if _, err := collect(t, st, NewCUR(collector.Spec{Name: "r", Type: CURType, Path: path})); err != nil {
		t.Fatal(err)
	}
	items, err := st.LineItems(context.Background(), costgate.Partition{Source: "r", BillingAccountID: "111122223333", BillingPeriod: costgate.Month{Year: 2024, Month: time.March}})
	if err != nil || len(items) != 1 {
		t.Fatalf("%d rows, %v", len(items), err)
	}
	doc, _ := json.Marshal(items[0])
	var fields map[string]any
	json.Unmarshal(doc, &fields)
	for _, rn := range renames {
		got := fmt.Sprint(fields[rn.dim])
		want := markers[rn.src]
		if tm, err := time.Parse(time.RFC3339, want); err == nil {
			want = tm.UTC().Format(time.RFC3339)
		}
		if got != want {
			t.Errorf("%s from %s: got %q, want %q", rn.dim, rn.src, got, want)
		}
	}
	t.Logf("%d rename/UTC rules checked", len(renames))
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
