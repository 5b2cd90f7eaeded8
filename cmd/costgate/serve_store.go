package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

// serveStore is serve's read handle on the cost store (GET /v1/cost).
//
// A read-only store.Store pins the generation it opened and never sees
// later commits, whoever makes them (serve's collect.schedule or a
// `costgate collect` elsewhere). Refresh opens the store again and swaps
// the handle; a query takes a snapshot of the handle it finds, so queries
// in flight finish on their generation and the old handle's segments are
// released after the last of them.
type serveStore struct {
	dir string
	log *slog.Logger

	mu  sync.RWMutex
	st  *store.Store // nil until the store opens
	err error        // why the last open failed
}

var _ costgate.CostReader = (*serveStore)(nil)

// openServeStore opens the store in dir read-only. A store that does not
// open leaves /v1/cost failing and /readyz reporting it until a Refresh
// succeeds, rather than keeping the gate down. quietMissing: dir is the
// implicit default, whose absence is normal and not logged.
func openServeStore(dir string, quietMissing bool, logger *slog.Logger) *serveStore {
	s := &serveStore{dir: dir, log: logger}
	if err := s.Refresh(); err != nil && !(quietMissing && errors.Is(err, fs.ErrNotExist)) {
		logger.Error("open cost store; /v1/cost is unavailable until it opens", "store", dir, "err", err)
	}
	return s
}

// Refresh reopens the store at its latest generation. On error the
// previous handle, if any, keeps serving.
func (s *serveStore) Refresh() error {
	st, err := store.Open(s.dir, store.Options{ReadOnly: true}) // the store logs as component=store
	s.mu.Lock()
	if err != nil {
		s.err = err
		s.mu.Unlock()
		return fmt.Errorf("reopen cost store %s: %w", s.dir, err)
	}
	old := s.st
	s.st, s.err = st, nil
	s.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			s.log.Warn("close previous cost store handle", "store", s.dir, "err", err)
		}
	}
	return nil
}

// Query answers q on the latest generation Refresh saw.
func (s *serveStore) Query(ctx context.Context, q costgate.CostQuery) (*costgate.CostResult, error) {
	s.mu.RLock()
	st, err := s.st, s.err
	var sn *store.Snapshot
	if st != nil {
		// Pinned under the lock: a Refresh cannot close st in between.
		sn, err = st.Snapshot()
	}
	s.mu.RUnlock()
	if sn == nil {
		if err == nil {
			err = errors.New("not open")
		}
		return nil, fmt.Errorf("cost store %s: %w", s.dir, err)
	}
	defer sn.Close()
	return sn.Query(ctx, q)
}

// pricingReader is the reader plans are priced against: s while the store
// is open; nil when there is none (yet), so that plans get list prices as
// `costgate check` gives them without a store; the open error otherwise.
func (s *serveStore) pricingReader() (costgate.CostReader, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.st != nil:
		return s, nil
	case errors.Is(s.err, fs.ErrNotExist):
		return nil, nil
	default:
		return nil, fmt.Errorf("open cost store %s: %w", s.dir, s.err)
	}
}

// Check is the /readyz check: the store is open.
func (s *serveStore) Check(context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		return fmt.Errorf("cost store %s: %w", s.dir, s.err)
	}
	return nil
}

// Close releases the handle.
func (s *serveStore) Close() error {
	s.mu.Lock()
	st := s.st
	s.st, s.err = nil, store.ErrClosed
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.Close()
}
