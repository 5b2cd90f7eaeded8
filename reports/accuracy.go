package reports

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// InventorySource lists the cloud inventory: the resources that Terraform
// states, the AWS tagging API and other inventory sources reported, with
// their ids, tags and (from a Terraform state) their addresses as Name.
// cmd/costgate fills it from the store. The report uses it to find the
// bill of a resource whose id the gate did not know at plan time.
type InventorySource interface {
	Resources(ctx context.Context) ([]costgate.Resource, error)
}

// How an estimate was matched with billed cost (AccuracyEntry.Match).
const (
	// MatchID: an id the plan knew (an ARN, id or self_link, or the
	// resource id inside an ARN) is a billed ResourceId.
	MatchID = "id"
	// MatchAddress: the inventory resource with the estimate's Terraform
	// address (Terraform state inventories) has a billed id.
	MatchAddress = "inventory address"
	// MatchTags: the one inventory resource that carries all of the
	// estimate's tags, in a compatible provider, account and region, has
	// a billed id.
	MatchTags = "inventory tags"
)

// Accuracy compares the gate's estimates with the month's billed cost,
// for the resources the gate priced at plan time: the latest estimate per
// address (and configuration) in the month's decisions, denied ones left
// out since a denied change was not applied.
type Accuracy struct {
	// Seen counts those resources; Resources the ones found in billing
	// (with line items in the month), NotFound the others: not applied
	// (yet), deleted before the month, or not matched.
	Seen      int `json:"seen"`
	Resources int `json:"resources"`
	NotFound  int `json:"not_found"`
	// ByMatch counts the resources found by how they were matched
	// (MatchID, MatchAddress, MatchTags).
	ByMatch map[string]int `json:"by_match"`
	// Estimated and Actual add up the resources found. An estimate counts
	// for the part of the period the resource ran under it: a created or
	// replaced resource from its decision on, others for the whole
	// period (the month, or its days with data when it is open).
	Estimated costgate.Sum `json:"estimated"`
	Actual    costgate.Sum `json:"actual"`
	// ErrorPct is (Estimated - Actual) / Actual in percent; MAPE the mean
	// absolute percentage error per resource with a non-zero actual
	// (display only).
	ErrorPct float64 `json:"error_pct"`
	MAPE     float64 `json:"mape"`
	// Worst are the resources found with the largest absolute errors;
	// Missing the largest estimates not found in billing.
	Worst   []AccuracyEntry `json:"worst"`
	Missing []AccuracyEntry `json:"missing"`
}

// AccuracyEntry is one resource's estimate and, when found, its actual.
type AccuracyEntry struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	Action  string `json:"action"`
	// ResourceID is the billed ResourceId ("" when not found); Match says
	// how it was found.
	ResourceID string `json:"resource_id"`
	Match      string `json:"match"`
	// Monthly is the gate's monthly estimate; Estimated its share of the
	// period (see Accuracy.Estimated), compared with Actual.
	Monthly   costgate.Money `json:"monthly"`
	Estimated costgate.Money `json:"estimated"`
	Actual    costgate.Sum   `json:"actual"`
	ErrorPct  float64        `json:"error_pct"`
}

// accuracyListLen is the length of Worst and Missing.
const accuracyListLen = 5

// estimateKey identifies a resource across decisions.
type estimateKey struct{ scope, address string }

// seenEstimate is the latest estimate of one resource and when it was made.
type seenEstimate struct {
	e     costgate.EstimatedResource
	scope string
	at    time.Time
}

