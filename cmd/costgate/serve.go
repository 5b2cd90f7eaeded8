package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/webhooks"
)

// spendRefresh bounds the age of data.costgate.spend (month-to-date
// spend from the cost store): serve reloads at least this often.
const spendRefresh = time.Hour

// serveParams are the flags of `costgate serve`.
type serveParams struct {
	policyPaths       []string
	noDefaultPolicies bool
	dataFiles         []string
	regoVersion       string
	// onListen, when set (tests), receives the bound address.
	onListen func(addr string)
	// now is serve's clock (month-to-date spend, collect runs); nil is
	// time.Now.
	now func() time.Time
	// collectFires, when set (tests), starts the collect.schedule runs
	// instead of the cron schedule.
	collectFires <-chan time.Time
}

func (p *serveParams) clock() func() time.Time {
	if p.now != nil {
		return p.now
	}
	return time.Now
}

func newServeCmd(a *app) *cobra.Command {
	p := &serveParams{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gate: HTTP API, HCP Terraform run tasks, Kubernetes admission",
		Long: `serve runs costgate as a long-lived server on server.listen (default
127.0.0.1:8080), with HTTPS when server.tls.cert and server.tls.key are set:

  POST /v1/check          a plan JSON body (gzip accepted); query parameters are input.context
  POST /v1/runtasks/hcp   HCP Terraform / Terraform Enterprise run tasks (server.runtasks.hmac_key)
  POST /v1/admission      Kubernetes validating admission webhook (needs TLS)
  GET  /v1/decisions      the decision log (since, until, decision, surface, team, rule, limit)
  GET  /v1/cost           cost store queries (config key store)
  GET  /healthz /readyz /metrics

With collect.schedule set, serve also runs the sources: as costgate
collect does at each scheduled time (one run at a time) and serves the
new data right after a run that changed the store.

Policies, --data files and the config's policy sections reload on SIGHUP
and when their files change; a policy that does not compile is rejected,
logged and reported by /readyz while the previous set keeps serving.
SIGINT/SIGTERM shut down gracefully. See docs/serve.md for every key.`,
		Example: `  costgate serve --config costgate.yaml
  costgate serve --config costgate.yaml --policy ./policy --log-level info`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			_, err := parseRegoVersion(p.regoVersion)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), a, p)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.policyPaths, "policy", nil, "extra policy file or directory of .rego files (repeatable)")
	f.BoolVar(&p.noDefaultPolicies, "no-default-policies", false, "leave out the embedded default policy library")
	f.StringArrayVar(&p.dataFiles, "data", nil, "JSON or YAML file merged into data.costgate.config (repeatable)")
	f.StringVar(&p.regoVersion, "rego-version", "v1", "Rego version of --policy files: v1 or v0")
	return cmd
}

// Ensure the two decision record types stay convertible: a change to one
// without the other fails to compile here.
var (
	_ = webhooks.DecisionRecord(decisionlog.Record{})
	_ = decisionlog.Filter(webhooks.DecisionFilter{})
)

// webhookLog adapts a decisionlog.Log to webhooks.DecisionLog.
type webhookLog struct{ l decisionlog.Log }

func (w webhookLog) Append(ctx context.Context, r webhooks.DecisionRecord) (int64, error) {
	return w.l.Append(ctx, decisionlog.Record(r))
}

func (w webhookLog) Query(ctx context.Context, f webhooks.DecisionFilter) ([]webhooks.DecisionRecord, error) {
	recs, err := w.l.Query(ctx, decisionlog.Filter(f))
	if err != nil {
		return nil, err
	}
	out := make([]webhooks.DecisionRecord, len(recs))
	for i, r := range recs {
		out[i] = webhooks.DecisionRecord(r)
	}
	return out, nil
}

