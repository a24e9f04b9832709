package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/internal/outfile"
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/reports/spacetime"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Check validates sc and builds (without running) the cluster it
// describes, and returns its configuration (scenarios.Scenario.Check): the
// one check that pbftsim validate, run and sweep apply, so that validate
// accepts exactly what the others run.
func Check(sc *scenarios.Scenario) (cluster.Config, error) { return sc.Check() }

// Options configures Run.
type Options struct {
	// Check runs the safety, liveness and accountability checkers online.
	Check bool
	// StopOnViolation ends a checked run at its first safety violation.
	StopOnViolation bool
	// Trace is a trace file to write (its name picks the format); "" none.
	// It is written atomically: an interrupted run leaves no file.
	Trace string
	// Out is the replay file written when a property is violated, with
	// the counterexample's trace and diagrams beside it ("" writes none);
	// Version is recorded in it.
	Out, Version string
	// Inputs are the files no output may overwrite (the scenario file).
	Inputs []string
	// Stop, if set, is polled between events: when it returns true the run
	// is abandoned (Ctrl-C) and Run returns Result.Interrupted.
	Stop func() bool
	// Pipeline moves the trace's compression and writing off the run's
	// goroutine, onto one of their own (internal/pipeline.Writer). Every
	// output is the same with it or without; it pays off when
	// GOMAXPROCS > 1.
	Pipeline bool
	// PipelineChecker also runs the checker on a goroutine of its own,
	// fed copies of the run's records (unless StopOnViolation, which lets
	// it stop the run). Every output is the same; measured on a quiet
	// 2-core VM it cost more CPU and wall-clock time than it saved (the
	// checker reads records and messages the run wrote on another core).
	PipelineChecker bool
}

// Result is a run of an experiment.
type Result struct {
	*properties.Outcome
	// Checked says whether the checkers ran.
	Checked bool
	// Interrupted is true when Options.Stop ended the run: then nothing
	// else is meaningful and no trace was written.
	Interrupted bool
	// Saved names the files written for a violation (nil when none).
	Saved *Saved
	// Wall is the wall-clock time of the run (outside the simulation).
	Wall time.Duration
	ro   properties.RunOptions
}

// Run checks sc and runs it as o says, and writes the replay file and
// counterexample of a violation. The error says a property was violated
// within the fault model (violations outside it are expected: no error),
// the run was interrupted (ErrInterrupted), its input is bad (*InputError)
// or an output could not be written; the result is non-nil whenever the
// run ran.
func Run(sc *scenarios.Scenario, o Options) (*Result, error) {
	cfg, err := Check(sc)
	if err != nil {
		return nil, bad(err)
	}
	if o.Out != "" {
		if err := outfile.CheckDistinct(o.Out, append(o.Inputs, o.Trace)...); err != nil {
			return nil, badField("out", "--out: %w", err)
		}
	}
	ro := properties.RunOptions{Liveness: o.Check, StopOnViolation: o.Check && o.StopOnViolation, Pipeline: o.PipelineChecker}
	var trace *spacetime.TraceWriter
	if o.Trace != "" {
		if err := outfile.CheckDistinct(o.Trace, o.Inputs...); err != nil {
			return nil, bad(fmt.Errorf("--trace: %w", err))
		}
		if trace, err = spacetime.CreateTraceWith(o.Trace, spacetime.TraceOptions{Background: o.Pipeline}); err != nil {
			return nil, bad(fmt.Errorf("--trace: %w", err))
		}
		defer trace.Abort()
		ro.Sinks = append(ro.Sinks, trace.Sink) // the encoder itself: one dynamic call a record, not two
	}
	cfg.StopWhen = o.Stop
	start := time.Now() // wall clock, outside the simulation: for the speed ratio only
	r := &Result{Checked: o.Check, ro: ro}
	if o.Check {
		r.Outcome, err = properties.RunConfig(*sc, cfg, ro)
	} else {
		cfg.Sinks = append(cfg.Sinks, ro.Sinks...)
		var res *cluster.Result
		res, err = cluster.Run(cfg)
		r.Outcome = &properties.Outcome{Scenario: *sc, Result: res}
	}
	if err != nil {
		return nil, bad(err)
	}
	r.Wall = time.Since(start)
	if o.Stop != nil && o.Stop() {
		r.Interrupted = true
		return r, interrupted(errors.New("run interrupted: no summary and no trace written"))
	}
	if trace != nil {
		if err := trace.Commit(); err != nil {
			return nil, err
		}
	}
	if !r.Failed() {
		return r, nil
	}
	if o.Out != "" {
		rerun := ro
		rerun.Sinks = nil // the trace is written: the counterexample's rerun writes its own
		if r.Saved, err = save(r.Outcome, rerun, o.Out, o.Version, o.Inputs...); err != nil {
			return r, err
		}
	}
	if r.Result.WithinFaultModel {
		return r, fmt.Errorf("property %s violated within the fault model", r.Property())
	}
	return r, nil
}

