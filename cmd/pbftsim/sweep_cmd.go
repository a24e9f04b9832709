package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/reports/sweep"
)

func newSweepCmd() *cobra.Command {
	var (
		scenario, shard, out string
		protocol             string
		seeds                seedsValue
		workers, failures    int
		quiet, swarm, resume bool
	)
	cmd := &cobra.Command{
		Use:   "sweep [--scenario S] --seeds A..B [--workers N] [--shard I/N] --out FILE",
		Short: "Run one scenario over a range of seeds in parallel, one JSON Lines record per seed",
		Long: `sweep runs one scenario once per seed of the inclusive range A..B, with every
safety checker and the liveness checker (when the scenario is within the fault
model), one simulation per worker goroutine, each single-threaded and
deterministic. It writes to FILE, in seed order, a header line, one JSON record
per seed (seed, trace_hash, verdict: "ok" or the first violated property,
committed, messages, latency_p50_ns, latency_p99_ns, view_changes, ...) and a
trailer. The file is identical for any --workers.

While it runs the output is FILE.partial, renamed to FILE at the end. Ctrl-C
(or SIGTERM) stops cleanly: FILE.partial keeps the complete records of every
seed up to the first one that did not finish, with no trailer, and FILE is not
touched; the same command with --resume continues from those records (a
torn last line, e.g. after a full disk, is dropped), and without --resume
it refuses to start over an existing FILE.partial. A second sweep into the
same FILE while one runs is refused (FILE.lock). A progress bar with seeds/s and failures goes to stderr; the
aggregate (verdict counts, failing seeds with the command that replays each,
latency and message distributions) to stdout.

--shard I/N (0 <= I < N) runs only the seeds s with (s - A) mod N == I and
records the shard in the header; 'pbftsim merge' joins the N shard files into
the file an unsharded sweep writes, byte for byte.

--swarm runs, for each seed, that seed's swarm case instead of one scenario
(each fault family switched on or off with a drawn strength, as check draws
them); each record carries the knobs drawn, and the summary tabulates the
failure rate per knob value (which knobs are over-represented among failing
seeds). pbftsim triage groups and shrinks the failing seeds.

The default scenario "adversarial" is n=4, 50 payment operations, message
loss before GST and a Byzantine replica.

The Go garbage collector runs with GOGC=1600 unless GOGC is set (other
commands: 400): fewer collections let workers scale; a sweep then peaks at
~80 MB resident with one worker and ~130 MB with two.

Exit status (the rule of pbftsim run): 0 no seed failed within the fault
model (violations outside it are expected: counted and listed, exit 0), 1 a
seed violated a property within the fault model or could not run, 2 bad
input, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := experiment.SweepOptions{Swarm: swarm, Seeds: seeds.r, Shard: shard, Workers: workers,
				Out: out, Resume: resume, Version: version}
			if cmd.Flags().Changed("scenario") || !swarm {
				o.Scenario = scenario
			}
			if cmd.Flags().Changed("protocol") {
				o.Protocol = protocol
			}
			if os.Getenv("GOGC") == "" {
				defer debug.SetGCPercent(debug.SetGCPercent(sweep.GOGC))
			}
			ctx, stop := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			bar := &sweepBar{line: newProgressLine(cmd.ErrOrStderr(), quiet)}
			o.Progress = bar.update
			r, err := experiment.Sweep(ctx, o)
			bar.finish()
			if r == nil {
				return exitStatus(err)
			}
			w := cmd.OutOrStdout()
			r.Write(w, failures)
			fmt.Fprintf(w, "%d seeds in %v (%.0f seeds/s, %d workers)\n", r.Done, r.Elapsed.Round(time.Millisecond),
				float64(r.Done)/max(r.Elapsed.Seconds(), 1e-9), r.Workers)
			if r.Written {
				fmt.Fprintf(w, "records written to %s\n", out)
			}
			return exitStatus(err)
		},
	}
	f := cmd.Flags()
	addScenarioFlag(f, &scenario, sweep.DefaultScenario)
	addSeedsFlag(f, &seeds, sweep.Range{From: 1, To: 1000})
	addWorkersFlag(f, &workers)
	f.StringVar(&protocol, "protocol", "", "replication protocol: pbft, hotstuff or chained-hotstuff (default: the scenario's)")
	f.StringVar(&shard, "shard", "", "run only shard `I/N` of the seeds: those with (seed - A) mod N == I")
	addOutFlag(f, &out, "", "the sweep file, JSON Lines (required)")
	addFailuresFlag(f, &failures)
	addQuietFlag(f, &quiet)
	f.BoolVar(&resume, "resume", false, "continue an interrupted sweep from the complete records of FILE.partial")
	f.BoolVar(&swarm, "swarm", false, "run each seed's swarm case (knobs drawn per seed) instead of one scenario")
	return cmd
}

// sweepBar draws the sweep's progress on stderr.
type sweepBar struct{ line *progressLine }

func (b *sweepBar) update(p sweep.Progress) {
	frac := 1.0
	if p.Total > 0 {
		frac = float64(p.Done) / float64(p.Total)
	}
	eta := ""
	if r := p.Rate(); r > 0 && p.Done < p.Total {
		eta = fmt.Sprintf(", ETA %v", time.Duration(float64(p.Total-p.Done)/r*float64(time.Second)).Round(time.Second))
	}
	b.line.show(fmt.Sprintf("%s %d/%d seeds, %.0f seeds/s, %d failures, %v%s",
		bar(frac), p.Done, p.Total, p.Rate(), p.Failures, p.Elapsed.Round(time.Second), eta), p.Done == p.Total)
}

func (b *sweepBar) finish() { b.line.finish() }
