package focus

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/rowdiff"
	"github.com/costgate/costgate/internal/s3test"
)

// focusParquetRow is the FOCUS sample as a typed Parquet file, the way
// exporters write one: timestamps, doubles, a DECIMAL, a string amount,
// Tags as a MAP and an x_ column.
type focusParquetRow struct {
	BillingAccountID   string            `parquet:"BillingAccountId"`
	BillingPeriodStart time.Time         `parquet:"BillingPeriodStart,timestamp(millisecond)"`
	ChargePeriodStart  time.Time         `parquet:"ChargePeriodStart,timestamp(microsecond)"`
	ServiceName        *string           `parquet:"ServiceName,optional"`
	BilledCost         float64           `parquet:"BilledCost"`
	EffectiveCost      string            `parquet:"EffectiveCost"`
	ListCost           int64             `parquet:"ListCost,decimal(11:18)"`
	ContractedCost     *float64          `parquet:"ContractedCost,optional"`
	Tags               map[string]string `parquet:"Tags,optional"`
	XSource            *string           `parquet:"x_Source,optional"`
}

// sampleAsParquet converts the FOCUS sample CSV to Parquet.
func sampleAsParquet(tb testing.TB, csvData []byte) []byte {
	tb.Helper()
	cr := csv.NewReader(bytes.NewReader(csvData))
	header, err := cr.Read()
	if err != nil {
		tb.Fatal(err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	var rows []focusParquetRow
	ts := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			tb.Fatal(err)
		}
		return f
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		get := func(c string) string { return rec[idx[c]] }
		r := focusParquetRow{
			BillingAccountID:   get("BillingAccountId"),
			BillingPeriodStart: ts(get("BillingPeriodStart")),
			ChargePeriodStart:  ts(get("ChargePeriodStart")),
			BilledCost:         num(get("BilledCost")),
			EffectiveCost:      get("EffectiveCost"),
		}
		if v := get("ServiceName"); v != "NULL" {
			r.ServiceName = &v
		}
		lc, ok := new(big.Rat).SetString(get("ListCost"))
		if !ok {
			tb.Fatal("ListCost")
		}
		unscaled := new(big.Rat).Mul(lc, new(big.Rat).SetInt64(100_000_000_000))
		if !unscaled.IsInt() {
			tb.Fatalf("ListCost %s has more than 11 decimals", get("ListCost"))
		}
		r.ListCost = unscaled.Num().Int64()
		if v := get("ContractedCost"); v != "NULL" {
			f := num(v)
			r.ContractedCost = &f
		}
		if v := get("Tags"); v != "NULL" {
			if err := json.Unmarshal([]byte(v), &r.Tags); err != nil {
				tb.Fatal(err)
			}
		}
		src := "sample"
		r.XSource = &src
		rows = append(rows, r)
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[focusParquetRow](&buf, parquet.MaxRowsPerRowGroup(300))
	if _, err := w.Write(rows); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestOracleParquet: the sample as typed Parquet gives the same totals.
func TestOracleParquet(t *testing.T) {
	raw := readFile(t, testdata("focus", "focus_1.0_sample_1000_rows.csv"))
	dir := t.TempDir()
	path := filepath.Join(dir, "sample.parquet")
	if err := os.WriteFile(path, sampleAsParquet(t, raw), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	sums, err := collect(t, st, later, New(spec("pq", path)))
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Rows != 1000 {
		t.Fatalf("%s", sums[0].String())
	}
	checkOracle(t, st, oracleTotals(t, bytes.NewReader(raw)))

	// Tags (a MAP) and the x_ column came through.
	rows := lineItems(t, st, "pq", "1234567890123", month(2024, time.September))
	tagged, ext := 0, 0
	for _, li := range rows {
		if li.Tags["environment"] != "" {
			tagged++
		}
		if li.Extensions["x_Source"] == "sample" {
			ext++
		}
	}
	if tagged == 0 || ext != len(rows) {
		t.Fatalf("%d rows with tags, %d with x_Source of %d", tagged, ext, len(rows))
	}
}

// TestS3 reads FOCUS exports from an S3-compatible server through the
// real SDK client, configured as a user would (endpoint, region,
// credentials from the environment): a Data Exports layout with one
// BILLING_PERIOD folder holding a CSV.gz part and a Parquet part.
func TestS3(t *testing.T) {
	srv := s3test.Start(t, "billing")
	s3test.Env(t)
	raw := readFile(t, testdata("focus", "focus_1.0_sample_1000_rows.csv"))
	// Split the sample: the first 400 rows as CSV.gz, the rest as Parquet.
	lines := bytes.SplitAfter(raw, []byte("\n"))
	header := lines[0]
	first := bytes.Join(append([][]byte{header}, lines[1:401]...), nil)
	rest := bytes.Join(append([][]byte{header}, lines[401:]...), nil)
	srv.Put(t, "billing", "exports/focus/data/BILLING_PERIOD=2024-09/focus-00001.csv.gz", gzipped(t, first))
	srv.Put(t, "billing", "exports/focus/data/BILLING_PERIOD=2024-09/focus-00002.snappy.parquet", sampleAsParquet(t, rest))
	srv.Put(t, "billing", "exports/focus/metadata/BILLING_PERIOD=2024-09/focus-Manifest.json", []byte(`{"executionId":"x"}`))
	srv.Put(t, "billing", "exports/focus/data/BILLING_PERIOD=2024-09/_SUCCESS", nil)

	sp := collector.Spec{Name: "focus-s3", Type: Type, Path: "s3://billing/exports/focus", Endpoint: srv.URL, Region: s3test.Region}
	reg := collector.NewRegistry()
	reg.Register(Type, Factory)
	src, err := reg.New(sp, collector.Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	sums, err := collect(t, st, later, src)
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Rows != 1000 || s.Files != 2 {
		t.Fatalf("%s", s.String())
	}
	checkOracle(t, st, oracleTotals(t, bytes.NewReader(raw)))
	for _, p := range st.Partitions() {
		if want := "s3://billing/exports/focus/data/BILLING_PERIOD=2024-09/@focus/1:"; len(p.ExportID) < len(want) || p.ExportID[:len(want)] != want {
			t.Fatalf("export id %q", p.ExportID)
		}
	}

	// Unchanged ETags: nothing is read again.
	sums, err = collect(t, st, later, src)
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Files != 0 || s.Loaded != 0 {
		t.Fatalf("second run: %s", s.String())
	}

	// A new part in the period (a restatement) re-reads the period.
	srv.Put(t, "billing", "exports/focus/data/BILLING_PERIOD=2024-09/focus-00003.csv.gz",
		gzipped(t, []byte("BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost\n20209880,2024-09-01,2024-09-09,100,100\n")))
	sums, err = collect(t, st, later, src)
	if err != nil {
		t.Fatal(err)
	}
	if s := sums[0]; s.Files != 3 || s.Rows != 1001 {
		t.Fatalf("restatement: %s", s.String())
	}
}

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		spec  collector.Spec
		field string
	}{
		"no location": {collector.Spec{Name: "x", Type: Type}, "path"},
		"both":        {collector.Spec{Name: "x", Type: Type, Path: "a", URI: "s3://b/p"}, "uri"},
		"format":      {collector.Spec{Name: "x", Type: Type, Path: "a", Format: "xlsx"}, "format"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Factory.Check(tc.spec)
			fe, ok := err.(*collector.FieldError)
			if !ok || fe.Field != tc.field {
				t.Fatalf("got %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

// TestParquetSpilledSameRows: Parquet records are decoded into compact
// batches like CSV blocks; with a memory budget of 0 they are all spilled
// and the store still holds exactly the decoder's rows.
func TestParquetSpilledSameRows(t *testing.T) {
	raw := readFile(t, testdata("focus", "focus_1.0_sample_1000_rows.csv"))
	path := filepath.Join(t.TempDir(), "sample.parquet")
	if err := os.WriteFile(path, sampleAsParquet(t, raw), 0o644); err != nil {
		t.Fatal(err)
	}
	want := decodedRows(t, path, "pq")
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv(collector.SpillEnv, "0")
	st := openStore(t, t.TempDir())
	sums, err := collect(t, st, later, New(spec("pq", path)))
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Rows != 1000 || sums[0].Err() != nil {
		t.Fatalf("%s", sums[0].String())
	}
	for p, rows := range want {
		got := lineItems(t, st, "pq", p.BillingAccountID, p.BillingPeriod)
		if d := rowdiff.Diff(got, rows); d != "" {
			t.Errorf("%s: %s", p, d)
		}
	}
	// With no room to spill, the Parquet export fails and says why.
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	sums, _ = collect(t, openStore(t, t.TempDir()), later, New(spec("pq", path)))
	if err := sums[0].Err(); err == nil || !strings.Contains(err.Error(), collector.SpillEnv) {
		t.Errorf("unwritable spill dir: %v", err)
	}
}
