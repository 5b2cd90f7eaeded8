// Command genplan writes a synthetic Terraform plan (`terraform show
// -json` format) to stdout, for benchmarks:
//
//	go run ./internal/plangen/cmd/genplan -n 10000 -seed 1 -untagged 10 > plan.json
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/costgate/costgate/internal/plangen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "genplan:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("genplan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts plangen.Options
	fs.IntVar(&opts.Resources, "n", 1000, "number of resource changes")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed; the same flags give the same bytes")
	fs.IntVar(&opts.UntaggedPercent, "untagged", 10, "percent of taggable resources without a team tag (0-100)")
	out := fs.String("o", "", "write to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *out == "" {
		return write(stdout, opts)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := write(f, opts); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plan %s: %w", *out, err)
	}
	return nil
}

func write(w io.Writer, opts plangen.Options) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := plangen.Write(bw, opts); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
