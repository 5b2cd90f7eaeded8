//go:build e2e

package kube

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// kubeVersion names the folder scripts/e2e-tools.sh builds the binaries
// into: $COSTGATE_TOOLS/envtest-k8s-<kubeVersion>.
const kubeVersion = "v1.37.2"

// assetsDir is the folder holding kube-apiserver and etcd: KUBEBUILDER_ASSETS
// when set, else the one scripts/e2e-tools.sh fills. Missing binaries fail
// the test: with the e2e tag, not running is not passing.
func assetsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		tools := os.Getenv("COSTGATE_TOOLS")
		if tools == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				tb.Fatalf("find the tools folder: %v (set COSTGATE_TOOLS)", err)
			}
			tools = filepath.Join(home, ".cache", "costgate-tools")
		}
		dir = filepath.Join(tools, "envtest-k8s-"+kubeVersion)
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := executable(filepath.Join(dir, name)); err != nil {
			tb.Fatalf("%v: build it with scripts/e2e-tools.sh kube (or point KUBEBUILDER_ASSETS at a folder holding kube-apiserver and etcd)", err)
		}
	}
	return dir
}

// costgateBinary is $COSTGATE_BIN, else the repository's bin/costgate
// (`make build`).
func costgateBinary(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv("COSTGATE_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin", "costgate")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		tb.Fatalf("costgate binary %s: %v", bin, err)
	}
	if err := executable(abs); err != nil {
		tb.Fatalf("%v: run `make build` in the repository root or set COSTGATE_BIN", err)
	}
	return abs
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s: not an executable file", path)
	}
	return nil
}

// startAPIServer starts etcd and kube-apiserver from dir and returns an
// admin rest.Config. Their output goes to files that are printed when the
// test fails.
func startAPIServer(tb testing.TB, dir string) *rest.Config {
	tb.Helper()
	logs := tb.TempDir()
	apiLog := createFile(tb, filepath.Join(logs, "kube-apiserver.log"))
	etcdLog := createFile(tb, filepath.Join(logs, "etcd.log"))
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		// Generous: the first start on a busy 2-core machine is slow.
		ControlPlaneStartTimeout: 3 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	env.ControlPlane.APIServer = &envtest.APIServer{Out: apiLog, Err: apiLog}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		dumpFile(tb, etcdLog.Name())
		dumpFile(tb, apiLog.Name())
		tb.Fatalf("start envtest (kube-apiserver and etcd from %s): %v", dir, err)
	}
	tb.Logf("kube-apiserver and etcd up in %s", time.Since(start).Round(time.Millisecond))
	tb.Cleanup(func() {
		if err := env.Stop(); err != nil {
			tb.Errorf("stop envtest: %v", err)
		}
		if tb.Failed() {
			dumpFile(tb, etcdLog.Name())
			dumpFile(tb, apiLog.Name())
		}
	})
	return rest.CopyConfig(cfg)
}

func createFile(tb testing.TB, path string) *os.File {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// dumpFile logs the last 60 lines of path.
func dumpFile(tb testing.TB, path string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Logf("read %s: %v", path, err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	tb.Logf("--- last lines of %s:\n%s", filepath.Base(path), strings.Join(lines, "\n"))
}

// servingCert writes a fresh CA and a serving certificate for 127.0.0.1
// (an IP SAN: the API server ignores the common name) into dir and
// returns the CA in PEM, for the webhook's caBundle.
func servingCert(tb testing.TB, dir string) (caPEM []byte, certFile, keyFile string) {
	tb.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: "costgate e2e CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("create CA: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb),
		Subject:      pkix.Name{CommonName: "costgate"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("create serving certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeFile(tb, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(tb, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return caPEM, certFile, keyFile
}

func serial(tb testing.TB) *big.Int {
	tb.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func writeFile(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// costgateServer is a running `costgate serve`.
type costgateServer struct {
	URL    string // https://127.0.0.1:PORT
	client *http.Client
}

// servingLine is what serve prints once it listens.
var servingLine = regexp.MustCompile(`costgate: serving on (https://127\.0\.0\.1:\d+)`)

// startCostgate runs `bin serve --config config` in dir, waits until
// /readyz answers 200 over TLS verified with caPEM, and stops it with
// SIGTERM at cleanup, where it must exit 0. Its output is printed when the
// test fails.
func startCostgate(tb testing.TB, bin, dir, config string, caPEM []byte) *costgateServer {
	tb.Helper()
	cmd := exec.Command(bin, "serve", "--config", config, "--log-level", "info")
	cmd.Dir = dir
	out := &lockedBuffer{}
	cmd.Stdout = out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s serve: %v", bin, err)
	}
	addr := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-copied // Wait must not run before the pipe is drained
		exited <- cmd.Wait()
	}()
	stopped := false
	tb.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					tb.Errorf("costgate serve after SIGTERM: %v", err)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				tb.Errorf("costgate serve did not stop within 30s of SIGTERM")
			}
		}
		if tb.Failed() {
			tb.Logf("--- costgate serve output:\n%s", out.String())
		}
	})

	s := &costgateServer{}
	select {
	case s.URL = <-addr:
	case err := <-exited:
		stopped = true
		tb.Fatalf("costgate serve exited before listening: %v\n%s", err, out.String())
	case <-time.After(time.Minute):
		tb.Fatalf("costgate serve did not print its address within a minute:\n%s", out.String())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		tb.Fatal("CA PEM: no certificate")
	}
	s.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	tb.Cleanup(s.client.CloseIdleConnections)
	deadline := time.Now().Add(time.Minute)
	for {
		code, body, err := s.get(tb.Context(), "/readyz")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("costgate %s/readyz not ready within a minute: %d %s %v", s.URL, code, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

func (s *costgateServer) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// decision is the part of a decision log record the test reads.
type decision struct {
	Decision string            `json:"decision"`
	Surface  string            `json:"surface"`
	Context  map[string]string `json:"context"`
	Findings []struct {
		RuleID   string `json:"rule_id"`
		Severity string `json:"severity"`
	} `json:"findings"`
}

// decisionsFor returns the admission decisions recorded for object
// ("Kind/namespace/name"), newest first.
func (s *costgateServer) decisionsFor(tb testing.TB, object string) []decision {
	tb.Helper()
	code, body, err := s.get(tb.Context(), "/v1/decisions?surface=admission&limit=10000")
	if err != nil || code != http.StatusOK {
		tb.Fatalf("GET /v1/decisions: %d %s %v", code, body, err)
	}
	var page struct{ Decisions []decision }
	if err := json.Unmarshal(body, &page); err != nil {
		tb.Fatalf("GET /v1/decisions: %v", err)
	}
	var out []decision
	for _, d := range page.Decisions {
		if d.Context["object"] == object {
			out = append(out, d)
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for the output goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// warningRecorder collects the warnings (HTTP Warning headers, code 299)
// the API server sends to the client.
type warningRecorder struct {
	mu  sync.Mutex
	got []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, text)
}

// take returns the warnings received since the last take.
func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.got
	w.got = nil
	return got
}
