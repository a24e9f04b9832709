package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
)

func newReplayCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "replay FILE",
		Short: "Rerun a replay file and confirm the same trace hash and verdict",
		Long: `replay reruns the scenario of a replay file (written by check, hunt or a
property test) with its seed and every checker attached, and confirms that
the run produces the recorded trace hash and the recorded verdict (and
violated property).

Exit status: 0 same hash and verdict, 1 a mismatch, 2 bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usage(err)
			}
			rp, err := scenarios.ParseReplay(args[0], data)
			if err != nil {
				return usage(err)
			}
			o, err := properties.Rerun(rp)
			if err != nil {
				return usage(err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "replayed %s: seed %d, %s\n", args[0], rp.Seed, o.Summary())
			var problems []string
			if rp.TraceHash != "" && o.TraceHash() != rp.TraceHash {
				problems = append(problems, fmt.Sprintf("trace hash %s, recorded %s", o.TraceHash(), rp.TraceHash))
			}
			if rp.Verdict != "" && o.Verdict() != rp.Verdict {
				problems = append(problems, fmt.Sprintf("verdict %s, recorded %s", o.Verdict(), rp.Verdict))
			}
			if rp.Property != "" && o.Property() != rp.Property {
				problems = append(problems, fmt.Sprintf("property %q, recorded %q", o.Property(), rp.Property))
			}
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(w, "MISMATCH:", p)
				}
				return &exitError{code: 1, err: fmt.Errorf("replay of %s does not reproduce the recorded run", args[0])}
			}
			fmt.Fprintln(w, "reproduced: same trace hash and verdict")
			return nil
		},
	}
}
