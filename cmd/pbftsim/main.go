// Command pbftsim runs deterministic simulations of the PBFT protocol:
// reproducible adversarial experiments, property-based search for safety and
// liveness violations, and message-complexity reports.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the pbftsim version, printed by `pbftsim version` and recorded
// in reports and replay files. Release builds may set it with -ldflags.
var version = "0.1.0-dev"

// exitError carries the process exit status for an error: 1 for a found
// violation or a failed check, 2 for bad input.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usage wraps err as a bad-input error (exit status 2).
func usage(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: 2, err: err}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "pbftsim",
		Short: "Deterministic discrete-event simulation harness for PBFT",
		Long: `pbftsim simulates PBFT (Castro & Liskov) replicas and clients on a seeded,
deterministic event loop with a configurable faulty network and Byzantine
replicas. One seed reproduces a run to the byte: every run prints its seed and
a trace hash.

The Go garbage collector runs with GOGC=400 unless the GOGC environment
variable is set; pbftsim run lowers it as the live heap grows (at most
12 MB of garbage between collections, but at least 15% of the live heap).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	root.AddCommand(
		newRunCmd(), newScenariosCmd(), newValidateCmd(),
		newCheckCmd(), newHuntCmd(), newTriageCmd(), newReplayCmd(),
		newReportCmd(), newSweepCmd(), newMergeCmd(), newTraceCmd(), newVersionCmd(),
		newExploreCmd(), newServeCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the pbftsim version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "pbftsim %s\n", version)
			return nil
		},
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		// A run allocates megabytes of short-lived messages per second on a
		// live heap of a few megabytes, so the default GOGC=100 collects
		// every few milliseconds, and a collection's write barriers slow
		// the simulation down while it marks. `run` bounds the headroom
		// as its heap grows (gcpolicy.go).
		debug.SetGCPercent(defaultGOGC)
	}
	os.Exit(execute(os.Args[1:]))
}

// execute runs the CLI with args and returns the exit status.
func execute(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "pbftsim:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra reports unknown commands and bad arguments as plain errors.
	return 2
}
