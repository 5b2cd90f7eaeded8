package focus

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/blob"
	"github.com/costgate/costgate/internal/billgen"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/internal/rowdiff"
)

// TestRowSourceSameRows: collect writes CSV partitions through the
// store's row source (compact batches read one row at a time, never a
// []LineItem of the partition); what the store then holds must be
// exactly the rows the decoder gives as line items. The generated file
// spans several 1 MiB blocks, so partitions are made of many batches
// from two decoding goroutines, with tags and x_ columns.
func TestRowSourceSameRows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gen.csv.gz")
	if _, err := billgen.WriteCSVGz(path, billgen.Options{Seed: 3, Rows: 30_000, Months: 2}); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{path, testdata("focus", "focus_1.0_sample_1000_rows.csv")} {
		want := decodedRows(t, file, "rs")
		st := openStore(t, t.TempDir())
		if _, err := collect(t, st, later, New(spec("rs", file))); err != nil {
			t.Fatal(err)
		}
		if got := len(collectstore.New(st).Loaded("rs")); got != len(want) || got < 2 {
			t.Fatalf("%s: %d partitions in the store, %d decoded", file, got, len(want))
		}
		tagged := 0
		for p, rows := range want {
			got, err := st.LineItems(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if d := rowdiff.Diff(got, rows); d != "" {
				t.Errorf("%s %s: %s", file, p, d)
			}
			for _, li := range rows {
				if len(li.Tags) > 0 {
					tagged++
				}
			}
		}
		if tagged == 0 {
			t.Errorf("%s: no tagged rows: the test proves nothing about tags", file)
		}
	}
}

// TestSpilledRowsSameRows: with a memory budget of 0 every decoded batch
// goes to the spill file (an unlinked temporary file, mapped once the
// export is read) and the store must end up with the same rows; no spill
// file is left behind (collector.Run without SpillDir uses TMPDIR).
func TestSpilledRowsSameRows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gen.csv.gz")
	if _, err := billgen.WriteCSVGz(path, billgen.Options{Seed: 5, Rows: 20_000, Months: 2}); err != nil {
		t.Fatal(err)
	}
	want := decodedRows(t, path, "sp")

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv(collector.SpillEnv, "0")
	st := openStore(t, t.TempDir())
	sums, err := collect(t, st, later, New(spec("sp", path)))
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Failed != 0 || sums[0].Loaded != len(want) {
		t.Fatalf("summary: %s", sums[0].String())
	}
	for p, rows := range want {
		got, err := st.LineItems(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if d := rowdiff.Diff(got, rows); d != "" {
			t.Errorf("%s: %s", p, d)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("files left in TMPDIR: %v", left)
	}

	// A spill directory that cannot be written fails the export with an
	// error that says where and what to do; the store keeps what it had.
	t.Setenv("TMPDIR", filepath.Join(tmp, "missing"))
	gen := st.Info().Generation
	st2 := openStore(t, t.TempDir())
	sums, _ = collect(t, st2, later, New(spec("sp", path)))
	if err := sums[0].Err(); err == nil || sums[0].Loaded != 0 {
		t.Fatalf("unwritable spill dir: %s", sums[0].String())
	} else if !strings.Contains(err.Error(), collector.SpillEnv) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("the error does not say where or how to fix it: %v", err)
	}
	if got := len(collectstore.New(st2).Loaded("sp")); got != 0 {
		t.Errorf("%d partitions written despite the failed export", got)
	}
	if st.Info().Generation != gen {
		t.Error("the first store changed")
	}
}

// decodedRows reads file with the decoder alone and returns its line
// items by partition of source.
func decodedRows(t *testing.T, file, source string) map[costgate.Partition][]costgate.LineItem {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[costgate.Partition][]costgate.LineItem{}
	rows := collector.NewRows(func(li *costgate.LineItem) error {
		p := costgate.Partition{Source: source, BillingAccountID: li.BillingAccountID, BillingPeriod: costgate.MonthOf(li.BillingPeriodStart)}
		want[p] = append(want[p], *li)
		return nil
	})
	if _, err := ReadFile(context.Background(), blob.Local{}, blob.Object{Key: file, Size: fi.Size()}, "", nopSink{}, rows); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestBigColumnsSameRows: string columns past bigSet values are interned
// a block at a time (internBig) instead of row by row. With bigSet 1
// every string column takes that path after its first value; the line
// items must be exactly those of row-by-row interning, for generated
// rows, the real FOCUS sample, and resource names that are quoted with
// "" escapes, empty or NULL.
func TestBigColumnsSameRows(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.csv.gz")
	if _, err := billgen.WriteCSVGz(gen, billgen.Options{Seed: 7, Rows: 30_000, Months: 2}); err != nil {
		t.Fatal(err)
	}
	quirky := filepath.Join(dir, "quirky.csv")
	writeQuirkyNames(t, testdata("focus", "focus_1.0_sample_1000_rows.csv"), quirky)
	defer func(old, size int) { bigSet, blockSize = old, size }(bigSet, blockSize)
	blockSize = 16 << 10 // the small files span many blocks too
	for _, file := range []string{gen, testdata("focus", "focus_1.0_sample_1000_rows.csv"), quirky} {
		bigSet = math.MaxInt
		before := bigInterned.Load()
		want := decodedRows(t, file, "big")
		if bigInterned.Load() != before {
			t.Fatalf("%s: values interned a block at a time with bigSet off", file)
		}
		bigSet = 1
		got := decodedRows(t, file, "big")
		if n := bigInterned.Load() - before; n < 1000 {
			t.Fatalf("%s: only %d values interned a block at a time: the test proves nothing", file, n)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d partitions, want %d", file, len(got), len(want))
		}
		for p, rows := range want {
			if d := rowdiff.Diff(got[p], rows); d != "" {
				t.Errorf("%s %s: %s", file, p, d)
			}
		}
	}
}

// writeQuirkyNames copies the CSV src to dst with ResourceName replaced:
// quoted with "" escapes and commas, empty, NULL, or many distinct names.
func writeQuirkyNames(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	recs, err := csv.NewReader(in).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], "ResourceName")
	if col < 0 {
		t.Fatalf("%s has no ResourceName", src)
	}
	for i, r := range recs[1:] {
		switch i % 5 {
		case 0:
			r[col] = fmt.Sprintf(`vm "%d", the "big" one`, i%300)
		case 1:
			r[col] = ""
		case 2:
			r[col] = "NULL"
		default:
			r[col] = fmt.Sprintf("name-%d", i)
		}
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(out)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
