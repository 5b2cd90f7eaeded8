package webhooks

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/costgate/costgate"
)

// DefaultMaxBodyBytes bounds request bodies (plans included) by default.
const DefaultMaxBodyBytes = 64 << 20

// Options configure a Server.
type Options struct {
	// Policies supply the snapshot each request is judged with. Required.
	Policies *Policies
	// Tokens are the bearer tokens accepted by /v1/check, /v1/decisions
	// and /v1/cost. Empty: those endpoints need no token (cmd allows that
	// only on a loopback address).
	Tokens []Secret
	// RunTask configures /v1/runtasks/hcp; an empty HMACKey disables it.
	RunTask RunTaskOptions
	// MaxBodyBytes bounds request bodies, after gzip decoding too
	// (0: DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// DecisionLog records every decision; nil records nothing.
	DecisionLog DecisionLog
	// CostReader answers GET /v1/cost; nil answers 501.
	CostReader costgate.CostReader
	// ReadyChecks are consulted by /readyz besides the policies.
	ReadyChecks []ReadyCheck
	// ReadyInfo adds entries to the /readyz body that inform without
	// deciding readiness (serve's last collect run).
	ReadyInfo []ReadyInfo
	// Registry receives the metrics served at /metrics (nil: a new one).
	Registry *prometheus.Registry
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for decision times; nil means time.Now.
	Now func() time.Time
	// MaxConcurrent bounds the evaluations (plan parsing, estimation,
	// policy evaluation) running at once; more wait their turn in arrival
	// order. 0: twice GOMAXPROCS.
	MaxConcurrent int
	// MaxConcurrentAdmissions bounds the admission reviews judged at
	// once, in slots of their own: a check or run task of a big plan
	// holds its slot for seconds, and the API server gives a webhook
	// call at most timeoutSeconds (10 s by default) before it applies the
	// failurePolicy to a pod's creation. 0: twice GOMAXPROCS.
	MaxConcurrentAdmissions int
	// QueueTimeout is how long a request waits for its turn before a 503
	// (0: DefaultQueueTimeout).
	QueueTimeout time.Duration
}

// ReadyCheck is one dependency /readyz checks.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// ReadyInfo is one informational /readyz entry: Value's result is
// encoded under Name, beside status and checks.
type ReadyInfo struct {
	Name  string
	Value func() any
}

// Server is the HTTP front of the gate. Create it with New, serve
// Handler, and call Shutdown after the http.Server's own Shutdown so that
// run tasks already accepted still report back.
type Server struct {
	opts       Options
	log        *slog.Logger
	metrics    *metrics
	registry   *prometheus.Registry
	tokens     [][32]byte
	maxBody    int64
	now        func() time.Time
	mux        *http.ServeMux
	limit      *limiter // checks and run tasks
	admitLimit *limiter // admission reviews

	// Run tasks outlive their request: they run under bg and are
	// counted in tasks so Shutdown can wait for them.
	bg       context.Context
	bgCancel context.CancelFunc
	tasks    sync.WaitGroup
}

// New builds a Server.
func New(opts Options) (*Server, error) {
	if opts.Policies == nil {
		return nil, errors.New("webhooks: Options.Policies is required")
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now, maxBody: opts.MaxBodyBytes, registry: opts.Registry}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "webhooks")
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	for _, t := range opts.Tokens {
		if t == "" {
			return nil, errors.New("webhooks: empty token")
		}
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t)))
	}
	s.opts.RunTask = opts.RunTask.withDefaults()
	s.metrics = newMetrics(s.registry)
	s.limit = newLimiter(opts.MaxConcurrent, opts.QueueTimeout, "server.max_concurrent_evaluations")
	s.admitLimit = newLimiter(opts.MaxConcurrentAdmissions, opts.QueueTimeout, "server.max_concurrent_admissions")
	opts.Policies.addOnReload(func(err error) {
		if err != nil {
			s.metrics.reloads.WithLabelValues("rejected").Inc()
		} else {
			s.metrics.reloads.WithLabelValues("ok").Inc()
		}
	})
	s.bg, s.bgCancel = context.WithCancel(context.Background())

	mux := http.NewServeMux()
	mux.Handle("POST /v1/check", s.wrap("check", s.authed(s.handleCheck)))
	mux.Handle("POST /v1/runtasks/hcp", s.wrap("runtask", s.handleRunTask))
	mux.Handle("POST /v1/admission", s.wrap("admission", s.handleAdmission))
	mux.Handle("GET /v1/decisions", s.wrap("decisions", s.authed(s.handleDecisions)))
	mux.Handle("GET /v1/cost", s.wrap("cost", s.authed(s.handleCost)))
	mux.Handle("GET /healthz", s.wrap("healthz", s.handleHealthz))
	mux.Handle("GET /readyz", s.wrap("readyz", s.handleReadyz))
	mux.Handle("GET /metrics", s.wrap("metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP))
	methods := map[string]string{
		"/v1/check": "POST", "/v1/runtasks/hcp": "POST", "/v1/admission": "POST", "/v1/decisions": "GET",
		"/v1/cost": "GET", "/healthz": "GET", "/readyz": "GET", "/metrics": "GET",
	}
	mux.Handle("/", s.wrap("other", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := methods[r.URL.Path]; ok {
			w.Header().Set("Allow", m)
			writeError(w, http.StatusMethodNotAllowed, r.URL.Path+" takes "+m)
			return
		}
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	}))
	s.mux = mux
	return s, nil
}

