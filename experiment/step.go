package experiment

import (
	"encoding/json"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// stepSink follows the trace of a stepped run: it counts records and
// Accepted events, keeps the first and last record of the current step,
// and catches the first record that matches the --until target.
type stepSink struct {
	spec     Until
	chk      *properties.Checker
	records  uint64
	accepted int
	first    *sim.Record // first record of the current step
	last     *sim.Record // last record so far
	hit      *sim.Record // first record matching spec
}

// Record implements sim.Sink.
func (s *stepSink) Record(r *sim.Record) {
	s.records++
	cp := *r
	if s.first == nil {
		s.first = &cp
	}
	s.last = &cp
	if _, ok := r.Event.(events.Accepted); ok && r.Kind == sim.RecEvent {
		s.accepted++ // as the cluster's own observer counts acceptances
	}
	if s.hit != nil {
		return
	}
	match := false
	switch s.spec.kind {
	case untilRecord:
		match = r.Seq == s.spec.record
	case untilViolation:
		match = s.chk.Stopped() // the checker saw this record first
	case untilEvent:
		switch s.spec.event {
		case "crash":
			match = r.Kind == sim.RecCrash
		case "recover":
			match = r.Kind == sim.RecRecover
		default:
			match = r.Kind == sim.RecEvent && r.Event != nil && r.Event.Name() == s.spec.event
		}
		match = match && (!s.spec.hasNode || r.From == s.spec.node)
	}
	if match {
		s.hit = &cp
	}
}

// stepRun is one stepped rerun of a replay file's scenario.
type stepRun struct {
	cl    *cluster.Cluster
	sc    scenarios.Scenario
	cfg   cluster.Config
	chk   *properties.Checker
	sink  *stepSink
	steps uint64
	// judged is set once the first violation was compared with the record.
	judged bool
}

// newStepRun builds the run the way properties.Rerun does: the scenario with
// the replay's seed and variant, the checkers attached with liveness on and
// stop-on-violation (the stepping loop decides where the run ends).
func newStepRun(rp *scenarios.Replay, spec Until, sinks ...sim.Sink) (*stepRun, error) {
	sc := rp.Scenario
	sc.Seed = rp.Seed
	if sc.Protocol.Variant == "" && rp.Variant != "" {
		sc.Protocol.Variant = rp.Variant
	}
	cfg, err := sc.Config() // defaulted once, there
	if err != nil {
		return nil, err
	}
	chk := properties.Attach(&cfg, properties.RunOptions{Liveness: true, StopOnViolation: true})
	sink := &stepSink{spec: spec, chk: chk}
	cfg.Sinks = append(append(cfg.Sinks, sink), sinks...)
	cl, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	return &stepRun{cl: cl, sc: sc, cfg: cl.Config(), chk: chk, sink: sink}, nil
}

// step processes one kernel step; false when the kernel has nothing left.
func (s *stepRun) step() bool {
	s.sink.first = nil
	if !s.cl.Step() {
		return false
	}
	s.steps++
	return true
}

// ended applies cluster.Run's end rule after a step (all requests accepted
// and DrainTime passed) and the first-violation end of a checked rerun
// (when that run is the recorded one). It returns why the run ended, or "".
func (s *stepRun) ended(recorded string) string {
	k := s.cl.Kernel()
	if s.chk.Stopped() && !s.judged {
		// The first violation: the recorded run ends here if it was
		// recorded stopping there (the hash tells), else it goes on.
		s.judged = true
		if recorded == "" || k.Stats().HashHex() == recorded {
			return "violation"
		}
	}
	if s.cl.Ended() == cluster.EndCompleted {
		return "drained"
	}
	return ""
}

// endReasons words cluster.Cluster.Ended for the report.
var endReasons = map[string]string{
	cluster.EndCompleted: "drained",
	cluster.EndIdle:      "no more events",
	cluster.EndMaxTime:   "run.max_time reached",
	cluster.EndMaxEvents: "run.max_events reached",
	cluster.EndStall:     "stalled: no request accepted for run.stall after GST",
}

// stopPoint is where pass 1 found the --until target.
type stopPoint struct {
	reached bool
	steps   uint64      // kernel steps to run to get there
	at      *sim.Record // the record it stopped at (nil: before the first)
	next    *sim.Record // the first record after the stop (nil: none)
	hash    string      // trace hash after steps
	records uint64      // trace records emitted after steps
	// endReason is set when the run ended at or before the stop.
	endReason string
	// stoppedRun is true when the run ended at the first violation.
	stoppedRun bool
	// atEnd is true for --until violation when only the end-of-run checks
	// (liveness, accountability) found one.
	atEnd bool
}

// findStop steps a first run to the --until target and one step past it
// (to show the next record); the second run stops exactly there.
func findStop(rp *scenarios.Replay, spec Until) (*stopPoint, *stepRun, error) {
	run, err := newStepRun(rp, spec)
	if err != nil {
		return nil, nil, err
	}
	sp := &stopPoint{}
	var prevLast *sim.Record
	prevHash, prevRecords := run.cl.Kernel().Stats().HashHex(), uint64(0)
	for {
		if !run.step() {
			sp.endReason = endReasons[run.cl.Ended()]
			if sp.endReason == "" {
				sp.endReason = run.cl.Ended()
			}
			break
		}
		k := run.cl.Kernel()
		if spec.kind == untilTime && k.Now() > spec.time {
			sp.reached, sp.steps, sp.at, sp.next = true, run.steps-1, prevLast, run.sink.first
			sp.hash, sp.records = prevHash, prevRecords
			return sp, run, nil
		}
		if run.sink.hit != nil && !sp.reached {
			sp.reached, sp.steps, sp.at = true, run.steps, run.sink.hit
			sp.hash, sp.records = k.Stats().HashHex(), run.sink.records
		}
		if why := run.ended(rp.TraceHash); why != "" {
			sp.endReason, sp.stoppedRun = why, why == "violation"
			break
		}
		if sp.reached {
			if run.step() {
				sp.next = run.sink.first
			}
			return sp, run, nil
		}
		prevLast, prevHash, prevRecords = run.sink.last, k.Stats().HashHex(), run.sink.records
	}
	// The run ended.
	if !sp.reached {
		sp.steps, sp.at = run.steps, run.sink.last
		sp.hash, sp.records = run.cl.Kernel().Stats().HashHex(), run.sink.records
		sp.reached = spec.kind == untilEnd
	}
	return sp, run, nil
}

// finish judges a run that ended with properties.Judge, as
// properties.RunConfig does, and returns its outcome.
func (s *stepRun) finish(stoppedRun bool) *properties.Outcome {
	return properties.Judge(s.sc, s.cl, s.chk, properties.RunOptions{Liveness: true, StopOnViolation: true}, stoppedRun)
}

// StopReport is where a stepped replay stopped and what it found there
// (the JSON of pbftsim replay --until).
type StopReport struct {
	File    string `json:"file"`
	Seed    uint64 `json:"seed"`
	Variant string `json:"variant,omitempty"`
	Until   string `json:"until"`
	Reached bool   `json:"reached"`
	// Ended says why the run ended at or before the stop ("" if it did not).
	Ended string `json:"ended,omitempty"`
	// FoundAtEnd is true for --until violation when only the end-of-run
	// checks (liveness, accountability) found a violation.
	FoundAtEnd bool            `json:"found_at_end,omitempty"`
	Steps      uint64          `json:"steps"`
	TimeNs     int64           `json:"time_ns"`
	Time       string          `json:"time"`
	Records    uint64          `json:"records"`
	TraceHash  string          `json:"trace_hash"`
	Record     json.RawMessage `json:"record"`
	Line       string          `json:"line"`
	Next       json.RawMessage `json:"next"`
	NextLine   string          `json:"next_line,omitempty"`
	// Violations are those the checkers found up to the stop.
	Violations []JSONViolation `json:"violations"`
	// Verdict, Reproduced and Mismatches are set when the run went to its
	// end and was checked against the replay file.
	Verdict string `json:"verdict,omitempty"`
	// Judged says what the verdict judged; Properties, property by property.
	Judged     string                 `json:"judged,omitempty"`
	Properties []properties.Judgement `json:"properties,omitempty"`
	Reproduced *bool                  `json:"reproduced,omitempty"`
	Mismatches []string               `json:"mismatches,omitempty"`
	// HashCompared is false when the replay file records no trace hash:
	// then only the verdict was compared. Notes say so, and name a replay
	// file written by another pbftsim version.
	HashCompared bool            `json:"hash_compared"`
	Notes        []string        `json:"notes,omitempty"`
	Replicas     []ReplicaReport `json:"replicas,omitempty"`
}

// ReplicaReport is one replica's state where the run stopped.
type ReplicaReport struct {
	// Byzantine is the replica's strategy ("" for a correct replica): the
	// state shown is then the honest core the strategy wraps.
	Byzantine string            `json:"byzantine,omitempty"`
	Down      bool              `json:"down"`
	State     pbft.ReplicaState `json:"state"`
	Ledger    []ledger.Payment  `json:"ledger"`
}

func buildReport(file string, rp *scenarios.Replay, spec Until, sp *stopPoint, run *stepRun, o *properties.Outcome, check *ReplayCheck, showState bool) *StopReport {
	k := run.cl.Kernel()
	cfg := run.cfg
	rep := &StopReport{File: file, Seed: rp.Seed, Variant: cfg.Variant, Until: spec.raw, Reached: sp.reached, Ended: sp.endReason, FoundAtEnd: sp.atEnd,
		Steps: sp.steps, TimeNs: int64(k.Now()), Time: k.Now().String(), Records: run.sink.records, TraceHash: k.Stats().HashHex(),
		Record: json.RawMessage("null"), Next: json.RawMessage("null"), Violations: []JSONViolation{}}
	if sp.at != nil {
		rep.Record, rep.Line = recordJSON(sp.at), recordLine(sp.at, cfg.N)
	}
	if sp.next != nil {
		rep.Next, rep.NextLine = recordJSON(sp.next), recordLine(sp.next, cfg.N)
	}
	vs := run.chk.Violations()
	if o != nil {
		vs = o.Violations
		rep.Verdict, rep.Judged, rep.Properties = o.Verdict(), o.JudgedSummary(), o.Judgements
		ok := check.Reproduced
		rep.Reproduced, rep.Mismatches = &ok, check.Problems
		rep.HashCompared, rep.Notes = check.HashCompared, check.Notes
	}
	for _, v := range vs {
		rep.Violations = append(rep.Violations, NewJSONViolation(v))
	}
	if showState {
		strategy := map[sim.NodeID]string{}
		for _, b := range cfg.Byzantine {
			strategy[b.Replica] = b.Strategy
		}
		for i := 0; i < cfg.N; i++ {
			id := sim.NodeID(i)
			rep.Replicas = append(rep.Replicas, ReplicaReport{Byzantine: strategy[id], Down: k.Down(id),
				State: run.cl.Replica(i).Inspect(), Ledger: run.cl.Ledger(i).Payments()})
		}
	}
	return rep
}
