package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/costgate/costgate"
)

// LineItems returns every line item of partition p (in segment order:
// day, account, service, resource), or nil if the store does not hold p.
func (s *Store) LineItems(ctx context.Context, p costgate.Partition) ([]costgate.LineItem, error) {
	sn, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	return sn.LineItems(ctx, p)
}

// LineItems returns every line item of partition p in this snapshot.
func (sn *Snapshot) LineItems(ctx context.Context, p costgate.Partition) ([]costgate.LineItem, error) {
	want := segmentEntry{Table: tableLineItems.String(), Source: p.Source, BillingAccountID: p.BillingAccountID, BillingPeriod: p.BillingPeriod.String()}
	for _, h := range sn.v.segs {
		if h.entry.key() != want.key() {
			continue
		}
		if h.err != nil {
			return nil, fmt.Errorf("line items of %s: %w", p, h.err)
		}
		var out []costgate.LineItem
		err := safely(h.seg, func() (err error) {
			out, err = readLineItems(h.seg, nil)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("line items of %s: %w", p, err)
		}
		return out, ctx.Err()
	}
	return nil, nil
}

// rowList returns the selected rows (nil: all of [0, n)).
func rowList(n uint32, sel *roaring.Bitmap) []uint32 {
	if sel != nil {
		return sel.ToArray()
	}
	rows := make([]uint32, n)
	for i := range rows {
		rows[i] = uint32(i)
	}
	return rows
}

// strColumn reads a dictionary column's values for rows: present reports
// which rows have a non-null value.
func strColumn(c *segCol, rows []uint32, set func(i int, v string)) error {
	cv, err := c.codes()
	if err != nil {
		return err
	}
	d, err := c.dict()
	if err != nil {
		return err
	}
	vals := make([]string, d.len()+1)
	for code := 1; code <= d.len(); code++ {
		vals[code] = d.str(uint32(code))
	}
	for i, r := range rows {
		if code := cv.at(r); code != 0 {
			set(i, vals[code])
		}
	}
	return nil
}

func readLineItems(seg *segment, sel *roaring.Bitmap) ([]costgate.LineItem, error) {
	rows := rowList(seg.rows(), sel)
	out := make([]costgate.LineItem, len(rows))
	for _, f := range lineItemStrings {
		c := seg.col(f.name)
		if c == nil {
			continue
		}
		set := f.set
		if err := strColumn(c, rows, func(i int, v string) { set(&out[i], v) }); err != nil {
			return nil, err
		}
	}
	for _, f := range lineItemTimes {
		c := seg.col(f.name)
		if c == nil {
			continue
		}
		v, err := c.ints()
		if err != nil {
			return nil, err
		}
		for i, r := range rows {
			f.set(&out[i], nanosTime(v[r]))
		}
	}
	for _, f := range lineItemNums {
		c := seg.col(f.name)
		if c == nil {
			continue
		}
		v, err := c.money()
		if err != nil {
			return nil, err
		}
		for i, r := range rows {
			f.set(&out[i], v[r])
		}
	}
	for name, c := range seg.cols {
		var key string
		var ext bool
		switch {
		case strings.HasPrefix(name, tagPrefix):
			key = strings.TrimPrefix(name, tagPrefix)
		case strings.HasPrefix(name, extPrefix):
			key, ext = name, true
		default:
			continue
		}
		err := strColumn(c, rows, func(i int, v string) {
			m := &out[i].Tags
			if ext {
				m = &out[i].Extensions
			}
			if *m == nil {
				*m = map[string]string{}
			}
			(*m)[key] = v
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Resources lists the inventory resources passing every filter.
func (sn *Snapshot) Resources(ctx context.Context, filters ...Filter) ([]costgate.Resource, error) {
	q, err := inventoryTable.normalize(Query{Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("resources: %w", err)
	}
	segs, err := sn.segments(inventoryTable, q.Filters)
	if err != nil {
		return nil, fmt.Errorf("resources: %w", err)
	}
	var out []costgate.Resource
	for _, seg := range segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := safely(seg, func() error {
			ev := &segEval{seg: seg, t: inventoryTable, n: seg.rows()}
			sel, none, err := ev.selection(q.Filters)
			if err != nil || none {
				return err
			}
			rs, err := readResources(seg, sel)
			out = append(out, rs...)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("resources: %w", err)
		}
	}
	return out, nil
}

func readResources(seg *segment, sel *roaring.Bitmap) ([]costgate.Resource, error) {
	rows := rowList(seg.rows(), sel)
	out := make([]costgate.Resource, len(rows))
	for _, name := range inventoryStrings {
		c := seg.col(name)
		if c == nil {
			continue
		}
		if err := strColumn(c, rows, func(i int, v string) { *resourceString(&out[i], name) = v }); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"FirstSeen", "LastSeen"} {
		c := seg.col(name)
		if c == nil {
			continue
		}
		v, err := c.ints()
		if err != nil {
			return nil, err
		}
		for i, r := range rows {
			if name == "FirstSeen" {
				out[i].FirstSeen = nanosTime(v[r])
			} else {
				out[i].LastSeen = nanosTime(v[r])
			}
		}
	}
	for name, c := range seg.cols {
		if !strings.HasPrefix(name, tagPrefix) {
			continue
		}
		key := strings.TrimPrefix(name, tagPrefix)
		err := strColumn(c, rows, func(i int, v string) {
			if out[i].Tags == nil {
				out[i].Tags = map[string]string{}
			}
			out[i].Tags[key] = v
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
