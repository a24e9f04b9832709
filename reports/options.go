// Package reports generates complexity reports for PBFT: it sweeps the number
// of replicas n over a list and several seeds per point, runs one simulation
// per (n, seed), aggregates message and byte counts per committed request, fits
// them with gonum (a log-log least-squares exponent and a quadratic), compares
// them with the closed-form PBFT counts, and writes a self-contained report
// folder (Markdown, HTML, CSV, JSON and plots).
//
// Each simulation is single-threaded and deterministic; the sweep runs points
// in parallel on a worker pool and gathers results by index, so every output
// except the wall-clock columns is identical for any number of workers.
package reports

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Runner runs one simulation. cluster.Run is the production runner; tests use
// synthetic ones. A Runner must be safe to call from several goroutines at
// once for distinct configs.
type Runner func(cluster.Config) (*cluster.Result, error)

// Options configures Generate.
type Options struct {
	// Base is the scenario's configuration. For each point N, F (reset to 0,
	// i.e. floor((N-1)/3)) and Seed are overwritten; Sinks and StopWhen are
	// dropped (they are not safe to share between parallel runs). Requests
	// defaults to DefaultRequests (QuickRequests with Quick) when zero.
	Base cluster.Config
	// Scenario is the scenario's name or path, as shown in the report.
	Scenario string
	// Nodes is the list of n to sweep. nil means DefaultNodes (QuickNodes with
	// Quick); a non-nil empty list is an error. Each n must be in
	// [MinNodes, MaxNodes], without duplicates, and at least MinPoints of them.
	Nodes []int
	// Seeds is the number of seeds per point, in [1, MaxSeeds]. Seeds are
	// Base.Seed, Base.Seed+1, ... (starting at 1 when Base.Seed is 0).
	Seeds int
	// Workers is the size of the worker pool; 0 means runtime.NumCPU().
	Workers int
	// Out is the report folder. It is replaced atomically.
	Out string
	// Quick selects a small sweep (QuickNodes, QuickRequests) when Nodes or
	// Base.Requests are not set.
	Quick bool
	// Command is the command line that regenerates the report (shown in it).
	Command string
	// Version is the pbftsim version (shown in the report).
	Version string
	// Progress, if not nil, receives a progress bar (typically stderr).
	Progress io.Writer
	// Resume continues an interrupted report from the finished runs of its
	// journal (JournalPath(Out)); without it an existing journal is an
	// error (ErrJournalExists), never deleted.
	Resume bool
	// Tolerance is the allowed relative excess of measured over closed-form
	// counts; 0 means DefaultTolerance.
	Tolerance float64
}

// Sweep defaults and limits.
const (
	MinNodes         = 4
	MaxNodes         = scenarios.MaxN // one n limit for every command
	MinPoints        = 3              // distinct n needed for an exponent with a confidence interval
	MaxSeeds         = 1000
	DefaultSeeds     = 3
	QuickSeeds       = 2
	DefaultRequests  = 32
	QuickRequests    = 16
	DefaultTolerance = 0.05
	// ExponentSlack is how far above 2 (or above the closed form's own
	// log-log slope on the same n list) the fitted exponent may be.
	ExponentSlack = 0.05
	// defaultCheckpointInterval mirrors cluster's documented default K.
	defaultCheckpointInterval = 16
)

// DefaultNodes is the default list of n.
var DefaultNodes = []int{4, 7, 10, 13, 16, 22, 31, 43, 64, 100}

// QuickNodes is the list of n of a quick sweep.
var QuickNodes = []int{4, 7, 10, 13}

// InputError reports bad input; Field names the option (CLI flag name) at
// fault. The CLI maps it to exit status 2.
type InputError struct {
	Field  string // "nodes", "seeds", "workers", "out", "tolerance"
	Reason string // what is wrong and the allowed range
}

// Error implements error.
func (e *InputError) Error() string {
	return fmt.Sprintf("report: invalid %s: %s", e.Field, e.Reason)
}

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// plan is the validated, defaulted form of Options.
type plan struct {
	opt       Options
	nodes     []int
	seeds     []uint64
	workers   int
	tolerance float64
	base      cluster.Config
	batch     int
	k         int
}

