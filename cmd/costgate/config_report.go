package main

import (
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/webhooks"
)

// ReportConfig is the report: section, read by `costgate report` and by
// serve's monthly schedule.
type ReportConfig struct {
	SMTP       ReportSMTPConfig       `json:"smtp,omitempty"`
	Recipients ReportRecipientsConfig `json:"recipients,omitempty"`
	// TeamTag and EnvTag are the tag keys of teams and environments
	// (defaults team and env).
	TeamTag string `json:"team_tag,omitempty"`
	EnvTag  string `json:"env_tag,omitempty"`
	// Budgets are monthly budgets by team, exact decimals.
	Budgets map[string]Decimal `json:"budgets,omitempty"`
	// Schedule is when serve sends the previous month's reports.
	Schedule ReportScheduleConfig `json:"schedule,omitempty"`
	// SentLog is the file that makes delivery idempotent (default
	// report-sent.json in the store directory).
	SentLog string `json:"sent_log,omitempty"`
}

// ReportSMTPConfig is report.smtp.
type ReportSMTPConfig struct {
	Host     string          `json:"host,omitempty"`
	Port     int             `json:"port,omitempty"`
	Username string          `json:"username,omitempty"`
	Password webhooks.Secret `json:"password,omitempty"`
	// PasswordEnv names an environment variable holding the password
	// (instead of password).
	PasswordEnv string `json:"password_env,omitempty"`
	From        string `json:"from,omitempty"`
	ReplyTo     string `json:"reply_to,omitempty"`
	// TLS is none, starttls (default) or tls.
	TLS string `json:"tls,omitempty"`
}

// ReportRecipientsConfig is report.recipients: the company report goes to
// all, each team's report to its list.
type ReportRecipientsConfig struct {
	All   []string            `json:"all,omitempty"`
	Teams map[string][]string `json:"teams,omitempty"`
}

// ReportScheduleConfig is report.schedule.
type ReportScheduleConfig struct {
	// Cron is a five-field cron expression (default "0 8 1 * *").
	Cron string `json:"cron,omitempty"`
	// Timezone is an IANA zone name (default UTC).
	Timezone string `json:"timezone,omitempty"`
}

// The report: section holds the SMTP password: keep it out of the policy
// data (data.costgate.config) as serve does for server: and decision_log:.
func init() { serverOnlyKeys = append(serverOnlyKeys, "report") }

// reportSettings are the validated report: values.
type reportSettings struct {
	teamTag, envTag string
	budgets         map[string]costgate.Money
	all             []string
	teams           map[string][]string
	schedule        *reports.Schedule
	sentLog         string
	smtp            *reports.SMTPConfig // nil when report.smtp.host is not set
}

