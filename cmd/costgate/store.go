package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/costgate/costgate/store"
)

// defaultStoreDir is used when neither --store nor the config's store:
// key names the cost store.
const defaultStoreDir = ".costgate"

// storeDir resolves the store directory: the flag, else the config file's
// store: key, else ./.costgate.
func storeDir(a *app, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, err := loadConfig(a.configPath, nil)
	if err != nil {
		return "", &exitError{code: exitUsage, err: err}
	}
	if cfg.Store != "" {
		return cfg.Store, nil
	}
	return defaultStoreDir, nil
}

// openStore opens the store read-only, so that it works while another
// costgate process (serve, a collector) writes it.
func openStore(dir string) (*store.Store, error) {
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("cost store %s does not exist: ingest billing data first, or point --store (or the config's store: key) at it", dir)}
	}
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return st, nil
}

func newStoreCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Inspect the cost store",
	}
	cmd.AddCommand(newStoreInfoCmd(a))
	return cmd
}

type storeInfoParams struct {
	store  string
	format string
	verify bool
}

func newStoreInfoCmd(a *app) *cobra.Command {
	p := &storeInfoParams{}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the store's generation, partitions, rows and size",
		Long: `info lists the live partitions of the cost store (source, billing
account, billing period) with their rows, the runs of their run index
(per day, account and service totals that queries add up instead of rows;
- when a segment has none), size on disk and segment file, and the
store's generation. --verify also checks every block of every segment
against its checksum, and each run index against its rows; damage exits 2.

The store is --store DIR, else the config file's store: key, else ./.costgate.`,
		Example: `  costgate store info
  costgate store info --store /var/lib/costgate --verify
  costgate store info --format json`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if p.format != "table" && p.format != "json" {
				return usageErr("--format %q: use table or json", p.format)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStoreInfo(cmd.Context(), a, p, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.store, "store", "", "cost store directory (default: config store:, else ./.costgate)")
	f.StringVarP(&p.format, "format", "f", "table", "output format: table, json")
	f.BoolVar(&p.verify, "verify", false, "check every block's checksum and each run index against its rows")
	return cmd
}

func runStoreInfo(ctx context.Context, a *app, p *storeInfoParams, stdout io.Writer) error {
	dir, err := storeDir(a, p.store)
	if err != nil {
		return err
	}
	st, err := openStore(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	info := st.Info()
	var verifyErr error
	if p.verify {
		verifyErr = st.Verify(ctx)
	}
	if p.format == "json" {
		out := struct {
			Version int `json:"version"`
			store.Info
			Verified *bool  `json:"verified,omitempty"`
			Damage   string `json:"damage,omitempty"`
		}{Version: 1, Info: info}
		if p.verify {
			ok := verifyErr == nil
			out.Verified = &ok
			if verifyErr != nil {
				out.Damage = verifyErr.Error()
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "store       %s\ngeneration  %d\nsegments    %d\nline items  %d\nresources   %d\nsize        %s\n",
			info.Dir, info.Generation, info.Segments, info.Rows, info.Resources, byteSize(info.Bytes))
		if len(info.Partitions) > 0 {
			fmt.Fprintln(stdout)
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tSOURCE\tACCOUNT\tPERIOD\tROWS\tRUNS\tSIZE\tCHARGES\tFILE\tEXPORT\tSTATUS")
			for _, pi := range info.Partitions {
				period, charges := "", ""
				if !pi.Partition.BillingPeriod.IsZero() {
					period = pi.Partition.BillingPeriod.String()
				}
				if !pi.MinCharge.IsZero() {
					charges = pi.MinCharge.Format(time.DateOnly) + ".." + pi.MaxCharge.Format(time.DateOnly)
				}
				status := "ok"
				if pi.Err != "" {
					status = "DAMAGED: " + pi.Err
				}
				runs := "-"
				if pi.Runs > 0 {
					runs = strconv.FormatUint(uint64(pi.Runs), 10)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", pi.Table, pi.Partition.Source,
					dash(pi.Partition.BillingAccountID), dash(period), pi.Rows, runs, byteSize(pi.Bytes), dash(charges), pi.File, dash(pi.ExportID), status)
			}
			tw.Flush()
		}
		if p.verify {
			if verifyErr == nil {
				fmt.Fprintln(stdout, "\nverify: every block matches its checksum, every run index its rows")
			} else {
				fmt.Fprintf(stdout, "\nverify: DAMAGE FOUND\n  %s\n", strings.ReplaceAll(verifyErr.Error(), "\n", "\n  "))
			}
		}
	}
	if verifyErr != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("store %s is damaged: replace the affected partitions by re-ingesting them", dir)}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
