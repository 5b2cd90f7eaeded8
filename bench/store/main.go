// Command store is the peer benchmark of costgate's embedded cost store
// (issue 3, STORE.md): it generates the deterministic FOCUS-like data set,
// loads it into costgate's store, DuckDB (an integer-coded table and a
// FOCUS table with VARCHAR dimensions, both through the Appender API) and
// two plain Go columnar scans (full scan and zone-map scan), runs the
// seven query classes on every engine interleaved in one process,
// checks that all engines return exactly the same sums and counts, and
// prints medians, ratios, ingest rates and resident memory.
//
//	cd bench && go run ./store                      # quick: 1M rows
//	cd bench && go run ./store -rows 10000000 -seed 1
//
// See ../README.md for what each column means.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/costgate/costgate/store"
)

type config struct {
	rows         int
	seed         uint64
	iters        int
	warmup       int
	threads      int
	dir          string
	keep         bool
	sync         bool
	engines      string    // comma-separated subset of engines to time (all loaded anyway)
	cpuProfile   string    // CPU profile of the timed iterations
	ingestProf   string    // CPU profile of the coded ingest
	ingestOnly   bool      // stop after costgate's coded ingest and DuckDB's li_int appender
	replaceConc  int       // coded ingest: partitions replaced at a time
	queries      string    // comma-separated query name prefixes to time; default all
	duckCompress bool      // DuckDB tables in a compressed in-memory database
	solo         bool      // also time each engine back-to-back
	out          io.Writer // the report
	quiet        bool      // no progress lines
}

func main() {
	var c config
	flag.IntVar(&c.rows, "rows", 1_000_000, "line items to generate (STORE.md's data set has 10000000)")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed")
	flag.IntVar(&c.iters, "iters", 15, "timed iterations per query and engine")
	flag.IntVar(&c.warmup, "warmup", 1, "untimed (but checked) iterations before the timed ones")
	flag.IntVar(&c.threads, "threads", runtime.GOMAXPROCS(0), "threads for every engine (store Parallelism, DuckDB threads, scan goroutines)")
	flag.StringVar(&c.dir, "dir", "", "store directory (default: a temporary directory, removed at exit)")
	flag.StringVar(&c.engines, "engines", "", "time only these engines (comma-separated: costgate, duckdb-int, duckdb-focus, plain, zonemap); all are still loaded and measured")
	flag.StringVar(&c.queries, "queries", "", "time only these queries (comma-separated name prefixes, e.g. Q1,Q3)")
	flag.BoolVar(&c.duckCompress, "duck-compress", false, "put DuckDB's tables in an in-memory database attached with (COMPRESS), checkpointed after each load (default: DuckDB's default uncompressed in-memory tables)")
	flag.BoolVar(&c.solo, "solo", true, "after the interleaved runs, also time each engine running one query back-to-back (reported separately)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the query iterations to this file")
	flag.StringVar(&c.ingestProf, "ingest-cpuprofile", "", "write a CPU profile of the coded ingest (ReplaceSource calls and the generator's row reads) to this file")
	flag.IntVar(&c.replaceConc, "replace-concurrency", 3, "the coded ingest replaces this many partitions at a time (collect replaces three at a time, two building while one syncs; 1: one after the other)")
	flag.BoolVar(&c.ingestOnly, "ingest-only", false, "only ingest: costgate from coded rows (one partition at a time, then -replace-concurrency at a time) and DuckDB's li_int appender, alternated -iters times, then print their rates (no queries, no li_focus)")
	flag.BoolVar(&c.keep, "keep", false, "keep the store directory")
	flag.BoolVar(&c.sync, "sync", true, "fsync segment and manifest on Replace (the store's default); -sync=false sets Options.NoSync")
	flag.Parse()
	if c.rows < 1000 || c.iters < 1 || c.threads < 1 {
		fmt.Fprintln(os.Stderr, "store: -rows >= 1000, -iters >= 1 and -threads >= 1 are required")
		os.Exit(2)
	}
	c.out = os.Stdout
	ok, err := run(context.Background(), c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
		os.Exit(1)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "store: engines disagree (see MISMATCH lines)")
		os.Exit(3)
	}
}

