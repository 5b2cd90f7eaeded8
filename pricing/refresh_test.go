package pricing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	"google.golang.org/api/option"

	cloudbilling "google.golang.org/api/cloudbilling/v1"
)

// awsItem builds one PriceList entry as GetProducts returns it: a JSON
// document (product, serviceCode, terms.OnDemand, version,
// publicationDate) in a string.
func awsItem(sku, family string, attrs map[string]string, unit, usd, desc string, begin ...string) string {
	dims := map[string]any{}
	ranges := begin
	if len(ranges) == 0 {
		ranges = []string{"0"}
	}
	for i, b := range ranges {
		rate := fmt.Sprintf("%s.JRTCKXETXF.%d", sku, i)
		price := usd
		if i > 0 {
			price = "0.000015"
		}
		dims[rate] = map[string]any{"unit": unit, "endRange": "Inf", "description": desc, "appliesTo": []any{},
			"rateCode": rate, "beginRange": b, "pricePerUnit": map[string]string{"USD": price}}
	}
	a := map[string]string{"servicecode": "x", "location": "US East (N. Virginia)", "regionCode": "us-east-1"}
	for k, v := range attrs {
		a[k] = v
	}
	doc := map[string]any{
		"product":     map[string]any{"productFamily": family, "attributes": a, "sku": sku},
		"serviceCode": "AmazonEC2",
		"terms": map[string]any{
			"OnDemand": map[string]any{sku + ".JRTCKXETXF": map[string]any{"priceDimensions": dims, "sku": sku,
				"effectiveDate": "2024-04-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": map[string]any{}}},
			"Reserved": map[string]any{},
		},
		"version": "20240508191027", "publicationDate": "2024-05-08T19:10:27Z",
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// fakePriceList serves the Price List Query API's JSON 1.1 protocol on a
// loopback server: POST / with X-Amz-Target
// AWSPriceListService.GetProducts, paginated by NextToken.
type fakePriceList struct {
	mu       sync.Mutex
	requests []map[string]any
	pages    map[string][][]string // service code -> pages of PriceList
}

func (f *fakePriceList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AWSPriceListService.GetProducts" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, in)
	f.mu.Unlock()
	pages := f.pages[in["ServiceCode"].(string)]
	page := 0
	if tok, ok := in["NextToken"].(string); ok {
		fmt.Sscanf(tok, "page-%d", &page)
	}
	out := map[string]any{"FormatVersion": "aws_v1", "PriceList": []string{}}
	if page < len(pages) {
		out["PriceList"] = pages[page]
	}
	if page+1 < len(pages) {
		out["NextToken"] = fmt.Sprintf("page-%d", page+1)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func TestRefreshAWS(t *testing.T) {
	fake := &fakePriceList{pages: map[string][][]string{
		"AmazonEC2": {
			{awsItem("SKU1", "Compute Instance", map[string]string{"instanceType": "m5.large", "operatingSystem": "Linux", "tenancy": "Shared",
				"preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required", "usagetype": "BoxUsage:m5.large"},
				"Hrs", "0.0960000000", "$0.096 per On Demand Linux m5.large Instance Hour")},
			{awsItem("SKU2", "Storage", map[string]string{"volumeApiName": "gp3", "usagetype": "EBS:VolumeUsage.gp3"}, "GB-Mo", "0.0800000000", "$0.08 per GB-month of General Purpose (gp3) provisioned storage"),
				awsItem("SKU3", "NAT Gateway", map[string]string{"usagetype": "USE1-NatGateway-Hours", "group": "NGW:NatGateway"}, "Hrs", "0.0450000000", "$0.045 per NAT Gateway Hour"),
				awsItem("SKU4", "System Operation", map[string]string{"volumeApiName": "io2", "group": "EBS IOPS", "usagetype": "EBS:VolumeP-IOPS.io2.tier2"}, "IOPS-Mo", "0.0455000000", "io2 tier 2")},
		},
		"AWSLambda": {
			{awsItem("SKU5", "Serverless", map[string]string{"group": "AWS-Lambda-Duration", "usagetype": "Lambda-GB-Second"}, "Lambda-GB-Second", "0.0000166667", "duration", "0", "6000000000"),
				awsItem("SKU6", "Serverless", map[string]string{"group": "AWS-Lambda-Requests"}, "Requests", "0.0000002000", "requests"),
				awsItem("SKU7", "Serverless", map[string]string{"group": "x"}, "Quantity", "1", "a unit costgate does not use")},
		},
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := awspricing.New(awspricing.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, HTTPClient: srv.Client()})
	prices, err := RefreshAWS(context.Background(), client, []string{"AmazonEC2", "AWSLambda"}, []string{"us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	// EC2 is listed per product family (6 listings of 2 pages each: the
	// fake ignores filters), Lambda whole (1 page).
	if len(fake.requests) != 6*2+1 {
		t.Errorf("%d GetProducts calls, want 13", len(fake.requests))
	}
	if tok := fake.requests[1]["NextToken"]; tok != "page-1" {
		t.Errorf("second call NextToken %v", tok)
	}
	first := fake.requests[0]
	filters := map[string]string{}
	for _, f := range first["Filters"].([]any) {
		m := f.(map[string]any)
		if m["Type"] != "TERM_MATCH" {
			t.Errorf("filter type %v", m["Type"])
		}
		filters[m["Field"].(string)] = m["Value"].(string)
	}
	if first["ServiceCode"] != "AmazonEC2" || filters["regionCode"] != "us-east-1" || filters["operatingSystem"] != "Linux" || first["FormatVersion"] != "aws_v1" {
		t.Errorf("first request %v", first)
	}
	// Build a catalog from the refreshed prices and look them up the way
	// the estimators do.
	snap := &Snapshot{ID: "refresh-test", Currency: "USD", Sources: map[string]string{"aws-price-list": "test"}, Prices: prices}
	var buf bytes.Buffer
	if err := snap.Write(&buf); err != nil {
		t.Fatal(err)
	}
	cat, err := Parse(buf.Bytes(), "refreshed.json")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		q    Query
		want string
	}{
		{Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Unit: "hour", Attrs: map[string]string{"instanceType": "m5.large", "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"}}, "0.096"},
		{Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Unit: "GB-month", Attrs: map[string]string{"productFamily": "Storage", "volumeApiName": "gp3"}}, "0.08"},
		{Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Unit: "hour", Attrs: map[string]string{"productFamily": "NAT Gateway", "usagetype": "NatGateway-Hours"}}, "0.045"},
		{Query{Provider: "aws", Service: "AWSLambda", Region: "us-east-1", Unit: "request", Attrs: map[string]string{"group": "AWS-Lambda-Requests"}}, "0.0000002"},
	}
	for _, c := range checks {
		p, err := cat.Lookup(c.q)
		if err != nil || p.Price.String() != c.want {
			t.Errorf("%s = %v, %v; want %s", c.q, p.Price, err, c.want)
		}
	}
	tiers, err := cat.LookupTiers(Query{Provider: "aws", Service: "AWSLambda", Region: "us-east-1", Unit: "GB-second", Attrs: map[string]string{"group": "AWS-Lambda-Duration"}})
	if err != nil || len(tiers) != 2 || tiers[1].TierStart.String() != "6000000000" {
		t.Errorf("duration tiers %+v %v", tiers, err)
	}
	io2, err := cat.LookupTiers(Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Attrs: map[string]string{"volumeApiName": "io2", "group": "EBS IOPS"}})
	if err != nil || io2[0].TierStart == nil || io2[0].TierStart.String() != "32000" {
		t.Errorf("io2 tier %+v %v", io2, err)
	}
	for _, p := range prices {
		if !strings.HasPrefix(p.Source, "aws-price-list: ") || p.SKU == "" {
			t.Errorf("provenance %q sku %q", p.Source, p.SKU)
		}
	}
}

func TestRefreshAWSError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"InvalidParameterException","Message":"bad filter"}`)
	}))
	defer srv.Close()
	client := awspricing.New(awspricing.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	_, err := RefreshAWS(context.Background(), client, []string{"AWSLambda"}, []string{"us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "InvalidParameter") || !strings.Contains(err.Error(), "AWSLambda us-east-1") {
		t.Errorf("err = %v", err)
	}
}

// fakeBilling serves the Cloud Billing Catalog API (v1 services and
// services.skus, REST JSON) with pagination.
func fakeBilling(t *testing.T) *httptest.Server {
	t.Helper()
	sku := func(id, desc, group, usage, unit string, regions []string, units, nanos int64) map[string]any {
		return map[string]any{
			"name": "services/6F81-5844-456A/skus/" + id, "skuId": id, "description": desc,
			"category":       map[string]any{"serviceDisplayName": "Compute Engine", "resourceFamily": "Compute", "resourceGroup": group, "usageType": usage},
			"serviceRegions": regions,
			"pricingInfo": []any{map[string]any{
				"summary": "", "effectiveTime": "2026-11-01T00:00:00Z", "currencyConversionRate": 1,
				"pricingExpression": map[string]any{"usageUnit": unit, "usageUnitDescription": unit + " desc", "baseUnit": "s",
					"baseUnitDescription": "second", "baseUnitConversionFactor": 3600, "displayQuantity": 1,
					"tieredRates": []any{map[string]any{"startUsageAmount": 0, "unitPrice": map[string]any{"currencyCode": "USD", "units": fmt.Sprint(units), "nanos": nanos}}}},
			}},
			"serviceProviderName": "Google", "geoTaxonomy": map[string]any{"type": "REGIONAL", "regions": regions},
		}
	}
	pages := map[string][][]any{
		"6F81-5844-456A": {
			{sku("CP-1", "E2 Instance Core running in Americas", "CPU", "OnDemand", "h", []string{"us-central1", "us-east1"}, 0, 21811590),
				sku("CP-2", "E2 Instance Ram running in Americas", "RAM", "OnDemand", "GiBy.h", []string{"us-central1"}, 0, 2923530)},
			{sku("CP-3", "Spot Preemptible E2 Instance Core running in Americas", "CPU", "Preemptible", "h", []string{"us-central1"}, 0, 6543000),
				sku("CP-4", "Commitment v1: E2 Cpu in Americas for 1 Year", "CPU", "Commit1Yr", "h", []string{"us-central1"}, 0, 13741000),
				sku("PD-1", "Storage PD Capacity", "PDStandard", "OnDemand", "GiBy.mo", []string{"us-central1"}, 0, 40000000),
				sku("PD-2", "Balanced PD Capacity in Europe", "SSD", "OnDemand", "GiBy.mo", []string{"europe-west1"}, 0, 110000000)},
		},
		"CCD8-9BF1-090E": {{sku("GKE-1", "Regional Kubernetes Clusters", "Compute", "OnDemand", "h", []string{"global"}, 0, 100000000)}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/services", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"services": []any{
			map[string]any{"name": "services/6F81-5844-456A", "serviceId": "6F81-5844-456A", "displayName": "Compute Engine", "businessEntityName": "businessEntities/GCP"},
			map[string]any{"name": "services/CCD8-9BF1-090E", "serviceId": "CCD8-9BF1-090E", "displayName": "Kubernetes Engine", "businessEntityName": "businessEntities/GCP"},
		}, "nextPageToken": ""})
	})
	mux.HandleFunc("GET /v1/services/{id}/skus", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("currencyCode") != "USD" {
			http.Error(w, "currencyCode", http.StatusBadRequest)
			return
		}
		ps := pages[r.PathValue("id")]
		page := 0
		fmt.Sscanf(r.URL.Query().Get("pageToken"), "p%d", &page)
		out := map[string]any{"skus": []any{}, "nextPageToken": ""}
		if page < len(ps) {
			out["skus"] = ps[page]
		}
		if page+1 < len(ps) {
			out["nextPageToken"] = fmt.Sprintf("p%d", page+1)
		}
		json.NewEncoder(w).Encode(out)
	})
	return httptest.NewServer(mux)
}

func TestRefreshGoogle(t *testing.T) {
	srv := fakeBilling(t)
	defer srv.Close()
	svc, err := cloudbilling.NewService(context.Background(), option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	prices, err := RefreshGoogle(context.Background(), svc, []string{"Compute Engine", "Kubernetes Engine"}, []string{"us-central1"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range prices {
		got[p.Region+" "+p.Unit+" "+Query{Attrs: p.Attributes}.key()] = p.Price.String()
	}
	want := map[string]string{
		"us-central1 vCPU-hour ||||machineFamily=e2;resource=cpu;usageType=OnDemand;":    "0.02181159",
		"us-central1 GB-hour ||||machineFamily=e2;resource=ram;usageType=OnDemand;":      "0.00292353",
		"us-central1 vCPU-hour ||||machineFamily=e2;resource=cpu;usageType=Preemptible;": "0.006543",
		"us-central1 GB-month ||||diskType=pd-standard;resource=disk;":                   "0.04",
		"us-central1 hour ||||resource=cluster-management;":                              "0.1",
	}
	if len(got) != len(want) {
		t.Errorf("got %d prices: %v", len(got), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %s", k, got[k], v)
		}
	}
	if _, err := RefreshGoogle(context.Background(), svc, []string{"No Such Service"}, nil); err == nil {
		t.Error("unknown service accepted")
	}
}
