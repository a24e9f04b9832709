package byzantine

import (
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// pbftTypeNames lists the PBFT message type names, for parameter checks.
func pbftTypeNames() []string {
	ts := []sim.MsgType{pbft.TypeRequest, pbft.TypePrePrepare, pbft.TypePrepare, pbft.TypeCommit,
		pbft.TypeReply, pbft.TypeCheckpoint, pbft.TypeViewChange, pbft.TypeNewView,
		pbft.TypeFetchState, pbft.TypeState}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

// typeName is the registered type name of m ("" for nil).
func typeName(m sim.Message) string {
	if m == nil {
		return ""
	}
	return m.Type().String()
}

// viewOf returns the view a message carries (VIEW-CHANGE: the view it asks for).
func viewOf(m sim.Message) (uint64, bool) {
	switch m := any(m).(type) {
	case *pbft.PrePrepare:
		return m.View, true
	case *pbft.Prepare:
		return m.View, true
	case *pbft.Commit:
		return m.View, true
	case *pbft.Reply:
		return m.View, true
	case *pbft.ViewChange:
		return m.NewView, true
	case *pbft.NewView:
		return m.View, true
	}
	return 0, false
}

// seqOf returns the sequence number a message carries.
func seqOf(m sim.Message) (uint64, bool) {
	switch m := any(m).(type) {
	case *pbft.PrePrepare:
		return m.Seq, true
	case *pbft.Prepare:
		return m.Seq, true
	case *pbft.Commit:
		return m.Seq, true
	case *pbft.Checkpoint:
		return m.Seq, true
	case *pbft.FetchState:
		return m.Seq, true
	case *pbft.State:
		return m.Seq, true
	}
	return 0, false
}

// claimedID is the identity a message claims as its author: the replica for
// replica messages, the client for a REQUEST.
func claimedID(m sim.Message) (sim.NodeID, bool) {
	switch m := any(m).(type) {
	case *pbft.Request:
		return m.Client, true
	case *pbft.PrePrepare:
		return m.Replica, true
	case *pbft.Prepare:
		return m.Replica, true
	case *pbft.Commit:
		return m.Replica, true
	case *pbft.Reply:
		return m.Replica, true
	case *pbft.Checkpoint:
		return m.Replica, true
	case *pbft.ViewChange:
		return m.Replica, true
	case *pbft.NewView:
		return m.Replica, true
	case *pbft.FetchState:
		return m.Replica, true
	case *pbft.State:
		return m.Replica, true
	}
	return 0, false
}

// own reports whether m is a replica message in the faulty replica's name
// (the only messages a strategy may alter).
func own(m sim.Message, id sim.NodeID) bool {
	if _, ok := any(m).(*pbft.Request); ok {
		return false
	}
	c, ok := claimedID(m)
	return ok && c == id
}

// viewSeq is a (view, sequence number) pair.
type viewSeq struct{ v, n uint64 }

// vote is a PREPARE or COMMIT seen as (kind, v, n, d).
type vote struct {
	commit bool
	v, n   uint64
	d      pbft.Digest
}

// voteOf returns the vote a PREPARE or COMMIT carries.
func voteOf(m sim.Message) (vote, bool) {
	switch m := any(m).(type) {
	case *pbft.Prepare:
		return vote{false, m.View, m.Seq, m.Digest}, true
	case *pbft.Commit:
		return vote{true, m.View, m.Seq, m.Digest}, true
	}
	return vote{}, false
}

// withDigest returns a re-signed copy of a PREPARE, COMMIT or PRE-PREPARE
// (header only) carrying digest d; nil for other messages.
func withDigest(env *Env, m sim.Message, d pbft.Digest) sim.Message {
	switch m := any(m).(type) {
	case *pbft.Prepare:
		c := *m
		c.Digest = d
		sign(env.Signer, &c)
		return sim.Message(&c)
	case *pbft.Commit:
		c := *m
		c.Digest = d
		sign(env.Signer, &c)
		return sim.Message(&c)
	case *pbft.PrePrepare:
		c := *m
		c.Digest = d
		sign(env.Signer, &c)
		return sim.Message(&c)
	case *pbft.Checkpoint:
		c := *m
		c.StateDigest = d
		sign(env.Signer, &c)
		return sim.Message(&c)
	}
	return nil
}

// newVote builds a fresh signed PREPARE or COMMIT in the replica's own name.
func newVote(env *Env, v vote) sim.Message {
	if v.commit {
		c := &pbft.Commit{View: v.v, Seq: v.n, Digest: v.d, Replica: env.ID}
		sign(env.Signer, c)
		return sim.Message(c)
	}
	p := &pbft.Prepare{View: v.v, Seq: v.n, Digest: v.d, Replica: env.ID}
	sign(env.Signer, p)
	return sim.Message(p)
}

// nullPrePrepare returns a re-signed copy of pp ordering the null request.
func nullPrePrepare(env *Env, pp *pbft.PrePrepare) *pbft.PrePrepare {
	c := *pp
	c.Batch = nil
	c.Digest = batchDigest(nil)
	sign(env.Signer, &c)
	return &c
}

// randDigest draws a digest from r (one nobody has sent).
func randDigest(r interface{ Uint64() uint64 }) pbft.Digest {
	var d pbft.Digest
	for i := 0; i < len(d); i += 8 {
		x := r.Uint64()
		for j := 0; j < 8; j++ {
			d[i+j] = byte(x >> (8 * j))
		}
	}
	return d
}

// replicasExcept returns the replica ids 0..n-1 other than self, in order.
func replicasExcept(n int, self sim.NodeID) []sim.NodeID {
	out := make([]sim.NodeID, 0, n)
	for i := 0; i < n; i++ {
		if sim.NodeID(i) != self {
			out = append(out, sim.NodeID(i))
		}
	}
	return out
}
