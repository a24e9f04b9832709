package experiment

import (
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Stepper is a replay file's run stepped one kernel step at a time, for an
// interactive explorer (pbftsim serve): the same run as replay --until
// (the checkers attached with liveness on; the run ends at its first
// violation when that is how it was recorded, or when no hash is
// recorded). Going back is building a new Stepper and stepping it again:
// the run is deterministic.
type Stepper struct {
	run      *stepRun
	recorded string
	ended    string
}

// NewStepper builds the run of rp, with sinks receiving every trace record.
func NewStepper(rp *scenarios.Replay, sinks ...sim.Sink) (*Stepper, error) {
	run, err := newStepRun(rp, Until{}, sinks...)
	if err != nil {
		return nil, err
	}
	return &Stepper{run: run, recorded: rp.TraceHash}, nil
}

// Step processes one kernel step and reports whether it did; false once
// the run has ended (Ended says why).
func (s *Stepper) Step() bool {
	if s.ended != "" {
		return false
	}
	if !s.run.step() {
		s.ended = endReasons[s.run.cl.Ended()]
		if s.ended == "" {
			s.ended = s.run.cl.Ended()
		}
		if s.ended == "" {
			s.ended = "stopped"
		}
		return false
	}
	s.ended = s.run.ended(s.recorded)
	return true
}

// Ended says why the run ended ("" while it goes on): "violation",
// "drained", or the end reasons of replay --until.
func (s *Stepper) Ended() string { return s.ended }

// Steps returns the kernel steps processed.
func (s *Stepper) Steps() uint64 { return s.run.steps }

// Now returns the virtual time of the last step.
func (s *Stepper) Now() sim.Time { return s.run.cl.Kernel().Now() }

// Records returns the number of trace records emitted so far.
func (s *Stepper) Records() uint64 { return s.run.sink.records }

// TraceHash returns the trace hash so far.
func (s *Stepper) TraceHash() string { return s.run.cl.Kernel().Stats().HashHex() }

// Violations returns the violations the checkers found so far.
func (s *Stepper) Violations() []properties.Violation { return s.run.chk.Violations() }

// Config returns the run's cluster configuration (defaulted).
func (s *Stepper) Config() cluster.Config { return s.run.cfg }

// Kernel returns the run's kernel, to read (never to step).
func (s *Stepper) Kernel() *sim.Kernel { return s.run.cl.Kernel() }

// Replicas returns every replica's state and ledger now (PBFT runs; nil
// for another protocol).
func (s *Stepper) Replicas() []ReplicaReport {
	cfg := s.run.cfg
	if cfg.Protocol != "" && cfg.Protocol != cluster.ProtocolPBFT {
		return nil
	}
	strategy := map[sim.NodeID]string{}
	for _, b := range cfg.Byzantine {
		strategy[b.Replica] = b.Strategy
	}
	k := s.run.cl.Kernel()
	out := make([]ReplicaReport, 0, cfg.N)
	for i := 0; i < cfg.N; i++ {
		id := sim.NodeID(i)
		out = append(out, ReplicaReport{Byzantine: strategy[id], Down: k.Down(id),
			State: s.run.cl.Replica(i).Inspect(), Ledger: s.run.cl.Ledger(i).Payments()})
	}
	return out
}

// Finish judges the ended run (properties.Judge) and returns its outcome.
func (s *Stepper) Finish() *properties.Outcome { return s.run.finish(s.ended == "violation") }

// RecordLine formats a trace record on one line as replay --until prints
// it ("#seq time kind nodes what"); n is the number of replicas.
func RecordLine(r *sim.Record, n int) string { return recordLine(r, n) }
