package sim_test

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// Two protocols that both name a message type PREPARE.
var (
	protoA   = sim.NewProtocol("registry-test-a")
	protoB   = sim.NewProtocol("registry-test-b")
	prepareA = protoA.MsgType("PREPARE")
	prepareB = protoB.MsgType("PREPARE")
)

// typedMsg is a message of any registered type.
type typedMsg struct{ t sim.MsgType }

func (m *typedMsg) Type() sim.MsgType               { return m.t }
func (m *typedMsg) Size() int                       { return 8 }
func (m *typedMsg) AppendCanonical(b []byte) []byte { return append(b, 1) }

// sender sends a A-PREPAREs and b B-PREPAREs to node 1 at Start.
type sender struct{ a, b int }

func (s *sender) Start(now sim.Time, out *sim.Output) {
	for i := 0; i < s.a; i++ {
		out.Send(1, &typedMsg{prepareA})
	}
	for i := 0; i < s.b; i++ {
		out.Send(1, &typedMsg{prepareB})
	}
}
func (s *sender) Step(sim.Time, sim.Input, *sim.Output) {}

func TestProtocolsKeepTheirOwnTypes(t *testing.T) {
	if prepareA == prepareB {
		t.Fatalf("both protocols' PREPARE interned as type %d", prepareA)
	}
	if prepareA.String() != "PREPARE" || prepareB.String() != "PREPARE" {
		t.Errorf("names %q %q, want PREPARE for both", prepareA, prepareB)
	}
	if got := prepareA.QualifiedName(); got != "registry-test-a/PREPARE" {
		t.Errorf("QualifiedName = %q", got)
	}
	if prepareA.Protocol() != protoA || prepareB.Protocol() != protoB {
		t.Errorf("Protocol() does not return the registering namespace")
	}
	if protoA.MsgType("PREPARE") != prepareA || sim.NewProtocol("registry-test-a") != protoA {
		t.Errorf("registering again does not return the same type/namespace")
	}
	if got, ok := protoB.Lookup("PREPARE"); !ok || got != prepareB {
		t.Errorf("Lookup(PREPARE) in B = %v, %v", got, ok)
	}
	if _, ok := protoA.Lookup("COMMIT"); ok {
		t.Errorf("Lookup found a type A never registered")
	}
	if ts := protoA.Types(); len(ts) != 1 || ts[0] != prepareA {
		t.Errorf("Types() = %v", ts)
	}

	// Both protocols' messages in one kernel: separate counters.
	k, err := sim.New(sim.Config{Nodes: []sim.Node{&sender{a: 3, b: 5}, &sender{}}})
	if err != nil {
		t.Fatal(err)
	}
	st := k.Run()
	if got := st.SentByType[prepareA].Messages; got != 3 {
		t.Errorf("A's PREPARE sent %d, want 3", got)
	}
	if got := st.SentByType[prepareB].Messages; got != 5 {
		t.Errorf("B's PREPARE sent %d, want 5", got)
	}
	if st.Sent.Messages != 8 {
		t.Errorf("sent %d in total, want 8", st.Sent.Messages)
	}
}
