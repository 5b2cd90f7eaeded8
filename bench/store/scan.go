package main

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/costgate/costgate"
)

// The two Go baselines read the generator's columns directly:
//
//   - plain: every row of the table, each predicate tested per row;
//   - zonemap: per 64k-row block the min/max of day and account; blocks
//     outside the day (or account) range are skipped, and blocks wholly
//     inside the day range skip the per-row day test. This is the "tight
//     loop over only the rows that matter" of STORE.md.
//
// Both split the table into one contiguous range per thread, sum into
// per-thread dense group arrays (exact 128-bit costgate.Sum), then merge.

const zoneBlock = 1 << 16

type keyKind int

const (
	keyNone keyKind = iota
	keyService
	keyResource
	keyMonthAccount
	keyAccount
	keyDayService
	keyTeam
)

// scanQuery is a query for the scan engines: rows with day in [dayLo,
// dayHi), team == team (if team >= 0) and EffectiveCost >= minEff (if
// minEff != 0), grouped by key.
type scanQuery struct {
	dayLo, dayHi int
	team         int
	minEff       int64
	key          keyKind
}

func (q *scanQuery) groups() int {
	switch q.key {
	case keyService:
		return nServices
	case keyResource:
		return nResources
	case keyMonthAccount:
		return 3 * nAccounts
	case keyAccount:
		return nAccounts
	case keyDayService:
		return (q.dayHi - q.dayLo) * nServices
	case keyTeam:
		return nTeams + 1
	}
	return 1
}

type acc struct {
	sums   []costgate.Sum
	counts []int64
}

func (a *acc) reset(n int) {
	if cap(a.counts) < n {
		a.sums, a.counts = make([]costgate.Sum, n), make([]int64, n)
		return
	}
	a.sums, a.counts = a.sums[:n], a.counts[:n]
	clear(a.sums)
	clear(a.counts)
}

type zone struct {
	dayMin, dayMax, acctMin, acctMax uint8
}

type scanEngine struct {
	name    string
	d       *Data
	threads int
	zones   []zone // nil: plain scan
	scratch map[*QuerySpec][]*acc
}

func newScanEngine(d *Data, threads int, zoneMap bool) *scanEngine {
	e := &scanEngine{name: "plain scan", d: d, threads: threads, scratch: map[*QuerySpec][]*acc{}}
	if zoneMap {
		e.name = "zone-map scan"
		for lo := 0; lo < d.N; lo += zoneBlock {
			hi := min(lo+zoneBlock, d.N)
			z := zone{dayMin: 255, acctMin: 255}
			for i := lo; i < hi; i++ {
				z.dayMin, z.dayMax = min(z.dayMin, d.Day[i]), max(z.dayMax, d.Day[i])
				z.acctMin, z.acctMax = min(z.acctMin, d.Account[i]), max(z.acctMax, d.Account[i])
			}
			e.zones = append(e.zones, z)
		}
	}
	return e
}

// ZoneBytes is the zone map's size.
func (e *scanEngine) ZoneBytes() int { return len(e.zones) * 4 }

