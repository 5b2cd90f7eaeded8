package gate

import (
	"fmt"
	"time"

	"github.com/costgate/costgate"
)

// RuleWaiverExpired is the rule_id of the warning an expired waiver gives.
const RuleWaiverExpired = "waiver.expired"

// applyWaivers marks findings that an active waiver covers. An expired
// waiver that would have covered a finding no longer applies and adds one
// warning naming it, so that it is renewed or removed.
func applyWaivers(findings []costgate.Finding, waivers []costgate.Waiver, now time.Time) []costgate.Finding {
	if len(waivers) == 0 {
		return findings
	}
	expiredHit := make([]bool, len(waivers))
	for i := range findings {
		f := &findings[i]
		for j := range waivers {
			w := &waivers[j]
			if !w.Matches(f.RuleID, f.Address) {
				continue
			}
			if !w.Active(now) {
				expiredHit[j] = true
				continue
			}
			wc := *w
			f.Waived, f.Waiver = true, &wc
			break
		}
	}
	for j, hit := range expiredHit {
		if !hit {
			continue
		}
		w := waivers[j]
		findings = append(findings, costgate.Finding{
			RuleID:   RuleWaiverExpired,
			Severity: costgate.SeverityWarn,
			Address:  w.Address,
			Message: fmt.Sprintf("waiver for %s on %q (owner %s, ticket %s) expired on %s and no longer applies: renew it with a new expires date or remove it",
				w.RuleID, w.Address, orNone(w.Owner), orNone(w.Ticket), w.Expires),
		})
	}
	return findings
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
