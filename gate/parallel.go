package gate

import (
	"runtime"
	"sync"
)

// inParallel runs f over [0, n) split into one contiguous chunk per
// processor, when there are at least minChunk items per chunk; otherwise
// it calls f(0, n) on the caller's goroutine. f must only write to the
// indexes it is given.
func inParallel(n, minChunk int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minChunk, 1))
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	size := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}
