package main

import (
	"context"
	"fmt"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/gate"
)

// logCheckDecision records a `check` decision in the decision log when
// --log is set (decision_log.dsn, default costgate-decisions.db), with
// in's context, the price snapshot of its estimate and the per-resource
// estimates. A log that cannot be written is an error (exit 2): the user
// asked for the record.
func logCheckDecision(ctx context.Context, a *app, enabled bool, in *gate.Input, d *costgate.Decision, estimates []costgate.EstimatedResource) error {
	if !enabled {
		return nil
	}
	cfg, err := loadConfig(a.configPath, nil)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	l, err := decisionlog.Open(ctx, decisionLogDSN(cfg))
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("--log: %w", err)}
	}
	defer l.Close()
	rec := decisionlog.NewRecord(time.Now(), decisionlog.SurfaceCLI, in.Context, d)
	if in.Estimate != nil {
		rec.PriceSnapshot = in.Estimate.PriceSnapshot
	}
	rec.Resources = estimates
	if _, err := l.Append(ctx, rec); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("--log: %w", err)}
	}
	return nil
}
