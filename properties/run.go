package properties

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/internal/outfile"
	"github.com/pbftsim/pbftsim/internal/pipeline"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/ledger"
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
	// foldWindow, if set, overrides the checker's Window (tests).
	foldWindow int
	// Reuse, if set, is Reset and used as the run's checker instead of a
	// new one, so that a loop of runs (one sweep worker) reuses its
	// memory. It must not be used by another run at the same time.
	Reuse *Checker
	// Pipeline runs the checker on its own goroutine (RunConfig and
	// RunScenario only), fed copies of the run's records in order
	// (internal/pipeline.Sink), when nothing in the run depends on it:
	// without StopOnViolation. The verdict is the same; the run's
	// goroutine no longer waits for the checker.
	Pipeline bool
}

// Outcome is the verdict of one checked run.
type Outcome struct {
	Scenario   scenarios.Scenario
	Result     *cluster.Result
	Violations []Violation
	Accused    []Accusation
	// LivenessChecked is true when liveness was judged (for every request
	// of a correct client; see Judgements for why not).
	LivenessChecked bool
	// Judgements say, property by property, whether it was judged and,
	// when it was not (or only in part), why. Nil when no checker ran.
	Judgements []Judgement
}

// Judgement says whether one property was judged on a run.
type Judgement struct {
	Property string `json:"property"`
	// Judged is true when the property was checked on this run (a safety
	// property on everything the run did; liveness on every request).
	Judged bool `json:"judged"`
	// Violated is true when the run violated it.
	Violated bool `json:"violated"`
	// Reason says why the property was not judged, or qualifies a
	// judgement ("vacuous: no correct replica executed anything").
	Reason string `json:"reason,omitempty"`
}

// Partial reports whether the property was judged only in part (liveness
// for some requests, linearizability for some payments).
func (j Judgement) Partial() bool {
	return j.Judged && j.Reason != "" && (j.Property == Liveness || j.Property == Linearizability)
}

// FullyJudged reports whether every property was judged in full and not
// vacuously: only then may a run without violations read "ok".
func (o *Outcome) FullyJudged() bool {
	if o.Judgements == nil || o.Vacuous() {
		return false
	}
	for _, j := range o.Judgements {
		if !j.Judged || j.Partial() {
			return false
		}
	}
	return true
}

// PartlyJudged counts the properties judged only in part.
func (o *Outcome) PartlyJudged() int {
	n := 0
	for _, j := range o.Judgements {
		if j.Partial() {
			n++
		}
	}
	return n
}

// Failed reports whether any property was violated.
func (o *Outcome) Failed() bool { return len(o.Violations) > 0 }

// BudgetExceeded is the reason the run was stopped by its budget ("" if
// it was not).
func (o *Outcome) BudgetExceeded() string {
	if o.Result == nil {
		return ""
	}
	return o.Result.BudgetExceeded
}

// Verdict is "violation" when a property was violated, otherwise
// "budget-exceeded" when the run was stopped by its budget, otherwise "ok".
func (o *Outcome) Verdict() string {
	switch {
	case o.Failed():
		return "violation"
	case o.BudgetExceeded() != "":
		return "budget-exceeded"
	}
	return "ok"
}

// NotJudged returns the judgements of the properties that were not judged.
func (o *Outcome) NotJudged() []Judgement {
	var out []Judgement
	for _, j := range o.Judgements {
		if !j.Judged {
			out = append(out, j)
		}
	}
	return out
}

// Vacuous reports whether the run gave the safety properties nothing to
// judge: no correct replica executed a request and no client accepted one.
func (o *Outcome) Vacuous() bool {
	for _, j := range o.Judgements {
		if j.Property == Agreement {
			return j.Reason != ""
		}
	}
	return false
}

// VacuousNote names the properties that were judged but had nothing to
// judge in a run that was not vacuous as a whole (for example timeliness
// when no correct backup waited for a request of a client), each with its
// reason, as "; timeliness vacuous: no correct backup ...". It is "" when
// there are none, or when the whole run was vacuous (Vacuous says that).
func (o *Outcome) VacuousNote() string {
	if o.Vacuous() {
		return ""
	}
	var b strings.Builder
	for _, j := range o.Judgements {
		if why, ok := strings.CutPrefix(j.Reason, "vacuous: "); ok && j.Judged {
			b.WriteString("; " + j.Property + " vacuous: " + why)
		}
	}
	return b.String()
}

