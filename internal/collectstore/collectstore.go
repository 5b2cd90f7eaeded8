// Package collectstore adapts the embedded cost store to the collector:
// it is the wiring between collector.Store and store.Store, shared by
// cmd/costgate and the collector's tests.
package collectstore

import (
	"context"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/store"
)

// Store is a *store.Store seen as a collector.Store.
type Store struct {
	*store.Store
}

// New wraps st.
func New(st *store.Store) Store { return Store{Store: st} }

var _ collector.Store = Store{}

// Begin starts a transaction of the embedded store.
func (s Store) Begin() collector.Txn { return s.Store.Begin() }

// Loaded lists the line-item partitions of source.
func (s Store) Loaded(source string) []collector.Loaded {
	var out []collector.Loaded
	for _, p := range s.Partitions() {
		if p.Table != "lineitems" || p.Partition.Source != source {
			continue
		}
		out = append(out, collector.Loaded{Partition: p.Partition, ExportID: p.ExportID, ContentHash: p.ContentHash, Rows: p.Rows})
	}
	return out
}

// Inventory lists the resources source reported last.
func (s Store) Inventory(ctx context.Context, source string) ([]costgate.Resource, error) {
	return s.Resources(ctx, store.Eq("Source", source))
}
