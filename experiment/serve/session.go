package serve

import (
	"fmt"
	"sync"
	"time"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
)

// Session is one open file in the explorer: a run (from a scenario or a
// replay file) that can be stepped and driven, a recorded trace (view
// only) or a sweep's failing seeds. Sessions share nothing: each has its
// own run, its own timeline and its own schedule.
type Session struct {
	ID   string
	Kind string // "run", "trace" or "sweep"
	Name string // what was opened

	mu   sync.Mutex
	last time.Time // last use (wall clock, for idle expiry only)

	// run sessions
	base    scenarios.Replay // as opened
	actions []Action         // the user's schedule, in order
	rp      scenarios.Replay // base with the actions applied
	tl      *timeline
	st      *experiment.Stepper // at cur
	cur     uint64
	limit   int

	// trace sessions: tl only (one record per step, no state)

	// sweep sessions
	sweep *SweepInfo
}

// newRunSession opens rp as a run session.
func newRunSession(id, name string, rp *scenarios.Replay, limit int) (*Session, error) {
	s := &Session{ID: id, Kind: "run", Name: name, base: *rp, rp: *rp, limit: limit}
	if err := s.rebuild(); err != nil {
		return nil, err
	}
	return s, nil
}

// rebuild records the timeline of s.rp and puts the cursor at step 0.
func (s *Session) rebuild() error {
	tl, err := buildTimeline(&s.rp, s.limit)
	if err != nil {
		return err
	}
	s.tl, s.st, s.cur = tl, nil, 0
	return s.seek(0)
}

// seek moves the run to step k (0..steps), exactly: forward by stepping,
// backward by replaying the prefix from the start.
func (s *Session) seek(k uint64) error {
	if k > s.tl.steps() {
		k = s.tl.steps()
	}
	if s.st == nil || k < s.st.Steps() {
		st, err := experiment.NewStepper(&s.rp)
		if err != nil {
			return err
		}
		s.st = st
	}
	for s.st.Steps() < k && s.st.Step() {
	}
	if s.st.Steps() != k || s.st.Kernel().Stats().TraceHash != s.tl.hashAfter[k] {
		return fmt.Errorf("%w: after %d steps the rerun has trace hash %s, the recorded run %016x", experiment.ErrNotDeterministic, k, s.st.TraceHash(), s.tl.hashAfter[k])
	}
	s.cur = k
	return nil
}

// Timer is a pending timer.
type Timer struct {
	Node int    `json:"node"`
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	At   int64  `json:"at"`
}

// timerNames names PBFT's timers (sim/pbft's replica and client timer ids).
var (
	replicaTimers = map[sim.TimerID]string{1: "request", 2: "view-change", 3: "batch", 4: "fetch", 5: "behind", 6: "lagging", 7: "view-change-resend"}
	clientTimers  = map[sim.TimerID]string{1: "retry", 2: "next"}
)

// State is the state shown at the current step.
type State struct {
	Step     uint64                     `json:"step"`
	Steps    uint64                     `json:"steps"` // recorded steps in all
	TimeNs   int64                      `json:"time_ns"`
	Time     string                     `json:"time"`
	Records  uint64                     `json:"records"` // records emitted by this step
	Hash     string                     `json:"trace_hash"`
	StepRecs []Rec                      `json:"step_records"` // what this step emitted
	Replicas []experiment.ReplicaReport `json:"replicas"`
	Down     []int                      `json:"down"`
	Flights  []Flight                   `json:"in_flight"`
	Timers   []Timer                    `json:"timers"`
	Viol     []Violation                `json:"violations"`
	Ended    string                     `json:"ended,omitempty"` // set at the last step
	Actions  []Action                   `json:"actions"`
	Notes    []string                   `json:"notes,omitempty"`
}

// state returns what the page shows at the cursor.
func (s *Session) state() *State {
	k := s.cur
	tl := s.tl
	st := &State{Step: k, Steps: tl.steps(), TimeNs: tl.timeAfter[k], Time: sim.Time(tl.timeAfter[k]).String(),
		Records: tl.recAfter[k], Hash: fmt.Sprintf("%016x", tl.hashAfter[k]), StepRecs: []Rec{},
		Replicas: []experiment.ReplicaReport{}, Down: []int{}, Flights: []Flight{}, Timers: []Timer{},
		Viol: tl.violationsUpTo(k), Actions: append([]Action{}, s.actions...)}
	if k > 0 {
		st.StepRecs = tl.recs[tl.recAfter[k-1]:tl.recAfter[k]]
	}
	if k == tl.steps() {
		st.Ended = tl.ended
	}
	if s.Kind != "run" {
		st.Notes = append(st.Notes, "a trace file has no scenario: the replicas' state is not known, only the records")
		return st
	}
	if r := s.st.Replicas(); r != nil {
		st.Replicas = r
	} else {
		st.Notes = append(st.Notes, "the state panel shows PBFT replicas only")
	}
	kern := s.st.Kernel()
	cfg := s.st.Config()
	total := cfg.N + cfg.Clients
	for i := 0; i < total; i++ {
		id := sim.NodeID(i)
		if kern.Down(id) {
			st.Down = append(st.Down, i)
		}
		for _, t := range kern.Timers(id) {
			names := replicaTimers
			if i >= cfg.N {
				names = clientTimers
			}
			st.Timers = append(st.Timers, Timer{Node: i, ID: uint64(t.ID), Name: names[t.ID], At: int64(t.At)})
		}
	}
	st.Flights = tl.inFlight(k)
	s.markDriveable(st.Flights)
	return st
}

// Summary describes a session.
type Summary struct {
	ID        string      `json:"id"`
	Kind      string      `json:"kind"`
	Name      string      `json:"name"`
	Seed      uint64      `json:"seed,omitempty"`
	Variant   string      `json:"variant,omitempty"`
	N         int         `json:"n,omitempty"`
	Nodes     int         `json:"nodes,omitempty"` // replicas and clients
	Steps     uint64      `json:"steps"`
	Ended     string      `json:"ended,omitempty"`
	Truncated bool        `json:"truncated,omitempty"`
	Hash      string      `json:"trace_hash,omitempty"`
	Recorded  string      `json:"recorded_hash,omitempty"`
	Viol      []Violation `json:"violations"`
	Sweep     *SweepInfo  `json:"sweep,omitempty"`
	Types     []string    `json:"types,omitempty"`
	Byzantine []string    `json:"byzantine,omitempty"` // strategies a replica can be switched to
}

func (s *Session) summary() Summary {
	sum := Summary{ID: s.ID, Kind: s.Kind, Name: s.Name, Viol: []Violation{}, Sweep: s.sweep}
	if s.tl != nil {
		sum.Steps, sum.Ended, sum.Truncated, sum.Hash, sum.Viol, sum.N = s.tl.steps(), s.tl.ended, s.tl.truncated, s.tl.hash, s.tl.viol, s.tl.n
		seen := map[string]bool{}
		maxNode := 0
		for _, r := range s.tl.recs {
			if r.Type != "" && !seen[r.Type] {
				seen[r.Type] = true
				sum.Types = append(sum.Types, r.Type)
			}
			maxNode = max(maxNode, r.From+1, r.To+1)
		}
		sum.Nodes = maxNode
	}
	if s.Kind == "run" {
		sum.Seed, sum.Variant, sum.Recorded = s.rp.Seed, s.rp.Variant, s.base.TraceHash
		if cfg, err := s.rp.Scenario.Config(); err == nil {
			sum.N, sum.Nodes = cfg.N, cfg.N+cfg.Clients
		}
		sum.Byzantine = strategies()
	}
	return sum
}