// JudgedSummary says in one line which properties were judged, e.g.
// "safety and liveness judged" or "safety judged; liveness not judged: the
// run ended 2s after GST, the bound is 5.6s".
func (o *Outcome) JudgedSummary() string {
	if o.Judgements == nil {
		return "nothing judged (no checker)"
	}
	var safety, notSafety []string
	var live *Judgement
	for i := range o.Judgements {
		j := &o.Judgements[i]
		switch {
		case j.Property == Liveness:
			live = j
		case j.Judged:
			safety = append(safety, j.Property)
		default:
			notSafety = append(notSafety, j.Property+" not judged: "+j.Reason)
		}
	}
	s := "safety judged"
	if len(notSafety) > 0 {
		s = "safety judged except " + strings.Join(notSafety, "; ")
	}
	if o.Vacuous() {
		s += " (vacuously: no correct replica executed a request)"
	}
	switch {
	case live == nil:
	case live.Judged && live.Reason == "":
		s = strings.Replace(s, "safety judged", "safety and liveness judged", 1)
	case live.Judged:
		s += "; liveness judged (" + live.Reason + ")"
	default:
		s += "; liveness not judged: " + live.Reason
	}
	return s + o.VacuousNote()
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
// verdict) to path atomically, with the rules of every pbftsim output
// (internal/outfile: a temporary file beside it, synced, then renamed; a
// FIFO written in place; a lock against a second writer).
func (o *Outcome) WriteReplay(path string) error {
	data, err := scenarios.MarshalReplay(o.Replay())
	if err != nil {
		return fmt.Errorf("encoding replay: %w", err)
	}
	if err := outfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("writing replay file: %w", err)
	}
	return nil
}

