package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/webhooks"
)

// ServerConfig is the server: section, read by `costgate serve`. A change
// takes a restart (policies, data and kubernetes: reload live).
type ServerConfig struct {
	// Listen is host:port (default 127.0.0.1:8080).
	Listen string `json:"listen,omitempty"`
	// TLS serves HTTPS when both files are set; they are reloaded when
	// they change. The admission webhook needs TLS.
	TLS ServerTLSConfig `json:"tls,omitempty"`
	// Tokens are the bearer tokens of /v1/check, /v1/decisions, /v1/cost.
	Tokens []webhooks.Secret `json:"tokens,omitempty"`
	// AllowUnauthenticated serves those endpoints without tokens on a
	// non-loopback address (on loopback they are open when Tokens is
	// empty).
	AllowUnauthenticated bool `json:"allow_unauthenticated,omitempty"`
	// MaxBodyMiB bounds request bodies, plans included (default 64).
	MaxBodyMiB int64 `json:"max_body_mib,omitempty"`
	// ReceiveBufferKiB is the listening socket's receive buffer (SO_RCVBUF,
	// inherited by accepted connections; default 1024, capped by the
	// kernel's net.core.rmem_max; 0 leaves it to the kernel's own sizing).
	ReceiveBufferKiB *int `json:"receive_buffer_kib,omitempty"`
	// MaxConcurrentEvaluations bounds the plans (checks, run tasks)
	// judged at once; more wait their turn (default: the cores, or
	// twice the cores when IOProcs is 0).
	MaxConcurrentEvaluations int `json:"max_concurrent_evaluations,omitempty"`
	// MaxConcurrentAdmissions bounds the admission reviews judged at
	// once, in slots of their own so that plans never hold them back
	// (default: the cores, or twice the cores when IOProcs is 0, whatever
	// MaxConcurrentEvaluations is set to).
	MaxConcurrentAdmissions int `json:"max_concurrent_admissions,omitempty"`
	// IOProcs are Go processors (GOMAXPROCS) serve runs beyond the
	// cores, so that the network is served while every core evaluates
	// (default 1; 0 runs GOMAXPROCS at the cores). The GOMAXPROCS
	// environment variable, when set, wins.
	IOProcs *int `json:"io_procs,omitempty"`
	// QueueTimeout is how long a request waits for its turn before a
	// 503 with Retry-After (default 10s).
	QueueTimeout string `json:"queue_timeout,omitempty"`
	// Timeouts, as Go durations ("30s", "2m").
	ReadTimeout     string `json:"read_timeout,omitempty"`     // default 60s
	WriteTimeout    string `json:"write_timeout,omitempty"`    // default 60s
	IdleTimeout     string `json:"idle_timeout,omitempty"`     // default 120s
	ShutdownTimeout string `json:"shutdown_timeout,omitempty"` // default 30s
	// Watch reloads policies and data when their files change (default
	// true); SIGHUP always reloads.
	Watch *bool `json:"watch,omitempty"`
	// RunTasks configures the HCP Terraform run task endpoint.
	RunTasks RunTasksConfig `json:"runtasks,omitempty"`
	// GCPercent is the Go garbage collector's target (GOGC) while
	// serving (default 400; -1 turns it off and needs MemoryLimitMiB).
	// The GOGC environment variable, when set, wins.
	GCPercent *int `json:"gc_percent,omitempty"`
	// MemoryLimitMiB is a soft limit on the Go heap (GOMEMLIMIT): the
	// collector runs harder as the heap nears it (default 90% of the
	// container's memory limit when the process has one, else none). The
	// GOMEMLIMIT environment variable, when set, wins.
	MemoryLimitMiB int64 `json:"memory_limit_mib,omitempty"`
	// GCHeadroomMiB lets the heap grow this far beyond the live heap
	// before a collection when that is more than GCPercent allows
	// (default 256, at most a quarter of the memory available; 0 turns
	// it off). Unused when GOGC is set in the environment or GCPercent
	// is -1.
	GCHeadroomMiB *int64 `json:"gc_headroom_mib,omitempty"`
}

// defaultGCPercent is serve's GOGC. Every request allocates its plan's
// input terms and drops them when answered: with the default 100 the
// collector ran a third of the CPU time under load (bench/serve), while
// the live heap is a few tens of MiB (the compiled policies, the price
// catalog). 400 trades that for a peak heap about five times the live
// one.
const defaultGCPercent = 400

// ServerTLSConfig is server.tls.
type ServerTLSConfig struct {
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
}