// Run answers q; the result's keys are still codes (see decode).
func (e *scanEngine) Run(qs *QuerySpec) any {
	q := &qs.Scan
	accs := e.scratch[qs]
	if accs == nil {
		accs = make([]*acc, e.threads)
		for i := range accs {
			accs[i] = &acc{}
		}
		e.scratch[qs] = accs
	}
	n := e.d.N
	var wg sync.WaitGroup
	for t := range e.threads {
		// Thread ranges are block-aligned.
		blocks := (n + zoneBlock - 1) / zoneBlock
		b0, b1 := blocks*t/e.threads, blocks*(t+1)/e.threads
		work := func() {
			a := accs[t]
			a.reset(q.groups())
			if e.zones == nil {
				e.kernel(q, b0*zoneBlock, min(b1*zoneBlock, n), true, a)
				return
			}
			for b := b0; b < b1; b++ {
				z := e.zones[b]
				if int(z.dayMax) < q.dayLo || int(z.dayMin) >= q.dayHi {
					continue
				}
				inside := int(z.dayMin) >= q.dayLo && int(z.dayMax) < q.dayHi
				e.kernel(q, b*zoneBlock, min((b+1)*zoneBlock, n), !inside, a)
			}
		}
		if e.threads == 1 {
			work()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
	a := accs[0]
	for _, o := range accs[1:] {
		for g, c := range o.counts {
			if c != 0 {
				a.counts[g] += c
				a.sums[g].AddSum(o.sums[g])
			}
		}
	}
	if q.key == keyResource {
		return topResources(a, qTopN)
	}
	return a
}

// kernel adds the matching rows of [lo, hi) to a. checkDay false means the
// caller knows every row is inside the day range.
func (e *scanEngine) kernel(q *scanQuery, lo, hi int, checkDay bool, a *acc) {
	d := e.d
	day, team, eff := d.Day[lo:hi], d.Team[lo:hi], d.Effective[lo:hi]
	dlo, dhi := uint8(q.dayLo), uint8(q.dayHi)
	wantTeam := q.team >= 0
	tm := uint8(max(q.team, 0))
	minEff := q.minEff
	if minEff == 0 {
		minEff = math.MinInt64
	}
	sums, counts := a.sums, a.counts
	match := func(i int) bool {
		if checkDay && (day[i] < dlo || day[i] >= dhi) {
			return false
		}
		if wantTeam && team[i] != tm {
			return false
		}
		return eff[i] >= minEff
	}
	switch q.key {
	case keyNone:
		var s costgate.Sum
		var c int64
		for i := range eff {
			if match(i) {
				s.Add(costgate.Money(eff[i]))
				c++
			}
		}
		sums[0].AddSum(s)
		counts[0] += c
	case keyService:
		svc := d.Service[lo:hi]
		for i := range eff {
			if match(i) {
				g := svc[i]
				sums[g].Add(costgate.Money(eff[i]))
				counts[g]++
			}
		}
	case keyResource:
		res := d.Resource[lo:hi]
		for i := range eff {
			if match(i) {
				g := res[i]
				sums[g].Add(costgate.Money(eff[i]))
				counts[g]++
			}
		}
	case keyMonthAccount:
		acct, mo := d.Account[lo:hi], d.D.MonthOfDay
		for i := range eff {
			if match(i) {
				g := int(mo[day[i]])*nAccounts + int(acct[i])
				sums[g].Add(costgate.Money(eff[i]))
				counts[g]++
			}
		}
	case keyAccount:
		acct := d.Account[lo:hi]
		for i := range eff {
			if match(i) {
				g := acct[i]
				sums[g].Add(costgate.Money(eff[i]))
				counts[g]++
			}
		}
	case keyDayService:
		svc := d.Service[lo:hi]
		for i := range eff {
			if match(i) {
				g := int(day[i]-dlo)*nServices + int(svc[i])
				sums[g].Add(costgate.Money(eff[i]))
				counts[g]++
			}
		}
	case keyTeam:
		for i := range eff {
			if match(i) {
				g := team[i]
				sums[g].Add(costgate.Money(eff[i]))
				counts[g]++
			}
		}
	}
}

type topRow struct {
	res   uint32
	sum   costgate.Sum
	count int64
}

// topResources keeps the k largest sums, ties by resource id ascending
// (resource codes are in string order).
func topResources(a *acc, k int) []topRow {
	better := func(x, y topRow) int {
		if c := y.sum.Cmp(x.sum); c != 0 {
			return c
		}
		return cmp.Compare(x.res, y.res)
	}
	top := make([]topRow, 0, k+1)
	for g, c := range a.counts {
		if c == 0 {
			continue
		}
		r := topRow{res: uint32(g), sum: a.sums[g], count: c}
		if len(top) == k && better(r, top[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, r, better)
		top = slices.Insert(top, i, r)
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}

// decodeScan turns a scan result into string keys.
func decodeScan(qs *QuerySpec, d *Dicts, raw any) Result {
	q := &qs.Scan
	if top, ok := raw.([]topRow); ok {
		out := make(Result, len(top))
		for i, t := range top {
			out[i] = Row{Keys: []string{d.Resources[t.res]}, Sum: t.sum, Count: t.count}
		}
		return out
	}
	a := raw.(*acc)
	var out Result
	for g, c := range a.counts {
		if c == 0 {
			continue
		}
		var keys []string
		switch q.key {
		case keyService:
			keys = []string{d.Services[g]}
		case keyMonthAccount:
			keys = []string{monthNames[g/nAccounts], d.Accounts[g%nAccounts]}
		case keyAccount:
			keys = []string{d.Accounts[g]}
		case keyDayService:
			keys = []string{d.Days[q.dayLo+g/nServices], d.Services[g%nServices]}
		case keyTeam:
			keys = []string{d.Teams[g]}
		default:
			keys = []string{}
		}
		out = append(out, Row{Keys: keys, Sum: a.sums[g], Count: c})
	}
	return out
}
