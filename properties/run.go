package properties

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// RunOptions configures RunScenario.
type RunOptions struct {
	// Liveness checks liveness when the scenario is within the fault model
	// (see WithinFaultModel), with LivenessBound or DefaultLivenessBound.
	Liveness      bool
	LivenessBound time.Duration
	// StopOnViolation ends the run at the first safety violation.
	StopOnViolation bool
	// Sinks also receive the trace (e.g. a JSON Lines writer).
	Sinks []sim.Sink
	// Reuse, if set, is Reset and used as the run's checker instead of a
	// new one, so that a loop of runs (one sweep worker) reuses its
	// memory. It must not be used by another run at the same time.
	Reuse *Checker
}

// Outcome is the verdict of one checked run.
type Outcome struct {
	Scenario   scenarios.Scenario
	Result     *cluster.Result
	Violations []Violation
	Accused    []Accusation
	// LivenessChecked is true when liveness was judged.
	LivenessChecked bool
}

// Failed reports whether any property was violated.
func (o *Outcome) Failed() bool { return len(o.Violations) > 0 }

// Verdict is "ok" or "violation".
func (o *Outcome) Verdict() string {
	if o.Failed() {
		return "violation"
	}
	return "ok"
}

// Property is the first violated property ("" when none).
func (o *Outcome) Property() string {
	if len(o.Violations) == 0 {
		return ""
	}
	return o.Violations[0].Property
}

// TraceHash is the run's trace hash.
func (o *Outcome) TraceHash() string {
	if o.Result == nil {
		return ""
	}
	return o.Result.TraceHash
}

// Replay returns the replay record of the run.
func (o *Outcome) Replay() *scenarios.Replay {
	return &scenarios.Replay{Scenario: o.Scenario, Seed: o.Scenario.Seed, TraceHash: o.TraceHash(),
		Verdict: o.Verdict(), Property: o.Property(), Variant: o.Scenario.Protocol.Variant}
}

// WriteReplay writes the run's replay file (scenario, seed, trace hash and
// verdict) to path, atomically: a temporary file beside it, synced, then
// renamed, so a reader never sees half a replay file.
func (o *Outcome) WriteReplay(path string) error {
	data, err := scenarios.MarshalReplay(o.Replay())
	if err != nil {
		return fmt.Errorf("encoding replay: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing replay file: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing replay file %s: %w", path, err)
	}
	return nil
}

// Summary describes the outcome in a few lines.
func (o *Outcome) Summary() string {
	s := fmt.Sprintf("verdict %s, trace hash %s", o.Verdict(), o.TraceHash())
	for i, v := range o.Violations {
		if i == 3 {
			s += fmt.Sprintf("\n  ... and %d more", len(o.Violations)-3)
			break
		}
		s += "\n  " + v.String()
	}
	for _, a := range o.Accused {
		s += "\n  accused " + a.String()
	}
	return s
}

// DefaultLivenessBound is the default liveness bound of a run: long enough
// for f consecutive view changes with doubling timeouts plus client
// retransmissions, after GST.
func DefaultLivenessBound(c cluster.Config) time.Duration {
	c = c.WithDefaults()
	vc := c.ViewChangeTimeout << uint(min(c.F+2, 10))
	return vc + 10*c.ClientTimeout + 40*max(c.Network.Delta, time.Millisecond) + time.Second
}

// WithinFaultModel reports whether liveness can be expected of a run: at
// most f replicas Byzantine or crashed, every partition healed, and a GST
// with a delay bound when the network is lossy or partitioned. It returns
// the reason when it is not.
func WithinFaultModel(c cluster.Config) (bool, string) {
	c = c.WithDefaults()
	faulty := faultyNodes(c)
	nrep := 0
	for _, id := range faulty {
		if int(id) < c.N {
			nrep++
		}
	}
	if nrep > c.F {
		return false, fmt.Sprintf("%d faulty replicas > f = %d", nrep, c.F)
	}
	for _, p := range c.Network.Partitions {
		if p.To == 0 {
			return false, "a partition never heals"
		}
		if p.To > c.Network.GST && c.Network.GST > 0 {
			return false, "a partition lasts past GST"
		}
	}
	lossy := c.Network.Default.Drop > 0 || len(c.Network.Partitions) > 0 || len(c.NetRules) > 0
	for _, l := range c.Network.Links {
		lossy = lossy || l.Drop > 0
	}
	if lossy && (c.Network.GST == 0 || c.Network.Delta <= 0) {
		return false, "a lossy network without GST and delta"
	}
	return true, ""
}

