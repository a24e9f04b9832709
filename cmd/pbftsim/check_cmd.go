package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

func newCheckCmd() *cobra.Command {
	var (
		runs     int
		budget   time.Duration
		seed     uint64
		out      string
		quiet    bool
		optimalN bool
		guided   bool
		asJSON   bool
		protocol string
	)
	cmd := &cobra.Command{
		Use:   "check [--runs N | --budget DURATION] [--seed S]",
		Short: "Property search on the correct protocol: safety and liveness over generated scenarios",
		Long: `check generates scenarios within the fault model (n in 4..13, up to f Byzantine
or crashed replicas, lossy/duplicating networks, partitions healed before GST,
payments workloads), runs each with every safety checker and the liveness
checker, and stops at the first violation. A failure is shrunk to a small
scenario, written as a replay file (--out) and printed with the command that
replays it. Progress and cases/second go to stderr. Ctrl-C prints the
summary of the cases that finished.

Scenarios are swarm cases: per case each fault family (timeouts against the
delay, checkpoint interval and window, batch, delays up to seconds, loss,
duplication, partitions, one-way cuts, clogged links, crashes and recoveries,
targeted drops and delays, Byzantine strategy sets) is switched on or off and
its strength drawn; a failure prints the knobs drawn. The coverage probes the
replicas reported (rare protocol paths) are printed with their counts.
--guided keeps a corpus of the cases that reached a new (probe, view)
combination and mutates them (coverage-guided, one worker). --json prints
the summary (cases, probes, failure) as JSON on stdout.

Exit status: 0 all cases passed, 1 a property was violated or no case
finished within --budget (nothing was checked), 2 bad input, 130
interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("runs") && runs < 1 {
				return usage(fmt.Errorf("--runs %d is out of range: want a number of cases >= 1", runs))
			}
			if cmd.Flags().Changed("budget") && budget <= 0 {
				return usage(fmt.Errorf("--budget %v is out of range: want a positive duration, e.g. 30s", budget))
			}
			if cmd.Flags().Changed("runs") && cmd.Flags().Changed("budget") {
				return usage(fmt.Errorf("--runs and --budget: give one of them"))
			}
			if runs == 0 && budget == 0 {
				runs = 500
			}
			if !cmd.Flags().Changed("out") {
				out = filepath.Join(outDir, "check-failure.replay.yaml")
			}
			gen := properties.SearchConfig()
			gen.OnlyOptimalN = optimalN
			if protocol != "" && protocol != cluster.ProtocolPBFT {
				if !slices.Contains(cluster.Protocols, protocol) {
					return usage(fmt.Errorf("--protocol: unknown protocol %q: want one of %s", protocol, strings.Join(cluster.Protocols, ", ")))
				}
				gen.Protocol = protocol
			}
			ctx, interrupted, release := stopOnSignal(cmd)
			defer release()
			prog := &progress{line: newProgressLine(cmd.ErrOrStderr(), quiet), total: runs, budget: budget}
			rep, err := properties.Search(ctx, properties.SearchOptions{
				Runs: runs, Budget: budget, Seed: seed, Progress: prog.update,
				Gen: gen, Guided: guided,
			})
			prog.finish()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return checkJSON(w, rep, seed, out)
			}
			fmt.Fprintf(w, "%d cases in %v (%.0f cases/s), seed %d\n", rep.Cases, rep.Elapsed.Round(time.Millisecond), rep.Rate(), seed)
			writeProbes(w, rep)
			switch {
			case rep.Failure != nil:
				return reportFinding(w, rep.Failure, out)
			case interrupted():
				fmt.Fprintf(w, "interrupted: safety and liveness held in the %d cases that finished\n", rep.Cases)
				return errInterrupted("check", fmt.Sprintf("%d cases checked", rep.Cases))
			case rep.Cases == 0:
				fmt.Fprintln(w, "no case finished within the budget: nothing was checked")
				return &exitError{code: 1, err: fmt.Errorf("--budget %v: no case finished, nothing was checked (want a longer budget, e.g. 30s)", budget)}
			}
			fmt.Fprintln(w, rep.JudgedSummary())
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&runs, "runs", 0, "number of cases, >= 1 (default 500 when --budget is not given)")
	f.DurationVar(&budget, "budget", 0, "wall-clock budget, e.g. 30s")
	addSeedFlag(f, &seed, 1, "")
	addOutFlag(f, &out, "", "the replay file of a failure, with its trace and diagram beside it (default "+outDir+"/check-failure.replay.yaml)")
	addQuietFlag(f, &quiet)
	f.StringVar(&protocol, "protocol", "pbft", "protocol of the generated scenarios: pbft, hotstuff or chained-hotstuff")
	f.BoolVar(&optimalN, "optimal-n", false, "generate only n = 3f+1 (4, 7, 10, 13 replicas); by default any n in 4..13")
	f.BoolVar(&guided, "guided", false, "coverage-guided: mutate the cases that reached new (probe, view) combinations (one worker)")
	addJSONFlag(f, &asJSON, "the summary: cases, probes, failure")
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

// progress draws the search's progress on stderr.
type progress struct {
	line   *progressLine
	total  int
	budget time.Duration
}

func (p *progress) update(done int, elapsed time.Duration) {
	frac := 0.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	} else if p.budget > 0 {
		frac = float64(elapsed) / float64(p.budget)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	p.line.show(fmt.Sprintf("%s %d cases, %.0f cases/s, %v", bar(frac), done, rate, elapsed.Round(time.Second)), p.total > 0 && done == p.total)
}

func (p *progress) finish() { p.line.finish() }

// commandContext returns cmd's context or a background one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
