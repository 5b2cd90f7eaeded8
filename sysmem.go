package costgate

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// MemTotal is the machine's memory in bytes, from /proc/meminfo's
// MemTotal (0 where that cannot be read). The file is read once per
// process: store.Open asks on every open, and serve used to pay a file
// read per priced request for it.
func MemTotal() int64 { return memTotal() }

var memTotal = sync.OnceValue(func() int64 { return readMemTotal("/") })

// MemLimit is the memory this process may use: the machine's (MemTotal)
// or, when lower, its control group's limit (cgroup v2 memory.max, v1
// memory.limit_in_bytes), which is what a container's memory limit sets;
// 0 where neither can be read. Memory budgets that default to a share of
// the memory (the collector's spill budget, the store's hot copies and
// buffer cache, the CLI's huge-page heap, serve's garbage-collector
// headroom) read it here, so that a container with 2 GiB on a 64 GiB
// node budgets from 2 GiB. Read once per process.
func MemLimit() int64 { return memLimit() }

var memLimit = sync.OnceValue(func() int64 { return readMemLimit("/", MemTotal()) })

// CgroupMemLimit is the memory limit of this process's control group
// (a container's memory limit), 0 when it has none or none can be read.
// Read once per process.
func CgroupMemLimit() int64 { return cgroupLimit() }

var cgroupLimit = sync.OnceValue(func() int64 { return cgroupMemLimit("/") })

func readMemTotal(root string) int64 {
	b, err := os.ReadFile(filepath.Join(root, "proc/meminfo"))
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

// readMemLimit returns min(total, the cgroup limit) under root (a file
// system root, "/" but in tests); total 0 means unknown.
func readMemLimit(root string, total int64) int64 {
	limit := cgroupMemLimit(root)
	switch {
	case limit <= 0:
		return total
	case total <= 0:
		return limit
	}
	return min(total, limit)
}

// unlimitedCgroup is where cgroup v1 reports "no limit" (the largest
// page-aligned int64, 9223372036854771712); anything this large is none.
const unlimitedCgroup = 1 << 62

// cgroupMemLimit reads the memory limit of this process's control group
// from /proc/self/cgroup and the cgroup file systems under root: the
// group's own file, else the mount's root file (inside a container's
// cgroup namespace the group is the root). 0 means no limit or none
// readable.
func cgroupMemLimit(root string) int64 {
	b, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return 0
	}
	var v2, v1 string
	haveV2, haveV1 := false, false
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2, haveV2 = parts[2], true
		case hasController(parts[1], "memory"):
			v1, haveV1 = parts[2], true
		}
	}
	var limit int64
	if haveV1 {
		limit = firstLimit(filepath.Join(root, "sys/fs/cgroup/memory"), v1, "memory.limit_in_bytes")
	}
	if limit == 0 && haveV2 {
		limit = firstLimit(filepath.Join(root, "sys/fs/cgroup"), v2, "memory.max")
		if limit == 0 {
			limit = firstLimit(filepath.Join(root, "sys/fs/cgroup/unified"), v2, "memory.max")
		}
	}
	return limit
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// firstLimit reads file in the group's directory under mount, else in
// mount itself: a positive limit, or 0 for "max", no limit or no file.
func firstLimit(mount, group, file string) int64 {
	for _, dir := range []string{filepath.Join(mount, filepath.FromSlash(group)), mount} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= unlimitedCgroup {
			return 0
		}
		return n
	}
	return 0
}

// ShareOfMemory is min(ceiling, MemLimit/div), or ceiling when MemLimit
// is unknown.
func ShareOfMemory(ceiling int64, div int64) int64 {
	if m := MemLimit(); m > 0 {
		return min(ceiling, m/div)
	}
	return ceiling
}
