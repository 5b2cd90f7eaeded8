package reports_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/reports"
)

func TestParseSchedule(t *testing.T) {
	tests := map[string]struct {
		spec, zone string
		err        string
	}{
		"default":      {},
		"berlin":       {spec: "30 7 1 * *", zone: "Europe/Berlin"},
		"descriptor":   {spec: "@monthly"},
		"bad field":    {spec: "61 * * * *", err: "cron"},
		"six fields":   {spec: "0 0 8 1 * *", err: "cron"},
		"bad timezone": {zone: "Mars/Olympus", err: "time zone"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := reports.ParseSchedule(tc.spec, tc.zone)
			if (err != nil) != (tc.err != "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}

func TestScheduleTimes(t *testing.T) {
	s, err := reports.ParseSchedule("0 8 1 * *", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	next := s.Next(now)
	if want := time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC); !next.Equal(want) { // 08:00 CET
		t.Errorf("Next = %s, want %s", next.UTC(), want)
	}
	if got := s.ReportMonth(next); got != (costgate.Month{Year: 2026, Month: time.October}) {
		t.Errorf("ReportMonth = %s", got)
	}
	if prev, want := s.Previous(now), time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC); !prev.Equal(want) { // 08:00 CEST
		t.Errorf("Previous = %s, want %s", prev.UTC(), want)
	}
}

// fakeClock advances when slept on.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRunMonthly(t *testing.T) {
	s, err := reports.ParseSchedule("0 8 1 * *", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var months []string
	sleeps := 0
	sleep := func(ctx context.Context, d time.Duration) error {
		sleeps++
		if sleeps > 2 {
			cancel()
			return ctx.Err()
		}
		clk.t = clk.t.Add(d)
		return nil
	}
	job := func(_ context.Context, m costgate.Month) error {
		months = append(months, m.String())
		if m.Month == time.November {
			return errors.New("smtp down") // logged, the schedule goes on
		}
		return nil
	}
	err = reports.RunMonthly(ctx, s, job, true, quiet, clk.now, sleep)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("RunMonthly = %v", err)
	}
	// Catch-up for the 1 November run, then 1 December and 1 January.
	if got := strings.Join(months, ","); got != "2026-10,2026-11,2026-12" {
		t.Errorf("months %s", got)
	}
}
