package reports

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Delivery statuses.
const (
	StatusSent    = "sent"
	StatusSkipped = "skipped" // already sent (sent log), not forced
	StatusFailed  = "failed"
)

// DeliveryResult is what happened for one recipient.
type DeliveryResult struct {
	Recipient string
	Status    string
	Attempts  int
	// SentAt is when it was sent now, or before for a skipped one.
	SentAt time.Time
	Err    error
}

// Deliverer mails rendered reports once per (month, scope, recipient).
type Deliverer struct {
	Mailer *Mailer
	// Log is the sent log; nil sends every time.
	Log *SentLog
	// Now is the clock of the sent log (default time.Now).
	Now func() time.Time
}

// Deliver sends rd to each recipient in its own message (recipients do
// not see one another), skipping those the sent log says already have it
// unless force is set. Every recipient is tried; the error joins the
// failures.
func (d *Deliverer) Deliver(ctx context.Context, rd *Rendered, recipients []string, force bool) ([]DeliveryResult, error) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	month, scope := rd.Report.Month, rd.Report.Scope()
	var results []DeliveryResult
	var errs []error
	seen := map[string]bool{}
	for _, to := range recipients {
		key := normalAddress(to)
		if seen[key] {
			continue
		}
		seen[key] = true
		if d.Log != nil && !force {
			e, ok, err := d.Log.Lookup(month, scope, to)
			if err != nil {
				return results, err
			}
			if ok {
				results = append(results, DeliveryResult{Recipient: to, Status: StatusSkipped, SentAt: e.SentAt})
				continue
			}
		}
		if err := ctx.Err(); err != nil {
			return results, err
		}
		attempts, err := d.Mailer.Send(ctx, rd.Message(to))
		r := DeliveryResult{Recipient: to, Attempts: attempts}
		if err != nil {
			r.Status, r.Err = StatusFailed, err
			errs = append(errs, err)
			results = append(results, r)
			continue
		}
		r.Status, r.SentAt = StatusSent, now().UTC()
		results = append(results, r)
		if d.Log != nil {
			if err := d.Log.Record(SentEntry{Month: month, Scope: scope, Recipient: to, SentAt: r.SentAt, Subject: rd.Subject, Attempts: attempts}); err != nil {
				// Sent but not recorded: say so loudly, a rerun would send again.
				errs = append(errs, fmt.Errorf("sent to %s but %w", to, err))
			}
		}
	}
	return results, errors.Join(errs...)
}