// RunOptions are the checker options the run used (to rerun it the same
// way, e.g. for its counterexample).
func (r *Result) RunOptions() properties.RunOptions { return r.ro }

// WriteReplay writes the replay file of o to path atomically, creating its
// folder; path must not be one of inputs. version is recorded in it.
func WriteReplay(o *properties.Outcome, path, version string, inputs ...string) error {
	rp := o.Replay()
	rp.Version = version
	data, err := scenarios.MarshalReplay(rp)
	if err != nil {
		return fmt.Errorf("encoding replay file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := outfile.WriteFile(path, data, inputs...); err != nil {
		if outfile.IsInputError(err) {
			return bad(err)
		}
		return err
	}
	return nil
}

// CounterexampleWindow is how much simulated time before a violation its
// diagram shows.
const CounterexampleWindow = sim.Time(300 * time.Millisecond)

// Counterexample names the files WriteCounterexample wrote.
type Counterexample struct {
	Trace, SVG, HTML string
}

// ErrNotReproduced is returned (wrapped) when a rerun for the
// counterexample's trace does not give the run's trace hash.
var ErrNotReproduced = errors.New("the run is not deterministic")

// WriteCounterexample writes, next to the replay file replayPath, the
// counterexample's trace (.trace.jsonl) and a space-time diagram zoomed to
// the events leading to the first violation (.svg, .html), with the
// violated property annotated. It reruns the scenario with a trace sink:
// the run is deterministic, so the rerun is the same run, which it checks
// by the trace hash. ro must be the options of the original run. It
// returns nil without a violation.
func WriteCounterexample(o *properties.Outcome, ro properties.RunOptions, replayPath string) (*Counterexample, error) {
	if len(o.Violations) == 0 {
		return nil, nil
	}
	base := strings.TrimSuffix(strings.TrimSuffix(replayPath, ".yaml"), ".replay")
	ce := &Counterexample{Trace: base + ".trace.jsonl", SVG: base + ".svg", HTML: base + ".html"}
	f, err := spacetime.CreateAtomic(ce.Trace)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	sink := sim.NewJSONLSink(f)
	ro.Sinks = append(ro.Sinks[:len(ro.Sinks):len(ro.Sinks)], sink)
	again, err := properties.RunScenario(o.Scenario, ro)
	if err != nil {
		return nil, fmt.Errorf("rerunning the counterexample for its trace: %w", err)
	}
	if again.TraceHash() != o.TraceHash() {
		return nil, fmt.Errorf("%w: rerunning the counterexample gave trace hash %s, not %s", ErrNotReproduced, again.TraceHash(), o.TraceHash())
	}
	if err := sink.Flush(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", ce.Trace, err)
	}
	if err := f.Commit(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", ce.Trace, err)
	}
	v := o.Violations[0]
	opts := spacetime.Options{
		From: max(0, v.Time-CounterexampleWindow), HasFrom: true,
		To: v.Time + sim.Time(time.Millisecond), HasTo: true,
		Faulty: o.Result.Faulty, Replicas: o.Result.N,
		Title: fmt.Sprintf("%s violated (seed %d)", v.Property, o.Scenario.Seed),
	}
	node := sim.NodeID(-1)
	if len(v.Replicas) > 0 {
		node = v.Replicas[0]
	}
	opts.Annotations = []spacetime.Annotation{{T: v.Time, Node: node, Text: v.Property + " violated"}}
	if _, err := spacetime.RenderFile(ce.Trace, opts, spacetime.Outputs{SVG: ce.SVG, HTML: ce.HTML}); err != nil {
		return nil, fmt.Errorf("drawing the counterexample: %w", err)
	}
	return ce, nil
}

// UntilDone makes sc run its whole workload (pbftsim run --requests N
// without --max-time): no time limit; the run ends when the workload
// completes, or stalls for longer than the liveness bound (plus the think
// time and a second) after GST, unless sc sets its own stall window.
func UntilDone(sc *scenarios.Scenario) error {
	cfg, err := sc.Config() // defaulted once, there
	if err != nil {
		return bad(err)
	}
	sc.Run.MaxTime = 0
	if sc.Run.Stall == 0 {
		sc.Run.Stall = properties.DefaultLivenessBound(cfg) + cfg.Interval + time.Second
	}
	return nil
}
