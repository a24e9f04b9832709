package hotstuff

import (
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/events"
)

// HotStuff replicas and clients report the protocol-neutral events the
// checkers consume (request submitted, block committed at a height,
// request executed at (seq, digest, result), reply accepted) with the
// event types of sim/pbft (pbft.Submitted, pbft.Committed, pbft.Executed,
// pbft.Accepted): a height is a sequence number and a block hash a digest.
// ViewEntered is HotStuff's own.

// ViewEntered: replica Replica entered view View (Leader leads it); Reason
// is "start", "decide" (the previous view decided), "new-view" (n−f
// replicas asked for it), "proposal" (its leader proposed and the replica
// had asked for it) or "qc" (a certificate of that view arrived). TimedOut
// says that the replica timed out in the view it left.
type ViewEntered struct {
	Replica  sim.NodeID
	View     uint64
	Leader   sim.NodeID
	Reason   string
	TimedOut bool
}

// Name implements sim.Event.
func (e *ViewEntered) Name() string { return "view-entered" }

// AppendCanonical implements sim.Event.
func (e *ViewEntered) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Replica)
	b = appendU64(b, e.View)
	b = appendNode(b, e.Leader)
	b = appendStr(b, e.Reason)
	if e.TimedOut {
		return append(b, 1)
	}
	return append(b, 0)
}

// StateDigest: replica Replica's state digest right after executing the
// block at height Seq, reported every StateInterval heights (HotStuff has no
// checkpoint messages; this is what the state-agreement checker compares).
type StateDigest struct {
	Replica sim.NodeID
	Seq     uint64
	Digest  Digest
}

// StateInterval is how often (in heights) a replica reports StateDigest.
const StateInterval = 16

// Name implements sim.Event.
func (e *StateDigest) Name() string { return "state-digest" }

// AppendCanonical implements sim.Event.
func (e *StateDigest) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Replica)
	b = appendU64(b, e.Seq)
	return append(b, e.Digest[:]...)
}

// ViewEntry implements events.ViewEntered.
func (e *ViewEntered) ViewEntry() events.ViewEntry {
	return events.ViewEntry{Replica: e.Replica, View: e.View}
}

// StateReport implements events.StateReported.
func (e *StateDigest) StateReport() events.StateReport {
	return events.StateReport{Replica: e.Replica, Seq: e.Seq, Digest: events.Digest(e.Digest)}
}

var (
	_ events.ViewEntered   = (*ViewEntered)(nil)
	_ events.StateReported = (*StateDigest)(nil)
)
