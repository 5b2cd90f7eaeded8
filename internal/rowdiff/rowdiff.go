// Package rowdiff compares sets of line items in tests.
package rowdiff

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/costgate/costgate"
)

// Diff compares two sets of line items regardless of order (times in
// UTC) and describes the first difference, or returns "".
func Diff(got, want []costgate.LineItem) string {
	g, w := encode(got), encode(want)
	if len(g) != len(w) {
		return fmt.Sprintf("%d rows, want %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			return fmt.Sprintf("row differs:\n got %s\nwant %s", g[i], w[i])
		}
	}
	return ""
}

func encode(rows []costgate.LineItem) []string {
	out := make([]string, len(rows))
	for i := range rows {
		li := rows[i]
		li.ChargePeriodStart, li.ChargePeriodEnd = li.ChargePeriodStart.UTC(), li.ChargePeriodEnd.UTC()
		li.BillingPeriodStart, li.BillingPeriodEnd = li.BillingPeriodStart.UTC(), li.BillingPeriodEnd.UTC()
		b, _ := json.Marshal(li)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}
