package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

func newHuntCmd() *cobra.Command {
	var (
		list    bool
		variant string
		budget  time.Duration
		seed    uint64
		out     string
		generic bool
		guided  bool
		all     bool
		asJSON  bool
		proto   string
		cpu     bool
	)
	cmd := &cobra.Command{
		Use:   "hunt (--list | --variant NAME [--generic] [--budget 60s [--cpu]] [--seed S] [--out FILE] | --all [--generic [--guided]] [--budget D [--cpu]] [--json])",
		Short: "Search for a run that breaks a property of a deliberately broken protocol variant",
		Long: `hunt runs a property-based search (targeted scenarios for the variant, then
generated ones biased toward the faults that expose it, across seeds) on a
deliberately BROKEN protocol variant until a checker fails. The failure is
shrunk and printed with the violated property, the minimal scenario and the
command that replays it; the replay file is written to --out (default
pbftsim-out/hunt-VARIANT.replay.yaml). Ctrl-C prints the cases so far.
--list prints the variant names, one a line. --variant correct hunts the
correct protocol (which should survive).

--generic searches with the same generator as check (no scenario written for
the variant, no bias toward it): the measure of what the search finds on code
nobody tuned it for. --all hunts every broken variant of --protocol in turn (--budget each)
and prints one row per variant: found, cases, seconds and CPU seconds to the
first violation, the property, and the shrunk size (n, faulty replicas,
requests, trace records); --json prints the rows as JSON instead. --cpu makes
--budget count the process's CPU time instead of wall-clock time: on a
shared, loaded host each search then gets the same computing time.

Exit status: 1 a violation was found (with --all: 0 when every variant was
found, 1 when one was not), 0 the budget ran out without one, 2 bad input,
130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if list {
				names, err := experiment.Variants(proto)
				if err != nil {
					return exitStatus(err)
				}
				for _, name := range names {
					fmt.Fprintln(w, name)
				}
				return nil
			}
			o := experiment.HuntOptions{Protocol: proto, Variant: variant, Budget: budget, BudgetCPU: cpu, Seed: seed,
				Generic: generic, Guided: guided, Out: out, Version: version}
			if all {
				return huntAll(cmd, o, asJSON)
			}
			if asJSON {
				return usage(fmt.Errorf("--json: only with --all"))
			}
			if !cmd.Flags().Changed("out") && variant != "" {
				o.Out = filepath.Join(outDir, "hunt-"+variant+".replay.yaml")
			}
			h, err := experiment.NewHunt(o)
			if err != nil {
				return exitStatus(err)
			}
			mode := "targeted scenarios, then the variant's biased generator"
			if generic {
				mode = "the generic generator of check"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "hunting variant %s for up to %v (seed %d, %s)...\n", variant, budget, seed, mode)
			ctx, _, release := stopOnSignal(cmd)
			defer release()
			r, err := h.Run(ctx)
			switch {
			case r == nil:
			case r.Interrupted:
				fmt.Fprintf(w, "interrupted: no violation in the %d cases that finished (%v, seed %d)\n", r.Cases, r.Elapsed.Round(time.Millisecond), seed)
			case !r.Found:
				fmt.Fprintf(w, "no violation in %d cases (%v, seed %d): the budget ran out\n", r.Cases, r.Elapsed.Round(time.Millisecond), seed)
				if notes := r.Notes(); notes != "" {
					fmt.Fprintf(w, "  of the cases without a violation: %s\n", notes)
				}
			default:
				fmt.Fprintf(w, "variant %s: found after %d cases in %v (%v with shrinking)\n", variant, r.Cases, r.ToFirst.Round(time.Millisecond), r.Elapsed.Round(time.Millisecond))
				printFinding(w, r.Finding, r.Saved)
			}
			return exitStatus(err)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&proto, "protocol", cluster.ProtocolPBFT, "protocol whose variants are hunted: pbft or hotstuff")
	addListFlag(fl, &list, "the variant names")
	fl.StringVar(&variant, "variant", "", "the broken variant to hunt (see --list)")
	fl.DurationVar(&budget, "budget", 60*time.Second, "wall-clock budget (with --cpu: CPU time)")
	fl.BoolVar(&cpu, "cpu", false, "--budget counts the process's CPU time instead of wall-clock time (measurements on a shared host)")
	addSeedFlag(fl, &seed, 1, "")
	addOutFlag(fl, &out, "", "the replay file of a violation, with its trace and diagram beside it (default "+outDir+"/hunt-VARIANT.replay.yaml)")
	fl.BoolVar(&generic, "generic", false, "search with check's generator only (no targeted scenarios, no variant bias)")
	fl.BoolVar(&guided, "guided", false, "with --generic: coverage-guided search (with --all: both searches, side by side)")
	fl.BoolVar(&all, "all", false, "hunt every broken variant in turn (--budget each) and print a table")
	addJSONFlag(fl, &asJSON, "with --all: the rows")
	return cmd
}
