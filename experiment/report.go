package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/internal/shquote"
	"github.com/pbftsim/pbftsim/reports"
	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// DefaultReportScenario is the scenario of a report given none.
const DefaultReportScenario = "fault-free"

// ReportOptions configures Report: a message-complexity sweep over n and
// seeds and its report folder (pbftsim report).
type ReportOptions struct {
	// Scenario is a built-in scenario's name or a scenario file (""
	// DefaultReportScenario, with the report's own request count).
	Scenario string
	// Nodes are the n to sweep (nil: reports.DefaultNodes, QuickNodes
	// with Quick).
	Nodes []int
	// Seeds are the seeds of each n (nil: 1..reports.DefaultSeeds,
	// 1..QuickSeeds with Quick).
	Seeds *sweep.Range
	// Requests per run (nil: the scenario's; the report's default for the
	// default scenario).
	Requests *int
	// Quick selects the small sweep where Nodes, Seeds or Requests are
	// not given.
	Quick bool
	// Bandwidth is every node's egress rate, e.g. "100Mbit" ("": the
	// scenario's).
	Bandwidth string
	// Protocols, comma-separated, writes a comparison report over the
	// same sweep ("": the report of the scenario's protocol).
	Protocols string
	Workers   int // 0: one per CPU
	// Out is the report folder (required), replaced atomically; Resume
	// continues an interrupted report from its finished runs.
	Out    string
	Resume bool
	// Version is shown in the report; Progress receives a progress bar.
	Version  string
	Progress io.Writer
	// Runner runs one simulation (nil: cluster.Run).
	Runner reports.Runner
}

// ReportResult is the report written: Summary for PBFT's report,
// Comparison for a comparison (or a HotStuff scenario's report).
type ReportResult struct {
	Summary    *reports.Summary
	Comparison *reports.ProtocolComparison
}

// Report checks o, runs the sweep and writes the report folder. A
// scenario of a HotStuff protocol gets its protocol's report (a comparison
// of one). The error is an *InputError for bad options or a journal left
// by an interrupted report without Resume, wraps ErrInterrupted when the
// context stopped the sweep, and otherwise says which run failed.
func Report(ctx context.Context, o ReportOptions) (*ReportResult, error) {
	field := func(name, reason string) error {
		return &InputError{Field: name, Err: &reports.InputError{Field: name, Reason: reason}}
	}
	if o.Out == "" {
		return nil, field("out", "required: the report folder to write, e.g. --out report")
	}
	seeds := sweep.Range{From: 1, To: reports.DefaultSeeds}
	switch {
	case o.Seeds != nil:
		seeds = *o.Seeds
	case o.Quick:
		seeds = sweep.Range{From: 1, To: reports.QuickSeeds}
	}
	if seeds.From == 0 || seeds.To-seeds.From >= reports.MaxSeeds {
		return nil, field("seeds", fmt.Sprintf("%s: want seeds from 1, at most %d of them", seeds, reports.MaxSeeds))
	}
	if o.Requests != nil && *o.Requests < 1 {
		return nil, field("requests", fmt.Sprintf("%d; must be >= 1", *o.Requests))
	}
	name := o.Scenario
	if name == "" {
		name = DefaultReportScenario
	}
	sc, err := scenarios.Load(name)
	if err != nil {
		return nil, badField("scenario", "--scenario: %w", err)
	}
	base, err := sc.Config()
	if err != nil {
		return nil, badField("scenario", "--scenario %s: %w", name, err)
	}
	if o.Bandwidth != "" {
		b, err := sim.ParseBandwidth(o.Bandwidth)
		if err != nil {
			return nil, badField("bandwidth", "--bandwidth: %w", err)
		}
		base.Network.Bandwidth = b
	}
	switch {
	case o.Requests != nil:
		base.Requests = *o.Requests
	case o.Scenario == "":
		base.Requests = 0 // the report's default (reports.DefaultRequests / QuickRequests)
		base.Payments = 0
	}
	base.Seed = seeds.From
	opt := reports.Options{Base: base, Scenario: name, Nodes: o.Nodes, Seeds: int(seeds.To - seeds.From + 1),
		Workers: o.Workers, Out: o.Out, Quick: o.Quick, Version: o.Version, Progress: o.Progress, Resume: o.Resume}
	opt.Command = o.command(opt)
	run := o.Runner
	if run == nil {
		run = cluster.Run
	}
	run = regionRunner(sc, run)
	protocols := o.Protocols
	if protocols == "" && cluster.IsHotStuff(base.Protocol) {
		// PBFT's report judges PBFT's closed forms and bounds: a HotStuff
		// scenario gets the protocol report of its own protocol (its
		// closed form, fits, view change), as in a comparison.
		protocols = base.Protocol
	}
	if protocols != "" {
		var protos []string
		for _, p := range strings.Split(protocols, ",") {
			if p = strings.TrimSpace(p); p != "" {
				protos = append(protos, p)
			}
		}
		c, err := reports.CompareProtocols(ctx, opt, protos, run)
		if err != nil {
			return nil, reportError(err, " (a comparison keeps no runs: rerun it)")
		}
		return &ReportResult{Comparison: c}, nil
	}
	s, err := reports.Generate(ctx, opt, run)
	if err != nil {
		return nil, reportError(err, "")
	}
	return &ReportResult{Summary: s}, nil
}

// reportError classes an error of the reports package; an interruption's
// message gets note.
func reportError(err error, note string) error {
	var ie *reports.InputError
	switch {
	case errors.As(err, &ie):
		return &InputError{Field: ie.Field, Err: err}
	case errors.Is(err, reports.ErrJournalExists):
		return &InputError{Field: "resume", Err: err}
	case errors.Is(err, reports.ErrInterrupted):
		if note != "" {
			err = fmt.Errorf("%w%s", err, note)
		}
		return interrupted(err)
	}
	return err
}

// command is the command line that regenerates the report opt: every
// setting that affects the results, made explicit.
func (o *ReportOptions) command(opt reports.Options) string {
	args := []string{"pbftsim", "report"}
	if o.Scenario != "" {
		args = append(args, "--scenario", shquote.Quote(o.Scenario))
	}
	nodes := opt.Nodes
	if nodes == nil {
		nodes = reports.DefaultNodes
		if o.Quick {
			nodes = reports.QuickNodes
		}
	}
	var ns []string
	for _, n := range nodes {
		ns = append(ns, strconv.Itoa(n))
	}
	args = append(args, "--nodes", shquote.Quote(strings.Join(ns, ",")), "--seeds", fmt.Sprintf("%d..%d", opt.Base.Seed, opt.Base.Seed+uint64(opt.Seeds)-1))
	if o.Requests != nil {
		args = append(args, "--requests", strconv.Itoa(*o.Requests))
	}
	if o.Quick {
		args = append(args, "--quick")
	}
	if o.Bandwidth != "" {
		args = append(args, "--bandwidth", shquote.Quote(o.Bandwidth))
	}
	if o.Protocols != "" {
		args = append(args, "--protocols", shquote.Quote(o.Protocols))
	}
	return strings.Join(append(args, "--out", shquote.Quote(o.Out)), " ")
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
