package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/webhooks"
)

// decisionsParams are the flags of `costgate decisions`.
type decisionsParams struct {
	since, until string
	decision     string
	surface      string
	team, rule   string
	limit        int
	format       string
	dsn          string
	resources    bool

	filter decisionlog.Filter
}

func newDecisionsCmd(a *app) *cobra.Command {
	p := &decisionsParams{}
	cmd := &cobra.Command{
		Use:   "decisions",
		Short: "Query the decision log",
		Long: `decisions lists logged decisions, newest first, from the decision log
(decision_log.dsn: a SQLite file, default costgate-decisions.db, or a
postgres:// URL). Decisions are logged by serve and by check --log.

--since and --until take RFC 3339 times, dates (2026-10-01) or durations
ago (24h, 7d).`,
		Example: `  costgate decisions --since 7d --decision deny
  costgate decisions --team payments --rule tags.required --format json
  costgate decisions --since 2026-10-01 --resources --format json`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return p.validate(time.Now())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecisions(cmd.Context(), a, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.since, "since", "", "only decisions at or after this time (RFC 3339, date, or duration ago such as 24h, 7d)")
	f.StringVar(&p.until, "until", "", "only decisions before this time")
	f.StringVar(&p.decision, "decision", "", "only this outcome: allow, warn or deny")
	f.StringVar(&p.surface, "surface", "", "only this surface: "+strings.Join(decisionlog.Surfaces(), ", "))
	f.StringVar(&p.team, "team", "", "only decisions whose context team is this")
	f.StringVar(&p.rule, "rule", "", "only decisions with a finding of this rule_id")
	f.IntVar(&p.limit, "limit", decisionlog.DefaultLimit, fmt.Sprintf("at most this many decisions (max %d)", decisionlog.MaxLimit))
	f.StringVarP(&p.format, "format", "f", "table", "output format: table or json")
	f.StringVar(&p.dsn, "dsn", "", "decision log DSN (default: decision_log.dsn from the config)")
	f.BoolVar(&p.resources, "resources", false, "also list each decision's per-resource estimates (with --format json)")
	return cmd
}

func (p *decisionsParams) validate(now time.Time) error {
	switch p.format {
	case "table", "json":
	default:
		return usageErr("--format %q: use table or json", p.format)
	}
	if p.resources && p.format != "json" {
		return usageErr("--resources: the per-resource estimates are listed with --format json")
	}
	f := decisionlog.Filter{Decision: costgate.Outcome(p.decision), Surface: p.surface, Team: p.team, Rule: p.rule, Limit: p.limit, Resources: p.resources}
	var err error
	if p.since != "" {
		if f.Since, err = webhooks.ParseSince(p.since, now); err != nil {
			return usageErr("--since: %v", err)
		}
	}
	if p.until != "" {
		if f.Until, err = webhooks.ParseSince(p.until, now); err != nil {
			return usageErr("--until: %v", err)
		}
	}
	if err := f.Validate(); err != nil {
		return usageErr("%v", err)
	}
	p.filter = f
	return nil
}

func runDecisions(ctx context.Context, a *app, p *decisionsParams) error {
	dsn := p.dsn
	if dsn == "" {
		cfg, err := loadConfig(a.configPath, nil)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		dsn = decisionLogDSN(cfg)
	}
	l, err := decisionlog.Open(ctx, dsn)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	defer l.Close()
	recs, err := l.Query(ctx, p.filter)
	if err != nil {
		return err
	}
	if p.format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Decisions []decisionlog.Record `json:"decisions"`
		}{recs})
	}
	return writeDecisionsTable(a.stdout, recs)
}

// writeDecisionsTable prints one line per decision.
func writeDecisionsTable(w io.Writer, recs []decisionlog.Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSURFACE\tDECISION\tTEAM\tDENY\tWARN\tWAIVED\tRULES\tWHERE")
	for _, r := range recs {
		d := costgate.Decision{Findings: r.Findings}
		deny, warn, waived := d.Counts()
		rules := strings.Join(r.Rules(), ",")
		if rules == "" {
			rules = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", r.ID, r.Time.UTC().Format(time.RFC3339), r.Surface, r.Decision,
			orDash(r.Team), deny, warn, waived, rules, orDash(where(r.Context)))
	}
	if len(recs) == 0 {
		fmt.Fprintln(tw, "(no decisions match)")
	}
	return tw.Flush()
}

// where names the judged thing from the context.
func where(c map[string]string) string {
	for _, k := range []string{"object", "workspace", "repository", "run_id"} {
		if v := c[k]; v != "" {
			return v
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
