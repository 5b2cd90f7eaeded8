package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// markedHuge reports whether every mapping of this process that overlaps
// [beg, end) is marked MADV_HUGEPAGE ("hg" in smaps' VmFlags), and that
// some do.
func markedHuge(t *testing.T, beg, end uintptr) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	overlapping, marked := 0, 0
	var inRange bool
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			if inRange {
				overlapping++
				for _, f := range strings.Fields(rest) {
					if f == "hg" {
						marked++
					}
				}
			}
			continue
		}
		// A mapping's header: "7f..-7f.. rw-p ...".
		addrs, _, ok := strings.Cut(line, " ")
		lo, hi, ok2 := strings.Cut(addrs, "-")
		if !ok || !ok2 {
			continue
		}
		l, err1 := strconv.ParseUint(lo, 16, 64)
		h, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		inRange = uintptr(l) < end && uintptr(h) > beg
	}
	return overlapping > 0 && marked == overlapping
}

// TestMadviseHugeHeap: the primed range of the heap is marked for huge
// pages, so the allocations that reuse it are backed 2 MiB at a time.
func TestMadviseHugeHeap(t *testing.T) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		t.Skipf("transparent huge pages are off on this kernel (%v): nothing to mark", err)
	}
	beg, end := madviseHugeHeap(64 << 20)
	if end-beg < 60<<20 {
		t.Fatalf("marked %d bytes of a 64 MiB object", end-beg)
	}
	if !markedHuge(t, beg, end) {
		t.Fatalf("the range %#x-%#x is not marked MADV_HUGEPAGE in /proc/self/smaps", beg, end)
	}
}

func TestHugePagesWanted(t *testing.T) {
	for _, v := range []string{"0", "off", "OFF", "false", "no"} {
		t.Setenv("COSTGATE_HUGEPAGES", v)
		if hugePagesWanted() {
			t.Errorf("COSTGATE_HUGEPAGES=%s: still wanted", v)
		}
	}
	t.Setenv("COSTGATE_HUGEPAGES", "")
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil && !strings.Contains(string(b), "[never]") && !hugePagesWanted() {
		t.Error("not wanted with transparent huge pages on and no COSTGATE_HUGEPAGES")
	}
}

func TestHugePageHeapSizes(t *testing.T) {
	if hugePageHeap("serve") != 0 || hugePageHeap("collect") <= hugePageHeap("check") || hugePageHeap("check") < 64<<20 {
		t.Errorf("sizes: serve %d, collect %d, check %d", hugePageHeap("serve"), hugePageHeap("collect"), hugePageHeap("check"))
	}
}
