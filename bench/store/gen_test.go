package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"
)

func dataHash(d *Data) [32]byte {
	h := sha256.New()
	for _, col := range [][]uint8{d.Day, d.Account, d.Service, d.Region, d.ResType, d.ChargeCat, d.PriceCat, d.Team, d.Env} {
		h.Write(col)
	}
	for _, col := range [][]int64{d.Qty, d.List, d.Billed, d.Effective} {
		binary.Write(h, binary.LittleEndian, col)
	}
	binary.Write(h, binary.LittleEndian, d.SKU)
	binary.Write(h, binary.LittleEndian, d.Resource)
	h.Write([]byte(strings.Join(d.D.Resources, "\n")))
	return [32]byte(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := Generate(50_000, 7), Generate(50_000, 7)
	if dataHash(a) != dataHash(b) {
		t.Fatal("same seed, different data")
	}
	if c := Generate(50_000, 8); dataHash(a) == dataHash(c) {
		t.Fatal("different seeds, same data")
	}
}

func TestGenerateShape(t *testing.T) {
	d := Generate(200_000, 1)
	if len(d.Parts) != nAccounts*3 || d.Parts[len(d.Parts)-1].Hi != d.N {
		t.Fatalf("partitions: %d, last ends at %d", len(d.Parts), d.Parts[len(d.Parts)-1].Hi)
	}
	untaggedRows := 0
	for i := 0; i < d.N; i++ {
		if !(d.List[i] >= d.Billed[i] && d.Billed[i] >= d.Effective[i] && d.Effective[i] >= 0) {
			t.Fatalf("row %d: list %d billed %d effective %d", i, d.List[i], d.Billed[i], d.Effective[i])
		}
		if d.Team[i] == 0 {
			untaggedRows++
		}
		if m := int(d.D.MonthOfDay[d.Day[i]]); d.Parts[partOf(d, i)].Month != m {
			t.Fatalf("row %d: day %d outside its partition's month", i, d.Day[i])
		}
	}
	if share := float64(untaggedRows) / float64(d.N); share < 0.04 || share > 0.14 {
		t.Errorf("untagged share %.3f, want about 0.08", share)
	}
	for i := 1; i < len(d.D.Resources); i++ {
		if d.D.Resources[i-1] >= d.D.Resources[i] {
			t.Fatalf("resource dictionary not strictly sorted at %d", i)
		}
	}
}

func partOf(d *Data, i int) int {
	for k, p := range d.Parts {
		if i >= p.Lo && i < p.Hi {
			return k
		}
	}
	return -1
}

// TestEnginesAgree runs the whole benchmark on a small data set: every
// engine must return the same results.
func TestEnginesAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store and two DuckDB tables")
	}
	var out bytes.Buffer
	ok, err := run(context.Background(), config{rows: 30_000, seed: 3, iters: 2, warmup: 1, threads: 2,
		dir: t.TempDir(), sync: false, out: &out, quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("engines disagree:\n%s", out.String())
	}
	for _, want := range []string{"CHECK: all 5 engines", "| Q7 big items by team |", "costgate Replace"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
