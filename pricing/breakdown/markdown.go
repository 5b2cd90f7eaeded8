package breakdown

import (
	"fmt"
	"io"
	"strings"

	"github.com/costgate/costgate"
)

type markdownWriter struct{ w io.Writer }

// Write prints a summary table of the resources whose cost is known or
// changes, the unpriced ones, and the components in a details block.
func (m *markdownWriter) Write(est *costgate.PlanEstimate) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Monthly cost: %s → %s (%s)\n\n", money(&est.MonthlyBefore), money(&est.MonthlyAfter), signed(&est.MonthlyDelta))
	if est.Calibration != "" {
		fmt.Fprintf(&b, "At list prices: %s → %s (%s). Calibrated to the bill: %s.\n\n",
			money(&est.ListMonthlyBefore), money(&est.ListMonthlyAfter), signed(&est.ListMonthlyDelta), est.Calibration)
	}
	b.WriteString("| Resource | Action | Before | After | Delta |\n|---|---|---:|---:|---:|\n")
	for _, r := range est.Resources {
		if r.Free {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Address, r.Action, money(r.MonthlyBefore), money(r.MonthlyAfter), signed(r.MonthlyDelta))
	}
	if len(est.Unpriced) > 0 {
		fmt.Fprintf(&b, "\n**%d resource(s) could not be priced:**\n\n", len(est.Unpriced))
		for _, a := range est.Unpriced {
			reason := ""
			if r := est.Resource(a); r != nil {
				reason = r.Reason
			}
			fmt.Fprintf(&b, "- `%s`: %s\n", a, reason)
		}
	}
	b.WriteString("\n<details><summary>Cost components</summary>\n\n| Resource | Component | Quantity | Unit price | Monthly |\n|---|---|---:|---:|---:|\n")
	for _, r := range est.Resources {
		for _, c := range r.Components {
			name := c.Name
			if c.Subresource != "" {
				name = c.Subresource + ": " + name
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | $%s | %s |\n", r.Address, name, quantity(c), c.UnitPrice, money(c.Monthly))
		}
	}
	fmt.Fprintf(&b, "\n</details>\n\nPrices: `%s` (%s).\n", est.PriceSnapshot, est.Currency)
	_, err := io.WriteString(m.w, b.String())
	return err
}
