package explore

import (
	"errors"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// The vote protocol: voters 1..3 each send one VOTE to collector 0 at
// start; the collector keeps the votes until it has two, then decides and
// ignores every later vote. With gate set, it also ignores votes from 3
// until it has one from 1 (so a vote from 3 ignored now may count later).
var voteProto = sim.NewProtocol("votetest")

var typeVote = voteProto.MsgType("VOTE")

type vote struct{ From sim.NodeID }

func (*vote) Type() sim.MsgType                        { return typeVote }
func (*vote) Size() int                                { return 1 }
func (v *vote) AppendCanonical(b []byte) []byte        { return append(b, byte(v.From)) }
func (*decided) Name() string                          { return "decided" }
func (*decided) AppendCanonical(b []byte) []byte       { return b }
func (c *collector) Start(sim.Time, *sim.Output)       {}
func (v *voter) Step(sim.Time, sim.Input, *sim.Output) {}

type decided struct{}

type collector struct {
	Got     [4]bool
	Decided bool
	Gate    bool
}

func (c *collector) ignores(from sim.NodeID) bool {
	return c.Decided || c.Got[from] || c.Gate && from == 3 && !c.Got[1]
}

func (c *collector) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind != sim.InputMessage || c.ignores(in.From) {
		return
	}
	c.Got[in.From] = true
	n := 0
	for _, g := range c.Got {
		if g {
			n++
		}
	}
	if n == 2 {
		c.Decided = true
		out.Report(&decided{})
	}
}

// Inert is the exact rule: decided, or a vote of that sender already kept.
func (c *collector) Inert(from sim.NodeID, _ sim.Message) bool { return c.Decided || c.Got[from] }

type voter struct{ ID sim.NodeID }

func (v *voter) Start(_ sim.Time, out *sim.Output) { out.Send(0, &vote{From: v.ID}) }

func voteModel(gate, discard bool) *Model {
	return &Model{
		New: func() ([]sim.Node, error) {
			return []sim.Node{&collector{Gate: gate}, &voter{1}, &voter{2}, &voter{3}}, nil
		},
		DiscardInert: discard,
	}
}

// TestInertHandCounted compares the vote protocol's state space with and
// without discarding inert votes with counts by hand: unreduced, the
// delivered votes D (and, once |D| = 3, which two were kept) give 1 + 3 + 3
// + 3 = 10 states and 3 + 6 + 3 = 12 transitions; discarding the vote left
// once the collector decided merges the last level into the second to
// last: 7 states, 9 transitions. The verification of the declarations
// passes.
func TestInertHandCounted(t *testing.T) {
	for _, tc := range []struct {
		discard       bool
		states, trans int
	}{{false, 10, 12}, {true, 7, 9}} {
		for _, dfs := range []bool{false, true} {
			decisions := 0
			res, err := Run(voteModel(false, tc.discard), Options{DFS: dfs, VerifyInert: true, Records: true,
				Check: func(w *World, recs []Record) (string, string) {
					if w.Nodes[0].(*collector).Decided {
						decisions++
					}
					return "", ""
				}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || res.States != tc.states || !dfs && res.Transitions != tc.trans {
				t.Errorf("discard=%v dfs=%v: complete %v, %d states, %d transitions; by hand %d, %d",
					tc.discard, dfs, res.Complete, res.States, res.Transitions, tc.states, tc.trans)
			}
			if decisions == 0 {
				t.Errorf("discard=%v dfs=%v: no decided state reached", tc.discard, dfs)
			}
		}
	}
}

// TestVerifyInertCatchesWrongDeclarations: declarations that are wrong now
// (every vote inert once one is kept) or wrong later (a vote the gate
// ignores now but takes after the vote from 1) make Run fail with ErrInert
// under VerifyInert; without it the first wrong rule silently loses the
// decided states.
func TestVerifyInertCatchesWrongDeclarations(t *testing.T) {
	wrongNow := func(nd sim.Node, from sim.NodeID, m sim.Message) bool {
		c, ok := nd.(*collector)
		return ok && (c.Got[1] || c.Got[2] || c.Got[3])
	}
	wrongLater := func(nd sim.Node, from sim.NodeID, m sim.Message) bool {
		c, ok := nd.(*collector)
		return ok && c.ignores(from)
	}
	for _, tc := range []struct {
		name string
		gate bool
		rule func(sim.Node, sim.NodeID, sim.Message) bool
	}{{"wrong now", false, wrongNow}, {"wrong later", true, wrongLater}} {
		m := voteModel(tc.gate, true)
		m.Inert = tc.rule
		_, err := Run(m, Options{VerifyInert: true})
		if !errors.Is(err, ErrInert) {
			t.Errorf("%s: Run returned %v, want an ErrInert", tc.name, err)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	m := voteModel(false, true)
	m.Inert = wrongNow
	decisions := 0
	if _, err := Run(m, Options{Check: func(w *World, _ []Record) (string, string) {
		if w.Nodes[0].(*collector).Decided {
			decisions++
		}
		return "", ""
	}}); err != nil {
		t.Fatal(err)
	}
	if decisions != 0 {
		t.Errorf("the wrong rule unchecked should lose every decided state, %d reached", decisions)
	}
	// The exact rule with the gate is verified (its gate ignores are not
	// declared inert).
	if _, err := Run(voteModel(true, true), Options{VerifyInert: true}); err != nil {
		t.Errorf("exact rule with the gate: %v", err)
	}
}
