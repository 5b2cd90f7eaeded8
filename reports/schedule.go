package reports

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/costgate/costgate"
)

// DefaultSchedule sends the report at 08:00 on the first of each month.
const DefaultSchedule = "0 8 1 * *"

// Schedule is a five-field cron expression (minute hour day-of-month
// month day-of-week, or a descriptor such as @monthly) in a time zone.
type Schedule struct {
	Spec string
	Loc  *time.Location
	s    cron.Schedule
}

// ParseSchedule parses spec in the named zone ("" is UTC).
func ParseSchedule(spec, zone string) (*Schedule, error) {
	if spec == "" {
		spec = DefaultSchedule
	}
	loc := time.UTC
	if zone != "" {
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("time zone %q: %v (use an IANA name such as Europe/Berlin)", zone, err)
		}
		loc = l
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %v (five fields: minute hour day-of-month month day-of-week, e.g. %q)", spec, err, DefaultSchedule)
	}
	return &Schedule{Spec: spec, Loc: loc, s: s}, nil
}

// Next returns the first fire time after t.
func (s *Schedule) Next(t time.Time) time.Time { return s.s.Next(t.In(s.Loc)) }

// Previous returns the last fire time at or before t, looking back up to
// 62 days (zero when there is none).
func (s *Schedule) Previous(t time.Time) time.Time {
	var last time.Time
	for f := s.Next(t.AddDate(0, 0, -62)); !f.After(t); f = s.Next(f) {
		last = f
	}
	return last
}

// ReportMonth is the month a run at t reports: the month before t's month
// in the schedule's zone (a run on 1 November reports October).
func (s *Schedule) ReportMonth(t time.Time) costgate.Month {
	l := t.In(s.Loc)
	return costgate.Month{Year: l.Year(), Month: l.Month()}.Prev()
}

// MonthlyJob builds and delivers the reports of one month. Delivery is
// idempotent (the sent log), so running it again for the same month only
// sends what has not gone out.
type MonthlyJob func(ctx context.Context, month costgate.Month) error

// RunMonthly runs job at every fire time of s until ctx ends. When
// catchUp is true it first runs the job for the latest fire time before
// now, so a server that was down at the scheduled time still sends (the
// sent log keeps that from mailing anyone twice). A failing job is
// logged and retried at the next fire time. now and sleep default to the
// real clock.
func RunMonthly(ctx context.Context, s *Schedule, job MonthlyJob, catchUp bool, logger *slog.Logger,
	now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	if logger == nil {
		logger = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	log := logger.With("component", "reports.schedule", "cron", s.Spec, "tz", s.Loc.String())
	run := func(at time.Time) {
		m := s.ReportMonth(at)
		log.Info("monthly report run", "month", m.String(), "scheduled", at)
		if err := job(ctx, m); err != nil {
			log.Error("monthly report run failed", "month", m.String(), "err", err)
		}
	}
	if catchUp {
		if prev := s.Previous(now()); !prev.IsZero() {
			run(prev)
		}
	}
	var last time.Time
	for {
		t := now()
		if t.Before(last) {
			t = last // never fire the same time twice
		}
		next := s.Next(t)
		log.Debug("next monthly report", "at", next)
		if err := sleep(ctx, next.Sub(t)); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		run(next)
		last = next
	}
}
