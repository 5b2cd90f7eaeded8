package costgate

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// MemTotal is the machine's memory in bytes, from /proc/meminfo's
// MemTotal (0 where that cannot be read). Memory budgets that default to
// a share of the machine (the collector's spill budget, the store's hot
// copies, the CLI's huge-page heap) read it here. The file is read once
// per process: store.Open asks on every open, and serve used to pay a
// file read per priced request for it.
func MemTotal() int64 { return memTotal() }

var memTotal = sync.OnceValue(readMemTotal)

func readMemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > 0 {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// ShareOfMemory is min(ceiling, MemTotal/div), or ceiling when MemTotal
// is unknown.
func ShareOfMemory(ceiling int64, div int64) int64 {
	if m := MemTotal(); m > 0 {
		return min(ceiling, m/div)
	}
	return ceiling
}