// point is one (n, seed) simulation of the sweep.
type point struct {
	n    int
	seed uint64
}

func (p *plan) points() []point {
	pts := make([]point, 0, len(p.nodes)*len(p.seeds))
	for _, n := range p.nodes {
		for _, s := range p.seeds {
			pts = append(pts, point{n: n, seed: s})
		}
	}
	return pts
}

// config returns the run configuration of one point.
func (p *plan) config(pt point) cluster.Config {
	c := p.base
	c.N = pt.n
	c.F = 0
	c.Seed = pt.seed
	c.Sinks = nil
	c.StopWhen = nil
	c.Crashes = append(c.Crashes[:0:0], c.Crashes...)
	c.Byzantine = append(c.Byzantine[:0:0], c.Byzantine...)
	c.NetRules = append(c.NetRules[:0:0], c.NetRules...)
	return c
}

func newPlan(opt Options, numCPU int) (*plan, error) {
	p := &plan{opt: opt}
	nodes := opt.Nodes
	if nodes == nil {
		nodes = DefaultNodes
		if opt.Quick {
			nodes = QuickNodes
		}
	}
	if len(nodes) == 0 {
		return nil, inputErr("nodes", "empty list; give at least %d values of n in [%d, %d], e.g. 4,7,10,13", MinPoints, MinNodes, MaxNodes)
	}
	seen := map[int]bool{}
	for _, n := range nodes {
		if n < MinNodes || n > MaxNodes {
			return nil, inputErr("nodes", "n=%d out of range: each n must be in [%d, %d] (PBFT needs n >= 3f+1 with f >= 1)", n, MinNodes, MaxNodes)
		}
		if seen[n] {
			return nil, inputErr("nodes", "n=%d listed twice", n)
		}
		seen[n] = true
	}
	if len(nodes) < MinPoints {
		return nil, inputErr("nodes", "%d distinct values of n; at least %d are needed to fit an exponent with a confidence interval", len(nodes), MinPoints)
	}
	p.nodes = append([]int(nil), nodes...)
	slices.Sort(p.nodes)

	if opt.Seeds < 1 || opt.Seeds > MaxSeeds {
		return nil, inputErr("seeds", "%d seeds per point; must be in [1, %d]", opt.Seeds, MaxSeeds)
	}
	start := opt.Base.Seed
	if start == 0 {
		start = 1
	}
	for i := 0; i < opt.Seeds; i++ {
		p.seeds = append(p.seeds, start+uint64(i))
	}

	switch {
	case opt.Workers < 0:
		return nil, inputErr("workers", "%d workers; must be >= 0 (0 means one per CPU)", opt.Workers)
	case opt.Workers == 0:
		p.workers = max(numCPU, 1)
	default:
		p.workers = opt.Workers
	}

	p.tolerance = opt.Tolerance
	if p.tolerance == 0 {
		p.tolerance = DefaultTolerance
	}
	if p.tolerance < 0 || p.tolerance > 10 || p.tolerance != p.tolerance {
		return nil, inputErr("tolerance", "%v; must be in (0, 10]", opt.Tolerance)
	}

	if opt.Out == "" {
		return nil, inputErr("out", "no output folder given")
	}

	p.base = opt.Base
	if p.base.Requests == 0 {
		p.base.Requests = DefaultRequests
		if opt.Quick {
			p.base.Requests = QuickRequests
		}
	}
	p.batch = max(p.base.Batch, 1)
	p.k = p.base.CheckpointInterval
	if p.k <= 0 {
		p.k = defaultCheckpointInterval
	}
	return p, nil
}

// runOne runs one point and measures its wall-clock time (outside the
// simulation; the wall time never enters compared results).
func runOne(ctx context.Context, run Runner, cfg cluster.Config) (*cluster.Result, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	res, err := run(cfg)
	return res, time.Since(start), err
}
