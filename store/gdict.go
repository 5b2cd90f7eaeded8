package store

import "sync"

// globalDict gives every value of a column seen by this Store a stable id
// across segments (each segment has its own dictionary), so per-segment
// group results merge through arrays instead of string maps. Id 0 is null
// and the empty string. Values are copied: they never point into a mapped
// segment.
type globalDict struct {
	mu   sync.RWMutex
	ids  map[string]uint32
	vals []string
}

func (s *Store) globalDict(column string) *globalDict {
	if g, ok := s.dicts.Load(column); ok {
		return g.(*globalDict)
	}
	g, _ := s.dicts.LoadOrStore(column, &globalDict{ids: map[string]uint32{}, vals: []string{""}})
	return g.(*globalDict)
}

// remap returns the global id of each code of d (index = code).
func (g *globalDict) remap(d *dictView) []uint32 {
	out := make([]uint32, d.len()+1)
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := 1; c <= d.len(); c++ {
		b := d.bytesOf(uint32(c))
		if len(b) == 0 {
			continue
		}
		id, ok := g.ids[string(b)]
		if !ok {
			v := string(b)
			id = uint32(len(g.vals))
			g.vals = append(g.vals, v)
			g.ids[v] = id
		}
		out[c] = id
	}
	return out
}

// values returns the current id -> string table; it is append-only, so
// the returned prefix stays valid.
func (g *globalDict) values() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.vals
}

// remapFor returns (and caches) the global ids of a segment column.
func (c *segCol) remapFor(g *globalDict) ([]uint32, error) {
	return c.remapOnce.get(func() ([]uint32, error) {
		d, err := c.dict()
		if err != nil {
			return nil, err
		}
		return g.remap(d), nil
	})
}
