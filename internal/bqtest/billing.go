package bqtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// The schema of Google's Cloud Billing export to BigQuery, as documented
// for the standard (gcp_billing_export_v1_*) and detailed
// (gcp_billing_export_resource_v1_*) usage cost tables. No public
// licensed sample of export rows exists (see ../shared/fixtures/SOURCES.md,
// billing/gcp), so the rows come from BillingRows, a deterministic
// generator shaped like real exports: several accounts, projects with
// labels, resource labels that override them, late usage invoiced in the
// next month, credits of several types, tax and rounding rows.

func f(name, typ string, sub ...*bq.TableFieldSchema) *bq.TableFieldSchema {
	return &bq.TableFieldSchema{Name: name, Type: typ, Mode: "NULLABLE", Fields: sub}
}

func rep(name string, sub ...*bq.TableFieldSchema) *bq.TableFieldSchema {
	return &bq.TableFieldSchema{Name: name, Type: "RECORD", Mode: "REPEATED", Fields: sub}
}

func kv(name string) *bq.TableFieldSchema {
	return rep(name, f("key", "STRING"), f("value", "STRING"))
}

// BillingSchema returns the export table schema; detailed adds resource
// and price.
func BillingSchema(detailed bool) []*bq.TableFieldSchema {
	fs := []*bq.TableFieldSchema{
		f("billing_account_id", "STRING"),
		f("service", "RECORD", f("id", "STRING"), f("description", "STRING")),
		f("sku", "RECORD", f("id", "STRING"), f("description", "STRING")),
		f("usage_start_time", "TIMESTAMP"),
		f("usage_end_time", "TIMESTAMP"),
		f("project", "RECORD", f("id", "STRING"), f("number", "STRING"), f("name", "STRING"),
			kv("labels"), f("ancestry_numbers", "STRING")),
		kv("labels"),
		kv("system_labels"),
		f("location", "RECORD", f("location", "STRING"), f("country", "STRING"), f("region", "STRING"), f("zone", "STRING")),
		f("export_time", "TIMESTAMP"),
		f("cost", "FLOAT"),
		f("currency", "STRING"),
		f("currency_conversion_rate", "FLOAT"),
		f("usage", "RECORD", f("amount", "FLOAT"), f("unit", "STRING"),
			f("amount_in_pricing_units", "FLOAT"), f("pricing_unit", "STRING")),
		rep("credits", f("name", "STRING"), f("amount", "FLOAT"), f("full_name", "STRING"), f("id", "STRING"), f("type", "STRING")),
		f("invoice", "RECORD", f("month", "STRING")),
		f("cost_type", "STRING"),
		f("adjustment_info", "RECORD", f("id", "STRING"), f("description", "STRING"), f("mode", "STRING"), f("type", "STRING")),
		f("cost_at_list", "FLOAT"),
		f("transaction_type", "STRING"),
		f("seller_name", "STRING"),
	}
	if detailed {
		fs = append(fs,
			f("resource", "RECORD", f("name", "STRING"), f("global_name", "STRING")),
			f("price", "RECORD", f("effective_price", "FLOAT"), f("tier_start_amount", "FLOAT"),
				f("unit", "STRING"), f("pricing_unit_quantity", "FLOAT")))
	}
	return fs
}

// PartitionByExportDay is the billing export's ingestion-time
// partitioning: a row's _PARTITIONTIME is the day it was exported.
func PartitionByExportDay(row map[string]any) time.Time {
	t, _ := row["export_time"].(time.Time)
	return t.UTC().Truncate(24 * time.Hour)
}

type gsku struct {
	service, serviceID, id, desc, unit, punit string
	price                                     float64 // per unit
	resource                                  string  // detailed: collection
	host                                      string  // detailed: API host
}