// RunTasksConfig is server.runtasks.
type RunTasksConfig struct {
	// HMACKey is the run task's HMAC key; empty disables the endpoint.
	HMACKey webhooks.Secret `json:"hmac_key,omitempty"`
	// AllowedHosts may appear in plan and callback URLs (default
	// app.terraform.io); list your Terraform Enterprise host here.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	// PassSpeculative reports speculative plans as passed (findings
	// still shown).
	PassSpeculative bool `json:"pass_speculative,omitempty"`
	// FailOnWarn reports failed on warnings too.
	FailOnWarn bool `json:"fail_on_warn,omitempty"`
	// ProgressInterval between "running" updates (default 30s).
	ProgressInterval string `json:"progress_interval,omitempty"`
}

// KubernetesConfig is the kubernetes: section (admission webhook). The
// policies read required_labels, max_monthly_cost and namespace_budgets
// from data.costgate.config.kubernetes; the rest drives the estimate.
type KubernetesConfig struct {
	// Audit never denies: findings become warnings.
	Audit bool `json:"audit,omitempty"`
	// Currency of prices, limits and budgets (default USD).
	Currency string `json:"currency,omitempty"`
	// RequiredLabels default to tags.required.
	RequiredLabels []string `json:"required_labels,omitempty"`
	// MaxMonthlyCost caps one workload's monthly cost.
	MaxMonthlyCost Decimal `json:"max_monthly_cost,omitempty"`
	// NamespaceBudgets are monthly budgets by namespace ("*": others).
	NamespaceBudgets map[string]Decimal `json:"namespace_budgets,omitempty"`
	// Prices are the unit prices of the estimate.
	Prices KubernetesPricesConfig `json:"prices,omitempty"`
	// DaemonSetNodes is how many nodes a DaemonSet is priced for (default 1).
	DaemonSetNodes int64 `json:"daemonset_nodes,omitempty"`
}

// KubernetesPricesConfig is kubernetes.prices: exact decimal strings.
type KubernetesPricesConfig struct {
	CPUHour          Decimal            `json:"cpu_hour,omitempty"`
	MemoryGiBHour    Decimal            `json:"memory_gib_hour,omitempty"`
	GPUHour          Decimal            `json:"gpu_hour,omitempty"`
	LoadBalancerHour Decimal            `json:"load_balancer_hour,omitempty"`
	StorageGiBMonth  map[string]Decimal `json:"storage_gib_month,omitempty"`
}

// DecisionLogConfig is the decision_log: section.
type DecisionLogConfig struct {
	// DSN is a SQLite path (default costgate-decisions.db) or a
	// postgres:// URL; it may hold a password, so it is a Secret.
	DSN webhooks.Secret `json:"dsn,omitempty"`
	// Disabled turns off recording in serve (check records only with --log).
	Disabled bool `json:"disabled,omitempty"`
}

// Decimal is an exact decimal written as a YAML string or number. Numbers
// are kept as written (YAML 0.1 stays "0.1"), never through float64.
type Decimal string

// UnmarshalJSON accepts a JSON string or number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*d = Decimal(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("expected a decimal number, got %s", b)
	}
	*d = Decimal(n)
	return nil
}

