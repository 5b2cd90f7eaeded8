package focus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/costgate/costgate/collector/tabular"
)

// decoder maps the columns of one file (compactDecoder decodes its
// records).
type decoder struct {
	file    string
	cols    []*column // by file column index; nil: not kept
	names   []string
	intern  []*tabular.Interner
	times   []tabular.TimeCache
	xIdx    []int    // x_ columns
	xNames  []string // their names, "x_" prefixed
	xVals   []string
	ignored []string
}

// newDecoder maps the header; it fails when a required column is missing.
func newDecoder(file string, header []string) (*decoder, error) {
	d := &decoder{
		file:   file,
		cols:   make([]*column, len(header)),
		names:  header,
		intern: make([]*tabular.Interner, len(header)),
		times:  make([]tabular.TimeCache, len(header)),
	}
	seen := map[string]int{}
	for i, h := range header {
		if len(h) > 2 && strings.EqualFold(h[:2], "x_") {
			d.xIdx = append(d.xIdx, i)
			d.xNames = append(d.xNames, "x_"+h[2:])
			d.intern[i] = tabular.NewInterner(0)
			continue
		}
		c := lookup(h)
		if c == nil {
			if !known[strings.ToLower(h)] {
				d.ignored = append(d.ignored, h)
			}
			continue
		}
		if j, dup := seen[c.name]; dup {
			return nil, &tabular.FieldError{File: file, Where: "line 1", Column: h,
				Err: fmt.Errorf("column %s appears twice (as %q and %q)", c.name, header[j], h)}
		}
		seen[c.name] = i
		d.cols[i] = c
		if c.kind == kString {
			d.intern[i] = tabular.NewInterner(0)
		}
	}
	var missing []string
	for _, r := range required {
		if _, ok := seen[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return nil, &tabular.FieldError{File: file, Where: "line 1", Column: strings.Join(missing, ", "),
			Err: fmt.Errorf("required FOCUS column missing (the header has %d columns: %s)", len(header), strings.Join(header, ","))}
	}
	d.xVals = make([]string, len(d.xIdx))
	return d, nil
}

func (d *decoder) fail(rec tabular.Records, i int, err error) error {
	return &tabular.FieldError{File: d.file, Where: rec.Where(), Column: d.names[i], Err: err}
}

// Ignored lists header columns that are neither FOCUS columns the store
// keeps nor x_ columns.
func (d *decoder) Ignored() []string {
	out := append([]string(nil), d.ignored...)
	sort.Strings(out)
	return out
}