var gskus = []gsku{
	{"Compute Engine", "6F81-5844-456A", "2E27-4F75-95CD", "E2 Instance Core running in Americas", "seconds", "hour", 0.021811 / 3600, "instances", "compute.googleapis.com"},
	{"Compute Engine", "6F81-5844-456A", "D973-5D65-BAB2", "Storage PD Capacity", "byte-seconds", "gibibyte month", 0.04 / (1 << 30) / 2628000, "disks", "compute.googleapis.com"},
	{"Cloud Storage", "95FF-2EF5-5EA1", "E5F0-6A5D-7BAD", "Standard Storage US Multi-region", "byte-seconds", "gibibyte month", 0.026 / (1 << 30) / 2628000, "", ""},
	{"BigQuery", "24E6-581D-38E5", "3362-E469-6BEF", "Analysis", "bytes", "tebibyte", 6.25 / (1 << 40), "", ""},
	{"Cloud SQL", "9662-B51E-5089", "B4A6-2F3D-2A04", "DB custom CORE running in Americas", "seconds", "hour", 0.0413 / 3600, "instances", "sqladmin.googleapis.com"},
	{"Kubernetes Engine", "CCD8-9BF1-090E", "B561-BFBD-1264", "Zonal Kubernetes Clusters", "seconds", "hour", 0.1 / 3600, "clusters", "container.googleapis.com"},
}

type gproject struct {
	id, number, name, team, env string
}

