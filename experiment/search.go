package experiment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// DefaultSearchRuns is the number of cases of a search given neither Runs
// nor Budget.
const DefaultSearchRuns = 500

// SearchOptions configures Search: the property search of pbftsim check,
// on the correct protocol.
type SearchOptions struct {
	// Runs stops after this many cases, Budget after this much wall-clock
	// time: give one of them (neither: DefaultSearchRuns cases).
	Runs   int
	Budget time.Duration
	Seed   uint64
	// Protocol of the generated scenarios: "" or "pbft", "hotstuff",
	// "chained-hotstuff".
	Protocol string
	// OptimalN generates only n = 3f+1.
	OptimalN bool
	// Guided makes the search coverage-guided (properties.SearchOptions).
	Guided bool
	// Out is the replay file written for a failure, with its
	// counterexample beside it ("" writes none); Version is recorded in it.
	Out, Version string
	// Progress, if set, is called after each case.
	Progress func(done int, elapsed time.Duration)
}

// SearchResult is what Search found.
type SearchResult struct {
	*properties.SearchReport
	// Seed and Budget are the search's.
	Seed   uint64
	Budget time.Duration
	// Saved names the files written for the failure (nil when none).
	Saved *Saved
	// Interrupted is true when the context stopped the search without a
	// failure: the cases that finished passed.
	Interrupted bool
}

// Search runs the property search o describes (properties.Search) and
// writes the replay file and counterexample of its failure. The error
// says how the search ended when that is not "every case passed": a
// violation, nothing checked (no case finished within the budget), an
// interrupted search (ErrInterrupted) or bad options (*InputError); the
// result is non-nil whenever the search ran.
func Search(ctx context.Context, o SearchOptions) (*SearchResult, error) {
	switch {
	case o.Runs < 0:
		return nil, badField("runs", "--runs %d is out of range: want a number of cases >= 1", o.Runs)
	case o.Budget < 0:
		return nil, badField("budget", "--budget %v is out of range: want a positive duration, e.g. 30s", o.Budget)
	case o.Runs > 0 && o.Budget > 0:
		return nil, badField("runs", "--runs and --budget: give one of them")
	case o.Runs == 0 && o.Budget == 0:
		o.Runs = DefaultSearchRuns
	}
	gen := properties.SearchConfig()
	gen.OnlyOptimalN = o.OptimalN
	if o.Protocol != "" && o.Protocol != cluster.ProtocolPBFT {
		if !slices.Contains(cluster.Protocols, o.Protocol) {
			return nil, badField("protocol", "--protocol: unknown protocol %q: want one of %s", o.Protocol, strings.Join(cluster.Protocols, ", "))
		}
		gen.Protocol = o.Protocol
	}
	rep, err := properties.Search(ctx, properties.SearchOptions{
		Runs: o.Runs, Budget: o.Budget, Seed: o.Seed, Progress: o.Progress,
		Gen: gen, Guided: o.Guided,
	})
	if err != nil {
		return nil, err
	}
	r := &SearchResult{SearchReport: rep, Seed: o.Seed, Budget: o.Budget}
	switch {
	case rep.Failure != nil:
		if r.Saved, err = saveFinding(rep.Failure, o.Out, o.Version); err != nil {
			return r, err
		}
		return r, fmt.Errorf("property %s violated", rep.Failure.Property)
	case ctx.Err() != nil:
		r.Interrupted = true
		return r, interrupted(fmt.Errorf("check interrupted: %d cases checked", rep.Cases))
	case rep.Cases == 0:
		return r, fmt.Errorf("--budget %v: no case finished, nothing was checked (want a longer budget, e.g. 30s)", o.Budget)
	}
	return r, nil
}

// Saved names the files written for a failure.
type Saved struct {
	// Replay is the replay file.
	Replay string
	// Counterexample names the trace and diagrams beside it (nil when
	// they could not be written: the error says why).
	*Counterexample
}

// saveFinding writes the replay file of a search's finding to out ("":
// none) and its counterexample beside it. The finding's run stopped at its
// first violation with liveness judged (properties.RunOptions).
func saveFinding(f *properties.Finding, out, version string) (*Saved, error) {
	if out == "" {
		return nil, nil
	}
	return save(f.Outcome, properties.RunOptions{Liveness: true, StopOnViolation: true}, out, version)
}

// save writes the replay file of o to path, then its counterexample beside
// it; ro are the options o was run with, inputs the files path must not be.
// On an error, the files written so far are named.
func save(o *properties.Outcome, ro properties.RunOptions, path, version string, inputs ...string) (*Saved, error) {
	if err := WriteReplay(o, path, version, inputs...); err != nil {
		return nil, err
	}
	s := &Saved{Replay: path}
	ce, err := WriteCounterexample(o, ro, path)
	s.Counterexample = ce
	return s, err
}
