// Command ingest compares costgate's ingest of a FOCUS CSV.gz (`costgate
// collect`: gunzip, parse, partition, sort, build, commit) with DuckDB's
// read_csv into a table, on the same generated file in the same run.
//
//	cd bench && CGO_ENABLED=1 go run ./ingest -rows 1000000
//	cd bench && CGO_ENABLED=1 go run ./ingest -rows 10000000 -dir /tmp/cgingest
//
// The file is generated once per -dir by internal/billgen (seed 1, six
// months). costgate runs as the real binary (built from ../cmd/costgate
// unless -costgate is given) with fsync on; DuckDB runs in this process
// with the same thread count, into an in-memory table and into a
// database file. The three loads run in -runs rounds (default 3), one
// after the other within a round, and each engine's median is compared:
// a single run on this VM can be 20-30% off. Each collect's note splits
// its time into the read phase (gunzip, parse, decode, spill; up to its
// "export read" log line) and the build phase (sort, build, write,
// fsync, commit). The report (markdown) goes to stdout.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/costgate/costgate/internal/billgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

type result struct {
	round     int
	engine    string
	rows      int64
	secs      float64
	user, sys float64 // CPU seconds (the collect process; this process for DuckDB)
	note      string
}

func run() error {
	rows := flag.Int("rows", 1_000_000, "usage rows to generate")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "costgate-ingest"), "where the file, stores and databases go")
	bin := flag.String("costgate", "", "costgate binary (default: build ../cmd/costgate)")
	threads := flag.Int("threads", runtime.GOMAXPROCS(0), "DuckDB threads (costgate uses GOMAXPROCS)")
	runs := flag.Int("runs", 3, "rounds of the three loads, interleaved; medians are compared")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(*dir, fmt.Sprintf("focus-%d.csv.gz", *rows))
	if _, err := os.Stat(file); err != nil {
		fmt.Fprintf(os.Stderr, "generating %s ...\n", file)
		if _, err := billgen.WriteCSVGz(file, billgen.Options{Seed: 1, Rows: *rows, Months: 6}); err != nil {
			return err
		}
	}
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	if *bin == "" {
		*bin = filepath.Join(*dir, "costgate")
		// As the Makefile builds it: with ISA-L's gzip when libisal-dev is
		// installed.
		args := []string{"build", "-o", *bin}
		if _, err := os.Stat("/usr/include/isa-l/igzip_lib.h"); err == nil {
			args = append(args, "-tags", "isal")
		}
		build := exec.Command("go", append(args, "./cmd/costgate")...)
		build.Dir = ".."
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build costgate: %w", err)
		}
	}

	// Rounds of all three, interleaved, so that each engine meets the
	// machine's drift alike; the medians are compared.
	var results []result
	for round := 1; round <= *runs; round++ {
		fmt.Fprintf(os.Stderr, "round %d of %d: costgate collect\n", round, *runs)
		r, err := costgate(*bin, *dir, file)
		if err != nil {
			return err
		}
		r.round = round
		results = append(results, r)
		for _, target := range []string{"", filepath.Join(*dir, "duck.db")} {
			fmt.Fprintf(os.Stderr, "round %d of %d: DuckDB read_csv %s\n", round, *runs, map[bool]string{true: "in memory", false: "to a file"}[target == ""])
			r, err := duck(file, target, *threads)
			if err != nil {
				return err
			}
			r.round = round
			results = append(results, r)
		}
	}

	fmt.Printf("## Ingest of a generated FOCUS CSV.gz (%d data rows, %.1f MiB gzip), GOMAXPROCS %d, DuckDB threads %d, %d rounds\n\n",
		results[0].rows, float64(fi.Size())/(1<<20), runtime.GOMAXPROCS(0), *threads, *runs)
	fmt.Println("| round | engine | rows | seconds | rows/s | CPU s (user + system) | note |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %d | %s | %d | %.2f | %.0f | %.1f (%.1f + %.1f) | %s |\n", r.round, r.engine, r.rows, r.secs, float64(r.rows)/r.secs, r.user+r.sys, r.user, r.sys, r.note)
	}
	fmt.Println()
	med := map[string]float64{}
	var engines []string
	for _, r := range results {
		if _, ok := med[r.engine]; !ok {
			engines = append(engines, r.engine)
			med[r.engine] = 0
		}
	}
	for _, e := range engines {
		var secs []float64
		var rows int64
		for _, r := range results {
			if r.engine == e {
				secs = append(secs, r.secs)
				rows = r.rows
			}
		}
		sort.Float64s(secs)
		med[e] = secs[len(secs)/2]
		fmt.Printf("median %s: %.2f s, %.0f rows/s (fastest %.2f s, slowest %.2f s)\n", e, med[e], float64(rows)/med[e], secs[0], secs[len(secs)-1])
	}
	cg := med[results[0].engine]
	for _, e := range engines[1:] {
		fmt.Printf("costgate collect is %.2fx faster than %s (medians)\n", med[e]/cg, e)
	}
	fmt.Println("\nOn this shared VM, wall and CPU time both drift by 20-30% between runs minutes apart: compare engines within one run. System time is mostly fresh memory being faulted in.")
	return nil
}

