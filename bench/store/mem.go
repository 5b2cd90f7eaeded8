package main

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// memSnap is the process's memory at one point, from /proc/self/status
// and /proc/self/smaps (kB values converted to bytes) and the Go runtime.
type memSnap struct {
	RSS, HWM, Anon, File int64
	// From smaps, resident bytes by mapping: the store's segment files
	// (mmap), this program's own executable (Go code and the statically
	// linked DuckDB library), every other file, anonymous memory.
	Seg, Code, OtherFile, SmapsAnon int64
	GoHeap                          int64 // runtime HeapInuse
}

// segDir is the store directory whose mapped files count as Seg.
var segDir string

// readMem reads /proc/self/status. On systems without it every field is 0.
func readMem() memSnap {
	var m memSnap
	f, err := os.Open("/proc/self/status")
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			fields := strings.Fields(v)
			if len(fields) == 0 {
				continue
			}
			n, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				continue
			}
			n *= 1024
			switch k {
			case "VmRSS":
				m.RSS = n
			case "VmHWM":
				m.HWM = n
			case "RssAnon":
				m.Anon = n
			case "RssFile":
				m.File = n
			}
		}
		f.Close()
	}
	readSmaps(&m)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.GoHeap = int64(ms.HeapInuse)
	return m
}

// readSmaps sums the Rss of every mapping by what it maps.
func readSmaps(m *memSnap) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	exe, _ := os.Executable()
	var cur *int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			// A mapping header: address perms offset dev inode [path].
			path := ""
			if len(fields) >= 6 {
				path = strings.Join(fields[5:], " ")
			}
			switch {
			case path == "" || strings.HasPrefix(path, "["):
				cur = &m.SmapsAnon
			case segDir != "" && strings.HasPrefix(path, segDir):
				cur = &m.Seg
			case path == exe:
				cur = &m.Code
			default:
				cur = &m.OtherFile
			}
			continue
		}
		if fields[0] == "Rss:" && cur != nil && len(fields) >= 2 {
			if n, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				*cur += n * 1024
			}
		}
	}
}

// settle collects Go garbage and returns freed pages to the OS, so that
// RSS reflects live data rather than the last phase's garbage.
func settle() memSnap {
	runtime.GC()
	debug.FreeOSMemory()
	return readMem()
}

// resetPeak resets VmHWM to the current RSS (Linux >= 4.0: writing 5 to
// clear_refs), so that the next VmHWM read is the peak of one phase. It
// reports whether that worked.
func resetPeak() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

var gcSample = []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}

// gcCycles is the number of completed GC cycles (cheap: no stop-the-world).
func gcCycles() uint64 {
	metrics.Read(gcSample)
	if gcSample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return gcSample[0].Value.Uint64()
}

// cpuTime is the process's user+system CPU time (all threads, Go and
// DuckDB's alike).
// cpuTimes returns the process's user and system CPU time.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
