package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/costgate/costgate"
)

// InventoryRetention is how long a resource no longer reported stays in
// the inventory, with the LastSeen of the last run that saw it.
const InventoryRetention = 90 * 24 * time.Hour

// Inventory merges rs with what the store holds for the source and
// replaces the source's inventory. LastSeen is rewritten at most once a
// day while the content stays the same, so running collect again the
// same day is a no-op.
func (s *sink) Inventory(ctx context.Context, rs []costgate.Resource, exportID, contentHash string) error {
	prev, err := s.st.Inventory(ctx, s.name)
	if err != nil {
		err = fmt.Errorf("read previous inventory: %w", err)
		s.Fail(err)
		return err
	}
	now := s.now().UTC()
	merged := MergeInventory(s.name, prev, rs, now)
	h := sha256.New()
	fmt.Fprintf(h, "inventory/1\n%s\n%s\n", contentHash, now.Format(time.DateOnly))
	hash := hex.EncodeToString(h.Sum(nil))
	changed, err := s.st.ReplaceInventory(ctx, s.name, merged, exportID, hash)
	if err != nil {
		err = fmt.Errorf("replace inventory: %w", err)
		s.Fail(err)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if changed {
		s.sum.Loaded++
		s.sum.Resources += len(merged)
		s.log.Info("inventory loaded", "resources", len(merged), "reported", len(rs), "export", firstLine(exportID))
	} else {
		s.sum.Unchanged++
	}
	return nil
}

// MergeInventory returns the inventory of source after a run at now that
// saw rs: reported resources keep the earliest FirstSeen known and get
// LastSeen = now; resources not reported keep their LastSeen and are
// dropped once it is older than InventoryRetention. The result is sorted
// by account, type and id.
func MergeInventory(source string, prev, rs []costgate.Resource, now time.Time) []costgate.Resource {
	type key struct{ provider, account, id string }
	old := make(map[key]costgate.Resource, len(prev))
	for _, r := range prev {
		old[key{r.Provider, r.AccountID, r.ID}] = r
	}
	seen := make(map[key]bool, len(rs))
	out := make([]costgate.Resource, 0, len(rs)+len(prev))
	for _, r := range rs {
		k := key{r.Provider, r.AccountID, r.ID}
		if seen[k] {
			continue // the first report of a resource wins
		}
		seen[k] = true
		r.Source = source
		r.LastSeen = now
		first := r.FirstSeen
		if o, ok := old[k]; ok && !o.FirstSeen.IsZero() && (first.IsZero() || o.FirstSeen.Before(first)) {
			first = o.FirstSeen
		}
		if first.IsZero() || first.After(now) {
			first = now
		}
		r.FirstSeen = first
		out = append(out, r)
	}
	for _, r := range prev {
		k := key{r.Provider, r.AccountID, r.ID}
		if seen[k] || r.LastSeen.IsZero() || now.Sub(r.LastSeen) > InventoryRetention {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	SortResources(out)
	return out
}

// SortResources orders an inventory by account, type and id, the order
// the store keeps and inventory sources hash.
func SortResources(rs []costgate.Resource) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.ID < b.ID
	})
}
