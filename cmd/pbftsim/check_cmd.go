package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/properties"
)

func newCheckCmd() *cobra.Command {
	var (
		runs     int
		budget   time.Duration
		seed     uint64
		out      string
		quiet    bool
		optimalN bool
	)
	cmd := &cobra.Command{
		Use:   "check [--runs N | --budget DURATION] [--seed S]",
		Short: "Property search on the correct protocol: safety and liveness over generated scenarios",
		Long: `check generates scenarios within the fault model (n in 4..13, up to f Byzantine
or crashed replicas, lossy/duplicating networks, partitions healed before GST,
payments workloads), runs each with every safety checker and the liveness
checker, and stops at the first violation. A failure is shrunk to a small
scenario, written as a replay file (--out) and printed with the command that
replays it. Progress and cases/second go to stderr.

Exit status: 0 all cases passed, 1 a property was violated, 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runs < 0 {
				return usage(fmt.Errorf("--runs %d: want a number of cases >= 1", runs))
			}
			if budget < 0 {
				return usage(fmt.Errorf("--budget %v: want a positive duration", budget))
			}
			if cmd.Flags().Changed("runs") && cmd.Flags().Changed("budget") {
				return usage(fmt.Errorf("--runs and --budget: give one of them"))
			}
			if runs == 0 && budget == 0 {
				runs = 500
			}
			gen := properties.SearchConfig()
			gen.OnlyOptimalN = optimalN
			stderr := cmd.ErrOrStderr()
			prog := &progress{w: stderr, total: runs, budget: budget, quiet: quiet}
			rep, err := properties.Search(commandContext(cmd), properties.SearchOptions{
				Runs: runs, Budget: budget, Seed: seed, Progress: prog.update,
				Gen: gen,
			})
			prog.finish()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d cases in %v (%.0f cases/s), seed %d\n", rep.Cases, rep.Elapsed.Round(time.Millisecond), rep.Rate(), seed)
			if rep.Failure == nil {
				fmt.Fprintln(w, rep.JudgedSummary())
				return nil
			}
			return reportFinding(w, rep.Failure, out)
		},
	}
	f := cmd.Flags()
	f.IntVar(&runs, "runs", 0, "number of cases (default 500 when --budget is not given)")
	f.DurationVar(&budget, "budget", 0, "wall-clock budget, e.g. 30s")
	f.Uint64Var(&seed, "seed", 1, "search seed")
	f.StringVar(&out, "out", "check-failure.replay.yaml", "where to write the replay file of a failure")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	f.BoolVar(&optimalN, "optimal-n", false, "generate only n = 3f+1 (4, 7, 10, 13 replicas); by default any n in 4..13")
	return cmd
}

// reportFinding prints a failure and writes its replay file; it returns
// the exit-1 error.
func reportFinding(w io.Writer, f *properties.Finding, out string) error {
	y, err := f.Scenario.Marshal()
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("encoding the failing scenario: %w", err)}
	}
	fmt.Fprintf(w, "VIOLATION of %s after %d cases (shrunk in %d steps)\n", f.Property, f.Cases, f.ShrinkSteps)
	fmt.Fprintf(w, "  %s\n", f.Violation)
	for _, a := range f.Outcome.Accused {
		fmt.Fprintf(w, "  accused %s\n", a)
	}
	if k := properties.ParseKnobs(f.Original.Description); k != nil {
		fmt.Fprintf(w, "swarm knobs of the failing case (seed %d): %s\n", f.Original.Seed, k)
	}
	fmt.Fprintf(w, "minimal scenario (seed %d, trace hash %s):\n%s", f.Scenario.Seed, f.Outcome.TraceHash(), y)
	if out != "" {
		if err := writeReplayFile(f.Outcome, out); err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(w, "replay: %s\n", f.ReplayCommand(out))
		if err := writeCounterexample(w, f.Outcome, properties.RunOptions{Liveness: true, StopOnViolation: true}, out); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	return &exitError{code: 1, err: fmt.Errorf("property %s violated", f.Property)}
}

// progress draws a one-line progress bar on stderr.
type progress struct {
	w      io.Writer
	total  int
	budget time.Duration
	quiet  bool
	last   time.Time
	drawn  bool
}

func (p *progress) update(done int, elapsed time.Duration) {
	if p.quiet {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != p.total {
		return
	}
	p.last = now
	frac := 0.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	} else if p.budget > 0 {
		frac = float64(elapsed) / float64(p.budget)
	}
	frac = min(max(frac, 0), 1)
	const width = 30
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	fmt.Fprintf(p.w, "\r[%s] %d cases, %.0f cases/s, %v", bar, done, rate, elapsed.Round(time.Second))
	p.drawn = true
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// commandContext returns cmd's context or a background one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
