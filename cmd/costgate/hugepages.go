package main

import (
	"os"
	"strings"
	"sync"

	"github.com/costgate/costgate"
)

// hugePageHeap is how much of the heap primeHugePages asks the kernel to
// back with transparent huge pages, by command: more than check,
// estimate or report use on the largest inputs measured (a
// 10,000-resource plan peaks near 100 MiB), and for collect what ten
// million billing rows take (the spill budget, the partitions being
// built and the decoders' tables: 5 GB at the peak in session 7, 3.1-3.5 GB
// since the batches are packed). It is only address
// space until touched. check with 2 GiB was 10% slower than with 256 MiB.
// collect of 10M FOCUS rows (CSV.gz) with 4 GiB instead of 1 GiB, two
// pairs: 35.5-41.8 s -> 31.6-32.5 s, user CPU 58-64 -> 49-50 s, 4 KiB
// page faults 706k-809k -> 25k; 6 GiB was no faster; 1M rows the same
// either way (2.5-2.9 s).
func hugePageHeap(command string) int {
	switch command {
	case "serve":
		return 0
	case "collect":
		return 4 << 30
	}
	return 256 << 20
}

var primeOnce sync.Once

// primeHugePages lets a batch command's heap be backed by 2 MiB pages.
//
// On the machines measured, a 4 KiB page of fresh memory costs about
// 15 µs to fault in (a 64 MiB buffer: 224–254 ms page by page, 4.5 ms
// in huge pages), and a `check` of a 10,000-resource plan spent about a
// third of its time there. Go maps its heap without MADV_HUGEPAGE, and
// many distributions set transparent huge pages to "madvise", so the
// heap gets none. primeHugePages allocates one large object (the runtime
// maps fresh address space for it), marks that range MADV_HUGEPAGE, and
// frees it with a collection: the allocations that follow reuse the
// range, and the kernel backs it 2 MiB at a time. `check` on a
// 10,000-resource plan: 0.31 s → 0.21 s, peak memory +3 MiB.
//
// It does nothing when COSTGATE_HUGEPAGES is 0 or off, when the kernel
// has transparent huge pages off, under strict overcommit (the object
// would be charged in full), more than once in a process (tests run many
// commands), or off Linux.
// `serve` primes nothing: a long-lived heap churned by requests is where
// huge-page compaction stalls would show as latency.
func primeHugePages(command string) {
	primeOnce.Do(func() {
		n := min(hugePageHeap(command), int(costgate.MemLimit()/4))
		if n <= 0 || !hugePagesWanted() {
			return
		}
		madviseHugeHeap(n)
	})
}

func hugePagesWanted() bool {
	switch strings.ToLower(os.Getenv("COSTGATE_HUGEPAGES")) {
	case "0", "off", "false", "no":
		return false
	}
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		return false
	}
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err == nil && strings.TrimSpace(string(b)) == "2" {
		return false
	}
	return true
}
