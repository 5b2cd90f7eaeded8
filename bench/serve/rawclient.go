package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// rawConn is the lean load generator's client: one kept-alive HTTP/1.1
// connection per simulated client, a request serialized once and written
// with one write, and the response read with net/http's own parser
// (status line, headers, Content-Length or chunked body).
//
// net/http's Client spends about 75 µs of CPU a request on this machine
// (a request object, header maps, and three goroutines per connection:
// the caller, the transport's writer and its reader, handing each request
// over twice). On two cores shared with the server under test that was
// 0.55 of a core during the admission run, taken from the server and
// queued in front of every response; wrk and h2load exist for the same
// reason. -client net/http keeps the old client for comparison.
type rawConn struct {
	addr string
	req  []byte
	conn net.Conn
	br   *bufio.Reader
}

// newRawConn prepares POST body to u; auth adds the bench's bearer token.
func newRawConn(u string, body []byte, auth bool) (*rawConn, error) {
	p, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", u, err)
	}
	if p.Scheme != "http" {
		return nil, fmt.Errorf("%s: the lean client speaks plain HTTP only (use -client net/http)", u)
	}
	head := "POST " + p.RequestURI() + " HTTP/1.1\r\nHost: " + p.Host +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	if auth {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	head += "\r\n"
	req := make([]byte, 0, len(head)+len(body))
	req = append(append(req, head...), body...)
	return &rawConn{addr: p.Host, req: req}, nil
}

// do sends the request and reads the whole response; anything but 200 is
// an error. A broken or closed connection is dialled again on the next
// call (the failed request counts as an error, not retried).
func (c *rawConn) do() error {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 32<<10)
	}
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

func (c *rawConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}