// BillingRows returns export rows for invoice months [from, to] of the
// given billing accounts, deterministic for a seed. exported is when the
// export last touched the rows.
func BillingRows(seed uint64, accounts []string, from, to time.Time, detailed bool, exported time.Time) []map[string]any {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var rows []map[string]any
	teams := []string{"payments", "search", "platform", "data"}
	for ai, acct := range accounts {
		var projects []gproject
		for p := 0; p < 3; p++ {
			projects = append(projects, gproject{
				id:     fmt.Sprintf("acme-%s-%d", teams[(ai+p)%len(teams)], p),
				number: fmt.Sprintf("%012d", 100000000000+ai*1000+p),
				name:   fmt.Sprintf("Acme %s %d", teams[(ai+p)%len(teams)], p),
				team:   teams[(ai+p)%len(teams)],
				env:    []string{"prod", "staging", "dev"}[p%3],
			})
		}
		for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
			inv := m.Format("200601")
			days := m.AddDate(0, 1, 0).Sub(m).Hours() / 24
			for d := 0; d < int(days); d += 3 {
				day := m.AddDate(0, 0, d)
				for _, p := range projects {
					for si, sk := range gskus {
						if r.IntN(4) == 0 {
							continue
						}
						start := day.Add(time.Duration(r.IntN(24)) * time.Hour)
						// Late usage: the last hours of the month before,
						// invoiced in this month.
						if d == 0 && r.IntN(5) == 0 {
							start = m.Add(-time.Duration(1+r.IntN(6)) * time.Hour)
						}
						end := start.Add(time.Hour)
						amount := float64(1+r.IntN(3600)) * []float64{1, 1 << 30, 1 << 30, 1 << 30, 1, 1}[si]
						pricing := amount
						switch sk.punit {
						case "hour":
							pricing = amount / 3600
						case "gibibyte month":
							pricing = amount / (1 << 30) / 2628000
						case "tebibyte":
							pricing = amount / (1 << 40)
						}
						cost := roundTo(amount*sk.price, 6)
						list := roundTo(cost*1.0, 6)
						row := map[string]any{
							"billing_account_id": acct,
							"service":            map[string]any{"id": sk.serviceID, "description": sk.service},
							"sku":                map[string]any{"id": sk.id, "description": sk.desc},
							"usage_start_time":   start.UTC(),
							"usage_end_time":     end.UTC(),
							"project": map[string]any{"id": p.id, "number": p.number, "name": p.name,
								"labels":           []any{map[string]any{"key": "team", "value": p.team}, map[string]any{"key": "cost-center", "value": "cc-" + p.team}},
								"ancestry_numbers": "/123456789/" + p.number + "/"},
							"labels":                   []any{},
							"system_labels":            []any{},
							"location":                 map[string]any{"location": "us-central1", "country": "US", "region": "us-central1", "zone": "us-central1-" + string(rune('a'+r.IntN(3)))},
							"export_time":              exportTime(end, exported),
							"cost":                     cost,
							"currency":                 "USD",
							"currency_conversion_rate": 1.0,
							"usage":                    map[string]any{"amount": amount, "unit": sk.unit, "amount_in_pricing_units": pricing, "pricing_unit": sk.punit},
							"credits":                  []any{},
							"invoice":                  map[string]any{"month": inv},
							"cost_type":                "regular",
							"cost_at_list":             list,
							"transaction_type":         "GOOGLE",
							"seller_name":              "Google",
						}
						if sk.service == "Cloud Storage" || sk.service == "BigQuery" {
							row["location"] = map[string]any{"location": "US", "country": "US", "region": nil, "zone": nil}
						}
						// Resource labels override the project's.
						if r.IntN(3) == 0 {
							row["labels"] = []any{map[string]any{"key": "team", "value": teams[r.IntN(len(teams))]},
								map[string]any{"key": "app", "value": fmt.Sprintf("app-%d", r.IntN(5))}}
						}
						if sk.service == "Compute Engine" && r.IntN(2) == 0 {
							row["credits"] = []any{map[string]any{"name": "Sustained Usage Discount", "amount": -roundTo(cost*0.2, 6),
								"full_name": "Sustained usage discount", "id": "SUD-" + sk.id, "type": "SUSTAINED_USAGE_DISCOUNT"}}
						}
						if r.IntN(17) == 0 {
							cr, _ := row["credits"].([]any)
							row["credits"] = append(cr, map[string]any{"name": "FreeTrial:FT-1", "amount": -roundTo(cost*0.5, 6),
								"full_name": "Free trial credit", "id": "FT-1", "type": "FREE_TIER"})
						}
						if detailed && sk.resource != "" {
							name := fmt.Sprintf("%s-%s-%d", p.team, strings.TrimSuffix(sk.resource, "s"), r.IntN(4))
							row["resource"] = map[string]any{"name": name,
								"global_name": fmt.Sprintf("//%s/projects/%s/zones/us-central1-a/%s/%d",
									sk.host, p.number, sk.resource, 7000000000000000000+int64(r.IntN(4)))}
							row["price"] = map[string]any{"effective_price": sk.price, "tier_start_amount": 0.0, "unit": sk.unit, "pricing_unit_quantity": 1.0}
						} else if detailed {
							row["resource"] = map[string]any{"name": nil, "global_name": nil}
						}
						rows = append(rows, row)
					}
				}
			}
			// Tax and rounding for the month, on the first project.
			for _, ct := range []string{"tax", "rounding_error"} {
				cost := roundTo(r.Float64()*40, 6)
				if ct == "rounding_error" {
					cost = roundTo(r.Float64()*0.01-0.005, 6)
				}
				end := m.AddDate(0, 1, 0)
				row := map[string]any{
					"billing_account_id": acct,
					"service":            map[string]any{"id": "", "description": "Invoice"},
					"sku":                map[string]any{"id": "", "description": ct},
					"usage_start_time":   m.UTC(), "usage_end_time": end.UTC(),
					"project":       map[string]any{"id": nil, "number": nil, "name": nil, "labels": []any{}, "ancestry_numbers": nil},
					"labels":        []any{},
					"system_labels": []any{},
					"location":      map[string]any{"location": nil, "country": nil, "region": nil, "zone": nil},
					"export_time":   exportTime(end, exported),
					"cost":          cost, "currency": "USD", "currency_conversion_rate": 1.0,
					"usage":   map[string]any{"amount": 0.0, "unit": nil, "amount_in_pricing_units": 0.0, "pricing_unit": nil},
					"credits": []any{}, "invoice": map[string]any{"month": inv},
					"cost_type": ct, "cost_at_list": nil, "transaction_type": "GOOGLE", "seller_name": "Google",
				}
				if detailed {
					row["resource"] = map[string]any{"name": nil, "global_name": nil}
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

func exportTime(end, exported time.Time) time.Time {
	t := end.Add(6 * time.Hour)
	if t.After(exported) {
		t = exported
	}
	return t.UTC()
}

func roundTo(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	v := float64(int64(x*p+0.5*sign(x))) / p
	return v
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}
