package main

import (
	"context"
	"log/slog"
	"net"
	"syscall"
)

// defaultReceiveBufferKiB is serve's socket receive buffer. Linux starts
// a connection's buffer at tcp_rmem's default (128 KiB, a window of about
// half that) and grows it by how much the application reads per round
// trip, which on a short round trip (loopback, a CI runner or API server
// in the same network) keeps it small: a 132 KB plan then arrives in
// two or more windows, each waiting for the server to read the last.
// With every processor busy the reading goroutine runs only when Go next
// polls the network, so ~1% of bodies took 8-32 ms to read under
// bench/serve's load (a probe in the handler: 105 of 9,395 requests);
// that 1% was /v1/check's p99. With 1 MiB on the listening socket
// (accepted connections inherit it) 2 of 9,600 did.
const defaultReceiveBufferKiB = 1024

// listen opens serve's TCP listener; receiveKiB > 0 sets SO_RCVBUF on it
// (the kernel caps it at net.core.rmem_max and, for that socket, stops
// growing the buffer on its own).
func listen(ctx context.Context, addr string, receiveKiB int, logger *slog.Logger) (net.Listener, error) {
	lc := net.ListenConfig{}
	if receiveKiB > 0 {
		lc.Control = func(network, address string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = setReceiveBuffer(fd, receiveKiB<<10)
			}); err != nil {
				return err
			}
			if serr != nil {
				// Not fatal: the kernel's own sizing still works.
				logger.Warn("set the listener's receive buffer; the kernel sizes it", "server.receive_buffer_kib", receiveKiB, "err", serr)
			}
			return nil
		}
	}
	return lc.Listen(ctx, "tcp", addr)
}

// receiveBuffer reads a connection's SO_RCVBUF (the kernel reports twice
// the size set, its bookkeeping included); 0 where it cannot.
func receiveBuffer(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = raw.Control(func(fd uintptr) { n = getReceiveBuffer(fd) })
	return n
}