// Handler serves every endpoint.
func (s *Server) Handler() http.Handler { return s.mux }

// Shutdown waits for accepted run tasks to report back until ctx ends,
// then cancels those still running.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.tasks.Wait(); close(done) }()
	select {
	case <-done:
		s.bgCancel()
		return nil
	case <-ctx.Done():
		s.bgCancel()
		<-done
		return fmt.Errorf("shutdown: run tasks cancelled: %w", ctx.Err())
	}
}

// statusWriter remembers the status code for metrics and panic recovery.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds the body limit, panic recovery and request metrics.
func (s *Server) wrap(name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.metrics.panics.Inc()
				s.log.Error("handler panicked", "handler", name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error (logged)")
				}
			}
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(name, strconv.Itoa(code)).Inc()
			s.metrics.requestSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
		}()
		r.Body = http.MaxBytesReader(sw, r.Body, s.maxBody)
		h(sw, r)
	})
}

// authed checks the bearer token in constant time: every configured token
// is compared (as a SHA-256 digest, so lengths leak nothing) whatever the
// outcome of the others.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(s.tokens) == 0 {
			h(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			tok, ok = strings.CutPrefix(auth, "bearer ")
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		match := 0
		for i := range s.tokens {
			match |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
		}
		if !ok || match != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="costgate"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN, a token from server.tokens)")
			return
		}
		h(w, r)
	}
}

// errBodyTooLarge reports a body over the limit.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads the whole body, gunzipping it when it says so (or starts
// with the gzip magic), and enforces limit on the decoded size too.
// maxPresize bounds the buffer readBody sets aside from a request's
// Content-Length before reading it.
const maxPresize = 4 << 20

func readBody(r *http.Request, limit int64) ([]byte, error) {
	var body io.Reader = r.Body
	br := newPeekReader(body)
	gz := strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip")
	if !gz {
		if head, _ := br.peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			gz = true
		}
	}
	body = br
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, classifyReadErr(fmt.Errorf("gzip body: %w", err))
		}
		defer zr.Close()
		body = zr
	}
	// A plain body of a declared length is read into one buffer of that
	// size (plus room to see the end): a 130 KB plan would otherwise be
	// read through a dozen doubling copies, the first ones small reads.
	// The length is only a claim until the bytes come, so at most
	// maxPresize is set aside for it.
	size := 512
	if !gz && r.ContentLength > 0 && r.ContentLength <= min(limit, maxPresize) {
		size = int(r.ContentLength) + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, classifyReadErr(err)
	}
	data := buf.Bytes()
	if int64(len(data)) > limit {
		return nil, errBodyTooLarge
	}
	return data, nil
}

func classifyReadErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	return err
}

// peekReader lets readBody look at the first bytes without losing them.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func newPeekReader(r io.Reader) *peekReader { return &peekReader{r: r} }

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		k, err := p.r.Read(b)
		p.buf = append(p.buf, b[:k]...)
		if err != nil {
			return p.buf, err
		}
	}
	return p.buf[:n], nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// bodyError answers a failed body read.
func (s *Server) bodyError(w http.ResponseWriter, err error) {
	if errors.Is(err, errBodyTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than the %d MiB limit (server.max_body_mib)", s.maxBody>>20))
		return
	}
	writeError(w, http.StatusBadRequest, "read request body: "+err.Error())
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// errorBody is every error answer: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// recordDecision counts a decision and writes it to the decision log.
// A log failure is logged and counted; it never changes the answer;
// priceSnapshot names the prices of the decision's estimate ("" for none)
// and estimates are its per-resource estimates (nil for none).
func (s *Server) recordDecision(ctx context.Context, surface string, dctx map[string]string, d *costgate.Decision, priceSnapshot string, estimates []costgate.EstimatedResource) {
	s.metrics.decisions.WithLabelValues(surface, string(d.Decision)).Inc()
	if s.opts.DecisionLog == nil {
		return
	}
	rec := newDecisionRecord(s.now(), surface, dctx, d, estimates)
	rec.PriceSnapshot = priceSnapshot
	if _, err := s.opts.DecisionLog.Append(ctx, rec); err != nil {
		s.metrics.decisionLogErrs.Inc()
		s.log.Error("write decision log", "surface", surface, "err", err)
	}
}