// accuracy matches each estimate with billed cost in the report's month
// and compares them. Matching goes, for each estimate, by the first of:
//
//  1. an id the plan knew, as billing shows it (billingIDs);
//  2. the inventory resource with the same Terraform address;
//  3. the only inventory resource that carries all the estimate's tags;
//
// where 2 and 3 give the inventory resource's id. The actual is the
// resource's whole bill in the month, with or without the team tag, so a
// team report compares its own decisions' estimates fully. Two estimates
// that come to the same billed resource count once, the later one.
func (b *builder) accuracy(ctx context.Context, seen []seenEstimate) (*Accuracy, error) {
	cands := make([][]string, len(seen))
	var all []string
	for i := range seen {
		cands[i] = billingIDs(seen[i].e.IDs...)
		all = append(all, cands[i]...)
	}
	billed := map[string]costgate.Sum{}
	if err := b.billed(ctx, all, billed); err != nil {
		return nil, err
	}
	chosen := make([]string, len(seen))
	how := make([]string, len(seen))
	var unmatched []int
	for i := range seen {
		if id := firstBilled(cands[i], billed); id != "" {
			chosen[i], how[i] = id, MatchID
		} else {
			unmatched = append(unmatched, i)
		}
	}
	if inv := b.opts.Inventory; inv != nil && len(unmatched) > 0 {
		rs, err := inv.Resources(ctx)
		if err != nil {
			return nil, err
		}
		want := make([]*costgate.EstimatedResource, len(unmatched))
		for k, i := range unmatched {
			want[k] = &seen[i].e
		}
		idx := newInventoryIndex(rs, want, b.month)
		var more []string
		for _, i := range unmatched {
			r, m := idx.resolve(&seen[i].e)
			if r == nil {
				continue
			}
			cands[i], how[i] = billingIDs(r.ID), m
			more = append(more, cands[i]...)
		}
		if err := b.billed(ctx, more, billed); err != nil {
			return nil, err
		}
		for _, i := range unmatched {
			if how[i] != "" {
				chosen[i] = firstBilled(cands[i], billed)
			}
		}
	}
	owner := map[string]int{}
	for i, id := range chosen {
		if id == "" {
			continue
		}
		if j, ok := owner[id]; !ok || seen[i].at.After(seen[j].at) {
			owner[id] = i
		}
	}

	from, to := b.month.Start(), b.comparePeriod(b.month).To
	acc := &Accuracy{ByMatch: map[string]int{}}
	var mape float64
	var mapeN int
	for i := range seen {
		id := chosen[i]
		if id != "" && owner[id] != i {
			continue // the same resource, estimated again later
		}
		s := &seen[i]
		est, err := prorate(s, from, to, b.month.End().Sub(from))
		if err != nil {
			return nil, err
		}
		entry := AccuracyEntry{Address: s.e.Address, Type: s.e.Type, Action: s.e.Action, Monthly: s.e.Monthly, Estimated: est}
		acc.Seen++
		if id == "" {
			acc.NotFound++
			acc.Missing = append(acc.Missing, entry)
			continue
		}
		entry.ResourceID, entry.Match, entry.Actual = id, how[i], billed[id]
		acc.Resources++
		acc.ByMatch[how[i]]++
		acc.Estimated.Add(est)
		acc.Actual.AddSum(entry.Actual)
		if !entry.Actual.IsZero() {
			entry.ErrorPct = (est.Float64() - entry.Actual.Float64()) / entry.Actual.Float64() * 100
			mape += math.Abs(entry.ErrorPct)
			mapeN++
		}
		acc.Worst = append(acc.Worst, entry)
	}
	if acc.Seen == 0 {
		return nil, nil
	}
	if mapeN > 0 {
		acc.MAPE = mape / float64(mapeN)
	}
	if !acc.Actual.IsZero() {
		d := acc.Estimated
		d.AddSum(acc.Actual.Neg())
		acc.ErrorPct = d.Float64() / acc.Actual.Float64() * 100
	}
	sort.Slice(acc.Worst, func(i, j int) bool {
		a, c := math.Abs(acc.Worst[i].ErrorPct), math.Abs(acc.Worst[j].ErrorPct)
		if a != c {
			return a > c
		}
		return acc.Worst[i].Address < acc.Worst[j].Address
	})
	sort.Slice(acc.Missing, func(i, j int) bool {
		if acc.Missing[i].Monthly != acc.Missing[j].Monthly {
			return acc.Missing[i].Monthly > acc.Missing[j].Monthly
		}
		return acc.Missing[i].Address < acc.Missing[j].Address
	})
	acc.Worst = acc.Worst[:min(len(acc.Worst), accuracyListLen)]
	acc.Missing = acc.Missing[:min(len(acc.Missing), accuracyListLen)]
	return acc, nil
}

