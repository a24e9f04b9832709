package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
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
			flags := cmd.Flags()
			if flags.Changed("runs") && runs < 1 {
				return usage(fmt.Errorf("--runs %d is out of range: want a number of cases >= 1", runs))
			}
			if flags.Changed("budget") && budget <= 0 {
				return usage(fmt.Errorf("--budget %v is out of range: want a positive duration, e.g. 30s", budget))
			}
			if !flags.Changed("out") {
				out = filepath.Join(outDir, "check-failure.replay.yaml")
			}
			ctx, _, release := stopOnSignal(cmd)
			defer release()
			prog := &progress{line: newProgressLine(cmd.ErrOrStderr(), quiet), total: runs, budget: budget}
			if runs == 0 && budget == 0 {
				prog.total = experiment.DefaultSearchRuns
			}
			r, err := experiment.Search(ctx, experiment.SearchOptions{Runs: runs, Budget: budget, Seed: seed,
				Protocol: protocol, OptimalN: optimalN, Guided: guided, Out: out, Version: version, Progress: prog.update})
			prog.finish()
			if r == nil {
				return exitStatus(err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if jerr := printJSON(w, newCheckSummary(r)); jerr != nil {
					return &exitError{code: 1, err: jerr}
				}
				return exitStatus(err)
			}
			fmt.Fprintf(w, "%d cases in %v (%.0f cases/s), seed %d\n", r.Cases, r.Elapsed.Round(time.Millisecond), r.Rate(), r.Seed)
			writeProbes(w, r.SearchReport)
			switch {
			case r.Failure != nil:
				printFinding(w, r.Failure, r.Saved)
			case r.Interrupted:
				fmt.Fprintf(w, "interrupted: safety and liveness held in the %d cases that finished\n", r.Cases)
			case r.Cases == 0:
				fmt.Fprintln(w, "no case finished within the budget: nothing was checked")
			default:
				fmt.Fprintln(w, r.JudgedSummary())
			}
			return exitStatus(err)
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

// printFinding prints a search's failure: the violation, the minimal
// scenario and the files written for it.
func printFinding(w io.Writer, f *properties.Finding, saved *experiment.Saved) {
	fmt.Fprintf(w, "VIOLATION of %s after %d cases (shrunk in %d steps)\n", f.Property, f.Cases, f.ShrinkSteps)
	fmt.Fprintf(w, "  %s\n", f.Violation)
	for _, a := range f.Outcome.Accused {
		fmt.Fprintf(w, "  accused %s\n", a)
	}
	if k := properties.ParseKnobs(f.Original.Description); k != nil {
		fmt.Fprintf(w, "swarm knobs of the failing case (seed %d): %s\n", f.Original.Seed, k)
	}
	y, err := f.Scenario.Marshal()
	if err != nil {
		y = []byte(fmt.Sprintf("(cannot encode it: %v)\n", err))
	}
	fmt.Fprintf(w, "minimal scenario (seed %d, trace hash %s):\n%s", f.Scenario.Seed, f.Outcome.TraceHash(), y)
	if saved != nil {
		fmt.Fprintf(w, "replay: %s\n", f.ReplayCommand(saved.Replay))
		printCounterexample(w, saved.Counterexample)
	}
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
