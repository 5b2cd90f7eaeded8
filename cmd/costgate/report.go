package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // report.schedule.timezone works without the system zone database

	"github.com/spf13/cobra"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

// reportParams are the flags of `costgate report`.
type reportParams struct {
	month string
	team  string
	out   string
	send  bool
	force bool
	store string
	now   string

	m   costgate.Month
	clk func() time.Time
	// mailerOpts are extra mailer options (tests: no real backoff).
	mailerOpts []reports.MailerOption
}

func newReportCmd(a *app) *cobra.Command {
	p := &reportParams{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Build the monthly cost report (HTML, text, CSV, charts) and mail it",
		Long: `report builds a month's cost report from the cost store: the total
against the previous month and the same month last year, the daily trend,
a month-end forecast for the month in progress, spend by team, account,
service and environment with changes, top movers, the most expensive
resources, tag compliance, budgets (report.budgets) and, when there is a
decision log, the gate's activity.

--out DIR writes report.html, report.txt, report.csv and the chart PNGs.
--send mails the reports: the company report to report.recipients.all and
each team's report to report.recipients.teams.TEAM (with --team, only that
team's). Each (month, report, recipient) is mailed once: the sent log
(report.sent_log, default report-sent.json in the store directory) skips
recipients who have it already, unless --force.

--month defaults to the previous month. The store is --store DIR, else the
config file's store: key, else ./.costgate; it is opened read-only.`,
		Example: `  costgate report --month 2026-10 --out report/
  costgate report --month 2026-10 --team payments --out report-payments/
  costgate report --month 2026-10 --send
  costgate report --send --force --team payments`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return p.validate(time.Now)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), a, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.month, "month", "", "month to report, YYYY-MM (default: the previous month)")
	f.StringVar(&p.team, "team", "", "a team's report (line items whose team tag is TEAM) instead of the company's")
	f.StringVarP(&p.out, "out", "o", "", "write report.html, report.txt, report.csv and the charts to this directory")
	f.BoolVar(&p.send, "send", false, "mail the report(s) to report.recipients")
	f.BoolVar(&p.force, "force", false, "with --send: mail again recipients the sent log says have the report")
	f.StringVar(&p.store, "store", "", "cost store directory (default: config store:, else ./.costgate)")
	f.StringVar(&p.now, "now", "", "pretend the time is this (RFC 3339 or YYYY-MM-DD), for reproducible reports")
	_ = f.MarkHidden("now")
	return cmd
}

func (p *reportParams) validate(now func() time.Time) error {
	p.clk = now
	if p.now != "" {
		t, err := time.Parse(time.RFC3339, p.now)
		if err != nil {
			d, derr := time.Parse(time.DateOnly, p.now)
			if derr != nil {
				return usageErr("--now %q: use RFC 3339 (2026-11-02T08:00:00Z) or YYYY-MM-DD", p.now)
			}
			t = d
		}
		p.clk = func() time.Time { return t }
	}
	if p.month == "" {
		p.m = costgate.MonthOf(p.clk()).Prev()
	} else {
		m, err := costgate.ParseMonth(p.month)
		if err != nil {
			return usageErr("--month: %v", err)
		}
		p.m = m
	}
	if !p.clk().After(p.m.Start()) {
		return usageErr("--month %s: the month has not started yet", p.m)
	}
	if p.out == "" && !p.send {
		return usageErr("nothing to do: give --out DIR to write the report, --send to mail it, or both")
	}
	if p.force && !p.send {
		return usageErr("--force only applies with --send")
	}
	if strings.TrimSpace(p.team) != p.team {
		return usageErr("--team %q: no spaces around the team name", p.team)
	}
	return nil
}

// reportScope is one report to build: the company's (team "") or a
// team's, and who receives it.
type reportScope struct {
	team       string
	recipients []string
	dir        string // where --out writes it ("" for none)
}

