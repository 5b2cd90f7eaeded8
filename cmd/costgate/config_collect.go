package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/reports"
)

// CollectConfig is the collect: section: serve runs the sources: on a
// schedule, as `costgate collect` would.
//
//	collect:
//	  schedule: {cron: "0 */6 * * *", timezone: UTC}
//	  sources: [aws-cur]   # default: every source
type CollectConfig struct {
	Schedule CollectScheduleConfig `json:"schedule,omitempty"`
	// Sources limits the scheduled runs to these sources: names (default
	// all of them).
	Sources []string `json:"sources,omitempty"`
}

// CollectScheduleConfig is collect.schedule.
type CollectScheduleConfig struct {
	// Cron is a five-field cron expression; empty means serve does not
	// collect.
	Cron string `json:"cron,omitempty"`
	// Timezone is an IANA zone name (default UTC).
	Timezone string `json:"timezone,omitempty"`
}

// collectSettings are the validated collect: values.
type collectSettings struct {
	schedule *reports.Schedule
	// sources are the names collect.sources gives, nil for all.
	sources []string
}

// validateCollectConfig checks the collect: section against the sources:
// list, naming the bad field. It returns nil settings when serve has
// nothing to collect: no collect.schedule.cron, or no sources.
func validateCollectConfig(cfg *loadedConfig, reg *collector.Registry) (*collectSettings, error) {
	file := orDefault(cfg.Path, "config")
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: file, Field: "collect." + field, Msg: fmt.Sprintf(format, args...)}
	}
	cc := cfg.Collect
	if cc.Schedule.Cron == "" {
		switch {
		case cc.Schedule.Timezone != "":
			return nil, bad("schedule.cron", "required with schedule.timezone: when to collect, e.g. \"0 */6 * * *\" (every six hours)")
		case len(cc.Sources) > 0:
			return nil, bad("sources", "only used with schedule.cron: add a schedule, e.g. {cron: \"0 */6 * * *\"}, or remove collect.sources")
		}
		return nil, nil
	}
	sched, err := reports.ParseSchedule(cc.Schedule.Cron, cc.Schedule.Timezone)
	if err != nil {
		field := "schedule.cron"
		if strings.HasPrefix(err.Error(), "time zone") {
			field = "schedule.timezone"
		}
		return nil, bad(field, "%v", err)
	}
	if err := validateSources(file, cfg.Sources, reg); err != nil {
		return nil, err
	}
	known := make([]string, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		known = append(known, s.Name)
	}
	seen := map[string]int{}
	for i, name := range cc.Sources {
		field := fmt.Sprintf("sources[%d]", i)
		if strings.TrimSpace(name) == "" {
			return nil, bad(field, "empty name: give the name of a sources: entry")
		}
		if j, dup := seen[name]; dup {
			return nil, bad(field, "%q is also collect.sources[%d]: list each source once", name, j)
		}
		seen[name] = i
		if !slices.Contains(known, name) {
			if len(known) == 0 {
				return nil, bad(field, "%q: no sources: are configured; add it under sources:", name)
			}
			return nil, bad(field, "%q is not a configured source: use one of %s", name, strings.Join(known, ", "))
		}
	}
	if len(cfg.Sources) == 0 {
		return nil, nil
	}
	return &collectSettings{schedule: sched, sources: cc.Sources}, nil
}
