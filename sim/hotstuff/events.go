package hotstuff

import "github.com/pbftsim/pbftsim/sim"

// HotStuff replicas and clients report the protocol-neutral events the
// checkers consume (request submitted, block committed at a height,
// request executed at (seq, digest, result), reply accepted) with the
// event types of sim/pbft (pbft.Submitted, pbft.Committed, pbft.Executed,
// pbft.Accepted): a height is a sequence number and a block hash a digest.
// ViewEntered is HotStuff's own.

// ViewEntered: replica Replica entered view View (Leader leads it); Reason
// is "decide" (the previous view decided), "timeout", "join" (f+1 replicas
// asked for it) or "qc" (a certificate of that view arrived).
type ViewEntered struct {
	Replica sim.NodeID
	View    uint64
	Leader  sim.NodeID
	Reason  string
}

// Name implements sim.Event.
func (e *ViewEntered) Name() string { return "view-entered" }

// AppendCanonical implements sim.Event.
func (e *ViewEntered) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Replica)
	b = appendU64(b, e.View)
	b = appendNode(b, e.Leader)
	return appendStr(b, e.Reason)
}
