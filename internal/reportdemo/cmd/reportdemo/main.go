// Command reportdemo writes the demo billing data of `make demo` into a
// cost store, and optionally a decision log of gate decisions for the
// report's gate section, with the inventories that match the decisions'
// per-resource estimates with billing. Running it again is cheap: the
// store skips partitions and inventories whose content has not changed.
//
//	go run ./internal/reportdemo/cmd/reportdemo -store demo-out/report-store -decisions demo-out/report-decisions.db
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/internal/reportdemo"
	"github.com/costgate/costgate/store"
)

func main() {
	dir := flag.String("store", "demo-out/report-store", "cost store directory to fill")
	decisions := flag.String("decisions", "", "also write demo gate decisions to this SQLite decision log (replaced)")
	preset := flag.String("preset", "demo", "data set: demo (13 months, 24k line items a month) or small")
	flag.Parse()
	if err := run(context.Background(), *dir, *decisions, *preset); err != nil {
		fmt.Fprintf(os.Stderr, "reportdemo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, decisions, preset string) error {
	var p reportdemo.Params
	switch preset {
	case "demo":
		p = reportdemo.Demo()
	case "small":
		p = reportdemo.Small()
	default:
		return fmt.Errorf("-preset %q: use demo or small", preset)
	}
	start := time.Now()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return err
	}
	n, err := p.Write(ctx, st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("reportdemo: %d line items in %s (%d months from %s) in %s\n", n, dir, p.Months, p.From, time.Since(start).Round(time.Millisecond))
	if decisions == "" {
		return nil
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(decisions + suffix); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	l, err := decisionlog.Open(ctx, decisions)
	if err != nil {
		return err
	}
	defer l.Close()
	last := p.MonthList()[p.Months-1]
	ds := p.Decisions(last, 240)
	plans, inventories := p.PlanDecisions(last)
	estimates := 0
	for _, d := range append(ds, plans...) {
		dec := d.Decision
		c := d.Context
		if c == nil {
			c = map[string]string{"team": d.Team, "repository": "acme/infra"}
		}
		rec := decisionlog.NewRecord(d.Time, decisionlog.SurfaceCLI, c, &dec)
		rec.Resources = d.Resources
		estimates += len(d.Resources)
		if _, err := l.Append(ctx, rec); err != nil {
			return err
		}
	}
	fmt.Printf("reportdemo: %d gate decisions of %s in %s (%d per-resource estimates)\n", len(ds)+len(plans), costgate.Month(last), decisions, estimates)
	// The inventories that match those estimates with billing, as the
	// tfstate and aws_tagging collectors would have written them.
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		return err
	}
	n = 0
	for _, inv := range inventories {
		if _, err := st.ReplaceInventory(ctx, inv.Source, inv.Resources, "reportdemo-"+p.Key(), p.Key()+"/"+inv.Source); err != nil {
			st.Close()
			return fmt.Errorf("replace inventory %s: %w", inv.Source, err)
		}
		n += len(inv.Resources)
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Printf("reportdemo: %d inventory resources in %s\n", n, dir)
	return nil
}
