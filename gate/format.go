package gate

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/costgate/costgate"
)

// Report is what an output format renders: the decision plus where it
// came from.
type Report struct {
	Decision *costgate.Decision
	// PlanPath is the plan file as the user named it ("-" for stdin).
	PlanPath string
	// Version is costgate's version, for SARIF's tool.driver.
	Version string
	// Estimate is the plan's cost estimate, for the per-resource cost
	// diff of the markdown format; nil when there is none.
	Estimate *costgate.PlanEstimate
}

// FormatOptions tune a Formatter.
type FormatOptions struct {
	// Color enables ANSI colour in the text format.
	Color bool
}

// Formatter writes a Report in one output format.
type Formatter interface {
	Format(w io.Writer, r *Report) error
}

type formatterFunc func(w io.Writer, r *Report) error

func (f formatterFunc) Format(w io.Writer, r *Report) error { return f(w, r) }

var formats = map[string]func(FormatOptions) Formatter{}

func registerFormat(name string, f func(FormatOptions) Formatter) {
	formats[name] = f
}

// Formats lists the output format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewFormatter returns the named output format.
func NewFormatter(name string, opts FormatOptions) (Formatter, error) {
	f, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("unknown format %q: use one of %s", name, strings.Join(Formats(), ", "))
	}
	return f(opts), nil
}

// shortMessage drops a leading "ADDRESS: " from a finding's message for
// formats that already show the address beside it (policies write the
// address into the message so that it reads well on its own elsewhere).
func shortMessage(f costgate.Finding) string {
	if f.Address != "" {
		if rest, ok := strings.CutPrefix(f.Message, f.Address+": "); ok && rest != "" {
			return rest
		}
	}
	return f.Message
}
