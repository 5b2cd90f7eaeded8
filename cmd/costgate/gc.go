package main

import (
	"os"
	"runtime/debug"
)

// collectGCPercent is collect's garbage collector target (GOGC). The
// rows of an export wait in memory (up to the spill budget) while its
// partitions are built, and with the default of 100 the heap grows to
// twice that before a collection frees anything: every byte of that
// growth is fresh memory, faulted in and zeroed by the kernel, which on
// the VMs measured costs about 2 s of CPU a GB. 10M FOCUS rows, GOGC
// 100 against 40, two alternated pairs: 22.1-22.3 s -> 20.7-21.3 s,
// huge-page faults 1,840-1,860 -> 1,500-1,600, peak RSS 4.3 -> 3.6-3.8
// GB; 25 was then no faster than 40 and 60 in between. Session 11, once
// big partitions built one at a time (store.Options.BuildRows), 20
// against 40 in twelve alternated pairs: the build phase shorter in ten
// (medians about 6.8 against 7.4 s), system time 3.9-5.1 s against
// 5.1-8.3 s, peak RSS 2.35-2.49 against 2.5-2.7 GB, the read phase alike.
// The heap it applies to is mostly pointer-free rows and build buffers,
// so the extra collections cost little.
const collectGCPercent = 20

// tuneGC sets the garbage collector target of a batch command, unless
// GOGC is set in the environment; set says whether it did, and prev is
// the target before.
func tuneGC(command string) (prev int, set bool) {
	if _, ok := os.LookupEnv("GOGC"); ok || command != "collect" {
		return 0, false
	}
	return debug.SetGCPercent(collectGCPercent), true
}
