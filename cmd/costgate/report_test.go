package main

import (
	"context"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/internal/reportdemo"
	"github.com/costgate/costgate/internal/reportdemo/smtpsink"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

// reportStore builds a small demo store (three months to October 2026)
// in the test's temporary directory.
func reportStore(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "store")
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	p := reportdemo.Small()
	p.Months, p.From = 3, costgate.Month{Year: 2026, Month: time.August}
	_, err = p.Write(context.Background(), st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func TestReportConfigValidation(t *testing.T) {
	t.Setenv("COSTGATE_TEST_SMTP_PW", "pw")
	tests := map[string]struct {
		yaml    string
		sending bool
		field   string // "" = valid
	}{
		"empty":              {yaml: "", field: ""},
		"send without smtp":  {yaml: "report: {recipients: {all: [a@example.com]}}", sending: true, field: "report.smtp.host"},
		"bad budget":         {yaml: "report: {budgets: {payments: 12k}}", field: "report.budgets.payments"},
		"negative budget":    {yaml: "report: {budgets: {payments: -1}}", field: "report.budgets.payments"},
		"number budget":      {yaml: "report: {budgets: {payments: 12000.50}}", field: ""},
		"bad recipient":      {yaml: "report: {recipients: {all: [not-an-address]}}", field: "report.recipients.all[0]"},
		"bad team recipient": {yaml: "report: {recipients: {teams: {payments: [a@example.com, nope]}}}", field: "report.recipients.teams.payments[1]"},
		"empty team list":    {yaml: "report: {recipients: {teams: {payments: []}}}", field: "report.recipients.teams.payments"},
		"bad cron":           {yaml: "report: {schedule: {cron: '61 * * * *'}}", field: "report.schedule.cron"},
		"bad timezone":       {yaml: "report: {schedule: {timezone: Mars/Olympus}}", field: "report.schedule.timezone"},
		"bad tls":            {yaml: "report: {smtp: {host: h, from: a@example.com, tls: ssl}}", field: "report.smtp.tls"},
		"bad port":           {yaml: "report: {smtp: {host: h, from: a@example.com, port: 70000}}", field: "report.smtp.port"},
		"no from":            {yaml: "report: {smtp: {host: h}}", field: "report.smtp.from"},
		"bad reply-to":       {yaml: "report: {smtp: {host: h, from: a@example.com, reply_to: 'x y'}}", field: "report.smtp.reply_to"},
		"both passwords":     {yaml: "report: {smtp: {host: h, from: a@example.com, username: u, password: p, password_env: X}}", field: "report.smtp"},
		"password no user":   {yaml: "report: {smtp: {host: h, from: a@example.com, password: p}}", field: "report.smtp.username"},
		"unset password env": {yaml: "report: {smtp: {host: h, from: a@example.com, username: u, password_env: COSTGATE_NOPE}}", sending: true, field: "report.smtp.password_env"},
		"password env":       {yaml: "report: {smtp: {host: h, from: a@example.com, username: u, password_env: COSTGATE_TEST_SMTP_PW}}", sending: true, field: ""},
		"full":               {yaml: "report: {smtp: {host: h, port: 465, tls: tls, from: 'costgate <a@example.com>', reply_to: b@example.com}, schedule: {cron: '0 7 1 * *', timezone: Europe/Berlin}, team_tag: owner}", sending: true, field: ""},
		"unknown report key": {yaml: "report: {smtp: {hots: h}}", field: "unknown"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, "costgate.yaml", tc.yaml+"\n")
			cfg, err := loadConfig(path, nil)
			if err == nil {
				_, err = validateReportConfig(cfg, dir, tc.sending)
			}
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
				t.Fatalf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func TestReportSecretsStayOutOfPolicyData(t *testing.T) {
	data := policyData(map[string]any{"report": map[string]any{"smtp": map[string]any{"password": "x"}}, "tags": 1})
	if _, ok := data["report"]; ok {
		t.Errorf("report: section reaches the policies")
	}
}

func TestReportCommandOut(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cfg := writeFile(t, dir, "costgate.yaml", "report:\n  budgets: {search: '6000'}\n")
	st := reportStore(t)
	code, stdout, stderr := runCLI(t, "", "report", "--config", cfg, "--store", st, "--month", "2026-10",
		"--now", "2026-11-02T08:00:00Z", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"report.html", "report.txt", "report.csv", "trend.png", "services.png", "budgets.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(stdout, "2026-10 company: wrote "+filepath.Join(out, "report.html")) {
		t.Errorf("stdout: %s", stdout)
	}
	code, stdout, stderr = runCLI(t, "", "report", "--config", cfg, "--store", st, "--month", "2026-10",
		"--now", "2026-11-02T08:00:00Z", "--team", "search", "--out", filepath.Join(dir, "search"))
	txt, _ := os.ReadFile(filepath.Join(dir, "search", "report.txt"))
	if code != 0 || !strings.Contains(string(txt), "Cost report October 2026 — team search") {
		t.Fatalf("team report: exit %d %s%s\n%s", code, stdout, stderr, txt)
	}
}

func TestReportCommandUsage(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		args []string
		want string
	}{
		"nothing to do":  {args: []string{"report", "--month", "2026-10"}, want: "--out DIR"},
		"bad month":      {args: []string{"report", "--month", "10/2026", "--out", dir}, want: "--month"},
		"future month":   {args: []string{"report", "--month", "2099-01", "--out", dir}, want: "has not started"},
		"force alone":    {args: []string{"report", "--out", dir, "--force"}, want: "--force only applies with --send"},
		"missing store":  {args: []string{"report", "--month", "2026-10", "--store", filepath.Join(dir, "nope"), "--out", dir}, want: "does not exist"},
		"nobody to send": {args: []string{"report", "--month", "2026-10", "--send", "--config", writeFile(t, dir, "c.yaml", "report: {smtp: {host: h, from: a@example.com}}\n")}, want: "nobody to send to"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// TestReportCommandSend mails the company report to report.recipients.all
// and the payments report to its team list through a real SMTP server,
// then runs again (skipped: the sent log) and with --force.
func TestReportCommandSend(t *testing.T) {
	sink, err := smtpsink.Start(smtpsink.Options{Users: map[string]string{"reporter": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	t.Setenv("COSTGATE_TEST_SMTP_PASSWORD", "pw")
	dir := t.TempDir()
	sentLog := filepath.Join(dir, "sent.json")
	cfg := writeFile(t, dir, "costgate.yaml", `report:
  smtp: {host: 127.0.0.1, port: `+itoa(sink.Port)+`, tls: none, username: reporter, password_env: COSTGATE_TEST_SMTP_PASSWORD,
         from: "costgate <finops@example.com>", reply_to: finance@example.com}
  recipients:
    all: [cfo@example.com, finance@example.com]
    teams: {payments: [pay@example.com]}
  sent_log: `+sentLog+`
`)
	args := []string{"report", "--config", cfg, "--store", reportStore(t), "--month", "2026-10", "--now", "2026-11-02T08:00:00Z", "--send"}
	code, stdout, stderr := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"company: sent to cfo@example.com (1 attempt)", "company: sent to finance@example.com", "team payments: sent to pay@example.com"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	msgs := sink.Messages()
	if len(msgs) != 3 {
		t.Fatalf("server got %d messages, want 3", len(msgs))
	}
	subjects := map[string]string{}
	for _, m := range msgs {
		subjects[m.To[0]] = headerOf(string(m.Data), "Subject")
	}
	if !strings.Contains(subjects["pay@example.com"], "team payments") || strings.Contains(subjects["cfo@example.com"], "team") {
		t.Errorf("subjects %v", subjects)
	}
	code, stdout, _ = runCLI(t, "", args...)
	if code != 0 || strings.Count(stdout, "skipped") != 3 || len(sink.Messages()) != 3 {
		t.Fatalf("second run: exit %d, %d messages\n%s", code, len(sink.Messages()), stdout)
	}
	code, stdout, _ = runCLI(t, "", append(args, "--force", "--team", "payments")...)
	if code != 0 || !strings.Contains(stdout, "team payments: sent to pay@example.com") || len(sink.Messages()) != 4 {
		t.Fatalf("forced team run: exit %d, %d messages\n%s", code, len(sink.Messages()), stdout)
	}
}

// TestReportCommandSendFailure: a server that always refuses is retried
// and the failure reported with exit 2.
func TestReportCommandSendFailure(t *testing.T) {
	sink, err := smtpsink.Start(smtpsink.Options{Script: func(int) smtpsink.Behavior { return smtpsink.Refuse }})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "costgate.yaml", "report:\n  smtp: {host: 127.0.0.1, port: "+itoa(sink.Port)+", tls: none, from: a@example.com}\n  recipients: {all: [cfo@example.com]}\n  sent_log: "+filepath.Join(dir, "sent.json")+"\n")
	p := &reportParams{month: "2026-10", send: true, store: reportStore(t), now: "2026-11-02T08:00:00Z",
		mailerOpts: []reports.MailerOption{reports.WithSleep(func(context.Context, time.Duration) error { return nil })}}
	if err := p.validate(time.Now); err != nil {
		t.Fatal(err)
	}
	a, _ := newApp(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	a.configPath = cfg
	var out strings.Builder
	a.stdout = &out
	err = runReport(context.Background(), a, p)
	if err == nil || !strings.Contains(err.Error(), "delivery failed") || !strings.Contains(out.String(), "FAILED to send to cfo@example.com") {
		t.Fatalf("err %v\n%s", err, out.String())
	}
	if sink.Connections() != 4 {
		t.Errorf("server saw %d connections, want 4 attempts", sink.Connections())
	}
	if _, err := os.Stat(filepath.Join(dir, "sent.json")); err == nil {
		t.Errorf("a failed delivery was recorded as sent")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func headerOf(msg, key string) string {
	m, err := mail.ReadMessage(strings.NewReader(msg))
	if err != nil {
		return ""
	}
	v, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get(key))
	if err != nil {
		return ""
	}
	return v
}

// TestReportGateSection: with decision_log.dsn, the report has the gate
// section from the log, for the company and for one team.
func TestReportGateSection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "decisions.db")
	l, err := decisionlog.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	deny := &costgate.Decision{Decision: costgate.OutcomeDeny, Findings: []costgate.Finding{{RuleID: "tags.required", Severity: costgate.SeverityDeny, Address: "a"}},
		Cost: &costgate.CostTotals{Currency: "USD", MonthlyDelta: costgate.MustMoney("42.5")}}
	allow := &costgate.Decision{Decision: costgate.OutcomeAllow}
	for _, r := range []decisionlog.Record{
		decisionlog.NewRecord(time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC), decisionlog.SurfaceCLI, map[string]string{"team": "search"}, deny),
		decisionlog.NewRecord(time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC), decisionlog.SurfaceAPI, map[string]string{"team": "data"}, allow),
		decisionlog.NewRecord(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), decisionlog.SurfaceAPI, map[string]string{"team": "search"}, allow),
		decisionlog.NewRecord(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), decisionlog.SurfaceAPI, map[string]string{"team": "search"}, deny),
	} {
		if _, err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	cfg := writeFile(t, dir, "costgate.yaml", "decision_log: {dsn: "+dsn+"}\n")
	st := reportStore(t)
	for _, tc := range []struct{ team, want string }{{"", "3 decisions: 2 allowed, 0 warned, 1 denied"}, {"search", "2 decisions: 1 allowed, 0 warned, 1 denied"}} {
		out := filepath.Join(dir, "out-"+tc.team)
		args := []string{"report", "--config", cfg, "--store", st, "--month", "2026-10", "--now", "2026-11-02T08:00:00Z", "--out", out}
		if tc.team != "" {
			args = append(args, "--team", tc.team)
		}
		code, stdout, stderr := runCLI(t, "", args...)
		txt, _ := os.ReadFile(filepath.Join(out, "report.txt"))
		if code != 0 || !strings.Contains(string(txt), tc.want) || !strings.Contains(string(txt), "blocked: 42.50") {
			t.Errorf("team %q: exit %d %s%s\n%s", tc.team, code, stdout, stderr, txt)
		}
	}
}

func TestStartReportSchedule(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	none, err := loadConfig(writeFile(t, dir, "none.yaml", "store: "+dir+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := startReportSchedule(ctx, none, dir, slog.New(slog.DiscardHandler)); ok || err != nil {
		t.Errorf("without report.smtp: %v, %v", ok, err)
	}
	bad, err := loadConfig(writeFile(t, dir, "bad.yaml", "report: {smtp: {host: h, from: a@example.com}, recipients: {all: [a@example.com]}, schedule: {cron: nope}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startReportSchedule(ctx, bad, dir, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "report.schedule.cron") {
		t.Errorf("bad cron: %v", err)
	}
	good, err := loadConfig(writeFile(t, dir, "good.yaml", "report: {smtp: {host: 127.0.0.1, port: 1, tls: none, from: a@example.com}, recipients: {all: [a@example.com]}, schedule: {cron: '0 8 1 1 *'}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Started with a cancelled context: it schedules and stops at once
	// (the catch-up run finds no store and only logs).
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if ok, err := startReportSchedule(cctx, good, filepath.Join(dir, "nostore"), slog.New(slog.DiscardHandler)); !ok || err != nil {
		t.Errorf("configured: %v, %v", ok, err)
	}
}
