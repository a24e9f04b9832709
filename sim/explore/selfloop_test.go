package explore

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// gossiper is an idempotent relay: node 0 sends a VOTE naming itself to
// every other node at start; a node relays once, at its first VOTE, and
// keeps the set of nodes it heard from, so a VOTE delivered again changes
// nothing (a self-loop of a monotone network). With Ack it answers every
// VOTE with an ACK (the same content each time: in flight already, or
// declared inert by a receiver that has its ACK), and keeps the set of
// nodes that acknowledged it.
type gossiper struct {
	ID           sim.NodeID
	N            int
	Heard, Acked [4]bool
	Sent, Ack    bool
}

var typeAck = voteProto.MsgType("ACK")

type ack struct{}

func (*ack) Type() sim.MsgType               { return typeAck }
func (*ack) Size() int                       { return 1 }
func (*ack) AppendCanonical(b []byte) []byte { return append(b, 'a') }
func (g *gossiper) Start(_ sim.Time, out *sim.Output) {
	if g.ID == 0 {
		g.send(out)
	}
}

func (g *gossiper) send(out *sim.Output) {
	g.Sent = true
	for j := 0; j < g.N; j++ {
		if sim.NodeID(j) != g.ID {
			out.Send(sim.NodeID(j), &vote{From: g.ID})
		}
	}
}

func (g *gossiper) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind != sim.InputMessage {
		return
	}
	if _, ok := in.Msg.(*ack); ok {
		g.Acked[in.From] = true
		return
	}
	if g.Ack {
		out.Send(in.From, &ack{})
	}
	if g.Heard[in.From] {
		return
	}
	g.Heard[in.From] = true
	if !g.Sent {
		g.send(out)
	}
}

// Inert: an ACK from a node that acknowledged already.
func (g *gossiper) Inert(from sim.NodeID, m sim.Message) bool {
	_, ok := m.(*ack)
	return ok && g.Acked[from]
}

// gossipModel returns n gossipers (n <= 4) on a monotone network with
// asynchronous timers (they arm none and read no clock), acknowledging with ack, inert ACKs
// discarded with inert.
func gossipModel(n int, ack, inert bool) *Model {
	return keepSent(&Model{AsyncTimers: true, DiscardInert: inert, New: func() ([]sim.Node, error) {
		nodes := make([]sim.Node, n)
		for i := range nodes {
			nodes[i] = &gossiper{ID: sim.NodeID(i), N: n, Ack: ack}
		}
		return nodes, nil
	}})
}

// TestSelfLoopSameExploration: Engine.SelfLoop tells revisits of a
// monotone network's re-deliveries without peeking (it does on these
// spaces), and the searches (iterative deepening, one pass with and
// without records, one pass on 2 workers) judge the same states in the
// same order, reach the same leaves and count the same with and without
// it, memo hits and inert discards included; a SelfLoop that takes a step
// changing its node for a self-loop loses states, and one that does not
// count the sends it finds inert counts fewer discards (brokenSelfLoop).
func TestSelfLoopSameExploration(t *testing.T) {
	models := []struct {
		name string
		m    func() *Model
	}{
		{"gossip3", func() *Model { return gossipModel(3, false, false) }},
		{"gossip4", func() *Model { return gossipModel(4, false, false) }},
		{"gossip3/ack", func() *Model { return gossipModel(3, true, false) }},
		{"gossip3/ack/inert", func() *Model { return gossipModel(3, true, true) }},
	}
	searches := []struct {
		name string
		o    Options
	}{
		{"iddfs", Options{DFS: true, Bounds: Bounds{Depth: 9}}},
		{"one-pass", Options{DFS: true, Bounds: Bounds{TimerLimit: true}}},
		{"one-pass/records", Options{DFS: true, Records: true, Bounds: Bounds{TimerLimit: true}}},
	}
	defer func() { selfLoopOff, brokenSelfLoop = false, 0 }()
	caught := map[int]int{}
	var selfLoops atomic.Int64
	onSelfLoop = func() { selfLoops.Add(1) }
	defer func() { onSelfLoop = nil }()
	for _, tm := range models {
		for _, sc := range searches {
			t.Run(tm.name+"/"+sc.name, func(t *testing.T) {
				o := sc.o
				o.SubsumeDrops = true
				selfLoopOff = true
				off := explored(t, tm.m(), o, false)
				selfLoopOff = false
				loops0 := selfLoops.Load()
				on := explored(t, tm.m(), o, false)
				t.Logf("%d states, %d transitions, %d revisits, %d inert discards; %d self-loops told", on.stats.States, on.stats.Transitions, on.stats.Revisits, on.stats.Inert, selfLoops.Load()-loops0)
				if selfLoops.Load() == loops0 {
					t.Error("SelfLoop told no revisit: the test shows nothing")
				}
				if d := on.diff(off); d != "" {
					t.Errorf("with SelfLoop: %s", d)
				}
				if on.hits != off.hits {
					t.Errorf("memo hits: %d with SelfLoop, %d without", on.hits, off.hits)
				}
				for _, broken := range []int{selfLoopAnyState, selfLoopUncounted} {
					brokenSelfLoop = broken
					if d := explored(t, tm.m(), o, false).diff(off); d != "" {
						caught[broken]++
					}
					brokenSelfLoop = 0
				}
				if !o.TimerLimit {
					return
				}
				run := func() (string, []uint64) {
					o := o
					o.Workers = 2
					l := leafSet(&o)
					r, err := Run(tm.m(), o)
					if err != nil {
						t.Fatal(err)
					}
					slices.Sort(*l)
					return pdfsCounters(r), *l
				}
				selfLoopOff = true
				c0, l0 := run()
				selfLoopOff = false
				c1, l1 := run()
				if c0 != c1 || !slices.Equal(l0, l1) {
					t.Errorf("2 workers with SelfLoop: %s, %d leaves; without: %s, %d leaves", c1, len(l1), c0, len(l0))
				}
			})
		}
	}
	for _, broken := range []int{selfLoopAnyState, selfLoopUncounted} {
		if caught[broken] == 0 {
			t.Errorf("broken SelfLoop %d explores the same on every configuration: the comparison cannot fail", broken)
		}
	}
	t.Logf("broken variants caught on %v configurations", caught)
}
