package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

func median(s []time.Duration) time.Duration {
	if len(s) == 0 {
		return 0
	}
	s = slices.Clone(s)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// quantile returns the nearest-rank q-quantile.
func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	s = slices.Clone(s)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// storeSources fingerprints the store package this binary was built from
// (the bench module builds ../store through a replace directive, so no
// version is recorded): sha256 of its non-test .go files and the newest
// modification time. Empty if the sources are not where they were built.
func storeSources() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "sources unknown"
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "store")
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	h := sha256.New()
	var newest time.Time
	n := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		if fi, err := os.Stat(name); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		h.Write([]byte(filepath.Base(name)))
		h.Write(b)
		n++
	}
	if n == 0 {
		return "sources not found at build path"
	}
	return fmt.Sprintf("costgate/store sources %x (%d files, newest modified %s; read when the run started)",
		h.Sum(nil)[:6], n, newest.UTC().Format("2006-01-02 15:04 UTC"))
}

// engineNames are the report's engine columns, in order.
var engineNames = []string{"costgate", "DuckDB int", "DuckDB FOCUS", "plain scan", "zone-map scan"}

// ms formats a duration in milliseconds; 0 (not measured) is "–".
// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(d)/1e6)
}

func fmtRatio(a, b time.Duration, prec int) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.*f×", prec, ratio(a, b))
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func rate(st ingestStats) float64 {
	if st.wall == 0 {
		return 0
	}
	return float64(st.rows) / st.wall.Seconds()
}

func signedMiB(b int64) string { return fmt.Sprintf("%+.1f", float64(b)/(1<<20)) }

