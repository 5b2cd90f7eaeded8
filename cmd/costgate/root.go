package main

import (
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
)

// app carries what every command shares: the standard streams and the
// global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	logLevel       string
	cpuProfile     string
	stopProfile    func()
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) (*app, *cobra.Command) {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "costgate",
		Short: "A provisioning-time FinOps policy gate for Terraform plans",
		Long: `costgate judges Terraform plans against Rego policies on tags and cost
before apply, in CI and as a webhook.

Exit codes: 0 allowed (warnings allowed unless --fail-on-warn), 1 denied,
2 usage, input or policy error.

The config file is --config FILE, else ./costgate.yaml when present.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			primeHugePages(cmd.Name())
			tuneGC(cmd.Name())
			if err := a.startProfile(); err != nil {
				return err
			}
			return a.setupLogging()
		},
		PersistentPostRun: func(*cobra.Command, []string) { a.endProfile() },
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (YAML); default ./costgate.yaml when present")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn, error (logs go to stderr)")
	root.PersistentFlags().StringVar(&a.cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file (for performance reports)")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.AddCommand(
		newCollectCmd(a),
		newReportCmd(a),
		newEstimateCmd(a), newPricingCmd(a),
		newCheckCmd(a),
		newPolicyCmd(a),
		newCostCmd(a),
		newStoreCmd(a),
		newServeCmd(a), newDecisionsCmd(a),
	)
	return a, root
}

func (a *app) setupLogging() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageErr("--log-level %q: use debug, info, warn or error", a.logLevel)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})))
	return nil
}

// isTerminal reports whether w is a terminal that takes colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || strings.EqualFold(os.Getenv("TERM"), "dumb") {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (a *app) startProfile() error {
	if a.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(a.cpuProfile)
	if err != nil {
		return usageErr("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return usageErr("--cpuprofile: %v", err)
	}
	a.stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
	return nil
}

// endProfile stops the CPU profile; run calls it too, since a command
// that fails skips cobra's post-run hooks.
func (a *app) endProfile() {
	if a.stopProfile != nil {
		a.stopProfile()
		a.stopProfile = nil
	}
}
