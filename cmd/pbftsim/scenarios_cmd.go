package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/scenarios"
)

// newScenariosCmd lists the built-in scenarios, one a line: the name, then
// its description.
func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Long: `List the scenarios embedded in pbftsim, one a line: the name, then what it
shows. Run one with "pbftsim run --scenario NAME".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list := scenarios.List()
			width := 0
			for _, s := range list {
				width = max(width, len(s.Name))
			}
			w := cmd.OutOrStdout()
			for _, s := range list {
				fmt.Fprintf(w, "%-*s  %s\n", width, s.Name, s.Description)
			}
			return nil
		},
	}
}

// newValidateCmd checks scenario files without running them.
func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files without running them",
		Long: `Check scenario files (YAML) strictly without running them: syntax, unknown
fields, types, ranges, node references and Byzantine strategies. Prints
"FILE: ok (...)" for a valid file and the first error of an invalid one, with
its line and field; exits with status 2 if any file is invalid. It checks
exactly what run checks before running (one validation path): what
validate accepts, run accepts.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			for _, path := range args {
				s, err := scenarios.LoadFile(path)
				if err == nil {
					_, err = experiment.Check(s)
				}
				if err != nil {
					errs = append(errs, err)
					if len(args) > 1 {
						fmt.Fprintln(cmd.ErrOrStderr(), err)
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s)\n", path, summary(s))
			}
			switch {
			case len(errs) == 0:
				return nil
			case len(args) == 1:
				return usage(errs[0])
			default:
				return usage(fmt.Errorf("%d of %d scenario files are invalid", len(errs), len(args)))
			}
		},
	}
}

// summary describes a valid scenario in a few words.
func summary(s *scenarios.Scenario) string {
	c, err := s.Config()
	if err != nil {
		return err.Error()
	}
	parts := []string{
		fmt.Sprintf("n=%d", c.N), fmt.Sprintf("f=%d", c.F),
		fmt.Sprintf("clients=%d", c.Clients), fmt.Sprintf("requests=%d", c.Requests),
	}
	if len(c.Byzantine) > 0 {
		var bz []string
		for _, b := range c.Byzantine {
			bz = append(bz, fmt.Sprintf("%d:%s", b.Replica, b.Strategy))
		}
		parts = append(parts, "byzantine="+strings.Join(bz, ","))
		if len(c.Byzantine) > c.F {
			parts = append(parts, "OUTSIDE the fault model")
		}
	}
	if len(c.Crashes) > 0 {
		parts = append(parts, fmt.Sprintf("crashes=%d", len(c.Crashes)))
	}
	if len(c.Network.Partitions) > 0 {
		parts = append(parts, fmt.Sprintf("partitions=%d", len(c.Network.Partitions)))
	}
	if len(c.NetRules) > 0 {
		parts = append(parts, fmt.Sprintf("adversary-rules=%d", len(c.NetRules)))
	}
	if c.Variant != "" {
		parts = append(parts, "variant="+c.Variant+" (BROKEN)")
	}
	parts = append(parts, fmt.Sprintf("seed=%d", c.Seed), "max_time="+c.MaxTime.String())
	return strings.Join(parts, ", ")
}