func (r *report) print(w io.Writer) {
	c := r.cfg
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("costgate store peer benchmark, %s\n", r.start.UTC().Format("2006-01-02 15:04 UTC"))
	p("command:  %s\n", commandLine())
	p("machine:  %s, %d CPUs, GOMAXPROCS %d, %s/%s, %s; DuckDB %s (duckdb-go v2.10506.0)\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.duckVer)
	p("load:     /proc/loadavg %s at start, %s at end (other processes share the machine)\n", r.loadStart, loadAvg())
	p("store:    %s\n", r.storeSrc)
	p("data:     %d line items, 60 partitions (20 accounts x 3 months, 92 days), seed %d, generated in %.1f s\n",
		c.rows, c.seed, r.genTime.Seconds())
	duckMode := "DuckDB's default uncompressed in-memory tables"
	if c.duckCompress {
		duckMode = "DuckDB tables in an in-memory database attached with (COMPRESS), checkpointed"
	}
	p("runs:     %d timed iterations after %d warm-up, engines interleaved and rotated per iteration; threads %d for every engine; store fsync %v; %s\n",
		c.iters, c.warmup, c.threads, c.sync, duckMode)
	p("\n")
	if len(r.problems) == 0 {
		p("CHECK: all %d engines returned identical keys, exact sums and counts for all %d queries in every iteration (%d results compared to the plain scan; costgate and both DuckDB tables also matched the generator's per-partition totals)\n",
			len(r.engines), len(r.queries), r.checks)
	} else {
		p("CHECK FAILED (%d problems; the first ones):\n", len(r.problems))
		for _, s := range r.problems[:min(len(r.problems), 20)] {
			p("  %s\n", s)
		}
	}

	// Query medians.
	p("\nQuery medians, ms (ratio columns = engine median / costgate median; > 1 means costgate is faster)\n\n")
	p("| query | costgate | DuckDB int | DuckDB FOCUS | plain scan | zone-map scan | int/cg | FOCUS/cg | zone/cg | plain/cg |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	type verdict struct {
		q                     *QuerySpec
		cg, di, zone          time.Duration
		threeX, zoneOK, absOK bool
	}
	var vs []verdict
	for _, q := range r.queries {
		t := r.times[q.Name]
		m := map[string]time.Duration{}
		for _, e := range r.engines {
			m[e] = median(t[e])
		}
		cg := m["costgate"]
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", q.Name, ms(cg), ms(m["DuckDB int"]), ms(m["DuckDB FOCUS"]),
			ms(m["plain scan"]), ms(m["zone-map scan"]), fmtRatio(m["DuckDB int"], cg, 1), fmtRatio(m["DuckDB FOCUS"], cg, 1),
			fmtRatio(m["zone-map scan"], cg, 2), fmtRatio(m["plain scan"], cg, 2))
		v := verdict{q: q, cg: cg, di: m["DuckDB int"], zone: m["zone-map scan"]}
		v.threeX = ratio(v.di, cg) >= 3
		v.zoneOK = ratio(v.zone, cg) >= 1
		limit := 10 * time.Millisecond
		if q.TopN {
			limit = 25 * time.Millisecond
		}
		v.absOK = cg <= limit
		vs = append(vs, v)
	}
	var gcNotes []string
	for _, e := range r.engines {
		gcNotes = append(gcNotes, fmt.Sprintf("%s %d", e, r.gcs[e]))
	}
	p("\nGo GC cycles that completed during each engine's timed runs (they slow whichever query is running; DuckDB's own work is C++ and allocates outside the Go heap): %s\n",
		strings.Join(gcNotes, ", "))
	p("\nSpread, ms: min / p90 over the timed iterations\n\n")
	p("| query | costgate | DuckDB int | DuckDB FOCUS | plain scan | zone-map scan |\n")
	p("|---|--:|--:|--:|--:|--:|\n")
	for _, q := range r.queries {
		t := r.times[q.Name]
		cells := []string{q.Name}
		for _, e := range engineNames {
			if len(t[e]) == 0 {
				cells = append(cells, "–")
				continue
			}
			cells = append(cells, ms(quantile(t[e], 0))+" / "+ms(quantile(t[e], 0.9)))
		}
		p("| %s |\n", strings.Join(cells, " | "))
	}
	if r.solo != nil {
		p("\nBack-to-back medians, ms (each engine repeats one query %d times with nothing in between: warm caches, no interference; for reference, the interleaved table above is the comparison)\n\n", c.iters)
		p("| query | costgate | DuckDB int | DuckDB FOCUS | plain scan | zone-map scan | int/cg | zone/cg |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, q := range r.queries {
			t := r.solo[q.Name]
			cells := []string{q.Name}
			for _, e := range engineNames {
				cells = append(cells, ms(median(t[e])))
			}
			cg := median(t["costgate"])
			cells = append(cells, fmtRatio(median(t["DuckDB int"]), cg, 1), fmtRatio(median(t["zone-map scan"]), cg, 2))
			p("| %s |\n", strings.Join(cells, " | "))
		}
	}
	p("\nQueries:\n")
	for _, q := range r.queries {
		p("  %-28s %s\n", q.Name, q.Title)
	}

	// Ingest.
	p("\nIngest (rows/s = rows / wall time of the engine's own work)\n\n")
	p("| engine | rows/s | wall s | CPU s | rows per CPU-s | peak RSS during load |\n")
	p("|---|--:|--:|--:|--:|--:|\n")
	row := func(name string, st ingestStats) {
		cpuRate := 0.0
		if st.cpu > 0 {
			cpuRate = float64(st.rows) / st.cpu.Seconds()
		}
		peak := "n/a"
		if r.peakOK && st.peakRSS > 0 {
			peak = mib(st.peakRSS)
		}
		p("| %s | %.0f | %.2f | %.2f | %.0f | %s |\n", name, rate(st), st.wall.Seconds(), st.cpu.Seconds(), cpuRate, peak)
	}
	row("costgate Replace, line items (60 partitions)", r.cg)
	row(fmt.Sprintf("costgate ReplaceSource, coded rows (60 partitions, %d at a time)", max(1, r.cfg.replaceConc)), r.cgCoded)
	row("DuckDB appender, li_int", r.duckInt)
	row("DuckDB appender, li_focus", r.duckFocus)
	p("\ncostgate ingest rate / DuckDB appender rate (wall): from line items %.2f× vs li_int, %.2f× vs li_focus; from coded rows %.2f× vs li_int; DuckDB CPU s / costgate CPU s: %.2f× (line items), %.2f× (coded) vs li_int\n",
		rate(r.cg)/rate(r.duckInt), rate(r.cg)/rate(r.duckFocus), rate(r.cgCoded)/rate(r.duckInt),
		r.duckInt.cpu.Seconds()/r.cg.cpu.Seconds(), r.duckInt.cpu.Seconds()/r.cgCoded.cpu.Seconds())
	p("Line items carry strings (the store codes them, as DuckDB's VARCHAR table must); coded rows carry ids into one table of the dictionaries' values, as DuckDB's integer table carries codes.\n")
	p("costgate: building the []LineItem input took another %.2f s (not counted above); store.Open after ingest %s ms (page cache warm); first run of all 7 queries %s ms; segments on disk %s\n",
		r.cg.prepWall.Seconds(), ms(r.cg.openTime), ms(r.cg.firstQueryAll), mib(r.cg.diskBytes))

	// Memory.
	p("\nResident memory (after runtime.GC + debug.FreeOSMemory at each step; Δ = change from the previous row; by mapping from /proc/self/smaps)\n\n")
	p("| step | VmRSS | ΔRSS | Δ anon | Δ store segment files (mmap) | Δ program code | Go heap in use | peak (VmHWM) during step | engine-reported |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	var prev memSnap
	for i, m := range r.mem {
		var d memSnap
		if i > 0 {
			d = memSnap{RSS: m.snap.RSS - prev.RSS, SmapsAnon: m.snap.SmapsAnon - prev.SmapsAnon,
				Seg: m.snap.Seg - prev.Seg, Code: m.snap.Code - prev.Code}
		}
		peak := ""
		if m.peak > 0 {
			peak = mib(m.peak)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m.phase, mib(m.snap.RSS), signedMiB(d.RSS), signedMiB(d.SmapsAnon),
			signedMiB(d.Seg), signedMiB(d.Code), mib(m.snap.GoHeap), peak, m.engineRep)
		prev = m.snap
	}
	p("\nplain and zone-map scans: the generated columns, %s (%d bytes/row), plus a %d-byte zone map\n",
		mib(r.dataBytes), r.dataBytes/int64(max(c.rows, 1)), r.zoneBytes)
	cgMem, diMem, dfMem := r.dataDelta(2), r.dataDelta(3), r.dataDelta(4)
	p("costgate store: %s resident (Δ anon %s + segment pages %s) of %s on disk; DuckDB li_int: %s (Δ anon), li_focus: %s (Δ anon); ",
		mib(cgMem), mib(r.mem[2].snap.SmapsAnon-r.mem[1].snap.SmapsAnon), mib(r.mem[2].snap.Seg-r.mem[1].snap.Seg), mib(r.cg.diskBytes), mib(diMem), mib(dfMem))
	p("program code paged in is left out of both (%s during costgate's step, %s during DuckDB's)\n",
		mib(r.mem[2].snap.Code-r.mem[1].snap.Code), mib(r.mem[4].snap.Code-r.mem[2].snap.Code))

	// Targets.
	p("\nTargets (STORE.md)\n\n")
	var miss3, missZone, missAbs []string
	for _, v := range vs {
		if !v.threeX {
			miss3 = append(miss3, fmt.Sprintf("%s (%.2f×)", v.q.Name, ratio(v.di, v.cg)))
		}
		if !v.zoneOK {
			missZone = append(missZone, fmt.Sprintf("%s (%.2f×)", v.q.Name, ratio(v.zone, v.cg)))
		}
		if !v.absOK {
			missAbs = append(missAbs, fmt.Sprintf("%s (%s ms)", v.q.Name, ms(v.cg)))
		}
	}
	verdictLine := func(name string, misses []string) {
		if len(misses) == 0 {
			p("- %s: met for all %d queries\n", name, len(vs))
			return
		}
		p("- %s: MISSED for %s\n", name, strings.Join(misses, ", "))
	}
	if len(r.engines) < len(engineNames) {
		p("- (only %s timed in this run: the ratio verdicts below need every engine)\n", strings.Join(r.engines, ", "))
	}
	verdictLine(">= 3× faster than DuckDB int", miss3)
	verdictLine(">= 1.0× the zone-map scan", missZone)
	absNote := ""
	if c.rows != 10_000_000 {
		absNote = fmt.Sprintf(" [the target is stated for 10M rows; this run has %d]", c.rows)
	}
	verdictLine("absolute: dashboard <= 10 ms, top-N <= 25 ms"+absNote, missAbs)
	ing := rate(r.cgCoded) / rate(r.duckInt)
	p("- ingest >= 3× DuckDB appender (li_int, both given coded values): %s (%.2f× from coded rows; from line items %.2f× vs li_int, %.2f× vs li_focus)\n",
		metOr(ing >= 3), ing, rate(r.cg)/rate(r.duckInt), rate(r.cg)/rate(r.duckFocus))
	p("- resident memory <= DuckDB's (li_int; anon + segment pages, code excluded): %s (costgate %s vs DuckDB %s; DuckDB's own count %s)\n",
		metOr(cgMem <= diMem), mib(cgMem), mib(diMem), mib(r.duckIntMem))
	p("- cold open <= 50 ms: %s (%s ms, but measured with the segment files in the page cache)\n", metOr(r.cg.openTime <= 50*time.Millisecond), ms(r.cg.openTime))
}

// dataDelta is the data an engine added in mem step i: the change of
// anonymous memory plus store segment pages, without program code.
func (r *report) dataDelta(i int) int64 {
	if i <= 0 || i >= len(r.mem) {
		return 0
	}
	a, b := r.mem[i-1].snap, r.mem[i].snap
	return (b.SmapsAnon - a.SmapsAnon) + (b.Seg - a.Seg)
}

func metOr(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
