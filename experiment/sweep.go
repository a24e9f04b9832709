package experiment

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/internal/outfile"
	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// SetProtocol sets sc's protocol from a --protocol option: "pbft",
// "hotstuff" or "chained-hotstuff".
func SetProtocol(sc *scenarios.Scenario, name string) error {
	if !slices.Contains(cluster.Protocols, name) {
		return badField("protocol", "--protocol: unknown protocol %q: want one of %s", name, strings.Join(cluster.Protocols, ", "))
	}
	if name == cluster.ProtocolPBFT {
		name = ""
	}
	// Another protocol's strategies and variant do not carry over.
	sc.Protocol.Name = name
	return nil
}

// SweepOptions configures Sweep: one scenario over a range of seeds
// (pbftsim sweep).
type SweepOptions struct {
	// Scenario is a built-in scenario's name or a scenario file (""
	// sweep.DefaultScenario); with Swarm it must be "".
	Scenario string
	// Swarm runs each seed's swarm case instead of one scenario.
	Swarm bool
	// Protocol replaces the scenario's protocol ("" keeps it; not with
	// Swarm).
	Protocol string
	Seeds    sweep.Range
	// Shard is "I/N" to run only a shard of the seeds ("" all of them).
	Shard   string
	Workers int // 0: one per CPU
	// Out is the sweep file (required); Resume continues its partial file.
	Out    string
	Resume bool
	// Version is recorded in the file's header.
	Version  string
	Progress func(sweep.Progress)
}

// SweepResult is a sweep's aggregate and how it ran.
type SweepResult struct {
	*sweep.Aggregate
	// Elapsed is the sweep's wall-clock time; Workers the simulations run
	// at once.
	Elapsed time.Duration
	Workers int
	// Written is true when the sweep file is complete at Out.
	Written bool
}

// Sweep checks o, runs the sweep into o.Out (sweep.RunFile) and aggregates
// it. The error says the sweep was interrupted (ErrInterrupted: the
// complete records stay in the partial file), could not run or write, or
// that seeds failed within the fault model (violations outside it are
// expected and no error); the result is non-nil whenever records were
// aggregated.
func Sweep(ctx context.Context, o SweepOptions) (*SweepResult, error) {
	sh := sweep.Whole
	if o.Shard != "" {
		var err error
		if sh, err = sweep.ParseShard(o.Shard); err != nil {
			return nil, &InputError{Field: "shard", Err: err}
		}
	}
	if o.Workers < 0 {
		return nil, badField("workers", "--workers %d is out of range: want at least 1 (0: one per CPU)", o.Workers)
	}
	if o.Out == "" {
		return nil, badField("out", "--out: want the output file, e.g. --out sweep.jsonl")
	}
	var sc *scenarios.Scenario
	arg := o.Scenario
	switch {
	case o.Swarm && arg != "":
		return nil, badField("scenario", "--swarm and --scenario: give one of them (--swarm draws a scenario per seed)")
	case o.Swarm && o.Protocol != "":
		return nil, badField("protocol", "--protocol: not with --swarm (swarm cases are PBFT's; use pbftsim check --protocol hotstuff)")
	case o.Swarm:
		arg = sweep.SwarmScenario
	default:
		if arg == "" {
			arg = sweep.DefaultScenario
		}
		var err error
		if sc, err = scenarios.Load(arg); err != nil {
			return nil, &InputError{Field: "scenario", Err: err}
		}
		if o.Protocol != "" {
			if err := SetProtocol(sc, o.Protocol); err != nil {
				return nil, err
			}
		}
	}
	if err := outfile.CheckDistinct(o.Out, arg); err != nil {
		return nil, badField("out", "--out: %w", err)
	}
	r := &SweepResult{Workers: o.Workers}
	if r.Workers == 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now() // wall clock, outside the simulations: for the rate only
	agg, err := sweep.RunFile(ctx, sweep.Options{Scenario: sc, ScenarioArg: arg, Seeds: o.Seeds, Shard: sh,
		Workers: o.Workers, Version: o.Version, Progress: o.Progress, Swarm: o.Swarm, Resume: o.Resume}, o.Out)
	r.Elapsed = time.Since(start)
	switch {
	case agg == nil:
		return nil, bad(err)
	case errors.Is(err, sweep.ErrInterrupted):
		r.Aggregate = agg
		return r, interrupted(err)
	case err != nil:
		r.Aggregate = agg
		return r, err
	}
	r.Aggregate, r.Written = agg, true
	return r, judgeSweep(agg, o.Out)
}

// judgeSweep is the verdict of a sweep file (the rule of pbftsim run, per
// seed): a failure when a seed violated a property within the fault model
// or could not run; violations outside it are expected.
func judgeSweep(agg *sweep.Aggregate, file string) error {
	if agg.Unexpected() > 0 {
		return fmt.Errorf("%d of %d seeds failed within the fault model (see %s)", agg.Unexpected(), agg.Done, file)
	}
	return nil
}

// Merge checks the shard files parts of one sweep and writes to out the
// file the sweep without shards writes (sweep.Merge), and aggregates it.
// Parts that cannot be merged are bad input (*InputError); the error then
// says whether a seed failed within the fault model, as Sweep's does.
func Merge(out string, parts []string) (*sweep.Aggregate, error) {
	if out == "" {
		return nil, badField("out", "--out: want the merged file")
	}
	if err := outfile.CheckDistinct(out, parts...); err != nil {
		return nil, badField("out", "--out: %w", err)
	}
	agg, err := sweep.Merge(out, parts)
	if err != nil {
		return nil, bad(err)
	}
	return agg, judgeSweep(agg, out)
}
