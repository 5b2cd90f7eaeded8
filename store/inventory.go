package store

import (
	"context"
	"fmt"

	"github.com/costgate/costgate"
)

// The inventory table holds one row per resource a source reported, with
// the same machinery as line items: dictionary-coded columns, a bitmap per
// value of the indexed ones, one column and bitmaps per tag key.

var inventoryStrings = []string{
	"ProviderName", "AccountId", "RegionId", "ResourceId", "ResourceType", "ResourceName", "Source",
}

var inventoryUnindexed = map[string]bool{"ResourceId": true, "ResourceName": true}

func resourceString(r *costgate.Resource, col string) *string {
	switch col {
	case "ProviderName":
		return &r.Provider
	case "AccountId":
		return &r.AccountID
	case "RegionId":
		return &r.Region
	case "ResourceId":
		return &r.ID
	case "ResourceType":
		return &r.Type
	case "ResourceName":
		return &r.Name
	case "Source":
		return &r.Source
	}
	return nil
}

func inventorySpec(source string, rs []costgate.Resource) *tableSpec {
	n := len(rs)
	spec := &tableSpec{
		kind:    tableInventory,
		rows:    n,
		sortBy:  []string{"AccountId", "ResourceType", "ResourceId"},
		timeCol: "LastSeen",
	}
	for _, col := range inventoryStrings {
		spec.strs = append(spec.strs, colSpec{name: col, indexed: !inventoryUnindexed[col]})
	}
	tagSlot := map[string]int{}
	for _, key := range mapKeys(n, func(i int) map[string]string { return rs[i].Tags }) {
		tagSlot[key] = len(spec.strs)
		spec.strs = append(spec.strs, colSpec{name: tagPrefix + key, indexed: true})
	}
	spec.ints = []colSpec{{name: "FirstSeen"}, {name: "LastSeen"}}
	spec.extract = func(i int, r *rowBuf) {
		res := &rs[i]
		for j, col := range inventoryStrings {
			v := *resourceString(res, col)
			if col == "Source" && v == "" {
				v = source
			}
			r.strs[j], r.present[j] = v, v != ""
		}
		for k, v := range res.Tags {
			j := tagSlot[k]
			r.strs[j], r.present[j] = v, true
		}
		r.ints[0], r.ints[1] = timeNanos(res.FirstSeen), timeNanos(res.LastSeen)
	}
	return spec
}

func checkResources(rs []costgate.Resource) error {
	for i := range rs {
		if rs[i].ID == "" {
			return fmt.Errorf("resource %d: id is required", i)
		}
		if f := rs[i].FirstSeen; !f.IsZero() && (f.Before(minTime) || !f.Before(maxTime)) {
			return fmt.Errorf("resource %d (%s): first_seen out of range", i, rs[i].ID)
		}
		if l := rs[i].LastSeen; !l.IsZero() && (l.Before(minTime) || !l.Before(maxTime)) {
			return fmt.Errorf("resource %d (%s): last_seen out of range", i, rs[i].ID)
		}
	}
	return nil
}

// QueryInventory counts resources, filtered and grouped like a line-item
// query (columns ProviderName, AccountId, RegionId, ResourceId,
// ResourceType, ResourceName, Source, tag:KEY; the only measure is count).
func (s *Store) QueryInventory(ctx context.Context, q Query) (*Result, error) {
	sn, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	return sn.QueryInventory(ctx, q)
}

// Resources lists the inventory resources that pass every filter, e.g.
// Eq("AccountId", "123"), Eq("ResourceType", "aws_instance"),
// TagAbsent("team") for the untagged ones.
func (s *Store) Resources(ctx context.Context, filters ...Filter) ([]costgate.Resource, error) {
	sn, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	return sn.Resources(ctx, filters...)
}