func runReport(ctx context.Context, a *app, p *reportParams) error {
	cfg, err := loadConfig(a.configPath, nil)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	dir := p.store
	if dir == "" {
		dir = orDefault(cfg.Store, defaultStoreDir)
	}
	set, err := validateReportConfig(cfg, dir, p.send)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	scopes := planScopes(p, set)
	if p.send {
		var none []string
		for _, s := range scopes {
			if len(s.recipients) == 0 {
				none = append(none, scopeName(s.team))
			}
		}
		if len(none) == len(scopes) {
			return usageErr("--send: nobody to send to: set report.recipients.all or report.recipients.teams.TEAM in the config")
		}
	}
	st, err := openStore(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := st.Snapshot()
	if err != nil {
		return fmt.Errorf("store %s: %w", dir, err)
	}
	defer snap.Close()
	decisions, closeDecisions, err := openDecisionSource(ctx, cfg)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	defer closeDecisions()
	job := &reportJob{set: set, reader: snap, inventory: &snapshotInventory{sn: snap}, decisions: decisions, waivers: cfg.Waivers, now: p.clk,
		logger: slog.Default(), out: a.stdout, mailerOpts: p.mailerOpts}
	return job.run(ctx, p.m, scopes, p.send, p.force)
}

func scopeName(team string) string {
	if team == "" {
		return "company"
	}
	return "team " + team
}

// planScopes lists the reports to build: the one --team names (else the
// company's) and, when sending without --team, every team with
// recipients.
func planScopes(p *reportParams, set *reportSettings) []reportScope {
	main := reportScope{team: p.team, dir: p.out}
	if p.team == "" {
		main.recipients = set.all
	} else {
		main.recipients = set.teams[p.team]
	}
	scopes := []reportScope{main}
	if p.send && p.team == "" {
		teams := make([]string, 0, len(set.teams))
		for t := range set.teams {
			teams = append(teams, t)
		}
		sort.Strings(teams)
		for _, t := range teams {
			s := reportScope{team: t, recipients: set.teams[t]}
			if p.out != "" {
				s.dir = filepath.Join(p.out, "team-"+safeName(t))
			}
			scopes = append(scopes, s)
		}
	}
	return scopes
}

// safeName keeps a team name usable as a directory name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, s)
}

// reportJob builds, writes and sends reports; the CLI and serve's
// schedule share it.
type reportJob struct {
	set        *reportSettings
	reader     costgate.CostReader
	inventory  reports.InventorySource
	decisions  reports.DecisionSource
	waivers    []costgate.Waiver
	now        func() time.Time
	logger     *slog.Logger
	out        io.Writer
	mailerOpts []reports.MailerOption
}

