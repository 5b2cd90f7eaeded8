package webhooks

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CertReloader serves a TLS certificate from files and loads them again
// when they change (cert-manager and Kubernetes secret mounts replace
// them in place), checking at most once per CheckInterval. A pair that
// fails to load is logged and the previous certificate keeps serving.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	// CheckInterval bounds how often the files are examined (default 1s).
	CheckInterval time.Duration

	mu        sync.Mutex
	cert      *tls.Certificate
	certStamp fileStamp
	keyStamp  fileStamp
	checked   time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// NewCertReloader loads the pair once; it must load.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &CertReloader{certFile: certFile, keyFile: keyFile, log: log.With("component", "webhooks.tls"), CheckInterval: time.Second}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CertReloader) load() error {
	cs, err := stampOf(c.certFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	ks, err := stampOf(c.keyFile)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair %s, %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.certStamp, c.keyStamp = &cert, cs, ks
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) >= c.CheckInterval {
		c.checked = time.Now()
		cs, err1 := stampOf(c.certFile)
		ks, err2 := stampOf(c.keyFile)
		if err1 == nil && err2 == nil && (cs != c.certStamp || ks != c.keyStamp) {
			old := c.cert
			if err := c.load(); err != nil {
				c.cert = old
				c.log.Error("TLS certificate changed but does not load; serving the previous one", "err", err)
				// Remember the broken stamps so the error is logged once.
				c.certStamp, c.keyStamp = cs, ks
			} else {
				c.log.Info("TLS certificate reloaded", "cert", c.certFile)
			}
		}
	}
	return c.cert, nil
}

// TLSConfig returns a server TLS config (TLS 1.2 or later) that serves the
// reloaded certificate.
func (c *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}