// faultyNodes returns the Byzantine and crashed nodes, sorted.
func faultyNodes(c cluster.Config) []sim.NodeID {
	out := c.Faulty()
	for _, cr := range c.Crashes {
		out = append(out, cr.Node)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckerOptions returns the checker options for a run configuration.
func CheckerOptions(c cluster.Config) Options {
	c = c.WithDefaults()
	return Options{N: c.N, F: c.F, Faulty: faultyNodes(c), GST: c.Network.GST,
		Keyring: pbft.NewKeyring(c.Seed, c.N+c.Clients)}
}

// RunScenario runs a scenario with checkers attached and returns their
// verdict. A scenario that does not validate is an error.
func RunScenario(sc scenarios.Scenario, ro RunOptions) (*Outcome, error) {
	cfg, err := sc.Config()
	if err != nil {
		return nil, err
	}
	return RunConfig(sc, cfg, ro)
}

// RunConfig is RunScenario with the configuration already converted (cfg
// must be sc.Config(), possibly adjusted).
func RunConfig(sc scenarios.Scenario, cfg cluster.Config, ro RunOptions) (*Outcome, error) {
	cfg = cfg.WithDefaults()
	out := &Outcome{Scenario: sc}
	if ro.Liveness {
		out.LivenessChecked, _ = WithinFaultModel(cfg)
	}
	chk := Attach(&cfg, ro)
	faulty := chk.opts.Faulty
	res, err := cluster.Run(cfg)
	if err != nil {
		return nil, err
	}
	end := RunEnd(cfg, res, chk.Stopped())
	chk.Finish(end)
	out.Result = res
	out.Violations = chk.Violations()
	out.Accused = chk.Accused()
	for _, a := range out.Accused {
		if !slices.Contains(faulty, a.Replica) {
			out.Violations = append(out.Violations, Violation{Property: Accountability, Replicas: []sim.NodeID{a.Replica},
				View: a.View, Seq: a.Seq, Time: a.Time, Detail: "a replica configured as correct provably misbehaved: " + a.Reason})
		}
	}
	return out, nil
}

// RunEnd is the virtual time at which the end-of-run checks judge a run: its
// last event, or the stall deadline of a run that stalled, or MaxTime when
// the run went idle before it with requests outstanding (time still ran on).
func RunEnd(cfg cluster.Config, res *cluster.Result, stopped bool) sim.Time {
	end := sim.Time(res.SimTimeNs)
	if res.Ended == cluster.EndStall && sim.Time(res.StalledAtNs) > end {
		return sim.Time(res.StalledAtNs)
	}
	if !stopped && !res.Completed && cfg.MaxTime > end && (cfg.MaxEvents == 0 || res.Events < cfg.MaxEvents) {
		end = cfg.MaxTime
	}
	return end
}

// Rerun reruns a replay record: its scenario with its seed (and variant
// when the scenario names none), with the checkers attached the way check,
// hunt and the property tests run (liveness on, stop at the first safety
// violation). If that does not reproduce the recorded trace hash, the run
// is repeated without stopping, for replay files of complete runs.
func Rerun(rp *scenarios.Replay) (*Outcome, error) {
	sc := rp.Scenario
	sc.Seed = rp.Seed
	if sc.Protocol.Variant == "" && rp.Variant != "" {
		sc.Protocol.Variant = rp.Variant
	}
	o, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true})
	if err != nil || rp.TraceHash == "" || o.TraceHash() == rp.TraceHash {
		return o, err
	}
	full, err := RunScenario(sc, RunOptions{Liveness: true})
	if err != nil {
		return o, nil
	}
	if full.TraceHash() == rp.TraceHash {
		return full, nil
	}
	return o, nil
}

// Attach adds a checker for cfg to cfg.Sinks and, with
// ro.StopOnViolation, makes cfg.StopWhen stop the run at its first
// violation (keeping any StopWhen already set). Call Finish on the checker
// with the run's end time once cluster.Run returns. ro.Liveness enables the
// liveness check when cfg is within the fault model.
func Attach(cfg *cluster.Config, ro RunOptions) *Checker {
	c := cfg.WithDefaults()
	opts := CheckerOptions(c)
	opts.StopOnViolation = ro.StopOnViolation
	if ro.Liveness {
		if ok, _ := WithinFaultModel(c); ok {
			opts.LivenessBound = ro.LivenessBound
			if opts.LivenessBound <= 0 {
				opts.LivenessBound = DefaultLivenessBound(c)
			}
		}
	}
	chk := ro.Reuse
	if chk != nil {
		chk.Reset(opts)
	} else {
		chk = New(opts)
	}
	cfg.Sinks = append(append([]sim.Sink{chk}, cfg.Sinks...), ro.Sinks...)
	prev := cfg.StopWhen
	cfg.StopWhen = func() bool { return chk.Stopped() || prev != nil && prev() }
	return chk
}