// prorate is the part of s's monthly estimate that falls in [from, to):
// from the decision on for a created or replaced resource, for the whole
// span otherwise, as a share of the calendar month (monthLen).
func prorate(s *seenEstimate, from, to time.Time, monthLen time.Duration) (costgate.Money, error) {
	start := from
	if (s.e.Action == costgate.ActionCreate || s.e.Action == costgate.ActionReplace) && s.at.After(start) {
		start = s.at
	}
	if !to.After(start) {
		return 0, nil
	}
	return s.e.Monthly.MulRat(int64(to.Sub(start)/time.Second), int64(monthLen/time.Second))
}

// billedBatch bounds the ids of one query.
const billedBatch = 500

// billed adds to out the month's billed cost of each of ids that has line
// items (whatever their tags: see accuracy).
func (b *builder) billed(ctx context.Context, ids []string, out map[string]costgate.Sum) error {
	var ask []string
	asked := map[string]bool{}
	for _, id := range ids {
		if _, ok := out[id]; !ok && !asked[id] {
			asked[id] = true
			ask = append(ask, id)
		}
	}
	sort.Strings(ask)
	for lo := 0; lo < len(ask); lo += billedBatch {
		res, err := b.query(ctx, costgate.CostQuery{
			Filters: []costgate.CostFilter{eq("month", b.month.String()), in("ResourceId", ask[lo:min(lo+billedBatch, len(ask))]...)},
			GroupBy: []string{"ResourceId"},
		})
		if err != nil {
			return err
		}
		for _, row := range res.Rows {
			out[row.Keys[0]] = row.Values[0]
		}
	}
	return nil
}

func firstBilled(ids []string, billed map[string]costgate.Sum) string {
	for _, id := range ids {
		if _, ok := billed[id]; ok {
			return id
		}
	}
	return ""
}

// billingIDs lists the forms under which billing may show a resource
// known by ids, in order of preference, without repeats: each id as it
// is; for an AWS ARN also the resource id inside it (the Cost and Usage
// Report names EC2 instances and volumes "i-0abc", "vol-0abc" and S3
// buckets by name); for a Google Cloud self_link the full resource name
// of the billing export ("//compute.googleapis.com/projects/..."); for an
// Azure resource id its lower-case form.
func billingIDs(ids ...string) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, id := range ids {
		add(id)
		switch {
		case strings.HasPrefix(id, "arn:"):
			add(arnResourceID(id))
		case strings.HasPrefix(id, "https://"):
			add(googleFullName(id))
		case strings.HasPrefix(strings.ToLower(id), "/subscriptions/"):
			add(strings.ToLower(id))
		}
	}
	return out
}

// arnResourceID returns the id at the end of an ARN's resource
// ("instance/i-0abc" -> "i-0abc", an S3 bucket's name), or "" for a
// resource named type:name ("db:main"), which billing shows by ARN.
func arnResourceID(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	res := parts[5]
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return res[i+1:]
	}
	if strings.Contains(res, ":") {
		return ""
	}
	return res
}

// googleFullName turns a Compute Engine style self_link
// ("https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d") into
// a full resource name ("//compute.googleapis.com/projects/p/zones/z/disks/d");
// other links have no form derived this simply.
func googleFullName(link string) string {
	path, ok := strings.CutPrefix(link, "https://www.googleapis.com/")
	if !ok {
		return ""
	}
	api, rest, ok := strings.Cut(path, "/")
	if !ok {
		return ""
	}
	if _, p, ok := strings.Cut(rest, "/"); ok && p != "" && api != "" { // after the API version
		return "//" + api + ".googleapis.com/" + p
	}
	return ""
}

// inventoryIndex finds inventory resources by address and by tag.
type inventoryIndex struct {
	rs     []costgate.Resource
	byName map[string][]int
	byTag  map[tagPair][]int
	// latest is the last time each source reported anything: a resource
	// seen before it is gone from the source.
	latest map[string]time.Time
	month  costgate.Month
}

type tagPair struct{ key, value string }

