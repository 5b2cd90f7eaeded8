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
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
	"github.com/costgate/costgate/gate"
	"github.com/costgate/costgate/store"
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
func snapshotLoader(a *app, p *serveParams, log *slog.Logger) webhooks.Loader {
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
		// last reload (serve reloads at least every spendRefresh).
		spend, err := spendFromStore(ctx, cfg, "")
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
		// Plans are priced exactly as `costgate check` prices them, so the
		// cost rules find the same on every surface.
		price := func(ctx context.Context, in *gate.Input) error {
			est, err := estimatePlan(ctx, cfg, &estimateParams{}, in)
			if err != nil {
				return err
			}
			in.AttachEstimate(est, cfg.Cost.TeamTag, cfg.Cost.EnvTag)
			return nil
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
	policies, err := webhooks.NewPolicies(ctx, snapshotLoader(a, p, slog.Default()), slog.Default())
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}

	opts := webhooks.Options{
		Policies:     policies,
		Tokens:       set.tokens,
		RunTask:      set.runTask,
		MaxBodyBytes: set.maxBody,
		Logger:       slog.Default(),
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
	if cfg.Store != "" {
		reader, check, closeStore := openCostStore(cfg.Store, logger)
		defer closeStore()
		opts.CostReader = reader
		opts.ReadyChecks = append(opts.ReadyChecks, webhooks.ReadyCheck{Name: "cost_store", Check: check})
	}
	srv, err := webhooks.New(opts)
	if err != nil {
		return err
	}

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
	// Background work (reloads, the report schedule) ends with runCtx.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
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
	ln, err := net.Listen("tcp", set.listen)
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
				policies.Reload(runCtx)
			case <-refresh.C:
				policies.Reload(runCtx) // fresh data.costgate.spend
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

// openCostStore opens the cost store read-only for GET /v1/cost. A store
// that does not open leaves /v1/cost answering 501 and /readyz failing,
// rather than keeping the gate down.
func openCostStore(dir string, logger *slog.Logger) (costgate.CostReader, func(context.Context) error, func()) {
	st, err := store.Open(dir, store.Options{ReadOnly: true, Logger: slog.Default()})
	if err != nil {
		logger.Error("open cost store; /v1/cost is unavailable", "store", dir, "err", err)
		return nil, func(context.Context) error { return fmt.Errorf("cost store %s: %w", dir, err) }, func() {}
	}
	var _ costgate.CostReader = st
	return st, func(context.Context) error { return nil }, func() { st.Close() }
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
