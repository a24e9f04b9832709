package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
)

func newMergeCmd() *cobra.Command {
	var (
		out      string
		failures int
	)
	cmd := &cobra.Command{
		Use:   "merge --out OUT PARTS...",
		Short: "Merge the shard files of a sweep into the file an unsharded sweep writes",
		Long: `merge checks the shard files written by 'pbftsim sweep --shard I/N' and writes
to --out OUT exactly the file (byte for byte) that the same sweep without --shard
writes, then prints the aggregate.

It refuses, naming every problem: parts from different scenarios (name or
content), pbftsim versions, seed ranges or shard counts; missing or
duplicated shard numbers; and incomplete shards (no trailer: interrupted,
killed or still running). OUT is written to a temporary file renamed into
place, so a good OUT is never replaced by a partial one.

Exit status: 0 merged and no seed failed within the fault model, 1 merged
and a seed failed within it (the rule of sweep and run), 2 the
parts cannot be merged or bad input.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			parts := args
			if !cmd.Flags().Changed("out") {
				// The old form: merge OUT PARTS...
				if len(args) < 2 {
					return usage(fmt.Errorf("merge: want --out OUT and the shard files"))
				}
				out, parts = args[0], args[1:]
				fmt.Fprintln(cmd.ErrOrStderr(), "pbftsim: merge OUT PARTS... is deprecated: use merge --out OUT PARTS...")
			}
			agg, err := experiment.Merge(out, parts)
			if agg == nil {
				return exitStatus(err)
			}
			w := cmd.OutOrStdout()
			agg.Write(w, failures)
			fmt.Fprintf(w, "merged %d shards into %s\n", len(parts), out)
			return exitStatus(err)
		},
	}
	addOutFlag(cmd.Flags(), &out, "", "the merged sweep file (required)")
	addFailuresFlag(cmd.Flags(), &failures)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	return cmd
}
