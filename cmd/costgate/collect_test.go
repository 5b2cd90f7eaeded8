package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/s3test"
	"github.com/costgate/costgate/store"
)

func billing(parts ...string) string {
	p, _ := filepath.Abs(filepath.Join(append([]string{"..", "..", "testdata", "billing"}, parts...)...))
	return p
}

func tfstatePath() string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "tfstate", "demo.tfstate"))
	return p
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	cfg := writeFile(t, dir, "costgate.yaml", `store: `+storeDir+`
sources:
  - {name: focus-sample, type: focus, path: `+billing("focus", "focus_1.0_sample_1000_rows.csv")+`}
  - {name: aws-cur, type: aws_cur, path: `+billing("aws-cur", "cur_legacy_csv_anonymized_2023-11.csv")+`}
  - {name: state, type: tfstate, path: `+tfstatePath()+`}
`)
	code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"focus-sample (focus): 4 partitions loaded, 0 unchanged; 1000 rows",
		"aws-cur (aws_cur): 1 partitions loaded, 0 unchanged; 1281 rows",
		"state (tfstate): 1 partitions loaded, 0 unchanged; 0 rows, 6 resources",
		"store " + storeDir + ": generation 3, 6 partitions, 2281 line items, 6 resources", // one commit per source
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, `msg="partition loaded"`) {
		t.Errorf("no structured progress log without a terminal:\n%s", stderr)
	}

	// Again: nothing changes; --source picks one source.
	code, stdout, _ = runCLI(t, "", "collect", "--config", cfg, "--source", "aws-cur", "--log-level", "error")
	if code != 0 || !strings.Contains(stdout, "aws-cur (aws_cur): 0 partitions loaded, 1 unchanged") || strings.Contains(stdout, "focus-sample") ||
		!strings.Contains(stdout, "generation 3,") {
		t.Fatalf("exit %d: %s", code, stdout)
	}

	// --store wins over the config.
	other := filepath.Join(dir, "other")
	code, stdout, _ = runCLI(t, "", "collect", "--config", cfg, "--store", other, "--source", "state")
	if code != 0 || !strings.Contains(stdout, "store "+other+": generation 1, 1 partitions, 0 line items, 6 resources") {
		t.Fatalf("exit %d: %s", code, stdout)
	}
}

func TestCollectErrors(t *testing.T) {
	dir := t.TempDir()
	good := billing("focus", "focus_1.0_sample_1000_rows.csv")
	tests := map[string]struct {
		config string
		args   []string
		want   []string
	}{
		"no sources":      {"store: x\n", nil, []string{"no sources"}},
		"missing path":    {"sources:\n  - {name: a, type: focus, path: " + good + "}\n  - {name: b, type: focus}\n", nil, []string{"sources[1].path: required"}},
		"unknown type":    {"sources:\n  - {name: a, type: csv, path: x}\n", nil, []string{"sources[0].type: unknown type \"csv\": use one of aws_cur, aws_tagging, focus"}},
		"bigquery table":  {"sources:\n  - {name: g, type: gcp_bigquery, project: p, dataset: d}\n", nil, []string{"sources[0].table: required"}},
		"bigquery months": {"sources:\n  - {name: g, type: gcp_bigquery, project: p, dataset: d, table: t, months: 99}\n", nil, []string{"sources[0].months: 99: give 1 to 36"}},
		"duplicate name":  {"sources:\n  - {name: a, type: focus, path: x}\n  - {name: a, type: tfstate, path: y}\n", nil, []string{"sources[1].name: \"a\" is also the name of sources[0]"}},
		"bad name":        {"sources:\n  - {name: a/b, type: focus, path: x}\n", nil, []string{"sources[0].name: \"a/b\""}},
		"unknown key":     {"sources:\n  - {name: a, type: focus, paht: x}\n", nil, []string{"unknown key \"paht\""}},
		"bad format":      {"sources:\n  - {name: a, type: focus, path: x, format: xlsx}\n", nil, []string{"sources[0].format"}},
		"unknown source":  {"sources:\n  - {name: a, type: focus, path: " + good + "}\n", []string{"--source", "b"}, []string{"--source b: no such source (configured: a)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".yaml", tc.config)
			args := append([]string{"collect", "--config", cfg, "--store", filepath.Join(dir, "store-"+name)}, tc.args...)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestCollectPartialFailure: one bad file fails its source with file,
// line and column (exit 2) while the other source loads.
func TestCollectPartialFailure(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.csv", "BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost\na,2024-09-01,2024-09-02,1,1\na,2024-09-01,2024-09-02,x1,1\n")
	cfg := writeFile(t, dir, "c.yaml", "sources:\n  - {name: bad, type: focus, path: "+bad+"}\n  - {name: state, type: tfstate, path: "+tfstatePath()+"}\n")
	code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--store", filepath.Join(dir, "st"), "--log-level", "error")
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr, "bad.csv: line 3: column BilledCost: parse money \"x1\"") || !strings.Contains(stderr, "collect: 1 errors") {
		t.Errorf("stderr: %s", stderr)
	}
	if !strings.Contains(stdout, "state (tfstate): 1 partitions loaded") {
		t.Errorf("stdout: %s", stdout)
	}
}

// TestCollectS3 configures a FOCUS source on an S3-compatible server the
// way a user would: s3:// path, endpoint, credentials from the
// environment.
func TestCollectS3(t *testing.T) {
	srv := s3test.Start(t, "billing")
	s3test.Env(t)
	raw, err := os.ReadFile(billing("focus", "focus_1.0_sample_1000_rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	srv.Put(t, "billing", "focus/2024-09.csv.gz", buf.Bytes())
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "sources:\n  - {name: focus-s3, type: focus, path: 's3://billing/focus/', region: us-east-1, endpoint: '"+srv.URL+"'}\n")
	st := filepath.Join(dir, "st")
	code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--store", st)
	if code != 0 || !strings.Contains(stdout, "focus-s3 (focus): 4 partitions loaded, 0 unchanged; 1000 rows") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	s, err := store.Open(st, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Query(context.Background(), store.Query{Measures: []store.Measure{store.BilledCost}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Values[0].Format(2); got != "20.52" {
		t.Fatalf("BilledCost total %s", got)
	}
}

// TestCollectSpillsNextToStore: with a memory budget of 0 every decoded
// FOCUS batch is spilled, into the store's directory (TMPDIR is not even
// writable here), and nothing of it is left there afterwards.
func TestCollectSpillsNextToStore(t *testing.T) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	cfg := writeFile(t, dir, "costgate.yaml", `store: `+storeDir+`
sources:
  - {name: focus-sample, type: focus, path: `+billing("focus", "focus_1.0_sample_1000_rows.csv")+`}
`)
	t.Setenv("TMPDIR", filepath.Join(dir, "no-such-dir"))
	t.Setenv(collector.SpillEnv, "0")
	code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "focus-sample (focus): 4 partitions loaded, 0 unchanged; 1000 rows") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "export spilled rows to disk") {
		t.Errorf("nothing was spilled:\n%s", stderr)
	}
	entries, err := os.ReadDir(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "costgate-spill-") {
			t.Errorf("spill file left in the store: %s", e.Name())
		}
	}
}
