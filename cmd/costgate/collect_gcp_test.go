package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/bqtest"
	"github.com/costgate/costgate/store"
)

// costgate collect reads a Cloud Billing export from BigQuery through
// the real client library, against the loopback BigQuery REST server.
func TestCollectGCPBigQuery(t *testing.T) {
	srv := bqtest.Start(t)
	srv.PageSize = 200
	// The window is the three invoice months up to today's.
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0)
	last := first.AddDate(0, 2, 0)
	rows := bqtest.BillingRows(11, []string{"01A2B3-C4D5E6-F7A8B9"}, first, last, true, now)
	srv.Put("acme-billing", "billing", "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9",
		&bqtest.Table{Schema: bqtest.BillingSchema(true), Rows: rows, PartitionTime: bqtest.PartitionByExportDay})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "costgate.yaml")
	yaml := fmt.Sprintf(`store: %s
sources:
  - {name: gcp, type: gcp_bigquery, project: acme-billing, dataset: billing, table: gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9, endpoint: %s}
`, filepath.Join(dir, "store"), srv.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "collect", "--config", cfg, "--no-progress")
	if code != 0 {
		t.Fatalf("collect exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out+errOut, "3 partitions loaded") {
		t.Errorf("summary does not report 3 partitions:\n%s%s", out, errOut)
	}
	// The total after credits equals the export's own.
	var want costgate.Sum
	for _, r := range rows {
		c, err := costgate.ParseMoney(fmt.Sprintf("%.6f", r["cost"].(float64)))
		if err != nil {
			t.Fatal(err)
		}
		want.Add(c)
		for _, cr := range r["credits"].([]any) {
			a, err := costgate.ParseMoney(fmt.Sprintf("%.6f", cr.(map[string]any)["amount"].(float64)))
			if err != nil {
				t.Fatal(err)
			}
			want.Add(a)
		}
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Query(context.Background(), store.Query{Measures: []store.Measure{store.BilledCost}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Values[0]; got.Cmp(want) != 0 {
		t.Fatalf("store total %s, export total %s", got.String(), want.String())
	}
	// Again: nothing changed, nothing loaded.
	code, out, errOut = runCLI(t, "", "collect", "--config", cfg, "--no-progress")
	if code != 0 || !strings.Contains(out+errOut, "3 unchanged") {
		t.Fatalf("second collect exit %d:\n%s%s", code, out, errOut)
	}
}
