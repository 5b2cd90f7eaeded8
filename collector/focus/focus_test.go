package focus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/store"
)

func write(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func lineItems(tb testing.TB, st *store.Store, source, account string, m costgate.Month) []costgate.LineItem {
	tb.Helper()
	rows, err := st.LineItems(context.Background(), costgate.Partition{Source: source, BillingAccountID: account, BillingPeriod: m})
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// quirks has a byte order mark, NULL and null, empty strings, timestamps
// with and without T and Z, an offset, US dates, a spreadsheet amount,
// quoted quotes and line breaks, Tags as JSON, an x_ column and a column
// the store does not keep.
const quirks = "\xEF\xBB\xBF" + `"BillingAccountId",BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,BilledCost,EffectiveCost,ServiceName,Tags,x_Team,RegionId,ConsumedQuantity,Id
acct-1,2024-09-01T00:00:00Z,2024-09-05 10:00:00,2024-09-05T11:00:00.000Z,1.5,1.25,"Amazon ""EC2""","{""team"": ""web"", ""n"": 3, ""empty"": null}",web,NULL,,7
acct-1,2024-09-01,2024-09-05T10:00:00+02:00,,"$1,000.00 ",0,S3,NULL,,,null,8
acct-1,9/1/24,9/30/24,,0.000000000049,0.0000000005,"multi
line",{},,us-east-1,2.5E0,9
`

func TestQuirks(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "quirks.csv", quirks)
	st := openStore(t, t.TempDir())
	if _, err := collect(t, st, later, New(spec("q", path))); err != nil {
		t.Fatal(err)
	}
	got := lineItems(t, st, "q", "acct-1", month(2024, time.September))
	if len(got) != 3 {
		t.Fatalf("%d rows, want 3", len(got))
	}
	byService := map[string]costgate.LineItem{}
	for _, li := range got {
		byService[li.ServiceName] = li
	}
	sep := utc("2024-09-01T00:00:00Z")
	tests := map[string]struct {
		service string
		check   func(li costgate.LineItem) bool
	}{
		"BOM, quoted quotes": {`Amazon "EC2"`, func(li costgate.LineItem) bool { return li.BillingAccountID == "acct-1" }},
		"space, no T, no Z":  {`Amazon "EC2"`, func(li costgate.LineItem) bool { return li.ChargePeriodStart.Equal(utc("2024-09-05T10:00:00Z")) }},
		"T, millis, Z":       {`Amazon "EC2"`, func(li costgate.LineItem) bool { return li.ChargePeriodEnd.Equal(utc("2024-09-05T11:00:00Z")) }},
		"date only":          {"S3", func(li costgate.LineItem) bool { return li.BillingPeriodStart.Equal(sep) }},
		"offset to UTC":      {"S3", func(li costgate.LineItem) bool { return li.ChargePeriodStart.Equal(utc("2024-09-05T08:00:00Z")) }},
		"US date": {"multi\nline", func(li costgate.LineItem) bool {
			return li.BillingPeriodStart.Equal(sep) && li.ChargePeriodStart.Equal(utc("2024-09-30T00:00:00Z"))
		}},
		"money": {`Amazon "EC2"`, func(li costgate.LineItem) bool {
			return li.BilledCost == costgate.MustMoney("1.5") && li.EffectiveCost == costgate.MustMoney("1.25")
		}},
		"spreadsheet amount":    {"S3", func(li costgate.LineItem) bool { return li.BilledCost == costgate.MustMoney("1000") }},
		"rounding to 1e-9":      {"multi\nline", func(li costgate.LineItem) bool { return li.BilledCost == 0 && li.EffectiveCost == 1 }},
		"NULL string":           {`Amazon "EC2"`, func(li costgate.LineItem) bool { return li.RegionID == "" }},
		"empty and null number": {"S3", func(li costgate.LineItem) bool { return li.ConsumedQuantity == 0 && li.ChargePeriodEnd.IsZero() }},
		"exponent":              {"multi\nline", func(li costgate.LineItem) bool { return li.ConsumedQuantity == costgate.Quantity(2_500_000_000) }},
		"tags JSON": {`Amazon "EC2"`, func(li costgate.LineItem) bool {
			return reflect.DeepEqual(li.Tags, map[string]string{"team": "web", "n": "3", "empty": ""})
		}},
		"tags NULL and {}": {"S3", func(li costgate.LineItem) bool { return len(li.Tags) == 0 && len(byService["multi\nline"].Tags) == 0 }},
		"x_ column kept": {`Amazon "EC2"`, func(li costgate.LineItem) bool {
			return reflect.DeepEqual(li.Extensions, map[string]string{"x_Team": "web"})
		}},
		"x_ empty is null": {"S3", func(li costgate.LineItem) bool { return li.Extensions == nil }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			li, ok := byService[tc.service]
			if !ok {
				t.Fatalf("no row with ServiceName %q", tc.service)
			}
			if !tc.check(li) {
				t.Errorf("row %+v", li)
			}
		})
	}
}

