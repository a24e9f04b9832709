package hotstuff

import (
	"fmt"

	"github.com/pbftsim/pbftsim/sim"
)

// twinTimerOffset separates the second twin's timer ids from the first's.
const twinTimerOffset = 1000

// twinsNode runs two honest replicas with one identity (strategy twins):
// twin 0 exchanges messages with group A, twin 1 with group B; clients'
// messages reach both and both answer them. A message it sends to itself
// goes back to the twin that sent it (told apart by identity: messages
// are immutable values shared by pointer).
type twinsNode struct {
	twins   [2]*Replica
	inA     []bool
	self    sim.NodeID
	n       int
	mine    [2]map[sim.Message]bool // self-sends in flight, per twin
	scratch sim.Output
}

func newTwins(b *byzNode, honest *Replica, env ByzantineEnv) (sim.Node, error) {
	if env.NewTwin == nil {
		return nil, fmt.Errorf("strategy twins: no way to build the second replica (ByzantineEnv.NewTwin)")
	}
	other, err := env.NewTwin()
	if err != nil {
		return nil, fmt.Errorf("strategy twins: %w", err)
	}
	return &twinsNode{twins: [2]*Replica{honest, other}, inA: b.inA, self: env.ID, n: env.N,
		mine: [2]map[sim.Message]bool{{}, {}}}, nil
}

// Start implements sim.Node.
func (t *twinsNode) Start(now sim.Time, out *sim.Output) {
	for i, r := range t.twins {
		r.Start(now, &t.scratch)
		t.emit(i, out)
	}
}

// Step implements sim.Node.
func (t *twinsNode) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputTimer:
		i := 0
		if in.Timer >= twinTimerOffset {
			i, in.Timer = 1, in.Timer-twinTimerOffset
		}
		t.step(i, now, in, out)
	case sim.InputMessage:
		switch {
		case in.From == t.self:
			for i := range t.twins {
				if t.mine[i][in.Msg] {
					delete(t.mine[i], in.Msg)
					t.step(i, now, in, out)
					return
				}
			}
		case int(in.From) >= t.n || in.From < 0: // a client: both
			t.step(0, now, in, out)
			t.step(1, now, in, out)
		case t.inA[in.From]:
			t.step(0, now, in, out)
		default:
			t.step(1, now, in, out)
		}
	default:
		t.step(0, now, in, out)
		t.step(1, now, in, out)
	}
}

func (t *twinsNode) step(i int, now sim.Time, in sim.Input, out *sim.Output) {
	t.twins[i].Step(now, in, &t.scratch)
	t.emit(i, out)
}

// emit passes twin i's effects on: its sends to its own group, clients and
// itself, its timers (twin 1's renumbered), twin 0's events only (the
// node reports as one replica).
func (t *twinsNode) emit(i int, out *sim.Output) {
	s := &t.scratch
	for _, op := range s.Timers {
		if i == 1 {
			op.ID += twinTimerOffset
		}
		out.Timers = append(out.Timers, op)
	}
	if i == 0 {
		out.Events = append(out.Events, s.Events...)
	}
	for _, snd := range s.Sends {
		switch {
		case snd.To == t.self:
			t.mine[i][snd.Msg] = true
		case int(snd.To) >= t.n || snd.To < 0:
		case t.inA[snd.To] != (i == 0):
			continue // the other twin's group
		}
		out.Send(snd.To, snd.Msg)
	}
	s.Reset()
}
