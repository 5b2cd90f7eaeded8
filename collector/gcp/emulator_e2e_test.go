//go:build e2e

// The real BigQuery emulator (github.com/goccy/bigquery-emulator v0.6.6,
// ZetaSQL underneath) as the peer: the collector's SQL runs on a real SQL
// engine — nested RECORD and REPEATED columns, UNNEST, the ARRAY(SELECT AS
// STRUCT ...) credits projection, a table partitioned on export_time.
// Built by scripts/e2e-tools.sh into $COSTGATE_TOOLS; run by make e2e.
package gcp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	bq "google.golang.org/api/bigquery/v2"
	"google.golang.org/api/option"

	"github.com/costgate/costgate/internal/bqtest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startEmulator(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("COSTGATE_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "costgate-tools")
	}
	bin := filepath.Join(tools, "bigquery-emulator-v0.6.6", "bigquery-emulator")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v: build it with scripts/e2e-tools.sh bigquery-emulator", bin, err)
	}
	port, grpc := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--project="+proj, "--host=127.0.0.1",
		fmt.Sprintf("--port=%d", port), fmt.Sprintf("--grpc-port=%d", grpc), "--log-level=error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/projects/" + proj + "/datasets")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if i > 300 {
			t.Fatalf("emulator on %s not ready: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func toSchema(fs []*bq.TableFieldSchema) bigquery.Schema {
	var out bigquery.Schema
	for _, f := range fs {
		out = append(out, &bigquery.FieldSchema{
			Name: f.Name, Type: bigquery.FieldType(f.Type), Repeated: f.Mode == "REPEATED",
			Schema: toSchema(f.Fields),
		})
	}
	return out
}

// saver inserts a generated row through the streaming API.
type saver map[string]any

func toValue(v any) bigquery.Value {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]bigquery.Value{}
		for k, e := range x {
			m[k] = toValue(e)
		}
		return m
	case []any:
		out := make([]bigquery.Value, len(x))
		for i, e := range x {
			out[i] = toValue(e)
		}
		return out
	}
	return v
}

func (s saver) Save() (map[string]bigquery.Value, string, error) {
	return toValue(map[string]any(s)).(map[string]bigquery.Value), "", nil
}

func TestEmulator(t *testing.T) {
	url := startEmulator(t)
	ctx := context.Background()
	c, err := bigquery.NewClient(ctx, proj, option.WithEndpoint(url+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Dataset(dataset).Create(ctx, &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		table    string
		detailed bool
	}{{stdTab, false}, {detTab, true}} {
		t.Run(tc.table, func(t *testing.T) {
			from, to := months(2024, 8, 11)
			rows := bqtest.BillingRows(5, []string{account, other}, from, to, tc.detailed, now)
			tab := c.Dataset(dataset).Table(tc.table)
			if err := tab.Create(ctx, &bigquery.TableMetadata{
				Schema:           toSchema(bqtest.BillingSchema(tc.detailed)),
				TimePartitioning: &bigquery.TimePartitioning{Field: "export_time", Type: bigquery.DayPartitioningType},
			}); err != nil {
				t.Fatal(err)
			}
			ins := tab.Inserter()
			for i := 0; i < len(rows); i += 500 {
				var batch []saver
				for _, r := range rows[i:min(i+500, len(rows))] {
					batch = append(batch, saver(r))
				}
				if err := ins.Put(ctx, batch); err != nil {
					t.Fatalf("insert rows %d..: %v", i, err)
				}
			}
			st := openStore(t)
			// The partition column (export_time) is read off the table's
			// metadata.
			src := newSource(t, &bqtest.Server{URL: url}, tc.table, nil)
			s := collect(t, st, src)
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if s.Loaded != 6 {
				t.Fatalf("%s: want 6 partitions (3 months, 2 accounts)", s.String())
			}
			checkOracle(t, st, oracle(t, rows, "202409"))
			if pc := src.(*Source).partCol; pc != "export_time" {
				t.Errorf("partition column %q read off the table's metadata, want export_time", pc)
			}
			t.Logf("%s: %s", tc.table, s.String())

			s = collect(t, st, src)
			if s.Loaded != 0 || s.Unchanged != 6 {
				t.Fatalf("second run: %s", s.String())
			}

			// Google restates October of one account: its tax row is
			// replaced by a corrected one with a new export_time. A DML
			// DELETE and a streaming insert stand in for the export
			// rewriting the rows (the emulator's DML cannot assign
			// arithmetic on a FLOAT column).
			restated := now.Add(-time.Hour).UTC()
			q := c.Query(fmt.Sprintf("DELETE FROM `%s.%s.%s` WHERE billing_account_id = @a AND invoice.month = '202410' AND cost_type = 'tax'", proj, dataset, tc.table))
			q.Parameters = []bigquery.QueryParameter{{Name: "a", Value: account}}
			job, err := q.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if js, err := job.Wait(ctx); err != nil {
				t.Fatalf("delete: %v", err)
			} else if js.Err() != nil {
				t.Fatalf("delete: %v", js.Err())
			}
			var fixed []saver
			for _, r := range rows {
				if r["billing_account_id"] == account && r["invoice"].(map[string]any)["month"] == "202410" && r["cost_type"] == "tax" {
					r["export_time"] = restated
					r["cost"] = r["cost"].(float64) + 1.25
					fixed = append(fixed, saver(r))
				}
			}
			if len(fixed) != 1 {
				t.Fatalf("%d tax rows for October", len(fixed))
			}
			if err := ins.Put(ctx, fixed); err != nil {
				t.Fatalf("insert the restated row: %v", err)
			}
			s = collect(t, st, src)
			if s.Loaded != 1 || s.Unchanged != 5 {
				t.Fatalf("restated run: %s", s.String())
			}
			checkOracle(t, st, oracle(t, rows, "202409"))
		})
	}
}
