package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/internal/shquote"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/reports"
	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// reportRunner runs one simulation of a report sweep (tests replace it).
var reportRunner reports.Runner = cluster.Run

// defaultReportScenario is the scenario of `pbftsim report` without --scenario.
const defaultReportScenario = "fault-free"

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
	bad := func(err error) error { return &exitError{code: 2, err: err} }
	flags := cmd.Flags()
	if fl.out == "" {
		return bad(&reports.InputError{Field: "out", Reason: "required: the report folder to write, e.g. --out report"})
	}
	prog := newProgressLine(cmd.ErrOrStderr(), fl.quiet)
	seeds := fl.seeds.r
	if fl.quick && !flags.Changed("seeds") {
		seeds = sweep.Range{From: 1, To: reports.QuickSeeds}
	}
	if seeds.From == 0 || seeds.To-seeds.From >= reports.MaxSeeds {
		return bad(&reports.InputError{Field: "seeds", Reason: fmt.Sprintf("%s: want seeds from 1, at most %d of them", seeds, reports.MaxSeeds)})
	}
	opt := reports.Options{Seeds: int(seeds.To - seeds.From + 1), Workers: fl.workers, Out: fl.out, Quick: fl.quick,
		Version: buildVersion(), Progress: prog}
	if flags.Changed("nodes") {
		opt.Nodes = fl.nodes.ns
	}
	if flags.Changed("requests") && fl.requests < 1 {
		return bad(&reports.InputError{Field: "requests", Reason: fmt.Sprintf("%d; must be >= 1", fl.requests)})
	}

	name := fl.scenario
	if name == "" {
		name = defaultReportScenario
	}
	sc, err := scenarios.Load(name)
	if err != nil {
		return bad(fmt.Errorf("--scenario: %w", err))
	}
	base, err := sc.Config()
	if err != nil {
		return bad(fmt.Errorf("--scenario %s: %w", name, err))
	}
	if flags.Changed("bandwidth") {
		b, err := sim.ParseBandwidth(fl.bandwidth)
		if err != nil {
			return bad(fmt.Errorf("--bandwidth: %w", err))
		}
		base.Network.Bandwidth = b
	}
	switch {
	case flags.Changed("requests"):
		base.Requests = fl.requests
	case fl.scenario == "":
		base.Requests = 0 // the report's default (reports.DefaultRequests / QuickRequests)
		base.Payments = 0
	}
	base.Seed = seeds.From
	opt.Base, opt.Scenario = base, name
	opt.Command = reportCommand(fl, flags.Changed("requests"), opt)
	hotstuffOnly := cluster.IsHotStuff(base.Protocol) && !flags.Changed("protocols")
	if hotstuffOnly {
		// PBFT's report judges PBFT's closed forms and bounds: a HotStuff
		// scenario gets the protocol report of its own protocol (its
		// closed form, fits, view change), as in a comparison.
		fl.protocols = base.Protocol
	}

	// Ctrl-C stops the sweep: the finished runs are kept for --resume and
	// an existing report folder stays as it was.
	ctx, _, release := stopOnSignal(cmd)
	defer release()
	opt.Resume = fl.resume
	if flags.Changed("protocols") || hotstuffOnly {
		return runCompareProtocols(ctx, cmd, fl, opt, regionRunner(sc, reportRunner))
	}
	s, err := reports.Generate(ctx, opt, regionRunner(sc, reportRunner))
	prog.finish()
	var ie *reports.InputError
	switch {
	case errors.As(err, &ie), errors.Is(err, reports.ErrJournalExists):
		return bad(err)
	case errors.Is(err, reports.ErrInterrupted):
		return &exitError{code: exitInterrupted, err: err}
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
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

// runCompareProtocols writes the comparison report of --protocols.
func runCompareProtocols(ctx context.Context, cmd *cobra.Command, fl *reportFlags, opt reports.Options, run reports.Runner) error {
	var protos []string
	for _, p := range strings.Split(fl.protocols, ",") {
		if p = strings.TrimSpace(p); p != "" {
			protos = append(protos, p)
		}
	}
	c, err := reports.CompareProtocols(ctx, opt, protos, run)
	var ie *reports.InputError
	switch {
	case errors.As(err, &ie):
		return &exitError{code: 2, err: err}
	case errors.Is(err, reports.ErrInterrupted):
		return &exitError{code: exitInterrupted, err: fmt.Errorf("%w (a comparison keeps no runs: rerun it)", err)}
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
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

// reportCommand is the command line that regenerates the report: every
// setting that affects the results, made explicit.
func reportCommand(fl *reportFlags, requestsGiven bool, opt reports.Options) string {
	args := []string{"pbftsim", "report"}
	if fl.scenario != "" {
		args = append(args, "--scenario", shquote.Quote(fl.scenario))
	}
	nodes := opt.Nodes
	if nodes == nil {
		nodes = reports.DefaultNodes
		if fl.quick {
			nodes = reports.QuickNodes
		}
	}
	var ns []string
	for _, n := range nodes {
		ns = append(ns, strconv.Itoa(n))
	}
	args = append(args, "--nodes", shquote.Quote(strings.Join(ns, ",")), "--seeds", fmt.Sprintf("%d..%d", opt.Base.Seed, opt.Base.Seed+uint64(opt.Seeds)-1))
	if requestsGiven {
		args = append(args, "--requests", strconv.Itoa(fl.requests))
	}
	if fl.quick {
		args = append(args, "--quick")
	}
	if fl.bandwidth != "" {
		args = append(args, "--bandwidth", shquote.Quote(fl.bandwidth))
	}
	if fl.protocols != "" {
		args = append(args, "--protocols", shquote.Quote(fl.protocols))
	}
	return strings.Join(append(args, "--out", shquote.Quote(fl.out)), " ")
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

// regionRunner returns run for a scenario without network.regions. With
// regions, the scenario's per-link delays cover only its own n replicas (and
// clients), so each run of the sweep gets the links of its own n: replica i
// in region Replicas[i mod len], as for the scenario itself; the scenario's
// links[] overrides are kept.
func regionRunner(sc *scenarios.Scenario, run reports.Runner) reports.Runner {
	if sc.Network.Regions == nil {
		return run
	}
	return func(c cluster.Config) (*cluster.Result, error) {
		s := *sc
		s.N, s.F = c.N, 0
		cfg, err := s.Config()
		if err != nil {
			return nil, fmt.Errorf("regions at n=%d: %w", c.N, err)
		}
		c.Network.Links = cfg.Network.Links
		return run(c)
	}
}
