package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/costgate/costgate"
)

// TestBufCache: buffers come back for the same size class, zeroed when
// asked, aligned for 64-bit views; the cache keeps no more than its
// limit; a nil cache allocates.
func TestBufCache(t *testing.T) {
	c := newBufCache(1 << 20)
	a := c.u32s(100_000, false) // 400,000 bytes: the 512 KiB class
	if len(a) != 100_000 || cap(a) != 1<<19/4 {
		t.Fatalf("len %d cap %d", len(a), cap(a))
	}
	for i := range a {
		a[i] = uint32(i) + 1
	}
	c.putU32s(a)
	if c.held != 1<<19 {
		t.Fatalf("held %d after one put, want %d", c.held, 1<<19)
	}
	b := c.u32s(90_000, true)
	if unsafe.SliceData(b) != unsafe.SliceData(a) {
		t.Fatal("a buffer of the same class was not reused")
	}
	for i, v := range b {
		if v != 0 {
			t.Fatalf("b[%d] = %d after a zeroed get", i, v)
		}
	}
	if c.held != 0 {
		t.Fatalf("held %d with every buffer handed out", c.held)
	}
	v := c.i64s(70_000, false)
	if uintptr(unsafe.Pointer(unsafe.SliceData(v)))%8 != 0 {
		t.Fatal("int64 view not 8-byte aligned")
	}
	// Over the limit: 512 KiB kept, the next 1 MiB buffer is dropped.
	c.putU32s(b)
	c.putI64s(v)
	if c.held != 1<<19 {
		t.Fatalf("held %d, want %d (the limit is %d)", c.held, 1<<19, c.limit)
	}
	// A buffer not from the cache (cap not a class) is not kept.
	c.put(make([]byte, 100_000))
	if c.held != 1<<19 {
		t.Fatalf("held %d after putting a foreign buffer", c.held)
	}
	c.reset()
	if c.held != 0 || len(c.free[19]) != 0 {
		t.Fatal("reset kept buffers")
	}
	var none *bufCache
	if x := none.u32s(10, false); len(x) != 10 {
		t.Fatal("a nil cache must allocate")
	}
	none.putU32s(make([]uint32, 10))
}

// TestBufCacheIdle: kept buffers are dropped once no build has given
// one back for bufIdle.
func TestBufCacheIdle(t *testing.T) {
	defer func(d time.Duration) { bufIdle = d }(bufIdle)
	bufIdle = 20 * time.Millisecond
	c := newBufCache(1 << 30)
	c.putU32s(c.u32s(100_000, false))
	held := func() int64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.held
	}
	if held() == 0 {
		t.Fatal("nothing kept after a put")
	}
	deadline := time.Now().Add(5 * time.Second)
	for held() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still %d bytes kept 5 s after the last put (idle %s)", held(), bufIdle)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A put after that arms the timer again.
	c.putU32s(c.u32s(100_000, false))
	if held() == 0 {
		t.Fatal("nothing kept after the second put")
	}
	c.reset()
}

// TestBuildsReuseBuffers: segments built one after another from reused
// (dirty) buffers hold exactly what fresh buffers give.
func TestBuildsReuseBuffers(t *testing.T) {
	cfg := smallConfig(11)
	cfg.RowsPer = 9000
	parts := cfg.partitions()
	bufs := newBufCache(1 << 30)
	for round := 0; round < 2; round++ {
		for _, p := range parts {
			rows := cfg.generate(p, 0)
			fresh, err := build(lineItemSpec(rows))
			if err != nil {
				t.Fatal(err)
			}
			sp := lineItemSpec(rows)
			sp.bufs = bufs
			reused, err := build(sp)
			if err != nil {
				t.Fatal(err)
			}
			if len(fresh.cols) != len(reused.cols) {
				t.Fatalf("%d columns, %d with reused buffers", len(fresh.cols), len(reused.cols))
			}
			for j := range fresh.cols {
				f, r := &fresh.cols[j], &reused.cols[j]
				if string(f.data) != string(r.data) || string(f.dict) != string(r.dict) || len(f.bitmaps) != len(r.bitmaps) || len(f.planes) != len(r.planes) {
					t.Fatalf("round %d, %s: column %s differs with reused buffers", round, p, f.meta.name)
				}
				for k := range f.bitmaps {
					if string(f.bitmaps[k]) != string(r.bitmaps[k]) {
						t.Fatalf("round %d, %s: column %s bitmap %d differs", round, p, f.meta.name, k)
					}
				}
				for k := range f.planes {
					if string(f.planes[k]) != string(r.planes[k]) {
						t.Fatalf("round %d, %s: column %s plane %d differs", round, p, f.meta.name, k)
					}
				}
			}
			reused.release()
			// Dirty every kept buffer: a build that reads a buffer it
			// did not write (or zero) first differs next time.
			for _, class := range bufs.free {
				for _, b := range class {
					b = b[:cap(b)]
					for i := range b {
						b[i] = 0xA5
					}
				}
			}
		}
	}
	if bufs.held == 0 {
		t.Fatal("no buffer was kept: the test proves nothing")
	}
}

// TestConcurrentReplaces: partitions replaced two at a time (as collect
// does), sharing the store's build buffers, each hold their own rows.
func TestConcurrentReplaces(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(14)
	cfg.RowsPer = 9000
	parts := cfg.partitions()
	rows := make([][]costgate.LineItem, len(parts))
	for i, p := range parts {
		rows[i] = cfg.generate(p, 0)
	}
	s := openTest(t, t.TempDir())
	defer s.Close()
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make([]error, len(parts))
		for i, p := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				src := costgate.LineItemSource(costgate.LineItemSlice(rows[i]))
				if (i+round)%2 == 0 {
					src = newCodedSource(rows[i])
				}
				_, errs[i] = s.ReplaceSource(ctx, p, src, fmt.Sprint(round), fmt.Sprint(round))
			}()
		}
		wg.Wait()
		for i, p := range parts {
			if errs[i] != nil {
				t.Fatalf("round %d, %s: %v", round, p, errs[i])
			}
			got, err := s.LineItems(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffRows(got, rows[i]); d != "" {
				t.Fatalf("round %d, %s: %s", round, p, d)
			}
		}
	}
}