// Money parses d; the empty Decimal is (nil, nil).
func (d Decimal) Money() (*costgate.Money, error) {
	if d == "" {
		return nil, nil
	}
	m, err := costgate.ParseMoney(string(d))
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// Server defaults.
const (
	defaultListen          = "127.0.0.1:8080"
	defaultReadTimeout     = 60 * time.Second
	defaultWriteTimeout    = 60 * time.Second
	defaultIdleTimeout     = 120 * time.Second
	defaultShutdownTimeout = 30 * time.Second
)

var defaultRunTaskHosts = []string{"app.terraform.io"}

// serverSettings are the validated server: values.
type serverSettings struct {
	listen                      string
	certFile, keyFile           string
	tokens                      []webhooks.Secret
	maxBody                     int64
	maxConcurrent               int
	maxAdmissions               int
	read, write, idle, shutdown time.Duration
	queueTimeout                time.Duration
	watch                       bool
	runTask                     webhooks.RunTaskOptions
	decisionLogDSN              string
	decisionLogOn               bool
	gcPercent                   int
	memoryLimit                 int64 // bytes; 0: none
	gcHeadroom                  int64 // bytes; 0: off
	receiveKiB                  int   // SO_RCVBUF of the listener; 0: the kernel's
	ioProcs                     int
}

// validateServerConfig checks the server:, kubernetes: and decision_log:
// sections, naming the bad field.
func validateServerConfig(cfg *loadedConfig) (*serverSettings, error) {
	file := orDefault(cfg.Path, "config")
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	c := cfg.Server
	s := &serverSettings{listen: c.Listen, tokens: c.Tokens, maxBody: webhooks.DefaultMaxBodyBytes, watch: true}
	if s.listen == "" {
		s.listen = defaultListen
	}
	host, _, err := net.SplitHostPort(s.listen)
	if err != nil {
		return nil, bad("server.listen", "%q: use host:port, e.g. 127.0.0.1:8080 or :8443", s.listen)
	}
	for i, t := range c.Tokens {
		if strings.TrimSpace(string(t)) == "" {
			return nil, bad(fmt.Sprintf("server.tokens[%d]", i), "empty token")
		}
		if len(t) < 16 {
			return nil, bad(fmt.Sprintf("server.tokens[%d]", i), "shorter than 16 characters: use a long random token (openssl rand -hex 32)")
		}
	}
	if len(c.Tokens) == 0 && !isLoopbackHost(host) && !c.AllowUnauthenticated {
		return nil, bad("server.tokens", "required when server.listen (%s) is not a loopback address; or set server.allow_unauthenticated: true", s.listen)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return nil, bad("server.tls", "set both cert and key (or neither)")
	}
	for _, f := range []struct{ field, path string }{{"server.tls.cert", c.TLS.Cert}, {"server.tls.key", c.TLS.Key}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				return nil, bad(f.field, "%v", err)
			}
		}
	}
	s.certFile, s.keyFile = c.TLS.Cert, c.TLS.Key
	if c.MaxConcurrentEvaluations < 0 {
		return nil, bad("server.max_concurrent_evaluations", "must be positive (leave it out for one per core)")
	}
	s.maxConcurrent = c.MaxConcurrentEvaluations
	if c.MaxConcurrentAdmissions < 0 {
		return nil, bad("server.max_concurrent_admissions", "must be positive (leave it out for one per core)")
	}
	s.maxAdmissions = c.MaxConcurrentAdmissions
	s.ioProcs = defaultIOProcs
	if c.IOProcs != nil {
		s.ioProcs = *c.IOProcs
	}
	if s.ioProcs < 0 || s.ioProcs > maxIOProcs {
		return nil, bad("server.io_procs", "%d: use 0 to %d (1 is the default)", s.ioProcs, maxIOProcs)
	}
	s.receiveKiB = defaultReceiveBufferKiB
	if c.ReceiveBufferKiB != nil {
		if *c.ReceiveBufferKiB < 0 || *c.ReceiveBufferKiB > 1<<20 {
			return nil, bad("server.receive_buffer_kib", "%d: use 0 (the kernel sizes it) to 1048576 (default %d)", *c.ReceiveBufferKiB, defaultReceiveBufferKiB)
		}
		s.receiveKiB = *c.ReceiveBufferKiB
	}
	if c.MaxBodyMiB < 0 {
		return nil, bad("server.max_body_mib", "must be positive")
	} else if c.MaxBodyMiB > 0 {
		s.maxBody = c.MaxBodyMiB << 20
	}
	durations := []struct {
		field, v string
		def      time.Duration
		into     *time.Duration
	}{
		{"server.read_timeout", c.ReadTimeout, defaultReadTimeout, &s.read},
		{"server.write_timeout", c.WriteTimeout, defaultWriteTimeout, &s.write},
		{"server.idle_timeout", c.IdleTimeout, defaultIdleTimeout, &s.idle},
		{"server.shutdown_timeout", c.ShutdownTimeout, defaultShutdownTimeout, &s.shutdown},
		{"server.queue_timeout", c.QueueTimeout, webhooks.DefaultQueueTimeout, &s.queueTimeout},
		{"server.runtasks.progress_interval", c.RunTasks.ProgressInterval, 30 * time.Second, &s.runTask.ProgressInterval},
	}
	for _, d := range durations {
		*d.into = d.def
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 {
			return nil, bad(d.field, "%q: use a positive duration such as 30s or 2m", d.v)
		}
		*d.into = v
	}
	if c.Watch != nil {
		s.watch = *c.Watch
	}
	s.gcPercent = defaultGCPercent
	if c.GCPercent != nil {
		s.gcPercent = *c.GCPercent
	}
	if c.MemoryLimitMiB < 0 {
		return nil, bad("server.memory_limit_mib", "must be positive (leave it out for no limit)")
	}
	s.memoryLimit = c.MemoryLimitMiB << 20
	s.gcHeadroom = defaultGCHeadroomMiB << 20
	if c.GCHeadroomMiB != nil {
		if *c.GCHeadroomMiB < 0 {
			return nil, bad("server.gc_headroom_mib", "must be 0 (off) or more (default %d)", defaultGCHeadroomMiB)
		}
		s.gcHeadroom = *c.GCHeadroomMiB << 20
	}
	switch {
	case s.gcPercent == -1 && s.memoryLimit == 0:
		return nil, bad("server.gc_percent", "-1 (collector off) needs server.memory_limit_mib, or the heap grows without bound")
	case s.gcPercent != -1 && s.gcPercent < 25:
		return nil, bad("server.gc_percent", "%d: use 25 or more (400 is the default; 100 is Go's), or -1 with server.memory_limit_mib", s.gcPercent)
	}
	rt := c.RunTasks
	if rt.HMACKey != "" && len(rt.HMACKey) < 16 {
		return nil, bad("server.runtasks.hmac_key", "shorter than 16 characters: use a long random key")
	}
	s.runTask.HMACKey = rt.HMACKey
	s.runTask.AllowedHosts = rt.AllowedHosts
	if len(s.runTask.AllowedHosts) == 0 {
		s.runTask.AllowedHosts = defaultRunTaskHosts
	}
	for i, h := range s.runTask.AllowedHosts {
		if strings.TrimSpace(h) == "" || strings.Contains(h, "/") {
			return nil, bad(fmt.Sprintf("server.runtasks.allowed_hosts[%d]", i), "%q: give a host name such as tfe.example.com", h)
		}
	}
	s.runTask.PassSpeculative = rt.PassSpeculative
	s.runTask.FailOnWarn = rt.FailOnWarn
	if _, err := kubernetesOptions(cfg); err != nil {
		return nil, err
	}
	s.decisionLogDSN = string(cfg.DecisionLog.DSN)
	s.decisionLogOn = !cfg.DecisionLog.Disabled
	return s, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// kubernetesOptions validates kubernetes: and converts it for the