// TestSpecExamples loads the FOCUS spec's example files that have every
// required column: the byte-order-mark file, US dates and spreadsheet
// amounts among them.
func TestSpecExamples(t *testing.T) {
	tests := map[string]struct {
		file    string
		rows    int64
		account string
		billed  string // total BilledCost
	}{
		"virtual currency, BOM":  {"spec_example_virtual_currency_pricing_model_a2_bom.csv", 3, "12345", "0"},
		"simple SaaS, $ amounts": {"spec_example_simple_saas_agreements_c.csv", 3, "12345", "35800"},
		"SaaS spend agreement":   {"spec_example_saas_spend_agreements_b2.csv", 14, "000-00-000", "1200"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, t.TempDir())
			sums, err := collect(t, st, later, New(spec("ex", testdata("focus", tc.file))))
			if err != nil {
				t.Fatal(err)
			}
			if sums[0].Rows != tc.rows {
				t.Fatalf("%s", sums[0].String())
			}
			res, err := st.Query(context.Background(), store.Query{Measures: []store.Measure{store.BilledCost}, GroupBy: []string{"BillingAccountId"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != 1 || res.Rows[0].Keys[0] != tc.account || res.Rows[0].Values[0].String() != tc.billed {
				t.Fatalf("totals %+v, want %s %s", res.Rows, tc.account, tc.billed)
			}
		})
	}
}

// TestBadInput: each kind of bad input gives an error naming file, line
// and column.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	header := "BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost\n"
	good := "a,2024-09-01,2024-09-02,1,1\n"
	sample := readFile(t, testdata("focus", "focus_1.0_sample_1000_rows.csv"))
	gz := gzipped(t, sample)
	tests := map[string]struct {
		path string
		want []string
	}{
		"missing required column": {testdata("focus", "spec_example_commitment_discount_usage_scenario_3.csv"),
			[]string{"spec_example_commitment_discount_usage_scenario_3.csv", "line 1", "column BillingAccountId", "required FOCUS column missing"}},
		"unparseable number": {write(t, dir, "num.csv", header+good+"a,2024-09-01,2024-09-02,12;5,1\n"),
			[]string{"num.csv", "line 3", "column BilledCost", `"12;5"`}},
		"thousands that are not": {write(t, dir, "comma.csv", header+good+good+"a,2024-09-01,2024-09-02,\"12,5\",1\n"),
			[]string{"comma.csv", "line 4", "column BilledCost", "thousands"}},
		"unparseable date": {write(t, dir, "date.csv", header+"a,2024-09-01,2023-02-01T30:00:00Z,1,1\n"),
			[]string{"date.csv", "line 2", "column ChargePeriodStart", "2023-02-01T30:00:00Z"}},
		"null billing account": {write(t, dir, "acct.csv", header+good+"NULL,2024-09-01,2024-09-02,1,1\n"),
			[]string{"acct.csv", "line 3", "column BillingAccountId", "null"}},
		"bad tags": {write(t, dir, "tags.csv", "BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost,Tags\na,2024-09-01,2024-09-02,1,1,\"[1,2]\"\n"),
			[]string{"tags.csv", "line 2", "column Tags", "JSON object"}},
		"unterminated quote": {write(t, dir, "quote.csv", header+good+"a,\"2024-09-01,2024-09-02,1,1\n"),
			[]string{"quote.csv", "line 3", "unterminated quoted field"}},
		"short record": {write(t, dir, "short.csv", header+good+good+"a,2024-09-01,2024-09-02,1\n"),
			[]string{"short.csv", "line 4", "4 fields, but the header has 5"}},
		"truncated gzip": {write(t, dir, "cut.csv.gz", string(gz[:len(gz)*6/10])),
			[]string{"cut.csv.gz", "line ", "truncated gzip"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, t.TempDir())
			sums, err := collect(t, st, later, New(spec("bad", tc.path)))
			if err == nil {
				t.Fatalf("no error; summary %s", sums[0].String())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n := len(st.Partitions()); n != 0 {
				t.Errorf("a failed file left %d partitions", n)
			}
		})
	}
}

