package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

func newHuntCmd() *cobra.Command {
	var (
		list    bool
		variant string
		budget  time.Duration
		seed    uint64
		out     string
	)
	cmd := &cobra.Command{
		Use:   "hunt (--list | --variant NAME [--budget 60s] [--seed S] [--out FILE])",
		Short: "Search for a run that breaks a property of a deliberately broken protocol variant",
		Long: `hunt runs a property-based search (targeted scenarios for the variant, then
generated ones biased toward the faults that expose it, across seeds) on a
deliberately BROKEN protocol variant until a checker fails. The failure is
shrunk and printed with the violated property, the minimal scenario and the
command that replays it; the replay file is written to --out (default
pbftsim-out/hunt-VARIANT.replay.yaml). Ctrl-C prints the cases so far.
--list prints the variant names, one a line. --variant correct hunts the
correct protocol (which should survive).

Exit status: 1 a violation was found, 0 the budget ran out without one,
2 bad input, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if list {
				for _, name := range properties.VariantNames() {
					fmt.Fprintln(w, name)
				}
				return nil
			}
			if variant == "" {
				return usage(fmt.Errorf("--variant: required (one of the names from `pbftsim hunt --list`, or correct)"))
			}
			if _, err := pbft.ParseVariant(variant); err != nil {
				return usage(fmt.Errorf("--variant: %w", err))
			}
			if budget <= 0 {
				return usage(fmt.Errorf("--budget %v: want a positive duration, e.g. 60s", budget))
			}
			if !cmd.Flags().Changed("out") {
				out = filepath.Join(outDir, "hunt-"+variant+".replay.yaml")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "hunting variant %s for up to %v (seed %d)...\n", variant, budget, seed)
			ctx, interrupted, release := stopOnSignal(cmd)
			defer release()
			f, err := properties.Hunt(ctx, variant, budget, seed)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if !f.Found && interrupted() {
				fmt.Fprintf(w, "interrupted: no violation in the %d cases that finished (%v, seed %d)\n", f.Cases, f.Elapsed.Round(time.Millisecond), seed)
				return errInterrupted("hunt", fmt.Sprintf("%d cases run", f.Cases))
			}
			if !f.Found {
				fmt.Fprintf(w, "no violation in %d cases (%v, seed %d): the budget ran out\n", f.Cases, f.Elapsed.Round(time.Millisecond), seed)
				return nil
			}
			fmt.Fprintf(w, "variant %s: found after %d cases in %v\n", variant, f.Cases, f.Elapsed.Round(time.Millisecond))
			return reportFinding(w, f, out)
		},
	}
	fl := cmd.Flags()
	addListFlag(fl, &list, "the variant names")
	fl.StringVar(&variant, "variant", "", "the broken variant to hunt (see --list)")
	fl.DurationVar(&budget, "budget", 60*time.Second, "wall-clock budget")
	addSeedFlag(fl, &seed, 1, "")
	addOutFlag(fl, &out, "", "the replay file of a violation, with its trace and diagram beside it (default "+outDir+"/hunt-VARIANT.replay.yaml)")
	return cmd
}