// engine is one competitor: run is timed, decode (mapping codes to
// strings, SQL values to exact sums) is not.
type engine struct {
	name   string
	key    string // for -engines
	run    func(ctx context.Context, q *QuerySpec) (any, error)
	decode func(q *QuerySpec, raw any) (Result, error)
}

type memRow struct {
	phase     string
	snap      memSnap
	peak      int64 // VmHWM since the phase began (0: unknown)
	engineRep string
}

type report struct {
	cfg        config
	start      time.Time
	genTime    time.Duration
	cg         ingestStats
	cgCoded    ingestStats // the same rows as a coded source (ReplaceSource)
	duckInt    ingestStats
	duckFocus  ingestStats
	mem        []memRow
	dataBytes  int64
	zoneBytes  int
	engines    []string
	queries    []*QuerySpec
	times      map[string]map[string][]time.Duration // query -> engine -> samples
	solo       map[string]map[string][]time.Duration // back-to-back samples
	loadStart  string
	storeSrc   string
	gcs        map[string]uint64 // GC cycles completed during each engine's timed runs
	problems   []string
	checks     int
	duckVer    string
	duckIntMem int64 // duckdb_memory() after li_int
	peakOK     bool
}

func run(ctx context.Context, c config) (bool, error) {
	r := &report{cfg: c, start: time.Now(), times: map[string]map[string][]time.Duration{}, loadStart: loadAvg(), storeSrc: storeSources(), gcs: map[string]uint64{}}
	dir := c.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "costgate-bench-store-"); err != nil {
			return false, err
		}
		if !c.keep {
			defer os.RemoveAll(dir)
		}
	} else if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		return false, fmt.Errorf("-dir %s is not empty: the benchmark ingests into an empty store", dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		segDir = abs + string(filepath.Separator)
	}
	progress := func(format string, args ...any) {
		if c.quiet {
			return
		}
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
	}

	base := settle()
	r.peakOK = resetPeak()
	r.mem = append(r.mem, memRow{phase: "start (Go runtime, DuckDB library mapped)", snap: base})

	// 1. Data.
	progress("generating %d rows, seed %d", c.rows, c.seed)
	t0 := time.Now()
	d := Generate(c.rows, c.seed)
	r.genTime = time.Since(t0)
	r.dataBytes = d.Bytes()
	snap := settle()
	r.mem = append(r.mem, memRow{phase: "generated columns (= plain scan's data)", snap: snap, peak: peakSince(r, snap)})
	if c.ingestOnly {
		return ingestOnly(ctx, c, d, dir, progress)
	}

	// 2. costgate's store.
	progress("costgate: ingest (%d partitions, Replace each)", len(d.Parts))
	resetPeak()
	opts := store.Options{Parallelism: c.threads, NoSync: !c.sync}
	st, err := ingestCostgate(ctx, dir, d, opts)
	if err != nil {
		return false, fmt.Errorf("costgate ingest: %w", err)
	}
	st.peakRSS = readMem().HWM
	// The same rows once more, coded, into a store of their own: the
	// form a parser's interned rows reach the store in, and the
	// information DuckDB's integer table gets (dictionary codes).
	progress("costgate: ingest again from coded rows (ReplaceSource)")
	codedDir := dir + "-coded"
	resetPeak()
	stopProf, err := startProfile(c.ingestProf)
	if err != nil {
		return false, err
	}
	r.cgCoded, err = ingestCostgateCoded(ctx, codedDir, d, opts, c.replaceConc)
	stopProf()
	if err != nil {
		os.RemoveAll(codedDir)
		return false, fmt.Errorf("costgate coded ingest: %w", err)
	}
	r.cgCoded.peakRSS = readMem().HWM
	if cs, err := store.Open(codedDir, store.Options{Parallelism: c.threads}); err != nil {
		r.problems = append(r.problems, "reopen the coded store: "+err.Error())
	} else {
		if err := checkTotals(ctx, cs, d); err != nil {
			r.problems = append(r.problems, "MISMATCH costgate coded ingest partition totals vs generator: "+err.Error())
		}
		cs.Close()
	}
	os.RemoveAll(codedDir)
	t1 := time.Now()
	s, err := store.Open(dir, store.Options{Parallelism: c.threads, NoSync: !c.sync})
	if err != nil {
		return false, fmt.Errorf("reopen store: %w", err)
	}
	defer s.Close()
	st.openTime = time.Since(t1)
	if err := checkTotals(ctx, s, d); err != nil {
		r.problems = append(r.problems, "MISMATCH costgate partition totals vs generator: "+err.Error())
	}
	r.cg = st
	qs := querySpecs()
	if c.queries != "" {
		qs = slices.DeleteFunc(qs, func(q *QuerySpec) bool {
			for _, p := range strings.Split(c.queries, ",") {
				if p = strings.TrimSpace(p); p != "" && strings.HasPrefix(q.Name, p) {
					return false
				}
			}
			return true
		})
		if len(qs) == 0 {
			return false, fmt.Errorf("-queries %q selects no query", c.queries)
		}
	}
	r.queries = qs
	cg := &cgEngine{s: s}
	t2 := time.Now()
	for _, q := range qs {
		if _, err := cg.Run(ctx, q); err != nil {
			return false, fmt.Errorf("costgate %s: %w", q.Name, err)
		}
	}
	r.cg.firstQueryAll = time.Since(t2)
	snap = settle()
	r.mem = append(r.mem, memRow{phase: "+ costgate store open, each query run once", snap: snap, peak: st.peakRSS,
		engineRep: fmt.Sprintf("segments on disk %s", mib(st.diskBytes))})

	// 3. Zone map (the plain scan needs nothing more than the columns).
	plain := newScanEngine(d, c.threads, false)
	zm := newScanEngine(d, c.threads, true)
	r.zoneBytes = zm.ZoneBytes()

	// 4. DuckDB.
	progress("DuckDB: appender into li_int")
	x, err := openDuck(ctx, c.threads, c.duckCompress)
	if err != nil {
		return false, fmt.Errorf("duckdb: %w", err)
	}
	defer x.Close()
	if err := x.db.QueryRowContext(ctx, "SELECT version()").Scan(&r.duckVer); err != nil {
		return false, err
	}
	resetPeak()
	if r.duckInt, err = x.ingestInt(ctx, d); err != nil {
		return false, fmt.Errorf("duckdb li_int: %w", err)
	}
	r.duckInt.peakRSS = readMem().HWM
	if err := x.checkTotals(ctx, d, false); err != nil {
		r.problems = append(r.problems, "MISMATCH DuckDB li_int partition totals vs generator: "+err.Error())
	}
	di, err := newDuckEngine(ctx, x, false, qs)
	if err != nil {
		return false, err
	}
	for _, q := range qs {
		if _, err := di.Run(ctx, q); err != nil {
			return false, fmt.Errorf("DuckDB int %s: %w", q.Name, err)
		}
	}
	snap = settle()
	used, dbSize, err := x.memory(ctx)
	if err != nil {
		return false, err
	}
	r.duckIntMem = used
	r.mem = append(r.mem, memRow{phase: "+ DuckDB li_int loaded, each query run once", snap: snap, peak: r.duckInt.peakRSS,
		engineRep: fmt.Sprintf("duckdb_memory() %s, database_size %s", mib(used), dbSize)})

	progress("DuckDB: appender into li_focus")
	resetPeak()
	if r.duckFocus, err = x.ingestFocus(ctx, d); err != nil {
		return false, fmt.Errorf("duckdb li_focus: %w", err)
	}
	r.duckFocus.peakRSS = readMem().HWM
	if err := x.checkTotals(ctx, d, true); err != nil {
		r.problems = append(r.problems, "MISMATCH DuckDB li_focus partition totals vs generator: "+err.Error())
	}
	df, err := newDuckEngine(ctx, x, true, qs)
	if err != nil {
		return false, err
	}
	for _, q := range qs {
		if _, err := df.Run(ctx, q); err != nil {
			return false, fmt.Errorf("DuckDB FOCUS %s: %w", q.Name, err)
		}
	}
	snap = settle()
	used, dbSize, err = x.memory(ctx)
	if err != nil {
		return false, err
	}
	r.mem = append(r.mem, memRow{phase: "+ DuckDB li_focus loaded, each query run once", snap: snap, peak: r.duckFocus.peakRSS,
		engineRep: fmt.Sprintf("duckdb_memory() %s (both tables), database_size %s", mib(used), dbSize)})

	// 5. Interleaved runs.
	engines := []engine{
		{name: "costgate", key: "costgate", run: cg.Run, decode: func(_ *QuerySpec, raw any) (Result, error) { return decodeCG(raw), nil }},
		{name: "DuckDB int", key: "duckdb-int", run: di.Run, decode: func(_ *QuerySpec, raw any) (Result, error) { return decodeDuck(d.D, raw) }},
		{name: "DuckDB FOCUS", key: "duckdb-focus", run: df.Run, decode: func(_ *QuerySpec, raw any) (Result, error) { return decodeDuck(d.D, raw) }},
		{name: "plain scan", key: "plain", run: func(_ context.Context, q *QuerySpec) (any, error) { return plain.Run(q), nil },
			decode: func(q *QuerySpec, raw any) (Result, error) { return decodeScan(q, d.D, raw), nil }},
		{name: "zone-map scan", key: "zonemap", run: func(_ context.Context, q *QuerySpec) (any, error) { return zm.Run(q), nil },
			decode: func(q *QuerySpec, raw any) (Result, error) { return decodeScan(q, d.D, raw), nil }},
	}
	if c.engines != "" {
		keep := map[string]bool{}
		for _, n := range strings.Split(c.engines, ",") {
			keep[strings.TrimSpace(n)] = true
		}
		engines = slices.DeleteFunc(engines, func(e engine) bool { return !keep[e.key] })
		if len(engines) == 0 {
			return false, fmt.Errorf("-engines %q selects no engine", c.engines)
		}
	}
	for _, e := range engines {
		r.engines = append(r.engines, e.name)
	}
	// The reference answer of each query is the plain scan's: the
	// simplest code over the generator's own columns.
	ref := map[*QuerySpec]Result{}
	for _, q := range qs {
		ref[q] = decodeScan(q, d.D, plain.Run(q))
		r.times[q.Name] = map[string][]time.Duration{}
	}
	total := c.warmup + c.iters
	progress("queries: %d iterations (%d warm-up) x %d queries x %d engines", total, c.warmup, len(qs), len(engines))
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return false, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return false, err
		}
		defer f.Close()
	}
	for it := range total {
		order := slices.Clone(engines)
		k := it % len(order)
		order = append(order[k:], order[:k]...)
		for _, q := range qs {
			for _, e := range order {
				gc0 := gcCycles()
				t := time.Now()
				raw, err := e.run(ctx, q)
				el := time.Since(t)
				if it >= c.warmup {
					r.gcs[e.name] += gcCycles() - gc0
				}
				if err != nil {
					return false, fmt.Errorf("%s %s: %w", e.name, q.Name, err)
				}
				got, err := e.decode(q, raw)
				if err != nil {
					return false, fmt.Errorf("%s %s: decode: %w", e.name, q.Name, err)
				}
				r.checks++
				if msg := diff(ref[q], got, q.TopN); msg != "" {
					r.problems = append(r.problems, fmt.Sprintf("MISMATCH %s, %s (iteration %d): %s", q.Name, e.name, it, msg))
				}
				if it >= c.warmup {
					r.times[q.Name][e.name] = append(r.times[q.Name][e.name], el)
				}
			}
		}
	}
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if c.solo {
		// Back-to-back: each engine repeats one query with nothing in
		// between (warm caches, no interference from the others).
		progress("back-to-back runs: %d per query and engine", c.iters)
		r.solo = map[string]map[string][]time.Duration{}
		for _, q := range qs {
			r.solo[q.Name] = map[string][]time.Duration{}
			for _, e := range engines {
				for range c.iters {
					t := time.Now()
					if _, err := e.run(ctx, q); err != nil {
						return false, fmt.Errorf("%s %s: %w", e.name, q.Name, err)
					}
					r.solo[q.Name][e.name] = append(r.solo[q.Name][e.name], time.Since(t))
				}
			}
		}
	}
	snap = settle()
	r.mem = append(r.mem, memRow{phase: "end of run", snap: snap})
	progress("done")

	r.print(c.out)
	return len(r.problems) == 0, nil
}