// TestFailedPartitionKept: a bad restatement of one month leaves that
// month's partition exactly as it was, while another file's restatement
// loads in the same run.
func TestFailedPartitionKept(t *testing.T) {
	dir := t.TempDir()
	header := "BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost,ServiceName\n"
	write(t, dir, "a.csv", header+"A,2024-09-01,2024-09-02,1,1,x\nA,2024-09-01,2024-09-03,2,2,x\n")
	write(t, dir, "b.csv", header+"B,2024-09-01,2024-09-02,10,10,y\n")
	st := openStore(t, t.TempDir())
	src := New(spec("s", dir))
	if _, err := collect(t, st, later, src); err != nil {
		t.Fatal(err)
	}
	before := lineItems(t, st, "s", "B", month(2024, time.September))
	var hashB string
	for _, p := range st.Partitions() {
		if p.Partition.BillingAccountID == "B" {
			hashB = p.ContentHash
		}
	}

	write(t, dir, "a.csv", header+"A,2024-09-01,2024-09-02,1,1,x\nA,2024-09-01,2024-09-03,5,5,x\n")
	write(t, dir, "b.csv", header+"B,2024-09-01,2024-09-02,11,11,y\nB,2024-09-01,2024-09-03,oops,1,y\n")
	touch(t, filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"))
	sums, err := collect(t, st, later, src)
	if err == nil || !strings.Contains(err.Error(), "b.csv: line 3: column BilledCost") {
		t.Fatalf("error %v", err)
	}
	if s := sums[0]; s.Loaded != 1 || s.Failed != 1 {
		t.Fatalf("summary %s", s.String())
	}
	after := lineItems(t, st, "s", "B", month(2024, time.September))
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("partition B changed:\nbefore %+v\nafter  %+v", before, after)
	}
	for _, p := range st.Partitions() {
		if p.Partition.BillingAccountID == "B" && p.ContentHash != hashB {
			t.Fatalf("partition B hash %s, was %s", p.ContentHash, hashB)
		}
	}
	res, err := st.Query(context.Background(), store.Query{Filters: []store.Filter{store.Eq("BillingAccountId", "A")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Values[0].String(); got != "6" {
		t.Fatalf("restated A total %s, want 6", got)
	}
}

// touch moves the files' modification time forward, as a new export
// would (the fingerprint of a local file is its size and mtime).
func touch(tb testing.TB, paths ...string) {
	tb.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			tb.Fatal(err)
		}
		mt := fi.ModTime().Add(time.Minute)
		if err := os.Chtimes(p, mt, mt); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestIncremental: only the restated month is replaced; a file moved to
// another account empties the old partition; the open month is read
// again on every run but not rewritten when nothing changed.
func TestIncremental(t *testing.T) {
	dir := t.TempDir()
	header := "BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost\n"
	aug := write(t, dir, "2024-08.csv", header+"A,2024-08-01,2024-08-02,1,1\n")
	sep := write(t, dir, "2024-09.csv", header+"A,2024-09-01,2024-09-02,2,2\nB,2024-09-01,2024-09-02,3,3\n")
	st := openStore(t, t.TempDir())
	src := New(spec("inc", dir))
	now := time.Date(2024, time.September, 20, 0, 0, 0, 0, time.UTC) // September is open

	run := func(want string) collector.Summary {
		t.Helper()
		sums, err := collect(t, st, now, src)
		if err != nil {
			t.Fatal(err)
		}
		s := sums[0]
		got := strings.Join([]string{itoa(s.Loaded), itoa(s.Unchanged), itoa(int(s.Files))}, "/")
		if got != want {
			t.Fatalf("loaded/unchanged/files read = %s, want %s (%s)", got, want, s.String())
		}
		return s
	}
	run("3/0/2")
	gen := st.Info().Generation
	run("0/3/1") // September read again (open), nothing written
	if st.Info().Generation != gen {
		t.Fatal("an unchanged open month was rewritten")
	}

	// Restate August (closed): only August is read and replaced.
	write(t, dir, "2024-08.csv", header+"A,2024-08-01,2024-08-02,1.5,1.5\n")
	touch(t, aug)
	run("1/2/2")

	// September's rows of B move to C: B is emptied, C appears.
	write(t, dir, "2024-09.csv", header+"A,2024-09-01,2024-09-02,2,2\nC,2024-09-01,2024-09-02,3,3\n")
	touch(t, sep)
	run("3/1/1") // B emptied, C loaded, A rewritten (its file changed); August untouched
	total := func(account string) string {
		res, err := st.Query(context.Background(), store.Query{Filters: []store.Filter{store.Eq("BillingAccountId", account)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) == 0 {
			return "none"
		}
		return res.Rows[0].Values[0].String() + "/" + itoa(int(res.Rows[0].Count))
	}
	for acct, want := range map[string]string{"A": "3.5/2", "B": "0/0", "C": "3/1"} {
		if got := total(acct); got != want {
			t.Errorf("account %s: %s, want %s", acct, got, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestTwoSourcesOneAccount: sources never touch each other's partitions.
func TestTwoSourcesOneAccount(t *testing.T) {
	dir := t.TempDir()
	header := "BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost\n"
	p1 := write(t, dir, "one/a.csv", header+"A,2024-09-01,2024-09-02,1,1\n")
	p2 := write(t, dir, "two/a.csv", header+"A,2024-09-01,2024-09-02,2,2\n")
	st := openStore(t, t.TempDir())
	if _, err := collect(t, st, later, New(spec("one", p1)), New(spec("two", p2))); err != nil {
		t.Fatal(err)
	}
	res, err := st.Query(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Values[0].String(); got != "3" {
		t.Fatalf("total %s, want 3", got)
	}
	if !bytes.Contains([]byte(st.Partitions()[0].ExportID), []byte("a.csv@focus/1:")) {
		t.Fatalf("export id %q", st.Partitions()[0].ExportID)
	}
}

// TestErrorInLaterBlock: with the file parsed in parallel blocks, an
// error deep in the file still names its line, and an earlier one wins.
func TestErrorInLaterBlock(t *testing.T) {
	var b strings.Builder
	b.WriteString("BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost,ChargeDescription\n")
	pad := strings.Repeat("x", 200)
	for i := 2; i <= 30000; i++ {
		cost := "1.5"
		switch i {
		case 17000:
			cost = "bad17000"
		case 25000:
			cost = "bad25000"
		}
		fmt.Fprintf(&b, "A,2024-09-01,2024-09-02,%s,1,\"row %d %s\"\n", cost, i, pad)
	}
	dir := t.TempDir()
	path := write(t, dir, "big.csv", b.String())
	st := openStore(t, t.TempDir())
	_, err := collect(t, st, later, New(spec("big", path)))
	if err == nil || !strings.Contains(err.Error(), "big.csv: line 17000: column BilledCost: parse money \"bad17000\"") {
		t.Fatalf("error %v", err)
	}
	if n := len(st.Partitions()); n != 0 {
		t.Fatalf("%d partitions after a failed file", n)
	}
}
