package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/costgate/costgate/gate"
)

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work on policies: run their tests, show the input document",
	}
	cmd.AddCommand(newPolicyTestCmd(a), newPolicyInputCmd(a))
	return cmd
}

type policyTestParams struct {
	dirs              []string
	noDefaultPolicies bool
	regoVersion       string
	verbose           bool
}

func newPolicyTestCmd(a *app) *cobra.Command {
	p := &policyTestParams{}
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run Rego unit tests (test_ rules), the default library's included",
		Long: `test runs every test_ rule in the given directories (and, unless
--no-default-policies, in the embedded default library) with OPA's test
runner and reports like ` + "`opa test`" + `. Exit 0 when all pass, 1 when a test
fails, 2 when a policy does not compile.`,
		Example: `  costgate policy test
  costgate policy test ./policy -v`,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.dirs = args
			_, err := parseRegoVersion(p.regoVersion)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rv, _ := parseRegoVersion(p.regoVersion)
			passed, failed, err := gate.RunPolicyTests(cmd.Context(), a.stdout, gate.PolicyTestOptions{
				Dirs:           p.dirs,
				IncludeDefault: !p.noDefaultPolicies,
				RegoVersion:    rv,
				Verbose:        p.verbose,
			})
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if passed+failed == 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("no tests found: test rules are named test_*")}
			}
			if failed > 0 {
				return &exitError{code: exitDeny}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&p.noDefaultPolicies, "no-default-policies", false, "leave out the embedded default library's tests")
	cmd.Flags().StringVar(&p.regoVersion, "rego-version", "v1", "Rego version of the given files: v1 or v0")
	cmd.Flags().BoolVarP(&p.verbose, "verbose", "v", false, "list every test")
	return cmd
}

type policyInputParams struct {
	plan    string
	tfDir   string
	context []string
	noCost  bool
	est     estimateParams
}

func newPolicyInputCmd(a *app) *cobra.Command {
	p := &policyInputParams{}
	cmd := &cobra.Command{
		Use:   "input [PLAN.json | -]",
		Short: "Print the Rego input document costgate builds from a plan",
		Long: `input prints, as JSON, exactly the document policies see as ` + "`input`" + `:
input.plan, input.resources (with effective tags and cost estimates),
input.index (positions of the changed and tag-judged resources),
input.summary, input.context and input.cost, estimated as ` + "`check`" + `
estimates them (the same config keys and flags; --no-cost leaves the
costs out, as with check). Use it when writing policies.`,
		Args: cobra.MaximumNArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			p.plan = "-"
			if len(args) == 1 {
				p.plan = args[0]
			}
			_, err := parseContext(p.context)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := readPlanArg(a, p.plan, gate.MaxPlanSize>>20)
			if err != nil {
				return err
			}
			opts := gate.InputOptions{}
			opts.Context, _ = parseContext(p.context)
			if p.tfDir != "" {
				idx, err := gate.LoadSources(cmd.Context(), p.tfDir)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--tf-dir: %w", err)}
				}
				opts.Source = sourceFunc(p.tfDir, idx)
			}
			in := gate.BuildInput(plan, opts)
			if !p.noCost {
				cfg, err := loadPricingConfig(a)
				if err != nil {
					return err
				}
				est, _, err := estimatePlan(cmd.Context(), cfg, &p.est, in, false)
				if err != nil {
					return err
				}
				in.AttachEstimate(est, cfg.Cost.TeamTag, cfg.Cost.EnvTag)
			}
			b, err := in.JSON()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "%s\n", b)
			return err
		},
	}
	cmd.Flags().StringVar(&p.tfDir, "tf-dir", "", "Terraform source directory, for input.resources[].source")
	cmd.Flags().BoolVar(&p.noCost, "no-cost", false, "leave out the cost estimate (input.resources[].cost and input.cost are null)")
	addEstimateFlags(cmd.Flags(), &p.est, "calibration and history")
	cmd.Flags().StringArrayVar(&p.context, "context", nil, "context key=value (repeatable)")
	return cmd
}
