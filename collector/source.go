package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/costgate/costgate"
)

// Source reads one configured billing or inventory source.
type Source interface {
	// Name is the configured name; it is the Source of every partition
	// the source loads.
	Name() string
	// Type is the config type ("focus", "aws_cur", ...).
	Type() string
	// Collect reads what changed and hands it to sink. An error returned
	// here stops the source; errors confined to some partitions go to
	// sink.Fail instead, so that the rest still load.
	Collect(ctx context.Context, sink Sink) error
}

// Sink receives what a source collected. It is the source's only way to
// the store; the methods are safe for concurrent use.
type Sink interface {
	// Known lists what the store holds for this source: each partition
	// with the export id and content hash it was loaded from. A source
	// compares them with what it sees to skip unchanged exports.
	Known() []Loaded
	// Replace swaps partition p for rows (p.Source may be left empty: it
	// is the source's name). Every partition of one source's run is
	// published in one commit when the run ends; a replace that fails in
	// the store (a full disk, say) keeps the whole run from being
	// published, so that the store never holds half of a restated bill.
	// A row the store refuses (a *costgate.RowError) fails its partition
	// alone, like a bad file. The same
	// content hash again is a no-op. A failure is recorded for the
	// summary and returned. The caller may reuse rows once it returns.
	Replace(ctx context.Context, p costgate.Partition, rows []costgate.LineItem, exportID, contentHash string) error
	// ReplaceSource is Replace with the rows read one at a time from src.
	ReplaceSource(ctx context.Context, p costgate.Partition, src costgate.LineItemSource, exportID, contentHash string) error
	// Unchanged records partitions left alone because their export did
	// not change.
	Unchanged(ps ...costgate.Partition)
	// Fail records that err kept partitions ps from loading: the store
	// keeps them exactly as they were. With no partitions the error
	// concerns the source as a whole.
	Fail(err error, ps ...costgate.Partition)
	// Inventory replaces the source's inventory. Resources keep the
	// FirstSeen the store already has for them and get LastSeen = now;
	// resources no longer reported are kept with their old LastSeen for
	// InventoryRetention.
	Inventory(ctx context.Context, rs []costgate.Resource, exportID, contentHash string) error
	// Progress counts files, bytes and rows for the progress line.
	Progress() *Progress
	// Now is the injected clock.
	Now() time.Time
	// Logger is scoped to the source.
	Logger() *slog.Logger
}

// Loaded describes one partition a source loaded earlier.
type Loaded struct {
	Partition   costgate.Partition
	ExportID    string
	ContentHash string
	Rows        uint64
}

// Store is what the collector needs of the cost store; cmd/costgate wires
// the embedded store to it.
type Store interface {
	// Begin starts the transaction one source's run replaces its
	// partitions in: they are published together when the run ends,
	// or not at all.
	Begin() Txn
	// ReplaceInventory swaps the inventory of source like Replace.
	ReplaceInventory(ctx context.Context, source string, rs []costgate.Resource, exportID, contentHash string) (changed bool, err error)
	// Loaded lists the line-item partitions of source.
	Loaded(source string) []Loaded
	// Inventory lists the resources source reported last time.
	Inventory(ctx context.Context, source string) ([]costgate.Resource, error)
}

// Txn is a group of replaces published at once (store.Txn). Replace
// and ReplaceSource are called concurrently for different partitions and
// must not keep rows after they return: the collector reuses the memory
// for the next partition. changed reports that the partition differs
// from what the store holds and will change on Commit.
type Txn interface {
	costgate.CostWriter
	// Commit publishes every partition replaced and returns how many
	// changed; on error none did.
	Commit(ctx context.Context) (int, error)
	// Abort drops what was replaced.
	Abort()
}

// Spec is one entry of the config's sources: list. Every type reads the
// keys it needs; Registry.Check rejects a spec that lacks one.
type Spec struct {
	Name string
	Type string
	// Path is a local file, directory or glob, or an s3:// URI.
	Path string
	// URI is an s3:// (or other object store) location.
	URI      string
	Region   string
	Regions  []string
	Endpoint string
	Profile  string
	// PathStyle addresses buckets as endpoint/bucket (S3-compatible
	// stores); it is on whenever Endpoint is set.
	PathStyle bool
	// Format forces the file format of a file-based source: csv,
	// parquet or "" (by file name).
	Format string
	// BigQuery.
	Project  string
	Dataset  string
	Table    string
	Location string
	// Months is how many invoice months a query-based source reads (the
	// open month and those before it); 0: the source's default.
	Months int
	// PartitionColumn is the column a BigQuery export is partitioned by
	// ("": read off the table's metadata; "none": no partition filter).
	PartitionColumn string
}

// Where returns where a file-based source reads: URI, else Path.
func (s Spec) Where() string {
	if s.URI != "" {
		return s.URI
	}
	return s.Path
}

// FieldError names the spec key that is wrong; cmd/costgate prefixes it
// with the entry's place in the config (sources[2].path).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Env is what a factory may use to build a source.
type Env struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Factory builds sources of one type.
type Factory struct {
	// Check validates the spec's keys, returning a *FieldError.
	Check func(Spec) error
	// New builds the source; it should not do I/O.
	New func(Spec, Env) (Source, error)
}

// Registry maps config type names to factories.
type Registry struct {
	m map[string]Factory
}

// ErrUnknownType reports a type no factory is registered for.
var ErrUnknownType = errors.New("unknown source type")

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Factory{}} }

// Register adds a type; registering a name twice panics (it is a
// programming error in the wiring).
func (r *Registry) Register(typ string, f Factory) {
	if _, dup := r.m[typ]; dup {
		panic("collector: source type registered twice: " + typ)
	}
	r.m[typ] = f
}

// Types lists the registered type names, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.m))
	for t := range r.m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Check validates spec for its type.
func (r *Registry) Check(s Spec) error {
	f, ok := r.m[s.Type]
	if !ok {
		return &FieldError{Field: "type", Msg: fmt.Sprintf("%v %q (known: %v)", ErrUnknownType, s.Type, r.Types())}
	}
	if f.Check != nil {
		return f.Check(s)
	}
	return nil
}

// New builds the source for spec.
func (r *Registry) New(s Spec, env Env) (Source, error) {
	if err := r.Check(s); err != nil {
		return nil, err
	}
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	return r.m[s.Type].New(s, env)
}

// RequireLocation checks that a file-based spec has path or uri (not both).
func RequireLocation(s Spec) error {
	switch {
	case s.Path == "" && s.URI == "":
		return &FieldError{Field: "path", Msg: "required: a file, directory, glob or s3://bucket/prefix (or give uri)"}
	case s.Path != "" && s.URI != "":
		return &FieldError{Field: "uri", Msg: "give path or uri, not both"}
	}
	switch s.Format {
	case "", "csv", "parquet":
	default:
		return &FieldError{Field: "format", Msg: fmt.Sprintf("%q: use csv or parquet (or leave it out to go by file name)", s.Format)}
	}
	return nil
}