// admission handler.
func kubernetesOptions(cfg *loadedConfig) (webhooks.KubernetesOptions, error) {
	file := orDefault(cfg.Path, "config")
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	k := cfg.Kubernetes
	o := webhooks.KubernetesOptions{Audit: k.Audit, Currency: k.Currency, DaemonSetNodes: k.DaemonSetNodes}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if len(o.Currency) != 3 || strings.ToUpper(o.Currency) != o.Currency {
		return o, bad("kubernetes.currency", "%q: use an ISO 4217 code such as USD or EUR", k.Currency)
	}
	if o.DaemonSetNodes < 0 {
		return o, bad("kubernetes.daemonset_nodes", "must not be negative")
	}
	for i, l := range k.RequiredLabels {
		if strings.TrimSpace(l) == "" {
			return o, bad(fmt.Sprintf("kubernetes.required_labels[%d]", i), "empty label key")
		}
	}
	nonNeg := func(field string, d Decimal) (*costgate.Money, error) {
		m, err := d.Money()
		if err != nil {
			return nil, bad(field, "%v (write an exact decimal such as \"0.0416\")", err)
		}
		if m != nil && *m < 0 {
			return nil, bad(field, "must not be negative")
		}
		return m, nil
	}
	var err error
	if _, err = nonNeg("kubernetes.max_monthly_cost", k.MaxMonthlyCost); err != nil {
		return o, err
	}
	for _, ns := range sortedKeys(k.NamespaceBudgets) {
		if _, err = nonNeg("kubernetes.namespace_budgets."+ns, k.NamespaceBudgets[ns]); err != nil {
			return o, err
		}
	}
	p := k.Prices
	if o.Prices.CPUHour, err = nonNeg("kubernetes.prices.cpu_hour", p.CPUHour); err != nil {
		return o, err
	}
	if o.Prices.MemoryGiBHour, err = nonNeg("kubernetes.prices.memory_gib_hour", p.MemoryGiBHour); err != nil {
		return o, err
	}
	if o.Prices.GPUHour, err = nonNeg("kubernetes.prices.gpu_hour", p.GPUHour); err != nil {
		return o, err
	}
	if o.Prices.LoadBalancerHour, err = nonNeg("kubernetes.prices.load_balancer_hour", p.LoadBalancerHour); err != nil {
		return o, err
	}
	if len(p.StorageGiBMonth) > 0 {
		o.Prices.StorageGiBMonth = map[string]costgate.Money{}
		for _, class := range sortedKeys(p.StorageGiBMonth) {
			m, err := nonNeg("kubernetes.prices.storage_gib_month."+class, p.StorageGiBMonth[class])
			if err != nil {
				return o, err
			}
			if m != nil {
				o.Prices.StorageGiBMonth[class] = *m
			}
		}
	}
	return o, nil
}

