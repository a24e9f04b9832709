package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/pbft"
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
			hs := cluster.IsHotStuff(proto)
			if proto != cluster.ProtocolPBFT && !hs {
				return usage(fmt.Errorf("--protocol: unknown protocol %q: want one of %s", proto, strings.Join(cluster.Protocols, ", ")))
			}
			if hs && all && guided {
				return usage(fmt.Errorf("--guided: PBFT only (its coverage probes are PBFT's); hunt %s --all without it", proto))
			}
			if list && hs {
				for _, name := range properties.HotStuffVariantNames(proto) {
					fmt.Fprintln(w, name)
				}
				return nil
			}
			if list {
				for _, name := range properties.VariantNames() {
					fmt.Fprintln(w, name)
				}
				return nil
			}
			if budget <= 0 {
				return usage(fmt.Errorf("--budget %v: want a positive duration, e.g. 60s", budget))
			}
			if all {
				if variant != "" {
					return usage(fmt.Errorf("--all and --variant: give one of them"))
				}
				if cmd.Flags().Changed("out") {
					return usage(fmt.Errorf("--out: not with --all (each row names its seed; rerun one variant with --variant to write its replay file)"))
				}
				if guided && !generic {
					return usage(fmt.Errorf("--guided: only with --generic"))
				}
				spec := properties.HuntAllSpec{Budget: budget, BudgetCPU: cpu, Seed: seed, Generic: generic, Guided: guided}
				if hs {
					spec.Protocol = proto
				}
				return huntAll(cmd, spec, asJSON)
			}
			if asJSON {
				return usage(fmt.Errorf("--json: only with --all"))
			}
			if variant == "" {
				return usage(fmt.Errorf("--variant: required (one of the names from `pbftsim hunt --list`, or correct)"))
			}
			if hs {
				if _, err := hotstuff.ParseVariant(variant, proto == cluster.ProtocolChainedHotStuff); err != nil && variant != "correct" {
					return usage(fmt.Errorf("--variant: %w", err))
				}
			} else if _, err := pbft.ParseVariant(variant); err != nil {
				return usage(fmt.Errorf("--variant: %w", err))
			}
			if !cmd.Flags().Changed("out") {
				out = filepath.Join(outDir, "hunt-"+variant+".replay.yaml")
			}
			mode := "targeted scenarios, then the variant's biased generator"
			if generic {
				mode = "the generic generator of check"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "hunting variant %s for up to %v (seed %d, %s)...\n", variant, budget, seed, mode)
			ctx, interrupted, release := stopOnSignal(cmd)
			defer release()
			if guided && !generic {
				return usage(fmt.Errorf("--guided: only with --generic"))
			}
			f, err := properties.HuntWith(ctx, properties.HuntSpec{Variant: variant, Budget: budget, BudgetCPU: cpu, Seed: seed, Generic: generic, Guided: guided, Protocol: proto})
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if !f.Found && interrupted() {
				fmt.Fprintf(w, "interrupted: no violation in the %d cases that finished (%v, seed %d)\n", f.Cases, f.Elapsed.Round(time.Millisecond), seed)
				return errInterrupted("hunt", fmt.Sprintf("%d cases run", f.Cases))
			}
			if !f.Found {
				fmt.Fprintf(w, "no violation in %d cases (%v, seed %d): the budget ran out\n", f.Cases, f.Elapsed.Round(time.Millisecond), seed)
				if notes := f.Notes(); notes != "" {
					fmt.Fprintf(w, "  of the cases without a violation: %s\n", notes)
				}
				return nil
			}
			fmt.Fprintf(w, "variant %s: found after %d cases in %v (%v with shrinking)\n", variant, f.Cases, f.ToFirst.Round(time.Millisecond), f.Elapsed.Round(time.Millisecond))
			return reportFinding(w, f, out)
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