// Summary describes the outcome in a few lines.
func (o *Outcome) Summary() string {
	s := fmt.Sprintf("verdict %s, trace hash %s", o.Verdict(), o.TraceHash())
	if b := o.BudgetExceeded(); b != "" {
		s += "\n  " + b
	}
	if o.Judgements != nil {
		s += "\n  " + o.JudgedSummary()
	}
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

// DefaultLivenessBound is the default liveness bound of a run, derived the
// way the paper argues liveness (TOCS'02 §4.5.2): after GST every message
// takes at most D (the GST bound Delta, else the delay distribution's
// maximum or, for an unbounded one, its 99.9th percentile, plus adversarial
// extra delays). A view whose primary is correct completes a request in a
// few message delays plus a client retransmission; the request timer starts
// at ViewChangeTimeout — possibly below that time, even below one round trip
// — and doubles with every view that fails, and the timers may have grown
// before GST to about GST itself. So the timeout that makes progress is at
// most max(T, a view's time, GST + T), and up to f faulty primaries and one
// more failed view double it f+2 times; one more doubling covers views
// that churn under load (a timeout below a round trip goes back to its base
// after every view that executes a request, so one client's request can
// wait several such cycles). For HotStuff the pacemaker's growth is added.
// Rate-limited links add the time a view change's bytes occupy them, and
// clocks the stretch of slow clocks and of backward and forward jumps (see
// queueBound and clockStretch).
func DefaultLivenessBound(c cluster.Config) time.Duration { return livenessBound(c.WithDefaults()) }

// livenessBound is DefaultLivenessBound of a configuration with its
// defaults (cluster.Config.WithDefaults; the functions of this file that
// take a completed configuration are the unexported ones).
func livenessBound(c cluster.Config) time.Duration {
	d := delayBound(c)
	q := queueBound(c) // the bytes of one view change on rate-limited links (envbound.go)
	view := 8*d + 2*c.ClientTimeout + q
	grow := max(c.ViewChangeTimeout, view)
	if c.Network.GST > 0 {
		grow = max(grow, c.Network.GST.Duration()+c.ViewChangeTimeout)
	}
	// A forward clock jump fires a pending timer early: the view fails and
	// its timer doubles without the time passing, so each may add one
	// doubling (clockStretch, envbound.go).
	slow, back, forward := clockStretch(c)
	vc := grow << uint(min(c.F+3, 11)+min(forward, 8))
	b := vc + 10*c.ClientTimeout + 40*d + time.Second
	if cluster.IsHotStuff(c.Protocol) {
		// HotStuff's leader rotates every view and its pacemaker doubles
		// the timeout with every view that fails, before GST as after it:
		// at GST the timeout may be as long as GST itself; after it the
		// views of up to f faulty leaders fail, and views fail until the
		// timeout exceeds a view's seven message delays.
		b += c.Network.GST.Duration()<<uint(min(c.F+1, 10)) + c.ViewChangeTimeout<<uint(min(2*c.F+2, 12))
	}
	// Up to f+2 view changes each move a view's bytes; slow clocks stretch
	// every timeout and backward jumps delay the timers pending across them
	// (envbound.go).
	b += time.Duration(c.F+2) * q
	b = time.Duration(math.Min(float64(b)*slow, float64(maxBound))) + back
	return min(b, maxBound)
}

// maxBound caps the default liveness bound (about 11 days of virtual time):
// far beyond any run, and safe from overflow when the terms multiply.
const maxBound = time.Duration(1 << 50)

// delayBound is the longest delay a message between correct nodes takes
// after GST in c's network (at least 1ms): the GST bound Delta when set,
// else the largest over the default and per-link delay distributions
// (an unbounded distribution counts with its 99.9th percentile), plus the
// largest extra delay an adversarial network rule adds.
func delayBound(c cluster.Config) time.Duration {
	var d time.Duration
	if c.Network.Delta > 0 {
		d = c.Network.Delta
	} else {
		d = delayQuantile(c.Network.Default.Delay)
		for _, l := range c.Network.Links {
			d = max(d, delayQuantile(l.Delay))
		}
	}
	var extra time.Duration
	for _, r := range c.NetRules {
		extra = max(extra, r.Delay, r.DuplicateDelay)
	}
	return max(d+extra, time.Millisecond)
}

// delayQuantile is the maximum of a bounded delay distribution and the
// 99.9th percentile of an unbounded one.
func delayQuantile(d sim.Delay) time.Duration {
	const q = 1e-3 // tail probability
	base := max(d.Min, 0)
	var x float64
	switch d.Kind {
	case sim.DelayUniform:
		return max(d.Max, base)
	case sim.DelayExponential:
		x = float64(d.Mean) * math.Log(1/q)
	case sim.DelayLogNormal:
		x = float64(d.Mean) * math.Exp(3.0902*d.Sigma)
	case sim.DelayPareto:
		if d.Alpha > 0 {
			x = float64(d.Mean) * (math.Pow(1/q, 1/d.Alpha) - 1)
		}
	}
	if !(x < float64(time.Hour)) { // NaN or huge: cap at an hour
		x = float64(time.Hour)
	}
	return base + time.Duration(x)
}

// WithinFaultModel reports whether liveness can be expected of a run: at
// most f replicas faulty at any time (cluster.Config.FaultIntervals; a
// wiped replica counted here until its recovery, the earliest it can have
// caught up: the checker's FaultModel then judges the run by when it did),
// every partition healed, a GST with a delay bound when the network is
// lossy or partitioned, and rate-limited links that can carry the
// protocol's periodic retransmissions (see linkOverload). It returns the
// reason when it is not.
func WithinFaultModel(c cluster.Config) (bool, string) { return withinFaultModel(c.WithDefaults()) }

// withinFaultModel is WithinFaultModel of a configuration with its defaults.
func withinFaultModel(c cluster.Config) (bool, string) {
	if ok, reason, _ := JudgeFaultIntervals(staticIntervals(c), c.F); !ok {
		return false, reason
	}
	return networkModel(c)
}

// networkModel is the network half of WithinFaultModel.
func networkModel(c cluster.Config) (bool, string) {
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
	if why := linkOverload(c); why != "" { // envbound.go
		return false, why
	}
	return true, ""
}

// notJudged are the nodes a checker does not judge: the Byzantine
// replicas and the crashed clients (whose requests liveness does not
// cover), sorted. Crashed replicas are judged: a replica that crashes (and
// recovers with what it persisted) must still never contradict itself or
// the correct replicas. They count against f while down (see
// cluster.Config.FaultIntervals), not against safety. A wiped replica is
// not judged from its crash until it has caught up (the checker follows
// it, see FaultModel).
func notJudged(c cluster.Config) []sim.NodeID {
	out := c.Faulty()
	for _, cr := range c.Crashes {
		if int(cr.Node) >= c.N {
			out = append(out, cr.Node)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckerOptions returns the checker options for a run configuration.
func CheckerOptions(c cluster.Config) Options { return checkerOptions(c.WithDefaults()) }

// checkerOptions is CheckerOptions of a configuration with its defaults.
func checkerOptions(c cluster.Config) Options {
	o := Options{N: c.N, F: c.F, Faulty: notJudged(c), GST: c.Network.GST, Window: c.Window, Deliveries: true,
		Keyring: pbft.NewKeyring(c.Seed, c.N+c.Clients), FaultIntervals: c.FaultIntervals(),
		FoldOnExecuted: cluster.IsHotStuff(c.Protocol)}
	if c.Protocol == "" || c.Protocol == cluster.ProtocolPBFT {
		o.ViewChangeTimeout = c.ViewChangeTimeout
		o.ClockSlow, o.ClockBack, _ = clockStretch(c)
		o.ClockFast, o.ClockForward = clockShrink(c)
		o.TimersForced = len(c.Fires) > 0
	}
	return o
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
	cfg = cfg.WithDefaults() // once on the way in: attach and the checks below take it completed
	var chk *Checker
	var pipe *pipeline.Sink
	if ro.Pipeline && !ro.StopOnViolation {
		chk, pipe = attachPipelined(&cfg, ro)
	} else {
		chk = attach(&cfg, ro)
	}
	if pipe != nil {
		// On every way out, a panic of the run included, the consumer's
		// goroutine ends (Close is idempotent).
		defer pipe.Close()
	}
	cl, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	cl.Run()
	if pipe != nil {
		pipe.Close() // the checker has seen every record: judge the complete stream
	}
	return Judge(sc, cl, chk, ro, chk.Stopped()), nil
}

// Judge ends the judgement of a run of cl that has ended, with checker chk
// attached by Attach(ro): the end-of-run properties (liveness, state
// agreement of the final states, linearizability, accountability of
// replicas configured as correct), and which properties were judged.
// stopped is true when the run ended at its first violation. Every way of
// running a checked scenario (RunConfig, a stepped replay) ends with Judge.
func Judge(sc scenarios.Scenario, cl *cluster.Cluster, chk *Checker, ro RunOptions, stopped bool) *Outcome {
	cfg := cl.Config()
	res := cl.Result()
	end := RunEnd(cfg, res, stopped)
	for i := 0; i < cfg.N; i++ {
		if seq, d, ok := cl.ReplicaState(i); ok {
			chk.FinalState(events.StateReport{Replica: sim.NodeID(i), Seq: seq, Digest: events.Digest(d)})
		}
	}
	chk.Finish(end)
	// The fault model as the run shows it (a wiped replica counts until
	// it caught up).
	faultsOK, faultsWhy, _ := chk.FaultModel()
	res.WithinFaultModel = faultsOK
	res.FaultIntervals = chk.FaultIntervals()
	out := &Outcome{Scenario: sc, Result: res, Violations: chk.Violations(), Accused: chk.Accused()}
	for _, a := range out.Accused {
		if !slices.Contains(chk.opts.Faulty, a.Replica) && !chk.excused(a.Replica) {
			out.Violations = append(out.Violations, Violation{Property: Accountability, Replicas: []sim.NodeID{a.Replica},
				View: a.View, Seq: a.Seq, Time: a.Time, Detail: "a replica configured as correct provably misbehaved: " + a.Reason})
		}
	}
	// Why liveness was not judged, if it was not.
	why := ""
	netOK, netWhy := networkModel(cfg)
	switch {
	case !ro.Liveness:
		why = "not requested"
	case !faultsOK:
		why = "outside the fault model: " + faultsWhy
	case !netOK:
		why = "outside the fault model: " + netWhy
	case stopped:
		why = "the run stopped at the first safety violation"
	case res.BudgetExceeded != "":
		why = "the run was stopped early: " + res.BudgetExceeded
	}
	if !faultsOK {
		// armed before the run (WithinFaultModel), judged void after it
		out.Violations = slices.DeleteFunc(out.Violations, func(v Violation) bool { return v.Property == Liveness })
	}
	out.Judgements = chk.judgements(why)
	if cfg.Protocol != "" && cfg.Protocol != cluster.ProtocolPBFT {
		// PBFT's own properties read PBFT's messages and events: they do
		// not apply to another protocol's run and are left out of its
		// verdict (rather than reported as vacuously judged). HotStuff has
		// its own accountability rules (accountability_hotstuff.go).
		out.Judgements = slices.DeleteFunc(out.Judgements, func(j Judgement) bool {
			return slices.Contains(PBFTProperties, j.Property) && !(j.Property == Accountability && cluster.IsHotStuff(cfg.Protocol))
		})
	}
	for i := range out.Judgements {
		j := &out.Judgements[i]
		for _, v := range out.Violations {
			if v.Property == j.Property {
				j.Violated = true
			}
		}
		if j.Property == Liveness {
			out.LivenessChecked = j.Judged && !j.Partial()
		}
	}
	return out
}

// RunEnd is the virtual time at which the end-of-run checks judge a run: its
// last event, or the stall deadline of a run that stalled, or MaxTime when
// the run went idle before it with requests outstanding (time still ran on).
func RunEnd(cfg cluster.Config, res *cluster.Result, stopped bool) sim.Time {
	end := sim.Time(res.SimTimeNs)
	if res.Ended == cluster.EndStall && sim.Time(res.StalledAtNs) > end {
		return sim.Time(res.StalledAtNs)
	}
	if !stopped && !res.Completed && cfg.MaxTime > end && res.BudgetExceeded == "" && res.Events < cfg.MaxEvents {
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
	// Matching or not, the run that did not stop at its first violation is
	// the one a stepped replay (pbftsim replay --until end) reaches too, so
	// that both report the same actual trace hash.
	return full, nil
}

// Attach adds a checker for cfg to cfg.Sinks and, with
// ro.StopOnViolation, makes cfg.StopWhen stop the run at its first
// violation (keeping any StopWhen already set). Call Finish on the checker
// with the run's end time once cluster.Run returns. ro.Liveness enables the
// liveness check when cfg is within the fault model. It completes cfg's
// defaults in place (cluster.Config.WithDefaults).
func Attach(cfg *cluster.Config, ro RunOptions) *Checker {
	*cfg = cfg.WithDefaults()
	return attach(cfg, ro)
}

// attach is Attach of a configuration that has its defaults.
func attach(cfg *cluster.Config, ro RunOptions) *Checker {
	chk := newAttached(cfg, ro)
	cfg.Sinks = append(append([]sim.Sink{chk}, cfg.Sinks...), ro.Sinks...)
	if ro.StopOnViolation { // else Stopped stays false: no call after every event
		prev := cfg.StopWhen
		cfg.StopWhen = func() bool { return chk.Stopped() || prev != nil && prev() }
	}
	return chk
}

// attachPipelined is attach with the checker behind a pipeline.Sink, on
// its own goroutine: the run does not wait for it, and nothing in the run
// reads it (ro.StopOnViolation must be off, so the checker never stops
// the run and StopWhen is left as it is). The reference ledger shares the
// replicas' SnapshotCache from the checker's goroutine: the cache is made
// safe for that (SetConcurrent). Close the Sink once the run has ended,
// before judging.
func attachPipelined(cfg *cluster.Config, ro RunOptions) (*Checker, *pipeline.Sink) {
	chk := newAttached(cfg, ro)
	cfg.Ledgers.SetConcurrent()
	pipe := pipeline.NewSink(chk, 0, 0)
	// The reference ledger adopts the replicas' versions only while it
	// lags them by fewer operations than the cache keeps (256): a batch
	// is handed over after 128 executions (32 operations at n=4), so at
	// most 4 batches of 128 executions are in flight (128 operations at
	// n=4, fewer at a larger n). A batched workload has few records per
	// operation, and 2,048 records were thousands of operations: the
	// checker, then the replicas stopped sharing (batches of 16, 32
	// clients: 97% of the ledgers' operations executed, not adopted).
	pipe.Weigh(isExecution, maxExecutionsPerBatch)
	cfg.Sinks = append(append([]sim.Sink{pipe}, cfg.Sinks...), ro.Sinks...)
	return chk, pipe
}

// maxExecutionsPerBatch is the executions (events.Executed, one per
// replica and operation) after which attachPipelined hands a batch over.
const maxExecutionsPerBatch = 128

// isExecution weighs an execution 1, other records 0.
func isExecution(r *sim.Record) int {
	if r.Kind == sim.RecEvent {
		if _, ok := r.Event.(events.Executed); ok {
			return 1
		}
	}
	return 0
}

// newAttached makes (or resets) the checker of cfg, a configuration with
// its defaults, and gives cfg the SnapshotCache its reference ledger
// shares with the replicas.
func newAttached(cfg *cluster.Config, ro RunOptions) *Checker {
	c := *cfg
	opts := checkerOptions(c)
	opts.StopOnViolation = ro.StopOnViolation
	if ro.foldWindow > 0 {
		opts.Window = ro.foldWindow
	}
	if ro.Liveness {
		if ok, _ := withinFaultModel(c); ok {
			opts.LivenessBound = ro.LivenessBound
			if opts.LivenessBound <= 0 {
				opts.LivenessBound = livenessBound(c)
			}
		}
	}
	// The reference ledger shares the replicas' states: a cache of this
	// run's own (a cache belongs to one run).
	cfg.Ledgers = ledger.NewSnapshotCache()
	opts.Ledgers = cfg.Ledgers
	chk := ro.Reuse
	if chk != nil {
		chk.Reset(opts)
	} else {
		chk = New(opts)
	}
	return chk
}
