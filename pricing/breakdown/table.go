package breakdown

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/costgate/costgate"
)

type tableWriter struct{ w io.Writer }

// Write prints one block per resource (its components under it) and the
// totals.
func (t *tableWriter) Write(est *costgate.PlanEstimate) error {
	tw := tabwriter.NewWriter(t.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE / COMPONENT\tQUANTITY\tUNIT PRICE\tBEFORE\tAFTER\tDELTA")
	for _, r := range est.Resources {
		if r.Free {
			continue
		}
		fmt.Fprintf(tw, "%s (%s)\t\t\t%s\t%s\t%s\n", r.Address, r.Action, money(r.MonthlyBefore), money(r.MonthlyAfter), signed(r.MonthlyDelta))
		for _, c := range r.Components {
			name := c.Name
			if c.Subresource != "" {
				name = c.Subresource + ": " + name
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t\t%s\t\n", name, quantity(c), "$"+c.UnitPrice.String(), money(c.Monthly))
		}
	}
	fmt.Fprintf(tw, "TOTAL (%s)\t\t\t%s\t%s\t%s\n", est.Currency, money(&est.MonthlyBefore), money(&est.MonthlyAfter), signed(&est.MonthlyDelta))
	if est.Calibration != "" {
		fmt.Fprintf(tw, "TOTAL at list prices\t\t\t%s\t%s\t%s\n", money(&est.ListMonthlyBefore), money(&est.ListMonthlyAfter), signed(&est.ListMonthlyDelta))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	free := 0
	for _, r := range est.Resources {
		if r.Free {
			free++
		}
	}
	notes := 0
	for _, r := range est.Resources {
		switch {
		case !r.Priced && !r.Free && r.Reason != "":
			if notes == 0 {
				fmt.Fprintln(t.w)
			}
			notes++
			fmt.Fprintf(t.w, "%s: unpriced: %s\n", r.Address, r.Reason)
		case r.Partial:
			if notes == 0 {
				fmt.Fprintln(t.w)
			}
			notes++
			fmt.Fprintf(t.w, "%s: %s\n", r.Address, r.Reason)
		}
	}
	fmt.Fprintf(t.w, "\n%d resources: %d priced, %d free, %d unpriced. Prices: %s.\n",
		len(est.Resources), len(est.Resources)-free-len(est.Unpriced), free, len(est.Unpriced), est.PriceSnapshot)
	if est.Calibration != "" {
		fmt.Fprintf(t.w, "Calibrated to the bill: %s.\n", est.Calibration)
	}
	return nil
}