// serverOnlyKeys are config sections that policies never see: they hold
// secrets (tokens, keys, DSNs) and say nothing about what to allow.
var serverOnlyKeys = []string{"server", "decision_log"}

// policyData returns data.costgate.config without the server-only
// sections, so that no secret reaches a policy (or the policy revision).
func policyData(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		out[k] = v
	}
	for _, k := range serverOnlyKeys {
		delete(out, k)
	}
	return out
}

// decisionLogDSN is the configured DSN or the default file.
func decisionLogDSN(cfg *loadedConfig) string {
	if cfg.DecisionLog.DSN != "" {
		return string(cfg.DecisionLog.DSN)
	}
	return decisionlog.DefaultDSN
}

// defaultIOProcs is how many Go processors serve adds to the cores.
//
// Go's scheduler polls the network only when a processor runs out of
// goroutines, or from its monitor thread every 10 ms. While evaluations
// keep every processor busy, a request that has arrived waits unseen for
// up to that long, and a poll's batch then runs in no particular order,
// so requests reach the evaluation queue out of their arrival order. One
// processor more than the evaluation slots (max_concurrent_evaluations
// defaults to the cores) is idle whenever the network is, and blocks in
// the network poller: a request is read as it arrives and queues for a
// slot in arrival order. bench/serve, 100-resource plans, 50 clients on
// 2 cores, two alternated pairs (session 14): /v1/check p99 53-56 ms
// against 80-81 ms, p99/mean 1.3 against 2.2, throughput 0.93x;
// admission p99 8.9-10.1 ms against 9.5-9.8 ms.
const defaultIOProcs = 1

// maxIOProcs bounds server.io_procs.
const maxIOProcs = 64

// applyProcs sets serve's GOMAXPROCS to the cores plus s.ioProcs, unless
// the GOMAXPROCS environment variable is set, and gives
// max_concurrent_evaluations its default: the cores, or twice the cores
// when no processor is added (the webhooks package's own default). cores
// is GOMAXPROCS as Go chose it (the CPUs, or a container's CPU limit);
// once set here it no longer follows changes to that limit.
func applyProcs(s *serverSettings, logger *slog.Logger) {
	cores := runtime.GOMAXPROCS(0)
	procs := cores
	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		logger.Info("Go processors from the environment", "GOMAXPROCS", v)
	} else if s.ioProcs > 0 {
		procs = cores + s.ioProcs
		runtime.GOMAXPROCS(procs)
	}
	slots := 2 * cores
	if procs > cores {
		slots = cores
	}
	if s.maxConcurrent == 0 {
		s.maxConcurrent = slots
	}
	if s.maxAdmissions == 0 {
		s.maxAdmissions = slots
	}
	logger.Debug("scheduler", "gomaxprocs", procs, "max_concurrent_evaluations", s.maxConcurrent, "max_concurrent_admissions", s.maxAdmissions)
}

// applyGC sets the collector's target and memory limit for serve, unless
// the environment (GOGC, GOMEMLIMIT) sets them, and starts the headroom
// tuner (gcTuner) when the target is serve's to set; it logs what it
// chose. stop ends the tuning.
func applyGC(s *serverSettings, logger *slog.Logger) (stop func()) {
	stop = func() {}
	if v, ok := os.LookupEnv("GOGC"); ok {
		logger.Info("garbage collector target from the environment", "GOGC", v)
	} else if s.gcPercent > 0 && s.gcHeadroom > 0 {
		headroom := gcHeadroom(s.gcHeadroom)
		stop = startGCTuner(s.gcPercent, headroom, logger).stop
		logger.Debug("garbage collector", "gc_percent", s.gcPercent, "headroom_mib", headroom>>20)
	} else {
		debug.SetGCPercent(s.gcPercent)
	}
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		logger.Info("memory limit from the environment", "GOMEMLIMIT", v)
	} else if s.memoryLimit > 0 {
		debug.SetMemoryLimit(s.memoryLimit)
	} else if c := containerMemLimit(); c > 0 {
		// In a container, collect harder near its limit rather than be
		// killed at it: a big plan's live heap times gc_percent can pass
		// it. The rest is the runtime's own memory, stacks and the
		// store's mappings.
		limit := c / 10 * 9
		debug.SetMemoryLimit(limit)
		logger.Info("memory limit: 90% of the container's", "memory_limit_mib", limit>>20, "container_mib", c>>20)
	}
	return stop
}

// containerMemLimit is costgate.CgroupMemLimit (tests replace it).
var containerMemLimit = costgate.CgroupMemLimit
