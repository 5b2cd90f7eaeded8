// Command costgate is a provisioning-time FinOps policy gate: it judges
// Terraform plans against Rego policies on tags and cost before apply.
// Run `costgate --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitAllow = 0
	exitDeny  = 1
	exitUsage = 2
)

// exitError carries an exit code to main; a nil Err prints nothing.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a, root := newApp(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	a.endProfile()
	if err == nil {
		return exitAllow
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "costgate: %v%s\n", ee.err, diskFullHint(ee.err))
		}
		return ee.code
	}
	// Input, policy and config errors are the user's to fix; internal
	// failures exit 2 as well, never 1, which means "denied".
	fmt.Fprintf(stderr, "costgate: %v%s\n", err, diskFullHint(err))
	return exitUsage
}

// diskFullHint is the fix for an error from a full disk or quota, unless
// the error gives one already (the store's and the collector's do).
func diskFullHint(err error) string {
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) || strings.Contains(err.Error(), "free space") {
		return ""
	}
	return " (the disk is full: free space there, or write elsewhere, and run again)"
}