func (j *reportJob) run(ctx context.Context, m costgate.Month, scopes []reportScope, send, force bool) error {
	var deliverer *reports.Deliverer
	if send {
		mailer, err := reports.NewMailer(*j.set.smtp, j.logger, j.mailerOpts...)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("report.%v", err)}
		}
		deliverer = &reports.Deliverer{Mailer: mailer, Log: reports.OpenSentLog(j.set.sentLog), Now: time.Now}
	}
	var failed []error
	for _, s := range scopes {
		rep, err := reports.Build(ctx, j.reader, reports.Options{Month: m, Team: s.team, TeamTag: j.set.teamTag, EnvTag: j.set.envTag,
			Budgets: j.set.budgets, Waivers: j.waivers, Decisions: j.decisions, Inventory: j.inventory, Now: j.now, Logger: j.logger})
		if err != nil {
			if errors.Is(err, reports.ErrFutureMonth) {
				return usageErr("%v", err)
			}
			return err
		}
		if s.team != "" && rep.Total.IsZero() && rep.Previous.Total.IsZero() {
			fmt.Fprintf(j.out, "%s %s: no line items tagged %s=%s in %s or %s (check the name and report.team_tag)\n",
				m, scopeName(s.team), j.set.teamTag, s.team, m, m.Prev())
		}
		rd, err := reports.Render(rep)
		if err != nil {
			return err
		}
		if s.dir != "" {
			if err := rd.WriteDir(s.dir); err != nil {
				return err
			}
			fmt.Fprintf(j.out, "%s %s: wrote %s (%s)\n", m, scopeName(s.team), filepath.Join(s.dir, reports.FileHTML), strings.Join(rd.Files()[1:], ", "))
		}
		if deliverer == nil || len(s.recipients) == 0 {
			continue
		}
		results, err := deliverer.Deliver(ctx, rd, s.recipients, force)
		for _, r := range results {
			switch r.Status {
			case reports.StatusSent:
				fmt.Fprintf(j.out, "%s %s: sent to %s (%d attempt%s)\n", m, scopeName(s.team), r.Recipient, r.Attempts, plural(r.Attempts))
			case reports.StatusSkipped:
				fmt.Fprintf(j.out, "%s %s: skipped %s: sent already on %s (--force sends again)\n", m, scopeName(s.team), r.Recipient, r.SentAt.UTC().Format(time.RFC3339))
			case reports.StatusFailed:
				fmt.Fprintf(j.out, "%s %s: FAILED to send to %s: %v\n", m, scopeName(s.team), r.Recipient, r.Err)
			}
		}
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("report %s: delivery failed: %w (run again to retry: the sent log skips those who have it)", m, errors.Join(failed...))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// openDecisionSource opens the decision log for the gate section when one
// is configured (decision_log.dsn) or the default file exists; otherwise
// the report has no gate section.
func openDecisionSource(ctx context.Context, cfg *loadedConfig) (reports.DecisionSource, func(), error) {
	dsn := string(cfg.DecisionLog.DSN)
	if dsn == "" {
		if _, err := os.Stat(decisionlog.DefaultDSN); errors.Is(err, fs.ErrNotExist) {
			return nil, func() {}, nil
		}
		dsn = decisionlog.DefaultDSN
	}
	l, err := decisionlog.Open(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("decision_log.dsn: %w", err)
	}
	return logDecisions{l}, func() { l.Close() }, nil
}

// logDecisions adapts the decision log to reports.DecisionSource.
type logDecisions struct{ l decisionlog.Log }

// Decisions pages through the log (newest first, MaxLimit at a time),
// with each decision's per-resource estimates. A speculative run task
// plan is never applied, so its estimates are left out.
func (d logDecisions) Decisions(ctx context.Context, from, to time.Time, team string) ([]reports.GateDecision, error) {
	var out []reports.GateDecision
	seen := map[int64]bool{}
	until := to
	for {
		recs, err := d.l.Query(ctx, decisionlog.Filter{Since: from, Until: until, Team: team, Limit: decisionlog.MaxLimit, Resources: true})
		if err != nil {
			return nil, err
		}
		added := 0
		for _, r := range recs {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			added++
			g := reports.GateDecision{Time: r.Time, Team: r.Team, Outcome: r.Decision, Findings: r.Findings, Cost: r.Cost,
				Scope: decisionScope(r.Context)}
			if r.Context["speculative"] != "true" {
				g.Estimates = r.Resources
			}
			out = append(out, g)
		}
		if len(recs) < decisionlog.MaxLimit || added == 0 {
			return out, nil
		}
		// The next page ends just after the oldest record seen, so records
		// sharing its time are not lost (seen drops the repeats).
		until = recs[len(recs)-1].Time.Add(time.Microsecond)
	}
}

// scopeKeys are the context keys that name the Terraform configuration a
// decision judged (HCP Terraform's organization and workspace, the
// repository and directory a CI job ran in, the Terraform workspace).
var scopeKeys = []string{"organization", "workspace", "repository", "working_directory"}

// decisionScope names the configuration of a decision's context, so that
// the report keeps one address in two configurations apart.
func decisionScope(c map[string]string) string {
	var parts []string
	for _, k := range scopeKeys {
		if v := c[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// snapshotInventory adapts the store's inventory to
// reports.InventorySource. A snapshot does not change, so the inventory
// is read once for all the reports of a run (the company's and each
// team's).
type snapshotInventory struct {
	sn   *store.Snapshot
	once sync.Once
	rs   []costgate.Resource
	err  error
}

func (s *snapshotInventory) Resources(ctx context.Context) ([]costgate.Resource, error) {
	s.once.Do(func() { s.rs, s.err = s.sn.Resources(ctx) })
	return s.rs, s.err
}

// startReportSchedule starts serve's monthly report schedule when report.smtp
// and recipients are configured: it runs until ctx ends, sending the
// previous month's reports at report.schedule (catching up a missed run at
// start; the sent log keeps that from mailing twice). It returns false
// when the report is not configured for sending. serve calls it as
//
//	if ok, err := startReportSchedule(ctx, cfg, cfg.Store, logger); err != nil { return ... }
func startReportSchedule(ctx context.Context, cfg *loadedConfig, storeDir string, logger *slog.Logger) (bool, error) {
	if cfg.Report.SMTP.Host == "" {
		return false, nil
	}
	if storeDir == "" {
		storeDir = defaultStoreDir
	}
	set, err := validateReportConfig(cfg, storeDir, true)
	if err != nil {
		return false, err
	}
	if len(set.all) == 0 && len(set.teams) == 0 {
		return false, nil
	}
	logger = logger.With("component", "report.schedule")
	job := func(ctx context.Context, m costgate.Month) error {
		st, err := store.Open(storeDir, store.Options{ReadOnly: true, Logger: logger})
		if err != nil {
			return fmt.Errorf("open cost store %s: %w", storeDir, err)
		}
		defer st.Close()
		snap, err := st.Snapshot()
		if err != nil {
			return err
		}
		defer snap.Close()
		decisions, closeDecisions, err := openDecisionSource(ctx, cfg)
		if err != nil {
			return err
		}
		defer closeDecisions()
		j := &reportJob{set: set, reader: snap, inventory: &snapshotInventory{sn: snap}, decisions: decisions, waivers: cfg.Waivers, now: time.Now, logger: logger, out: logWriter{logger}}
		return j.run(ctx, m, planScopes(&reportParams{send: true}, set), true, false)
	}
	go func() {
		if err := reports.RunMonthly(ctx, set.schedule, job, true, logger, nil, nil); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("monthly report schedule stopped", "err", err)
		}
	}()
	logger.Info("monthly report scheduled", "cron", set.schedule.Spec, "tz", set.schedule.Loc.String(), "next", set.schedule.Next(time.Now()))
	return true, nil
}

// logWriter turns the job's progress lines into log records.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.l.Info(line)
	}
	return len(b), nil
}