// snapshotLoader reads the config and compiles the policies; serve calls
// it at start and on every reload.
//
// costs is serve's store handle (open or not, see pricingReader): plans are
// priced against it with an estimator made once per snapshot, so its
// calibration is as fresh as the last reload, like data.costgate.spend.
func snapshotLoader(a *app, p *serveParams, costs *serveStore, log *slog.Logger) webhooks.Loader {
	return func(ctx context.Context) (*webhooks.Snapshot, error) {
		cfg, err := loadConfig(a.configPath, p.dataFiles)
		if err != nil {
			return nil, err
		}
		rv, err := parseRegoVersion(p.regoVersion)
		if err != nil {
			return nil, err
		}
		kopts, err := kubernetesOptions(cfg)
		if err != nil {
			return nil, err
		}
		// data.costgate.spend as `check` builds it; it is as fresh as the
		// last reload (serve reloads at least every spendRefresh, and
		// after a collect run that changed the store).
		spend, err := spendFromStore(ctx, cfg, "", p.clock()())
		if err != nil {
			return nil, err
		}
		eng, err := gate.New(ctx, gate.Options{
			PolicyPaths:       p.policyPaths,
			NoDefaultPolicies: p.noDefaultPolicies,
			RegoVersion:       rv,
			Config:            policyData(cfg.Data),
			Spend:             spend,
			Waivers:           cfg.Waivers,
			Severities:        cfg.Severities,
			Logger:            log,
		})
		if err != nil {
			return nil, err
		}
		// The admission query is prepared (and partially evaluated) now,
		// so that a policy set it fails on is rejected at load, not on
		// the first admission request.
		if err := eng.PrepareAdmission(); err != nil {
			return nil, err
		}
		// Plans are priced exactly as `costgate check` prices them, so the
		// cost rules find the same on every surface.
		reader, err := costs.pricingReader()
		if err != nil {
			return nil, err
		}
		now := func() time.Time { return p.clock()().UTC() }
		est, err := estimatorOver(ctx, cfg, &estimateParams{}, reader, now)
		if err != nil {
			return nil, err
		}
		keep := !cfg.DecisionLog.Disabled
		price := func(ctx context.Context, in *gate.Input) ([]costgate.EstimatedResource, error) {
			pe, estimates, err := estimateWith(ctx, est, in, keep)
			if err != nil {
				return nil, err
			}
			in.AttachEstimate(pe, cfg.Cost.TeamTag, cfg.Cost.EnvTag)
			return estimates, nil
		}
		return &webhooks.Snapshot{Engine: eng, Kubernetes: kopts, PriceInput: price, LoadedAt: time.Now()}, nil
	}
}

