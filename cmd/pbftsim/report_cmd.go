package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/reports"
	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// reportRunner runs one simulation of a report sweep (tests replace it).
var reportRunner reports.Runner = cluster.Run

type reportFlags struct {
	scenario, out     string
	protocols         string
	bandwidth         string
	nodes             nodesValue
	seeds             seedsValue
	workers, requests int
	quick, quiet      bool
	resume            bool
}

func newReportCmd() *cobra.Command {
	var fl reportFlags
	cmd := &cobra.Command{
		Use:   "report --out DIR",
		Short: "Sweep n and seeds, fit message complexity with gonum, write a report folder",
		Long: `Run a scenario for every n in --nodes and every seed of --seeds (in parallel on
--workers cores; results do not depend on the number of workers), measure
messages and bytes per committed request by type and phase, messages per view
change, latency and throughput, fit messages per request against n (log-log
exponent with 95% CI and R², and a·n²+b·n+c) and compare them with the
closed-form PBFT counts: 2n²−n+1 per request, n(n−1) per checkpoint round,
n²−1 per view change.

The report folder (replaced atomically) holds report.md, report.html
(self-contained), results.csv and results.json (one row per run),
summary.json (fit.exponent, fit.exponent_ci, fit.r2, within_bound, ...) and
plots as PNG and SVG.

Without --scenario the built-in "fault-free" scenario runs with 32 requests
(16 with --quick) so that checkpoints happen; a given scenario keeps its own
request count. --requests overrides both. --quick sweeps n=4,7,10,13 with
seeds 1..2 unless --nodes or --seeds say otherwise.

Ctrl-C keeps the finished runs in OUT.runs.partial (exit 130); the same
command with --resume runs only the rest. Without --resume an existing
OUT.runs.partial is refused, never deleted.

Exit status: 0 report written, 1 a run failed, 2 bad input, 130 interrupted.`,
		Example: `  pbftsim report --quick --out report
  pbftsim report --scenario lossy-wan --nodes 4,7,10,13,16 --seeds 1..5 --out lossy
  pbftsim report --scenario my.yaml --out my-report`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd, &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.scenario, "scenario", "", `built-in scenario name (pbftsim scenarios) or scenario file (default "fault-free")`)
	addNodesFlag(f, &fl.nodes, nil, "at least 3 (default 4,7,10,13,16,22,31,43,64,100; --quick: 4,7,10,13)")
	addSeedsFlag(f, &fl.seeds, sweep.Range{From: 1, To: reports.DefaultSeeds})
	addWorkersFlag(f, &fl.workers)
	f.IntVar(&fl.requests, "requests", 0, "requests per run, >= 1 (default: the scenario's, or 32 / 16 with --quick for the default scenario)")
	f.BoolVar(&fl.quick, "quick", false, "small sweep that finishes in seconds")
	addQuietFlag(f, &fl.quiet)
	f.BoolVar(&fl.resume, "resume", false, "continue an interrupted report from the finished runs it kept (OUT.runs.partial)")
	addOutFlag(f, &fl.out, "", "the report folder to create or replace (required)")
	f.StringVar(&fl.bandwidth, "bandwidth", "", "every node's egress `RATE` for the sweep (e.g. 100Mbit; default: the scenario's): the report then shows bytes/s per replica, queueing and where the view change's bytes become the bottleneck")
	f.StringVar(&fl.protocols, "protocols", "", "compare protocols over the same sweep, e.g. pbft,hotstuff (writes a comparison report)")
	return cmd
}

func runReport(cmd *cobra.Command, fl *reportFlags) error {
	flags := cmd.Flags()
	prog := newProgressLine(cmd.ErrOrStderr(), fl.quiet)
	o := experiment.ReportOptions{Scenario: fl.scenario, Quick: fl.quick, Bandwidth: fl.bandwidth, Protocols: fl.protocols,
		Workers: fl.workers, Out: fl.out, Resume: fl.resume, Version: buildVersion(), Progress: prog, Runner: reportRunner}
	if flags.Changed("nodes") {
		o.Nodes = fl.nodes.ns
	}
	if flags.Changed("seeds") {
		o.Seeds = &fl.seeds.r
	}
	if flags.Changed("requests") {
		o.Requests = &fl.requests
	}
	// Ctrl-C stops the sweep: the finished runs are kept for --resume and
	// an existing report folder stays as it was.
	ctx, _, release := stopOnSignal(cmd)
	defer release()
	r, err := experiment.Report(ctx, o)
	prog.finish()
	if err != nil {
		return exitStatus(err)
	}
	w := cmd.OutOrStdout()
	if c := r.Comparison; c != nil {
		if len(c.Protocols) == 1 {
			fmt.Fprintf(w, "%s report written to %s\n", c.Protocols[0].Protocol, c.Out)
		} else {
			fmt.Fprintf(w, "comparison report written to %s\n", c.Out)
		}
		for _, p := range c.Protocols {
			fmt.Fprintf(w, "%s: messages/request ~ n^%.3f (95%% CI [%.3f, %.3f]), bytes/request ~ n^%.3f; closed form %s, exact: %v\n",
				p.Protocol, p.MessagesFit.Exponent, p.MessagesFit.ExponentCI[0], p.MessagesFit.ExponentCI[1], p.BytesFit.Exponent, p.ClosedForm, p.Exact)
		}
		return nil
	}
	s := r.Summary
	fmt.Fprintf(w, "report written to %s\n", s.Out)
	fmt.Fprintf(w, "messages/request ~ n^%.3f (95%% CI [%.3f, %.3f], R² %.4f); closed form %s; within O(n²) bound: %v; constants within tolerance: %v\n",
		s.Fit.Exponent, s.Fit.ExponentCI[0], s.Fit.ExponentCI[1], s.Fit.R2, s.ClosedForm.Formula, s.WithinBound, s.ConstantsWithin)
	fmt.Fprintln(w, s.Verdict)
	if b := s.Bandwidth; b != nil {
		fmt.Fprintf(w, "bandwidth %v: ", sim.Bandwidth(b.Egress))
		switch {
		case b.BottleneckN > 0:
			fmt.Fprintf(w, "the view change's bytes outlast two message delays from n = %d on", b.BottleneckN)
		case !b.ViewChanges:
			fmt.Fprint(w, "no run changed view, so the view change's bytes were not measured")
		default:
			fmt.Fprint(w, "the view change's bytes outlast two message delays at no n of the sweep")
		}
		if b.FitCrossoverN > 0 {
			fmt.Fprintf(w, " (fit: n ≈ %.3g)", b.FitCrossoverN)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// buildVersion is the pbftsim version with the VCS revision when the binary
// was built from a repository.
func buildVersion() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + dirty + ")"
	}
	return v
}
