package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/tabular"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

// collectParams are the flags of `costgate collect`.
type collectParams struct {
	store      string
	sources    []string
	noProgress bool
}

func newCollectCmd(a *app) *cobra.Command {
	p := &collectParams{}
	cmd := &cobra.Command{
		Use:   "collect [--config FILE] [--source NAME]",
		Short: "Load billing data and inventory from the configured sources into the cost store",
		Long: `collect reads the sources: of the config file (FOCUS files, the AWS Cost
and Usage Report, Terraform state, ...) into the cost store.

It is incremental and idempotent: each (source, billing account, billing
period) is one store partition; an export whose manifest assembly id or
content hash did not change is skipped, a restated month replaces its
partition in one step, and the open month is read again on every run.
Running collect twice never counts anything twice.

Bad input (a truncated gzip, a missing column, an unparseable number or
date) is reported with its file, line and column; the partitions it would
have changed keep their previous data and the others still load.

Credentials are found the standard way for each SDK (environment, shared
profiles, SSO, workload identity); endpoint: points a source at an
S3-compatible store.

The store is --store DIR, else the config's store: key, else ./.costgate.
On a terminal a progress line shows files, rows, bytes, rows/s and an ETA;
otherwise progress goes to the log (stderr). A summary per source goes to
stdout.

Decoded FOCUS rows wait in memory until their partitions are written;
past COSTGATE_SPILL_MIB (default 256, or a quarter of the machine's
memory when that is less; 0 spills everything) they go to an unlinked
file in the store's directory instead.

gzip files are inflated with ` + tabular.Gunzip + ` in this build (make build uses Intel's
ISA-L, about 3 times faster than pure Go, when libisal-dev is installed).

Exit codes: 0 everything loaded, 2 a config error or any source or
partition that failed.`,
		Example: `  costgate collect
  costgate collect --config costgate.yaml --source aws-cur
  costgate collect --store /var/lib/costgate`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range p.sources {
				if strings.TrimSpace(s) == "" {
					return usageErr("--source: empty name")
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			logger := slog.Default()
			interactive := !p.noProgress && isInteractive(a.stderr)
			if lf := cmd.Flag("log-level"); !interactive && lf != nil && !lf.Changed {
				// Without a terminal the log is the progress report.
				logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			}
			return runCollect(cmd.Context(), a, p, logger, interactive)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.store, "store", "", "cost store directory (default: the config's store:, else ./.costgate)")
	f.StringArrayVar(&p.sources, "source", nil, "collect only this source (by name; repeatable)")
	f.BoolVar(&p.noProgress, "no-progress", false, "no progress line, even on a terminal")
	return cmd
}

func runCollect(ctx context.Context, a *app, p *collectParams, logger *slog.Logger, interactive bool) error {
	cfg, err := loadConfig(a.configPath, nil)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	dir := p.store
	if dir == "" {
		dir = orDefault(cfg.Store, defaultStoreDir)
	}
	opts := collector.Options{Logger: logger}
	if interactive {
		opts.Status = a.stderr
	}
	res, err := collectSources(ctx, cfg, p.sources, dir, opts)
	if res == nil {
		return &exitError{code: exitUsage, err: err}
	}
	closeErr := err
	for i := range res.Summaries {
		fmt.Fprintln(a.stdout, res.Summaries[i].String())
	}
	info := res.Info
	fmt.Fprintf(a.stdout, "store %s: generation %d, %d partitions, %d line items, %d resources\n",
		dir, info.Generation, info.Segments, info.Rows, info.Resources)
	if res.Err != nil {
		for _, s := range res.Summaries {
			for _, e := range s.Errors {
				fmt.Fprintf(a.stderr, "costgate: %v\n", e)
			}
		}
		if res.Errors() == 0 { // interrupted before a source ran
			return &exitError{code: exitUsage, err: res.Err}
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("collect: %d errors; the partitions they concern were left as they were", res.Errors())}
	}
	if closeErr != nil {
		return &exitError{code: exitUsage, err: closeErr}
	}
	return nil
}

// collectResult is what one collect run did.
type collectResult struct {
	Summaries []collector.Summary
	// Before is the store's generation when the run began; Info
	// describes the store after it.
	Before uint64
	Info   store.Info
	// Err joins the sources' errors: the partitions they concern were
	// left as they were.
	Err error
}

// Changed reports whether the run committed anything to the store.
func (r *collectResult) Changed() bool { return r.Info.Generation != r.Before }

// Errors counts the sources' errors.
func (r *collectResult) Errors() int {
	n := 0
	for _, s := range r.Summaries {
		n += len(s.Errors)
	}
	return n
}

// collectSources runs the sources of cfg named by names (all when empty)
// into the store in dir: the work of `costgate collect`, shared with
// serve's collect.schedule. A config or store error before any source
// runs returns a nil result; the sources' own errors are in the result.
// A result with an error is a store that did not close cleanly.
func collectSources(ctx context.Context, cfg *loadedConfig, names []string, dir string, opts collector.Options) (*collectResult, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	file := orDefault(cfg.Path, "config")
	if len(cfg.Sources) == 0 {
		return nil, fmt.Errorf("%s: no sources: list the billing exports and inventories to collect under sources: (see docs/collect.md)", file)
	}
	reg := sourceRegistry()
	if err := validateSources(file, cfg.Sources, reg); err != nil {
		return nil, err
	}
	chosen, err := selectSources(cfg.Sources, names)
	if err != nil {
		return nil, err
	}
	env := collector.Env{Logger: opts.Logger}
	var srcs []collector.Source
	for _, sc := range chosen {
		src, err := reg.New(sc.spec(), env)
		if err != nil {
			return nil, fmt.Errorf("%s: source %s: %w", file, sc.Name, err)
		}
		srcs = append(srcs, src)
	}

	st, err := store.Open(dir, store.Options{Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("open cost store: %w", err)
	}
	if opts.SpillDir == "" {
		// Rows over the memory budget spill next to the store: a disk
		// with room for it, where /tmp may be memory (tmpfs).
		opts.SpillDir = dir
	}
	res := &collectResult{Before: st.Info().Generation}
	res.Summaries, res.Err = collector.Run(ctx, collectstore.New(st), srcs, opts)
	res.Info = st.Info()
	if err := st.Close(); err != nil {
		return res, fmt.Errorf("close cost store: %w", err)
	}
	return res, nil
}

// selectSources keeps the named sources, in config order.
func selectSources(all []SourceConfig, names []string) ([]SourceConfig, error) {
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []SourceConfig
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
			delete(want, s.Name)
		}
	}
	if len(want) > 0 {
		var unknown, known []string
		for n := range want {
			unknown = append(unknown, n)
		}
		for _, s := range all {
			known = append(known, s.Name)
		}
		return nil, usageErr("--source %s: no such source (configured: %s)", strings.Join(sortedStrings(unknown), ", "), strings.Join(known, ", "))
	}
	return out, nil
}

func sortedStrings(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}

// isInteractive reports whether w is a terminal that can take a
// redrawn progress line.
func isInteractive(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || strings.EqualFold(os.Getenv("TERM"), "dumb") {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
