package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestListenReceiveBuffer: with server.receive_buffer_kib the kernel
// queues a whole 200 KB request body on the accepted connection before
// the server reads a byte (the body arrives in one window); with 0 and
// this machine's default tcp_rmem it stops at the default window.
func TestListenReceiveBuffer(t *testing.T) {
	const body = 200 << 10
	rmemMax := readSysctl(t, "net/core/rmem_max")
	if rmemMax < 1<<20 {
		t.Logf("net.core.rmem_max %d caps the 1 MiB buffer", rmemMax)
	}
	queued := func(kib int, wait time.Duration) (inQueue, rcvbuf int) {
		t.Helper()
		ln, err := listen(context.Background(), "127.0.0.1:0", kib, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer server.Close()
		go client.Write(make([]byte, body)) // blocks while the window is full; ends at Close
		deadline := time.Now().Add(wait)
		for {
			inQueue = pendingBytes(t, server)
			if inQueue >= body || time.Now().After(deadline) {
				return inQueue, receiveBuffer(server)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	n, buf := queued(1024, 5*time.Second)
	if want := min(1<<20, rmemMax); buf < want {
		t.Errorf("accepted connection's SO_RCVBUF %d, want at least %d", buf, want)
	}
	if rmemMax >= body && n < body {
		t.Errorf("with a 1 MiB receive buffer %d of %d bytes queued before the first read", n, body)
	}
	def := strings.Fields(readSysctlString(t, "net/ipv4/tcp_rmem"))
	n0, buf0 := queued(0, 300*time.Millisecond)
	t.Logf("kernel sizing (tcp_rmem %v): SO_RCVBUF %d, %d bytes queued; 1 MiB: %d, %d", def, buf0, n0, buf, n)
	if d, err := strconv.Atoi(def[1]); err == nil && d < body && n0 >= body {
		t.Errorf("without the option %d bytes queued: the test cannot tell the option's effect", n0)
	}
}

func pendingBytes(t *testing.T, c net.Conn) int {
	t.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		n, serr = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return n
}

func readSysctlString(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func readSysctl(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(readSysctlString(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