func peakSince(r *report, s memSnap) int64 {
	if !r.peakOK {
		return 0
	}
	return s.HWM
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func commandLine() string {
	args := []string{"go run ./store"}
	args = append(args, os.Args[1:]...)
	return strings.Join(args, " ")
}

// startProfile starts a CPU profile written to path; "" profiles nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// ingestOnly alternates costgate's coded ingest, one partition at a time
// and c.replaceConc at a time (each into a fresh store), and DuckDB's
// li_int appender (into a fresh table), c.iters times, and prints each
// one's rates and the ratios of the median rates.
func ingestOnly(ctx context.Context, c config, d *Data, dir string, progress func(string, ...any)) (bool, error) {
	opts := store.Options{Parallelism: c.threads, NoSync: !c.sync}
	var seq, conc, duck []ingestStats
	cg := func(it, concurrency int) (ingestStats, error) {
		progress("iteration %d: costgate coded ingest, %d partition(s) at a time", it+1, concurrency)
		sub := filepath.Join(dir, fmt.Sprintf("coded-%d-%d", it, concurrency))
		stop, err := startProfile(c.ingestProf)
		if err != nil {
			return ingestStats{}, err
		}
		st, err := ingestCostgateCoded(ctx, sub, d, opts, concurrency)
		stop()
		os.RemoveAll(sub)
		if err != nil {
			return st, fmt.Errorf("costgate coded ingest: %w", err)
		}
		return st, nil
	}
	for it := range max(1, c.iters) {
		st, err := cg(it, 1)
		if err != nil {
			return false, err
		}
		seq = append(seq, st)
		if c.replaceConc > 1 {
			if st, err = cg(it, c.replaceConc); err != nil {
				return false, err
			}
			conc = append(conc, st)
		}
		progress("iteration %d: DuckDB li_int appender", it+1)
		x, err := openDuck(ctx, c.threads, c.duckCompress)
		if err != nil {
			return false, fmt.Errorf("duckdb: %w", err)
		}
		st, err = x.ingestInt(ctx, d)
		x.Close()
		if err != nil {
			return false, fmt.Errorf("duckdb li_int: %w", err)
		}
		duck = append(duck, st)
	}
	w := c.out
	fmt.Fprintf(w, "| iteration | engine | rows/s | wall s | CPU s | of which sys |\n|--:|---|--:|--:|--:|--:|\n")
	median := func(sts []ingestStats) float64 {
		var r []float64
		for _, st := range sts {
			r = append(r, rate(st))
		}
		slices.Sort(r)
		return r[len(r)/2]
	}
	for i := range duck {
		line := func(name string, st ingestStats) {
			fmt.Fprintf(w, "| %d | %s | %.0f | %.2f | %.2f | %.2f |\n", i+1, name, rate(st), st.wall.Seconds(), st.cpu.Seconds(), st.sys.Seconds())
		}
		line("costgate coded, 1 partition at a time", seq[i])
		if len(conc) > 0 {
			line(fmt.Sprintf("costgate coded, %d partitions at a time", c.replaceConc), conc[i])
		}
		line("DuckDB appender, li_int", duck[i])
	}
	md := median(duck)
	fmt.Fprintf(w, "median rows/s: DuckDB li_int %.0f; costgate coded, 1 at a time, %.0f = %.2f×", md, median(seq), median(seq)/md)
	if len(conc) > 0 {
		fmt.Fprintf(w, "; %d at a time, %.0f = %.2f×", c.replaceConc, median(conc), median(conc)/md)
	}
	fmt.Fprintf(w, " (target 3×)\n")
	return true, nil
}
