package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
)

func newTriageCmd() *cobra.Command {
	var (
		out    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "triage SWEEP.jsonl --out DIR",
		Short: "Group the failing seeds of a sweep by signature, shrink one per group and write its replay file",
		Long: `triage reads a sweep file (pbftsim sweep, sweep --swarm or merge; an
interrupted sweep's .partial too), groups its failing seeds by signature - the
violated property, the shape of the first violation (numbers masked: what
conflicted), the Byzantine strategy set and, for swarm sweeps, the fault
families switched on - reruns the first seed of each group, shrinks it (same
property) and writes its replay file into DIR. It prints one row per group:
seeds, property, strategies, faults, the shrunk size and the replay file.
Copy a replay file into properties/testdata/findings once the bug is fixed:
the test suite then replays it, so a bug once found stays found.

Exit status: 0 done (also when no seed failed), 1 a rerun could not be made,
2 bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := experiment.NewTriage(args[0], out)
			if err != nil {
				return exitStatus(err)
			}
			ctx, _, release := stopOnSignal(cmd)
			defer release()
			fmt.Fprintf(cmd.ErrOrStderr(), "triage of %s: %d failing seeds...\n", args[0], t.Failing())
			groups, err := t.Run(ctx)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, groups)
			}
			fmt.Fprintf(w, "%d failing seeds in %d groups\n", t.Failing(), len(groups))
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "group\tseeds\tfirst\tproperty\tstrategies\tfaults\tn\trequests\treplay")
			for i, g := range groups {
				replay := g.Replay
				if replay == "" {
					replay = "- (" + g.Note + ")"
				}
				fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%d\t%d\t%s\n", i+1, len(g.Seeds), g.Seeds[0], g.Property, g.Strategies, g.Faults, g.N, g.Requests, replay)
			}
			tw.Flush()
			for i, g := range groups {
				fmt.Fprintf(w, "group %d: %s\n", i+1, strings.TrimSpace(g.Message))
			}
			return nil
		},
	}
	f := cmd.Flags()
	addOutFlag(f, &out, "", "the folder for the replay files, one per group (created if missing)")
	addJSONFlag(f, &asJSON, "the groups")
	return cmd
}