// validateReportConfig checks the report: section, naming the bad field.
// storeDir places the default sent log. With sending, report.smtp must be
// complete and the password variable set.
func validateReportConfig(cfg *loadedConfig, storeDir string, sending bool) (*reportSettings, error) {
	file := orDefault(cfg.Path, "config")
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: file, Field: "report." + field, Msg: fmt.Sprintf(format, args...)}
	}
	rc := cfg.Report
	s := &reportSettings{teamTag: rc.TeamTag, envTag: rc.EnvTag, budgets: map[string]costgate.Money{}, teams: map[string][]string{}}
	if s.teamTag == "" {
		s.teamTag = reports.DefaultTeamTag
	}
	if s.envTag == "" {
		s.envTag = reports.DefaultEnvTag
	}
	for field, v := range map[string]string{"team_tag": s.teamTag, "env_tag": s.envTag} {
		if strings.TrimSpace(v) != v || strings.ContainsAny(v, "\n\t") {
			return nil, bad(field, "%q: a tag key without spaces around it", v)
		}
	}
	for _, team := range sortedKeys(rc.Budgets) {
		if strings.TrimSpace(team) == "" {
			return nil, bad("budgets", "empty team name")
		}
		m, err := rc.Budgets[team].Money()
		if err != nil || m == nil {
			return nil, bad("budgets."+team, "%q: write an exact decimal such as \"12000\" or \"12000.50\"", string(rc.Budgets[team]))
		}
		if *m < 0 {
			return nil, bad("budgets."+team, "must not be negative")
		}
		s.budgets[team] = *m
	}
	// The gate's budgets: section (cost.budget) is the default, so one
	// list of budgets serves both the gate and the report.
	for team, v := range cfg.Budgets.Teams {
		if _, ok := s.budgets[team]; !ok {
			if m, err := costgate.ParseMoney(v.String()); err == nil {
				s.budgets[team] = m
			}
		}
	}
	checkAddrs := func(field string, list []string) error {
		for i, a := range list {
			if _, err := mail.ParseAddress(a); err != nil {
				return bad(fmt.Sprintf("%s[%d]", field, i), "%q: %v (write name@example.com or \"Name <name@example.com>\")", a, err)
			}
		}
		return nil
	}
	if err := checkAddrs("recipients.all", rc.Recipients.All); err != nil {
		return nil, err
	}
	s.all = rc.Recipients.All
	teams := make([]string, 0, len(rc.Recipients.Teams))
	for t := range rc.Recipients.Teams {
		teams = append(teams, t)
	}
	sort.Strings(teams)
	for _, t := range teams {
		if strings.TrimSpace(t) == "" {
			return nil, bad("recipients.teams", "empty team name")
		}
		if len(rc.Recipients.Teams[t]) == 0 {
			return nil, bad("recipients.teams."+t, "empty list: give at least one address, or remove the team")
		}
		if err := checkAddrs("recipients.teams."+t, rc.Recipients.Teams[t]); err != nil {
			return nil, err
		}
		s.teams[t] = rc.Recipients.Teams[t]
	}
	sched, err := reports.ParseSchedule(rc.Schedule.Cron, rc.Schedule.Timezone)
	if err != nil {
		field := "schedule.cron"
		if strings.HasPrefix(err.Error(), "time zone") {
			field = "schedule.timezone"
		}
		return nil, bad(field, "%v", err)
	}
	s.schedule = sched
	s.sentLog = rc.SentLog
	if s.sentLog == "" {
		s.sentLog = filepath.Join(storeDir, reports.SentLogFile)
	}

	sm := rc.SMTP
	if sm.Host == "" {
		if sending {
			return nil, bad("smtp.host", "required to send the report (the mail server, e.g. smtp.example.com)")
		}
		return s, nil
	}
	if sm.Password != "" && sm.PasswordEnv != "" {
		return nil, bad("smtp", "set password or password_env, not both")
	}
	pw := string(sm.Password)
	if sm.PasswordEnv != "" {
		pw = os.Getenv(sm.PasswordEnv)
		if pw == "" && sending {
			return nil, bad("smtp.password_env", "environment variable %s is empty or not set", sm.PasswordEnv)
		}
	}
	if (pw != "" || sm.PasswordEnv != "") && sm.Username == "" {
		return nil, bad("smtp.username", "required with a password")
	}
	tlsMode := strings.ToLower(sm.TLS)
	if tlsMode == "" {
		tlsMode = reports.TLSStartTLS
	}
	if reports.DefaultPort(tlsMode) == 0 {
		return nil, bad("smtp.tls", "%q: use %s", sm.TLS, strings.Join(reports.TLSModes(), ", "))
	}
	if sm.Port < 0 || sm.Port > 65535 {
		return nil, bad("smtp.port", "%d: use 1-65535 (default %d for tls: %s)", sm.Port, reports.DefaultPort(tlsMode), tlsMode)
	}
	if sm.From == "" {
		return nil, bad("smtp.from", "required (the sender address, e.g. \"costgate <finops@example.com>\")")
	}
	if _, err := mail.ParseAddress(sm.From); err != nil {
		return nil, bad("smtp.from", "%q: %v", sm.From, err)
	}
	if sm.ReplyTo != "" {
		if _, err := mail.ParseAddress(sm.ReplyTo); err != nil {
			return nil, bad("smtp.reply_to", "%q: %v", sm.ReplyTo, err)
		}
	}
	s.smtp = &reports.SMTPConfig{Host: sm.Host, Port: sm.Port, Username: sm.Username, Password: reports.Secret(pw),
		From: sm.From, ReplyTo: sm.ReplyTo, TLS: tlsMode}
	return s, nil
}
