package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

func TestEstimateJSONSchema(t *testing.T) {
	code, out, errOut := runCLI(t, "", "estimate", "--no-calibration", "--now", "2026-11-20", "--format", "json", plan("aws_instance_lambda_s3.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != 1.0 || doc["currency"] != "USD" || !strings.HasPrefix(doc["price_snapshot"].(string), "costgate-default-") {
		t.Errorf("header: %v %v %v", doc["version"], doc["currency"], doc["price_snapshot"])
	}
	resources := doc["resources"].([]any)
	byAddr := map[string]map[string]any{}
	for _, r := range resources {
		m := r.(map[string]any)
		for _, k := range []string{"address", "type", "priced", "monthly_before", "monthly_after", "monthly_delta", "components"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%v: no %q", m["address"], k)
			}
		}
		byAddr[m["address"].(string)] = m
	}
	web := byAddr["aws_instance.web_app"]
	if web["priced"] != true || web["monthly_before"] != "0" || web["monthly_after"] != "742.64" || web["monthly_delta"] != "742.64" {
		t.Errorf("web_app: %v", web)
	}
	c := web["components"].([]any)[0].(map[string]any)
	if c["name"] != "Instance usage (Linux/UNIX, on-demand, m5.4xlarge)" || c["unit"] != "hours" || c["quantity"] != "730" ||
		c["unit_price"] != "0.768" || c["monthly"] != "560.64" {
		t.Errorf("component: %v", c)
	}
	fn := byAddr["aws_lambda_function.hello_world"]
	if fn["priced"] != false || fn["monthly_after"] != nil || fn["monthly_delta"] != nil || fn["reason"] == nil {
		t.Errorf("unpriced lambda: %v", fn)
	}
	if q := fn["components"].([]any)[0].(map[string]any)["quantity"]; q != nil {
		t.Errorf("unknown quantity = %v, want null", q)
	}
	total := doc["total"].(map[string]any)
	if total["monthly_before"] != "0" || total["monthly_after"] != "1485.28" || total["monthly_delta"] != "1485.28" {
		t.Errorf("total: %v", total)
	}
	if u := doc["unpriced"].([]any); len(u) != 3 {
		t.Errorf("unpriced: %v", u)
	}
}

