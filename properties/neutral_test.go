package properties

import (
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/events"
)

// A made-up protocol's events: they implement only the neutral interfaces
// of sim/events, as a second protocol (HotStuff) does.
type (
	toySubmit struct{ v events.Submission }
	toyAccept struct{ v events.Acceptance }
	toyExec   struct{ v events.Execution }
	toyState  struct{ v events.StateReport }
	toyView   struct{ v events.ViewEntry }
)

func (*toySubmit) Name() string                     { return "toy-submit" }
func (*toySubmit) AppendCanonical(b []byte) []byte  { return b }
func (e *toySubmit) Submission() events.Submission  { return e.v }
func (*toyAccept) Name() string                     { return "toy-accept" }
func (*toyAccept) AppendCanonical(b []byte) []byte  { return b }
func (e *toyAccept) Acceptance() events.Acceptance  { return e.v }
func (*toyExec) Name() string                       { return "toy-exec" }
func (*toyExec) AppendCanonical(b []byte) []byte    { return b }
func (e *toyExec) Execution() events.Execution      { return e.v }
func (*toyState) Name() string                      { return "toy-state" }
func (*toyState) AppendCanonical(b []byte) []byte   { return b }
func (e *toyState) StateReport() events.StateReport { return e.v }
func (*toyView) Name() string                       { return "toy-view" }
func (*toyView) AppendCanonical(b []byte) []byte    { return b }
func (e *toyView) ViewEntry() events.ViewEntry      { return e.v }

// TestCheckersReadNeutralEvents: agreement, total order, integrity, client
// view, state agreement and view monotonicity judge a protocol that
// reports only the neutral events.
func TestCheckersReadNeutralEvents(t *testing.T) {
	exec := func(r sim.NodeID, seq uint64, dg byte, ts uint64, op, result string) *toyExec {
		return &toyExec{events.Execution{Replica: r, Seq: seq, Digest: events.Digest{dg}, Client: client, Timestamp: ts, Op: op, Result: result}}
	}
	good := func() *stream {
		s := &stream{}
		s.ev(client, &toySubmit{events.Submission{Client: client, Timestamp: 1, Op: opA}})
		for r := sim.NodeID(0); r < 4; r++ {
			s.ev(r, exec(r, 1, 1, 1, opA, res[0]))
			s.ev(r, &toyState{events.StateReport{Replica: r, Seq: 1, Digest: events.Digest{9}}})
			s.ev(r, &toyView{events.ViewEntry{Replica: r, View: 1}})
		}
		s.ev(client, &toyAccept{events.Acceptance{Client: client, Timestamp: 1, Op: opA, Result: res[0]}})
		return s.ev(client, &toySubmit{events.Submission{Client: client, Timestamp: 2, Op: opC}})
	}
	tests := []struct {
		name string
		add  func(s *stream)
		want string
	}{
		{"a correct run", func(s *stream) {}, ""},
		{"two digests at one seq", func(s *stream) { s.ev(1, exec(1, 2, 2, 2, opC, res[1])).ev(2, exec(2, 2, 3, 2, opC, res[1])) }, Agreement},
		{"a gap", func(s *stream) { s.ev(1, exec(1, 3, 2, 2, opC, res[1])) }, TotalOrder},
		{"executed twice", func(s *stream) { s.ev(1, exec(1, 2, 2, 1, opA, res[0])) }, Integrity},
		{"diverged states", func(s *stream) {
			s.ev(3, &toyState{events.StateReport{Replica: 3, Seq: 2, Digest: events.Digest{1}}}).ev(2, &toyState{events.StateReport{Replica: 2, Seq: 2, Digest: events.Digest{2}}})
		}, StateAgreement},
		{"a view entered twice backwards", func(s *stream) { s.ev(1, &toyView{events.ViewEntry{Replica: 1, View: 0}}) }, ViewMonotonic},
		{"a wrong accepted result", func(s *stream) {
			for r := sim.NodeID(0); r < 4; r++ {
				s.ev(r, exec(r, 2, 2, 2, opC, res[1]))
			}
			s.ev(client, &toyAccept{events.Acceptance{Client: client, Timestamp: 2, Op: opC, Result: "ok forged"}})
		}, ClientView},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.add(s)
			c := Check(opts(), s.recs)
			got := ""
			if v := c.Violations(); len(v) > 0 {
				got = v[0].Property
			}
			if got != tc.want {
				t.Errorf("first violation %q, want %q (all: %v)", got, tc.want, c.Violations())
			}
		})
	}
}

// TestHotStuffVerdictLeavesOutPBFTProperties: a HotStuff run is judged by
// the neutral properties and HotStuff's accountability; PBFT's own
// properties are not claimed.
func TestHotStuffVerdictLeavesOutPBFTProperties(t *testing.T) {
	sc, err := scenarios.Builtin("hotstuff-fault-free")
	if err != nil {
		t.Fatal(err)
	}
	o, err := RunScenario(*sc, RunOptions{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if !o.FullyJudged() || o.Failed() {
		t.Errorf("hotstuff-fault-free: %s", o.Summary())
	}
	seen := map[string]bool{}
	for _, j := range o.Judgements {
		seen[j.Property] = true
	}
	for _, p := range PBFTProperties {
		if seen[p] && p != Accountability {
			t.Errorf("a HotStuff verdict claims the PBFT property %s", p)
		}
	}
	for _, p := range []string{Agreement, TotalOrder, Integrity, StateAgreement, Linearizability, Liveness, Accountability} {
		if !seen[p] {
			t.Errorf("a HotStuff verdict lacks %s", p)
		}
	}
}
