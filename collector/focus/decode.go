package focus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector/tabular"
)

// decoder turns the records of one file into line items.
type decoder struct {
	file    string
	cols    []*column // by file column index; nil: not kept
	names   []string
	intern  []*tabular.Interner
	times   []tabular.TimeCache
	tags    tabular.TagCache
	xIdx    []int    // x_ columns
	xNames  []string // their names, "x_" prefixed
	xVals   []string
	xKey    []byte
	xCache  map[string]map[string]string
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
		xCache: map[string]map[string]string{},
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

// decode fills li from the current record.
func (d *decoder) decode(rec tabular.Records, li *costgate.LineItem) error {
	*li = costgate.LineItem{}
	for i, c := range d.cols {
		if c == nil {
			continue
		}
		b := rec.Field(i)
		if tabular.IsNull(b) {
			continue
		}
		switch c.kind {
		case kString:
			*c.str(li) = d.intern[i].String(b)
		case kTime:
			v, err := d.times[i].Parse(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			*c.tm(li) = v
		case kMoney:
			v, err := tabular.ParseMoney(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			*c.money(li) = v
		case kQuantity:
			v, err := tabular.ParseQuantity(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			*c.qty(li) = v
		case kTags:
			v, err := d.tags.Parse(b)
			if err != nil {
				return d.fail(rec, i, err)
			}
			li.Tags = v
		}
	}
	if len(d.xIdx) > 0 {
		li.Extensions = d.extensions(rec)
	}
	for _, r := range [...]struct {
		ok   bool
		name string
	}{
		{li.BillingAccountID != "", "BillingAccountId"},
		{!li.BillingPeriodStart.IsZero(), "BillingPeriodStart"},
		{!li.ChargePeriodStart.IsZero(), "ChargePeriodStart"},
	} {
		if !r.ok {
			return &tabular.FieldError{File: d.file, Where: rec.Where(), Column: r.name, Err: fmt.Errorf("null, but every row needs one")}
		}
	}
	return nil
}

// extensions returns the row's x_ columns, sharing one map between rows
// with the same values.
func (d *decoder) extensions(rec tabular.Records) map[string]string {
	d.xKey = d.xKey[:0]
	any := false
	for k, i := range d.xIdx {
		b := rec.Field(i)
		if tabular.IsNull(b) {
			d.xVals[k] = ""
		} else {
			d.xVals[k] = d.intern[i].String(b)
			any = true
		}
		d.xKey = append(d.xKey, d.xVals[k]...)
		d.xKey = append(d.xKey, 0)
	}
	if !any {
		return nil
	}
	if m, ok := d.xCache[string(d.xKey)]; ok {
		return m
	}
	m := make(map[string]string, len(d.xIdx))
	for k, name := range d.xNames {
		if d.xVals[k] != "" {
			m[name] = d.xVals[k]
		}
	}
	if len(d.xCache) >= 1<<16 {
		clear(d.xCache)
	}
	d.xCache[string(d.xKey)] = m
	return m
}

// Ignored lists header columns that are neither FOCUS columns the store
// keeps nor x_ columns.
func (d *decoder) Ignored() []string {
	out := append([]string(nil), d.ignored...)
	sort.Strings(out)
	return out
}