// newInventoryIndex indexes rs by the addresses and tags of want only.
func newInventoryIndex(rs []costgate.Resource, want []*costgate.EstimatedResource, m costgate.Month) *inventoryIndex {
	names := map[string]bool{}
	pairs := map[tagPair]bool{}
	for _, e := range want {
		names[e.Address] = true
		for k, v := range e.Tags {
			pairs[tagPair{k, v}] = true
		}
	}
	idx := &inventoryIndex{rs: rs, byName: map[string][]int{}, byTag: map[tagPair][]int{}, latest: map[string]time.Time{}, month: m}
	for i := range rs {
		r := &rs[i]
		if r.LastSeen.After(idx.latest[r.Source]) {
			idx.latest[r.Source] = r.LastSeen
		}
		if names[r.Name] {
			idx.byName[r.Name] = append(idx.byName[r.Name], i)
		}
		for k, v := range r.Tags {
			if p := (tagPair{k, v}); pairs[p] {
				idx.byTag[p] = append(idx.byTag[p], i)
			}
		}
	}
	return idx
}

// resolve returns the one inventory resource that is e, by address and
// else by tags, and how it was found; nil when none or several fit.
func (idx *inventoryIndex) resolve(e *costgate.EstimatedResource) (*costgate.Resource, string) {
	if r := idx.one(idx.byName[e.Address], e, false); r != nil {
		return r, MatchAddress
	}
	if len(e.Tags) == 0 {
		return nil, ""
	}
	var rarest []int
	first := true
	for k, v := range e.Tags {
		if l := idx.byTag[tagPair{k, v}]; first || len(l) < len(rarest) {
			rarest, first = l, false
		}
	}
	if r := idx.one(rarest, e, true); r != nil {
		return r, MatchTags
	}
	return nil, ""
}

// one narrows cands to the resources that can be e (and, byTags, that
// carry all its tags), then, while several remain, to those carrying its
// tags, to those seen since the month began and to those their source
// still reports (a replaced resource stays in the inventory for a while
// under the same address); it returns the one left.
func (idx *inventoryIndex) one(cands []int, e *costgate.EstimatedResource, byTags bool) *costgate.Resource {
	var fit []*costgate.Resource
	for _, i := range cands {
		r := &idx.rs[i]
		if idx.compatible(r, e) && (!byTags || hasTags(r.Tags, e.Tags)) {
			fit = append(fit, r)
		}
	}
	narrow := func(keep func(r *costgate.Resource) bool) {
		if len(fit) < 2 {
			return
		}
		var out []*costgate.Resource
		for _, r := range fit {
			if keep(r) {
				out = append(out, r)
			}
		}
		if len(out) > 0 {
			fit = out
		}
	}
	narrow(func(r *costgate.Resource) bool { return hasTags(r.Tags, e.Tags) })
	narrow(func(r *costgate.Resource) bool { return !r.LastSeen.Before(idx.month.Start()) })
	narrow(func(r *costgate.Resource) bool { return !r.LastSeen.Before(idx.latest[r.Source]) })
	if len(fit) != 1 {
		return nil
	}
	return fit[0]
}

// compatible reports whether inventory resource r can be e: the same
// provider, account and region where both say, and a type that does not
// contradict e's.
func (idx *inventoryIndex) compatible(r *costgate.Resource, e *costgate.EstimatedResource) bool {
	if p := focusProvider(e.Provider); p != "" && r.Provider != "" && p != r.Provider {
		return false
	}
	if e.Account != "" && r.AccountID != "" && e.Account != r.AccountID {
		return false
	}
	if e.Region != "" && r.Region != "" && e.Region != r.Region {
		return false
	}
	return typeCompatible(r.Type, e.Type)
}

// typeCompatible reports whether an inventory type can describe a
// Terraform resource type: equal, unknown, or in another vocabulary (the
// tagging API's "ec2:instance"). A Terraform-style type of the same
// provider ("aws_ebs_volume" for "aws_instance") contradicts it.
func typeCompatible(inv, tf string) bool {
	if inv == "" || tf == "" || inv == tf {
		return true
	}
	prefix, _, ok := strings.Cut(tf, "_")
	return !ok || !strings.HasPrefix(inv, prefix+"_")
}

// focusProvider is the FOCUS ProviderName of a Terraform provider source
// address ("registry.terraform.io/hashicorp/aws" -> "AWS"), "" when
// unknown.
func focusProvider(source string) string {
	switch source[strings.LastIndexByte(source, '/')+1:] {
	case "aws":
		return "AWS"
	case "google", "google-beta":
		return "Google Cloud"
	case "azurerm", "azapi":
		return "Microsoft"
	}
	return ""
}

// hasTags reports whether have carries every tag of want.
func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}