// costgate runs `costgate collect` on the file into a fresh store.
func costgate(bin, dir, file string) (result, error) {
	store := filepath.Join(dir, fmt.Sprintf("store-%d", time.Now().UnixNano()))
	defer os.RemoveAll(store)
	cfg := filepath.Join(dir, "collect.yaml")
	body := fmt.Sprintf("store: %s\nsources:\n  - {name: bench, type: focus, path: %s}\n", store, file)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return result{}, err
	}
	cmd := exec.Command(bin, "collect", "--config", cfg, "--no-progress", "--log-level", "info")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	start := time.Now()
	out, err := cmd.Output()
	secs := time.Since(start).Seconds()
	if err != nil {
		return result{}, fmt.Errorf("costgate collect: %w\n%s\n%s", err, out, logs.Bytes())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			fmt.Fprintln(os.Stderr, line) // what --log-level warn showed before
		}
	}
	var n int64
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, " line items,"); i > 0 && strings.HasPrefix(line, "store ") {
			f := strings.Fields(line[:i])
			fmt.Sscan(f[len(f)-1], &n)
		}
	}
	ps := cmd.ProcessState
	note := "separate process, fsync, partitions by account and month"
	if read, build, ok := phases(logs.String()); ok {
		note = fmt.Sprintf("read %.2f s, build %.2f s; ", read, build) + note
	}
	return result{engine: "costgate collect", rows: n, secs: secs, user: ps.UserTime().Seconds(), sys: ps.SystemTime().Seconds(),
		note: note}, nil
}

// phases splits a collect's time, from its info log, into the read phase
// (from "read export" to "export read": gunzip, parse, decode, spill) and
// the build phase (from there to "collect done": sort, build, write,
// fsync, commit).
func phases(log string) (read, build float64, ok bool) {
	at := map[string]time.Time{}
	for _, line := range strings.Split(log, "\n") {
		for _, msg := range []string{"read export", "export read", "collect done"} {
			if !strings.Contains(line, `msg="`+msg+`"`) {
				continue
			}
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], "time=") {
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time=")); err == nil {
				at[msg] = t
			}
		}
	}
	begin, mid, end := at["read export"], at["export read"], at["collect done"]
	if begin.IsZero() || mid.IsZero() || end.IsZero() {
		return 0, 0, false
	}
	return mid.Sub(begin).Seconds(), end.Sub(mid).Seconds(), true
}

// duck loads the file with read_csv into a table (in memory, or in a
// database file when target is set).
func duck(file, target string, threads int) (result, error) {
	if target != "" {
		os.Remove(target)
		os.Remove(target + ".wal")
		defer os.Remove(target)
		defer os.Remove(target + ".wal")
	}
	db, err := sql.Open("duckdb", target)
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
		return result{}, err
	}
	user0, sys0 := cpuSelf()
	start := time.Now()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE li AS SELECT * FROM read_csv('%s', header = true)", file)); err != nil {
		return result{}, fmt.Errorf("duckdb read_csv: %w", err)
	}
	if target != "" {
		if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return result{}, err
		}
	}
	secs := time.Since(start).Seconds()
	user1, sys1 := cpuSelf()
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM li").Scan(&n); err != nil {
		return result{}, err
	}
	engine, note := "DuckDB read_csv (in memory)", "same process, types auto-detected"
	if target != "" {
		engine, note = "DuckDB read_csv (database file)", "same process, CHECKPOINT to disk"
	}
	return result{engine: engine, rows: n, secs: secs, user: user1 - user0, sys: sys1 - sys0, note: note}, nil
}

// cpuSelf returns this process's user and system CPU seconds so far.
func cpuSelf() (user, sys float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds()
}
