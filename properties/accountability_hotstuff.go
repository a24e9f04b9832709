package properties

import (
	"fmt"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
)

// HotStuff accountability, from the messages a replica sent in its own
// name, as PBFT's (see accountability.go). A replica is named when
//   - it signed two votes of the same phase and view for different blocks
//     (a correct replica votes once per phase and view), or
//   - as the leader of a view it proposed two different blocks in it (a
//     correct leader proposes once per view; the network authenticates
//     the sender of a trace record, as for PBFT's messages).
//
// Each is something a correct HotStuff replica never does. The checker
// keeps, per replica, the vote of each phase and the proposal of the
// highest view it saw (constant memory): a conflict with an older view,
// sent after a newer one, is not named.
type hsAcc struct {
	votes [][4]*hotstuff.Vote // per replica and phase
	props []*hotstuff.Proposal
}

// hotstuffMessage handles a HotStuff message sent by from; it reports
// whether m was one.
func (c *Checker) hotstuffMessage(now sim.Time, from sim.NodeID, m sim.Message) bool {
	switch m := m.(type) {
	case *hotstuff.Vote:
		if m.Replica != from || m.Phase < hotstuff.PhasePrepare || m.Phase > hotstuff.PhaseCommit {
			return true
		}
		a := c.hotstuffAcc()
		prev := a.votes[from][m.Phase]
		switch {
		case prev == nil || m.View > prev.View:
			if c.sigOK(m) {
				a.votes[from][m.Phase] = m
			}
		case m.View == prev.View && m.Block != prev.Block && c.sigOK(m):
			c.accuse(Accusation{Replica: from, View: m.View, Time: now, Evidence: []sim.Message{prev, m},
				Reason: fmt.Sprintf("signed two %ss in view %d, for blocks %s and %s", m.Type(), m.View, short(prev.Block), short(m.Block))})
		}
		return true
	case *hotstuff.Proposal:
		if m.Leader != from || m.Block == nil {
			return true // a proposal handed on by another replica
		}
		a := c.hotstuffAcc()
		prev := a.props[from]
		switch {
		case prev == nil || m.View > prev.View:
			a.props[from] = m
		case m.View == prev.View && m.Block.Hash != prev.Block.Hash:
			c.accuse(Accusation{Replica: from, View: m.View, Seq: m.Block.Height, Time: now, Evidence: []sim.Message{prev, m},
				Reason: fmt.Sprintf("proposed two blocks in view %d: %s and %s", m.View, short(prev.Block.Hash), short(m.Block.Hash))})
		}
		return true
	}
	return false
}

func (c *Checker) hotstuffAcc() *hsAcc {
	if c.hs == nil {
		c.hs = &hsAcc{votes: make([][4]*hotstuff.Vote, c.n), props: make([]*hotstuff.Proposal, c.n)}
	}
	return c.hs
}
