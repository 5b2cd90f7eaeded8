// Command genbill writes synthetic FOCUS billing data (see package
// billgen): one CSV or CSV.gz file, or one CSV.gz per month in a
// directory.
//
//	go run ./internal/billgen/cmd/genbill -rows 1000000 -o focus.csv.gz
//	go run ./internal/billgen/cmd/genbill -rows 50000 -months 6 -dir demo-out/billing
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/billgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "genbill:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("genbill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o billgen.Options
	fs.IntVar(&o.Rows, "rows", 100_000, "usage rows in all (monthly fees, tax and credits come on top)")
	fs.IntVar(&o.Months, "months", 6, "billing periods")
	start := fs.String("start", "2026-05", "first billing period (YYYY-MM)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed; the same flags give the same bytes")
	out := fs.String("o", "", "write one file: .csv or .csv.gz (default: CSV to stdout)")
	dir := fs.String("dir", "", "write one CSV.gz per month into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	m, err := costgate.ParseMonth(*start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	o.Start = m
	var t *billgen.Totals
	switch {
	case *dir != "" && *out != "":
		return fmt.Errorf("give -o or -dir, not both")
	case *dir != "":
		var paths []string
		paths, t, err = billgen.WriteMonthly(*dir, o)
		if err == nil {
			fmt.Fprintf(stderr, "genbill: wrote %s\n", strings.Join(paths, ", "))
		}
	case strings.HasSuffix(*out, ".gz"):
		t, err = billgen.WriteCSVGz(*out, o)
	case *out != "":
		var f *os.File
		if f, err = os.Create(*out); err != nil {
			return err
		}
		t, err = billgen.WriteCSV(f, o)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	default:
		t, err = billgen.WriteCSV(stdout, o)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "genbill: %d rows, %d partitions, EffectiveCost %s, BilledCost %s\n",
		t.Rows, len(t.Partitions), t.EffectiveCost.Format(2), t.BilledCost.Format(2))
	return nil
}
