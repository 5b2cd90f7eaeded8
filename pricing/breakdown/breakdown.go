// Package breakdown renders a plan's cost estimate for people and
// programs: a table, Markdown for pull-request comments, and a stable
// JSON document (version 1).
package breakdown

import (
	"fmt"
	"io"
	"strings"

	"github.com/costgate/costgate"
)

// A Writer renders an estimate.
type Writer interface {
	Write(est *costgate.PlanEstimate) error
}

var formats = map[string]func(io.Writer) Writer{
	"table":    func(w io.Writer) Writer { return &tableWriter{w: w} },
	"json":     func(w io.Writer) Writer { return &jsonWriter{w: w} },
	"markdown": func(w io.Writer) Writer { return &markdownWriter{w: w} },
}

// Formats lists the output formats, for flag help.
func Formats() []string { return []string{"table", "json", "markdown"} }

// New returns the writer of a format, or an error naming the formats.
func New(format string, w io.Writer) (Writer, error) {
	f, ok := formats[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats(), ", "))
	}
	return f(w), nil
}

// money formats an optional amount rounded to cents ("-" when unknown).
func money(m *costgate.Money) string {
	if m == nil {
		return "-"
	}
	return "$" + m.Format(2)
}

func signed(m *costgate.Money) string {
	if m == nil {
		return "-"
	}
	if *m > 0 {
		return "+$" + m.Format(2)
	}
	if *m < 0 {
		return "-$" + (-*m).Format(2)
	}
	return "$0.00"
}

func quantity(c costgate.CostComponent) string {
	if c.MonthlyQuantity == nil {
		return "usage-based"
	}
	return c.MonthlyQuantity.String() + " " + c.Unit
}
