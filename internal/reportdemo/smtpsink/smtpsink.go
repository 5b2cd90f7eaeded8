// Package smtpsink is a real SMTP server on 127.0.0.1 that keeps what it
// receives, for the report delivery tests: it speaks SMTP with
// github.com/emersion/go-smtp (AUTH PLAIN, STARTTLS, implicit TLS) and
// can be told to refuse or drop connections to exercise retries.
package smtpsink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Behavior is what the server does with one connection.
type Behavior int

// Behaviors.
const (
	Accept     Behavior = iota
	Refuse              // 421 to EHLO: service not available (temporary)
	Drop                // accept the envelope, then close the connection during DATA
	RejectRcpt          // 550 to RCPT TO: mailbox unavailable (permanent)
)

// Message is one received mail.
type Message struct {
	From string
	To   []string
	Data []byte
	User string // the authenticated user, if any
}

// Options configure the server.
type Options struct {
	// TLS enables STARTTLS, or TLS from the first byte with Implicit.
	TLS      *tls.Config
	Implicit bool
	// Users are the accepted username/password pairs; none means no AUTH.
	Users map[string]string
	// Script says what to do with the n-th connection (1-based); nil
	// accepts all.
	Script func(n int) Behavior
}

// Server is a running SMTP sink.
type Server struct {
	Host string
	Port int

	srv  *smtp.Server
	ln   net.Listener
	opts Options
	done chan struct{}

	mu       sync.Mutex
	conns    int
	seen     map[net.Conn]int
	messages []Message
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, done: make(chan struct{}), seen: map[net.Conn]int{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 32 << 20
	var err error
	if opts.TLS != nil && opts.Implicit {
		s.ln, err = tls.Listen("tcp", "127.0.0.1:0", opts.TLS)
	} else {
		s.srv.TLSConfig = opts.TLS
		s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(s.ln)
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Messages returns the mails received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Connections returns the number of connections that said EHLO or HELO.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	// A client may greet again on the same connection (HELO after a
	// refused EHLO): it keeps its number.
	s.mu.Lock()
	n, ok := s.seen[c.Conn()]
	if !ok {
		s.conns++
		n = s.conns
		s.seen[c.Conn()] = n
	}
	s.mu.Unlock()
	b := Accept
	if s.opts.Script != nil {
		b = s.opts.Script(n)
	}
	if b == Refuse {
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service not available, try again later"}
	}
	return &session{s: s, c: c, b: b}, nil
}

type session struct {
	s    *Server
	c    *smtp.Conn
	b    Behavior
	user string
	msg  Message
}

func (x *session) AuthMechanisms() []string {
	if len(x.s.opts.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if pw, ok := x.s.opts.Users[username]; !ok || pw != password {
			return smtp.ErrAuthFailed
		}
		x.user = username
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(x.s.opts.Users) > 0 && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.msg = Message{From: from, User: x.user}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.b == RejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	x.msg.To = append(x.msg.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	if x.b == Drop {
		_ = x.c.Conn().Close()
		return errors.New("dropped")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.msg.Data = b
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, x.msg)
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.msg = Message{} }
func (x *session) Logout() error { return nil }

// SelfSigned returns a server TLS config for 127.0.0.1 and localhost and
// the pool a client needs to trust it.
func SelfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtpsink"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool, nil
}
