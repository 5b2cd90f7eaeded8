package reports

import (
	"context"
	"sort"

	"github.com/costgate/costgate"
)

// complianceData are the raw sums behind Compliance.
type complianceData struct {
	key       string
	byAccount map[string]costgate.Sum // untagged spend of key, by account
	untagged  costgate.Sum
	others    []TagStat // the other keys' untagged spend (Share unset)
	largest   []Line
}

// complianceKeys are the tags checked: the team tag and the environment
// tag in the company report (details about the team tag); only the
// environment tag in a team report, whose spend all carries the team tag.
func (b *builder) complianceKeys() []string {
	if b.opts.Team != "" {
		return []string{b.opts.EnvTag}
	}
	if b.opts.EnvTag == b.opts.TeamTag {
		return []string{b.opts.TeamTag}
	}
	return []string{b.opts.TeamTag, b.opts.EnvTag}
}

func (b *builder) compliance(ctx context.Context) (*complianceData, error) {
	keys := b.complianceKeys()
	cd := &complianceData{key: keys[0], byAccount: map[string]costgate.Sum{}}
	month := eq("month", b.month.String())
	res, err := b.query(ctx, costgate.CostQuery{Filters: b.filters(month, tagAbsent(cd.key)), GroupBy: []string{"SubAccountId"}})
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		cd.byAccount[row.Keys[0]] = row.Values[0]
		cd.untagged.AddSum(row.Values[0])
	}
	for _, k := range keys[1:] {
		res, err := b.query(ctx, costgate.CostQuery{Filters: b.filters(month, tagAbsent(k))})
		if err != nil {
			return nil, err
		}
		var s costgate.Sum
		for _, row := range res.Rows {
			s.AddSum(row.Values[0])
		}
		cd.others = append(cd.others, TagStat{Key: k, Untagged: s})
	}
	// Largest untagged resources; one extra row in case the resource-less
	// line items (fees, credits) rank among them.
	res, err = b.query(ctx, costgate.CostQuery{
		Filters: b.filters(month, tagAbsent(cd.key)),
		GroupBy: []string{"ResourceId"},
		OrderBy: []costgate.CostOrder{{By: string(b.measure), Desc: true}},
		Limit:   b.opts.TopN + 1,
	})
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		if row.Keys[0] == "" || row.Values[0].Sign() <= 0 || len(cd.largest) == b.opts.TopN {
			continue
		}
		cd.largest = append(cd.largest, Line{Key: row.Keys[0], Label: row.Keys[0], Current: row.Values[0]})
	}
	return cd, nil
}

func (b *builder) complianceReport(cd *complianceData, rep *Report, accountLabel func(string) string) Compliance {
	c := Compliance{Key: cd.key, Untagged: cd.untagged, Share: share(cd.untagged, rep.Total)}
	c.Keys = append(c.Keys, TagStat{Key: cd.key, Untagged: cd.untagged, Share: c.Share})
	for _, o := range cd.others {
		o.Share = share(o.Untagged, rep.Total)
		c.Keys = append(c.Keys, o)
	}
	for _, l := range cd.largest {
		l.Share = share(l.Current, rep.Total)
		c.Largest = append(c.Largest, l)
	}
	for _, a := range rep.ByAccount {
		if a.Current.IsZero() && cd.byAccount[a.Key].IsZero() {
			continue
		}
		ac := AccountCompliance{Account: a.Key, Label: accountLabel(a.Key), Total: a.Current, Untagged: cd.byAccount[a.Key], Compliance: 100}
		if !a.Current.IsZero() {
			ac.Compliance = (1 - ratio(ac.Untagged, ac.Total)) * 100
		}
		c.ByAccount = append(c.ByAccount, ac)
	}
	sort.SliceStable(c.ByAccount, func(i, j int) bool {
		if c.ByAccount[i].Compliance != c.ByAccount[j].Compliance {
			return c.ByAccount[i].Compliance < c.ByAccount[j].Compliance
		}
		return c.ByAccount[i].Total.Cmp(c.ByAccount[j].Total) > 0
	})
	return c
}