func runServe(ctx context.Context, a *app, p *serveParams) error {
	logger := slog.Default().With("component", "serve")
	cfg, err := loadConfig(a.configPath, p.dataFiles)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	set, err := validateServerConfig(cfg)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	collect, err := validateCollectConfig(cfg, sourceRegistry())
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	storeDir := orDefault(cfg.Store, defaultStoreDir)
	switch {
	case collect != nil:
		// A missing store is an empty one that the first run fills: create
		// it, so that spend and /v1/cost work from the start.
		if err := os.MkdirAll(storeDir, 0o755); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("store: %w", err)}
		}
	case cfg.Collect.Schedule.Cron != "":
		logger.Warn("collect.schedule is set but sources: is empty: nothing to collect")
	}
	// The store /v1/cost answers from and plans are priced against: the
	// configured one, or the default directory, which check and estimate
	// also open when it exists. A default directory that does not exist
	// yet is not an error: plans get list prices until a reload finds it.
	costs := openServeStore(storeDir, cfg.Store == "", logger)
	defer costs.Close()
	policies, err := webhooks.NewPolicies(ctx, snapshotLoader(a, p, costs, slog.Default()), slog.Default())
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}

	applyProcs(set, logger)
	opts := webhooks.Options{
		Policies:                policies,
		Tokens:                  set.tokens,
		RunTask:                 set.runTask,
		MaxBodyBytes:            set.maxBody,
		MaxConcurrent:           set.maxConcurrent,
		MaxConcurrentAdmissions: set.maxAdmissions,
		QueueTimeout:            set.queueTimeout,
		Logger:                  slog.Default(),
	}
	if set.decisionLogOn {
		dl, err := decisionlog.Open(ctx, decisionLogDSN(cfg))
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("decision_log.dsn: %w", err)}
		}
		defer dl.Close()
		opts.DecisionLog = webhookLog{dl}
		opts.ReadyChecks = append(opts.ReadyChecks, webhooks.ReadyCheck{Name: "decision_log", Check: dl.Ping})
	}
	if cfg.Store != "" || costs.Check(ctx) == nil {
		opts.CostReader = costs
		opts.ReadyChecks = append(opts.ReadyChecks, webhooks.ReadyCheck{Name: "cost_store", Check: costs.Check})
	}
	// refreshData has serve see the store's latest generation: the
	// /v1/cost handle and data.costgate.spend.
	refreshData := func(ctx context.Context) {
		if costs != nil {
			if err := costs.Refresh(); err != nil {
				logger.Error("refresh cost store; /v1/cost keeps the previous generation", "err", err)
			}
		}
		policies.Reload(ctx)
	}
	opts.Registry = prometheus.NewRegistry()
	var collects *collectScheduler
	if collect != nil {
		// The configuration serve started with: collect.schedule and
		// sources: changes take effect on restart.
		run := func(ctx context.Context) (*collectResult, error) {
			return collectSources(ctx, cfg, collect.sources, storeDir, collector.Options{Logger: slog.Default(), Now: p.clock()})
		}
		collects = newCollectScheduler(collect.schedule, slog.Default(), p.clock(), run, refreshData)
		opts.Registry.MustRegister(collects.Collectors()...)
		opts.ReadyInfo = append(opts.ReadyInfo, webhooks.ReadyInfo{Name: "collect", Value: collects.Status})
	}
	srv, err := webhooks.New(opts)
	if err != nil {
		return err
	}
	defer applyGC(set, logger)()

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       set.read,
		WriteTimeout:      set.write,
		IdleTimeout:       set.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(slogWriter{logger}, "", 0),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	scheme := "http"
	if set.certFile != "" {
		certs, err := webhooks.NewCertReloader(set.certFile, set.keyFile, slog.Default())
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("server.tls: %w", err)}
		}
		hs.TLSConfig = certs.TLSConfig()
		scheme = "https"
	}
	// Background work (reloads, the report and collect schedules) ends
	// with runCtx; a collect run in progress stops at its next partition.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	if collects != nil {
		fires := p.collectFires
		if fires == nil {
			fires = cronFires(runCtx, collect.schedule, nil, nil)
		}
		go collects.Loop(runCtx, fires)
		defer func() {
			stopRun()
			collects.Wait() // before the store handle closes
		}()
		logger.Info("collect schedule started", "cron", collect.schedule.Spec, "tz", collect.schedule.Loc.String(),
			"next", collect.schedule.Next(time.Now()), "sources", orDefault(strings.Join(collect.sources, ","), "all"))
	}
	// The monthly report (report.smtp and recipients configured) runs on
	// its schedule for as long as the server does.
	if ok, err := startReportSchedule(runCtx, cfg, cfg.Store, logger); err != nil {
		return &exitError{code: exitUsage, err: err}
	} else if ok {
		logger.Info("monthly report schedule started")
	}
	// SIGHUP reloads; register before listening so that a reload signal
	// never kills a server that is up.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ln, err := listen(ctx, set.listen, set.receiveKiB, logger)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("server.listen: %w", err)}
	}
	addr := ln.Addr().String()
	logger.Info("serving", "url", scheme+"://"+addr, "policy_revision", policies.Current().Engine.Revision())
	fmt.Fprintf(a.stderr, "costgate: serving on %s://%s\n", scheme, addr)
	if p.onListen != nil {
		p.onListen(addr)
	}

	// Reload on SIGHUP and, unless server.watch is false, on file change.
	go func() {
		refresh := time.NewTicker(spendRefresh)
		defer refresh.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				logger.Info("SIGHUP: reloading policies")
				refreshData(runCtx)
			case <-refresh.C:
				refreshData(runCtx) // fresh data.costgate.spend and /v1/cost
			}
		}
	}()
	if set.watch {
		paths := append([]string{}, p.policyPaths...)
		paths = append(paths, p.dataFiles...)
		if cfg.Path != "" {
			paths = append(paths, cfg.Path)
		}
		if len(paths) > 0 {
			go func() {
				if err := policies.Watch(runCtx, paths, 300*time.Millisecond); err != nil {
					logger.Error("watch policy files; reload with SIGHUP instead", "err", err)
				}
			}()
		}
	}

	errc := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", set.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), set.shutdown)
	defer cancel()
	err = hs.Shutdown(sctx)
	if e := srv.Shutdown(sctx); err == nil {
		err = e
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// slogWriter sends net/http's own error log lines (TLS handshake errors,
// ...) to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.l.Warn("http server", "msg", string(trimNL(b)))
	return len(b), nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
