package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

// Snapshot is one consistent set of what requests are judged with: the
// compiled policies with their data, and the admission settings from the
// same config. It is never modified once loaded.
type Snapshot struct {
	Engine     *gate.Engine
	Kubernetes KubernetesOptions
	// PriceInput, when set, attaches a cost estimate to a plan's input
	// before it is judged (cmd/costgate gives it the estimate `costgate
	// check` makes, so cost rules find the same on every surface) and
	// returns the per-resource estimates the decision log keeps. nil
	// leaves plans unpriced.
	PriceInput func(ctx context.Context, in *gate.Input) ([]costgate.EstimatedResource, error)
	// LoadedAt is when the snapshot was compiled.
	LoadedAt time.Time
}

// Loader reads the config and compiles the policies into a Snapshot.
type Loader func(ctx context.Context) (*Snapshot, error)

// Policies holds the current Snapshot and replaces it on Reload. A
// request takes the snapshot once (Current) and finishes on it, so a
// reload never changes the rules under a request in flight. A reload that
// fails leaves the old snapshot serving and is reported by Err (and so
// /readyz) until a later reload succeeds.
type Policies struct {
	load Loader
	log  *slog.Logger
	cur  atomic.Pointer[Snapshot]

	mu      sync.Mutex // serialises reloads; guards lastErr
	lastErr error

	onReload []func(err error) // guarded by mu
}

// addOnReload registers f to be called after every reload with its
// result (metrics).
func (p *Policies) addOnReload(f func(err error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onReload = append(p.onReload, f)
}

// NewPolicies loads the first snapshot; it must succeed.
func NewPolicies(ctx context.Context, load Loader, log *slog.Logger) (*Policies, error) {
	if log == nil {
		log = slog.Default()
	}
	p := &Policies{load: load, log: log.With("component", "webhooks.policies")}
	s, err := load(ctx)
	if err != nil {
		return nil, err
	}
	if s.LoadedAt.IsZero() {
		s.LoadedAt = time.Now()
	}
	p.cur.Store(s)
	return p, nil
}

// StaticPolicies serves one snapshot that never reloads (tests, embedding).
func StaticPolicies(s *Snapshot) *Policies {
	p := &Policies{load: func(context.Context) (*Snapshot, error) { return s, nil }, log: slog.Default()}
	p.cur.Store(s)
	return p
}

// Current returns the snapshot to judge one request with.
func (p *Policies) Current() *Snapshot { return p.cur.Load() }

// Err is the error of the last reload, nil when it succeeded.
func (p *Policies) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// Reload compiles a new snapshot and swaps it in; on error the old one
// keeps serving.
func (p *Policies) Reload(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.load(ctx)
	if err == nil && s == nil {
		err = errors.New("loader returned no snapshot")
	}
	if err != nil {
		p.lastErr = fmt.Errorf("reload rejected, still serving revision %s: %w", p.cur.Load().Engine.Revision(), err)
		p.log.Error("policy reload rejected; the previous policies keep serving", "err", err)
	} else {
		if s.LoadedAt.IsZero() {
			s.LoadedAt = time.Now()
		}
		old := p.cur.Swap(s)
		p.lastErr = nil
		p.log.Info("policies reloaded", "revision", s.Engine.Revision(), "previous", old.Engine.Revision())
	}
	for _, f := range p.onReload {
		f(err)
	}
	return err
}

// Watch reloads when any of paths (files or directories, watched through
// their directories so that editors' rename-over saves are seen) changes,
// after debounce of quiet. It returns when ctx ends.
func (p *Policies) Watch(ctx context.Context, paths []string, debounce time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch policies: %w", err)
	}
	defer w.Close()
	dirs := map[string]bool{}  // policy directories: any change in them counts
	files := map[string]bool{} // single files: only they count in their directory
	watched := map[string]bool{}
	add := func(dir string) error {
		if watched[dir] {
			return nil
		}
		if err := w.Add(dir); err != nil {
			return fmt.Errorf("watch %s: %w", dir, err)
		}
		watched[dir] = true
		return nil
	}
	for _, path := range paths {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("watch %s: %w", path, err)
		}
		if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
			// Policy directories nest: watch every subdirectory.
			err := filepath.WalkDir(abs, func(p string, d os.DirEntry, err error) error {
				if err != nil || !d.IsDir() {
					return err
				}
				dirs[p] = true
				return add(p)
			})
			if err != nil {
				return err
			}
			continue
		}
		files[abs] = true
		if err := add(filepath.Dir(abs)); err != nil {
			return err
		}
	}
	relevant := func(name string) bool {
		return files[name] || dirs[filepath.Dir(name)] || dirs[name]
	}
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !relevant(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() && dirs[filepath.Dir(ev.Name)] {
					dirs[ev.Name] = true
					if err := add(ev.Name); err != nil {
						p.log.Warn("policy watcher", "err", err)
					}
				}
			}
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				timer.Reset(debounce)
			}
			fire = timer.C
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			p.log.Warn("policy watcher error", "err", err)
		case <-fire:
			fire = nil
			p.Reload(ctx)
		}
	}
}
