package pricing

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/costgate/costgate"
)

// Catalog is a loaded snapshot, indexed for lookups. It is safe for
// concurrent use.
type Catalog struct {
	snap    *Snapshot
	id      string
	buckets map[bucketKey][]int // (provider, service, region) -> price indexes
	mu      sync.RWMutex
	cache   map[string]lookupResult // Query.appendKey -> result
}

type bucketKey struct{ provider, service, region string }

type lookupResult struct {
	prices []Price
	err    error
}

func newCatalog(s *Snapshot, id string) *Catalog {
	c := &Catalog{snap: s, id: id, buckets: map[bucketKey][]int{}, cache: map[string]lookupResult{}}
	for i := range s.Prices {
		p := &s.Prices[i]
		if p.Currency == "" {
			p.Currency = s.Currency
		}
		p.id = p.priceID()
		k := bucketKey{p.Provider, p.Service, p.Region}
		c.buckets[k] = append(c.buckets[k], i)
	}
	return c
}

// ID identifies the catalog for decision records: the snapshot id and a
// digest of its files ("costgate-default-2026-11@sha256:0123456789ab").
func (c *Catalog) ID() string { return c.id }

// Currency is the snapshot's currency.
func (c *Catalog) Currency() string { return c.snap.Currency }

// Snapshot returns the loaded snapshot (do not modify it).
func (c *Catalog) Snapshot() *Snapshot { return c.snap }

// Len returns the number of prices.
func (c *Catalog) Len() int { return len(c.snap.Prices) }

// Query selects prices: those of the provider, service and region whose
// attributes include every Attrs pair and whose unit is Unit (any unit
// when empty).
type Query struct {
	Provider string
	Service  string
	Region   string
	Attrs    map[string]string
	Unit     string
}

// key is the query's cache key: its parts, attributes in sorted order.
func (q Query) key() string { return string(q.appendKey(nil)) }

// appendKey appends the key to b. A lookup builds it every time, into a
// buffer on its stack, and allocates only when the cache misses.
func (q Query) appendKey(b []byte) []byte {
	var kbuf [8]string
	keys := kbuf[:0]
	for k := range q.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, part := range [...]string{q.Provider, q.Service, q.Region, q.Unit} {
		b = append(append(b, part...), '|')
	}
	for _, k := range keys {
		b = append(append(append(append(b, k...), '='), q.Attrs[k]...), ';')
	}
	return b
}

func (q Query) String() string {
	keys := make([]string, 0, len(q.Attrs))
	for k := range q.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+q.Attrs[k])
	}
	s := q.Provider + " " + q.Service + " in " + q.Region
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if q.Unit != "" {
		s += " per " + q.Unit
	}
	return s
}

// Lookup errors.
var (
	// ErrNoPrice: the catalog has no price for the query.
	ErrNoPrice = errors.New("no price in the catalog")
	// ErrAmbiguousPrice: several different prices match the query.
	ErrAmbiguousPrice = errors.New("several prices match")
)

// Lookup returns the one price the query selects. Several matches with
// the same price and unit count as one; tiered prices need LookupTiers.
func (c *Catalog) Lookup(q Query) (Price, error) {
	ps, err := c.find(q)
	if err != nil {
		return Price{}, err
	}
	first := ps[0]
	for _, p := range ps[1:] {
		if p.Price.Cmp(first.Price) != 0 || p.Unit != first.Unit || p.TierStart != nil || first.TierStart != nil {
			return Price{}, fmt.Errorf("%w: %s (%d candidates; add attributes to the query)", ErrAmbiguousPrice, q, len(ps))
		}
	}
	return first, nil
}

// LookupTiers returns the prices the query selects in tier order (by
// TierStart; a price without one starts at 0).
func (c *Catalog) LookupTiers(q Query) ([]Price, error) {
	return c.find(q)
}

func (c *Catalog) find(q Query) ([]Price, error) {
	var kbuf [256]byte
	key := q.appendKey(kbuf[:0])
	c.mu.RLock()
	r, ok := c.cache[string(key)]
	c.mu.RUnlock()
	if ok {
		return r.prices, r.err
	}
	var out []Price
	for _, i := range c.buckets[bucketKey{q.Provider, q.Service, q.Region}] {
		p := c.snap.Prices[i]
		if q.Unit != "" && p.Unit != q.Unit {
			continue
		}
		ok := true
		for k, v := range q.Attrs {
			if pv, has := p.Attributes[k]; !has || !strings.EqualFold(pv, v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	var err error
	if len(out) == 0 {
		err = fmt.Errorf("%w %s: %s", ErrNoPrice, c.id, q)
	}
	sort.SliceStable(out, func(i, j int) bool { return tierStart(out[i]).Cmp(tierStart(out[j])) < 0 })
	c.mu.Lock()
	c.cache[string(key)] = lookupResult{out, err}
	c.mu.Unlock()
	return out, err
}

func tierStart(p Price) costgate.Rate {
	if p.TierStart == nil {
		return costgate.Rate{}
	}
	return *p.TierStart
}

// PriceID names a price for decision records: provider/service/region
// and the SKU or the attributes.
func (p Price) PriceID() string {
	if p.id != "" {
		return p.id
	}
	return p.priceID()
}

func (p Price) priceID() string {
	id := p.Provider + "/" + p.Service + "/" + p.Region + "/"
	if p.SKU != "" {
		return id + p.SKU
	}
	keys := make([]string, 0, len(p.Attributes))
	for k := range p.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+p.Attributes[k])
	}
	return id + strings.Join(parts, ",") + "/" + p.Unit
}
