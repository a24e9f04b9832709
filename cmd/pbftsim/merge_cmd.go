package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/reports/sweep"
)

func newMergeCmd() *cobra.Command {
	var list int
	cmd := &cobra.Command{
		Use:   "merge OUT PARTS...",
		Short: "Merge the shard files of a sweep into the file an unsharded sweep writes",
		Long: `merge checks the shard files written by 'pbftsim sweep --shard I/N' and writes
to OUT exactly the file (byte for byte) that the same sweep without --shard
writes, then prints the aggregate.

It refuses, naming every problem: parts from different scenarios (name or
content), pbftsim versions, seed ranges or shard counts; missing or
duplicated shard numbers; and incomplete shards (no trailer: interrupted,
killed or still running). OUT is written to a temporary file renamed into
place, so a good OUT is never replaced by a partial one.

Exit status: 0 merged and every seed ok, 1 merged and a seed failed, 2 the
parts cannot be merged or bad input.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, parts := args[0], args[1:]
			agg, err := sweep.Merge(out, parts)
			if err != nil {
				return usage(err)
			}
			w := cmd.OutOrStdout()
			agg.Write(w, list)
			fmt.Fprintf(w, "merged %d shards into %s\n", len(parts), out)
			if agg.Failures > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d seeds failed (see %s)", agg.Failures, agg.Done, out)}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&list, "list", 20, "failing seeds listed in the aggregate")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	return cmd
}