func TestEstimateFormatsAndConfig(t *testing.T) {
	dir := t.TempDir()
	usage := writeFile(t, dir, "usage.yml", "version: 0.1\nresource_usage:\n  aws_lambda_function.hello_world:\n    monthly_requests: 100000000\n    request_duration_ms: 250\n")
	cfg := writeFile(t, dir, "costgate.yaml", "pricing:\n  usage_file: "+usage+"\n  currency: USD\n  calibrate: false\n")
	tests := map[string]struct {
		args     []string
		code     int
		inStdout []string
		inStderr []string
	}{
		"table":          {args: []string{"estimate", "--no-calibration", plan("aws_instance_lambda_s3.json")}, inStdout: []string{"RESOURCE / COMPONENT", "aws_instance.web_app (create)", "$742.64", "TOTAL (USD)", "unpriced: usage-based"}},
		"markdown":       {args: []string{"estimate", "--no-calibration", "--format", "markdown", plan("aws_instance_lambda_s3.json")}, inStdout: []string{"### Monthly cost: $0.00 → $1485.28 (+$1485.28)", "| `aws_instance.web_app` | create |", "could not be priced"}},
		"usage from cfg": {args: []string{"estimate", "--config", cfg, "--format", "json", plan("aws_instance_lambda_s3.json")}, inStdout: []string{`"monthly_after": "436.6675"`}},
		"delete":         {args: []string{"estimate", "--no-calibration", plan("aws_instance_volume_attachment_before_apply.json")}, inStdout: []string{"aws_ebs_volume.storage (no-op)", "$12.80", "+$5.03"}},
		"bad format":     {args: []string{"estimate", "--format", "yaml", plan("aws_delete_only.json")}, code: 2, inStderr: []string{"unknown format", "markdown"}},
		"bad now":        {args: []string{"estimate", "--now", "tomorrow", plan("aws_delete_only.json")}, code: 2, inStderr: []string{"--now"}},
		"bad currency": {args: []string{"estimate", "--config", writeFile(t, dir, "cur.yaml", "pricing:\n  currency: dollars\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"pricing.currency", "ISO 4217"}},
		"other currency": {args: []string{"estimate", "--config", writeFile(t, dir, "eur.yaml", "pricing:\n  currency: EUR\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"pricing.currency is EUR", "in USD"}},
		"missing snapshot": {args: []string{"estimate", "--config", writeFile(t, dir, "snap.yaml", "pricing:\n  snapshot: nope.json\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"pricing.snapshot", "does not exist"}},
		"bad usage file": {args: []string{"estimate", "--no-calibration", "--usage-file", writeFile(t, dir, "bad.yml", "resource_usage:\n  a.b:\n    x: -3\n"), plan("aws_delete_only.json")},
			code: 2, inStderr: []string{"bad.yml", "a.b"}},
		"wrapper plan": {args: []string{"estimate", plan("negative_gha_terraform_wrapper_stdout.json")}, code: 2, inStderr: []string{"terraform_wrapper: false"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, s := range tc.inStdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.inStderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// TestEstimateCalibratedFromStore wires a real store into `estimate`:
// EC2 billed at 70% of list makes the effective EC2 figures 70% of list.
func TestEstimateCalibratedFromStore(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []costgate.LineItem
	for d := 1; d <= 10; d++ {
		day := now.AddDate(0, 0, -d)
		rows = append(rows, costgate.LineItem{ChargePeriodStart: day, ChargePeriodEnd: day.Add(24 * time.Hour),
			BillingPeriodStart: costgate.MonthOf(day).Start(), BillingPeriodEnd: costgate.MonthOf(day).End(),
			BillingAccountID: "123456789012", ProviderName: "AWS", ServiceName: "Amazon Elastic Compute Cloud", ResourceID: "i-1",
			ChargeCategory: "Usage", BillingCurrency: "USD", ListCost: costgate.MustMoney("10"), EffectiveCost: costgate.MustMoney("7")})
	}
	if _, err := st.Replace(context.Background(), costgate.Partition{Source: "test", BillingAccountID: "123456789012", BillingPeriod: costgate.MonthOf(now.AddDate(0, 0, -1))}, rows, "e", ""); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errOut := runCLI(t, "", "estimate", "--store", dir, "--now", "2026-11-20", "--format", "json", plan("aws_instance_volume_attachment_before_apply.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Calibration string `json:"calibration"`
		Total       map[string]string
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// list after 17.834 (EBS 12.80 + instance 5.034), all EC2: 70% of it.
	if doc.Total["list_monthly_after"] != "17.834" || doc.Total["monthly_after"] != "12.4838" || !strings.Contains(doc.Calibration, "70.0%") {
		t.Errorf("total %v, calibration %q", doc.Total, doc.Calibration)
	}
	// An explicit --store that does not exist is an error.
	if code, _, errOut := runCLI(t, "", "estimate", "--store", filepath.Join(dir, "nope"), plan("aws_delete_only.json")); code != 2 || !strings.Contains(errOut, "cost store") {
		t.Errorf("missing store: exit %d %s", code, errOut)
	}
}

func TestPricingShow(t *testing.T) {
	code, out, _ := runCLI(t, "", "pricing", "show")
	if code != 0 || !strings.Contains(out, "catalog costgate-default-") || !strings.Contains(out, "AmazonEC2") || !strings.Contains(out, "infracost-fixture:") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "pricing", "show", "--service", "AmazonEC2", "--region", "us-east-1")
	if code != 0 || !strings.Contains(out, "instanceType=m5.4xlarge") || !strings.Contains(out, "breakdown_format_json") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "pricing", "show", "--format", "json", "--provider", "azure")
	var doc struct {
		CatalogID string `json:"catalog_id"`
		Prices    []struct{ Provider string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Prices) == 0 || doc.Prices[0].Provider != "azure" {
		t.Errorf("json: exit %d %+v", code, doc)
	}
	if code, _, errOut := runCLI(t, "", "pricing", "show", "--format", "xml"); code != 2 || !strings.Contains(errOut, "table or json") {
		t.Errorf("bad format: %d %s", code, errOut)
	}
}

// TestPricingRefresh drives `pricing refresh` with the real AWS and
// Google clients against loopback servers that speak the Price List
// Query API (JSON 1.1) and the Cloud Billing Catalog API (REST), then
// estimates with the snapshot it wrote.
func TestPricingRefresh(t *testing.T) {
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AWSPriceListService.GetProducts" {
			http.Error(w, "target", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var in struct{ ServiceCode string }
		json.Unmarshal(body, &in)
		item := func(group, unit, usd string) string {
			b, _ := json.Marshal(map[string]any{
				"product":     map[string]any{"productFamily": "Serverless", "attributes": map[string]string{"group": group, "regionCode": "us-east-1"}, "sku": "S" + group},
				"serviceCode": in.ServiceCode,
				"terms": map[string]any{"OnDemand": map[string]any{"S.JRTCKXETXF": map[string]any{"priceDimensions": map[string]any{
					"S.JRTCKXETXF.6YS6EN2CT7": map[string]any{"unit": unit, "beginRange": "0", "endRange": "Inf", "description": group, "rateCode": "S.JRTCKXETXF.6YS6EN2CT7", "appliesTo": []any{}, "pricePerUnit": map[string]string{"USD": usd}},
				}, "sku": "S", "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": map[string]any{}}}},
				"version": "1", "publicationDate": "2026-11-01T00:00:00Z",
			})
			return string(b)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{"FormatVersion": "aws_v1", "PriceList": []string{
			item("AWS-Lambda-Requests", "Requests", "0.0000002000"), item("AWS-Lambda-Duration", "Lambda-GB-Second", "0.0000166667"),
			item("AWS-Lambda-Storage-Duration", "GB-Second", "0.0000000309"),
		}})
	}))
	defer aws.Close()
	gcp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/services":
			fmt.Fprint(w, `{"services":[{"name":"services/6F81-5844-456A","serviceId":"6F81-5844-456A","displayName":"Compute Engine"}]}`)
		case r.URL.Path == "/v1/services/6F81-5844-456A/skus":
			fmt.Fprint(w, `{"skus":[{"skuId":"D1","description":"Storage PD Capacity","category":{"resourceFamily":"Storage","resourceGroup":"PDStandard","usageType":"OnDemand"},
			  "serviceRegions":["us-central1"],"pricingInfo":[{"effectiveTime":"2026-11-01T00:00:00Z","pricingExpression":{"usageUnit":"GiBy.mo","usageUnitDescription":"gibibyte month",
			  "tieredRates":[{"startUsageAmount":0,"unitPrice":{"currencyCode":"USD","units":"0","nanos":40000000}}]}}]}],"nextPageToken":""}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer gcp.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("GOOGLE_API_KEY", "")
	out := filepath.Join(t.TempDir(), "prices.json")
	code, stdout, errOut := runCLI(t, "", "pricing", "refresh", "--out", out, "--id", "test-refresh",
		"--services", "AWSLambda,Compute Engine", "--regions", "us-east-1,us-central1",
		"--aws-endpoint", aws.URL, "--google-endpoint", gcp.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "wrote "+out+": 4 prices, id test-refresh") || !strings.Contains(errOut, "aws: 3 prices") || !strings.Contains(errOut, "google: 1 prices") {
		t.Errorf("stdout %q stderr %q", stdout, errOut)
	}
	code, stdout, _ = runCLI(t, "", "pricing", "show", "--snapshot", out, "--service", "AWSLambda")
	if code != 0 || !strings.Contains(stdout, "catalog test-refresh@sha256:") || !strings.Contains(stdout, "aws-price-list: AWS-Lambda-Requests") {
		t.Errorf("show: %d\n%s", code, stdout)
	}
	if code, _, errOut := runCLI(t, "", "pricing", "refresh"); code != 2 || !strings.Contains(errOut, "--out is required") {
		t.Errorf("no --out: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "pricing", "refresh", "--out", out, "--regions", "Mars"); code != 2 || !strings.Contains(errOut, "region code") {
		t.Errorf("bad region: %d %s", code, errOut)
	}
}
