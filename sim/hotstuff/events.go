package hotstuff

import (
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/events"
)

// HotStuff's events. Each implements the protocol-neutral interface of
// sim/events that the checkers read (request submitted, block decided at a
// height, request executed at (seq, digest, result), reply accepted, view
// entered, state digest): a height is a sequence number, a block hash a
// digest, and a block without requests one null execution.

// Submitted: client Client sent a new request (first transmission).
type Submitted struct {
	Client    sim.NodeID
	Timestamp uint64
	Op        string
	At        sim.Time
}

// Accepted: client Client accepted Result for its request Timestamp after
// f+1 matching replies (from Replicas).
type Accepted struct {
	Client      sim.NodeID
	Timestamp   uint64
	Op          string
	Result      string
	SubmittedAt sim.Time
	At          sim.Time
	Latency     time.Duration
	Replicas    []sim.NodeID
}

// Decided: replica Replica decided the block Digest at height Seq
// (proposed in View), about to execute it.
type Decided struct {
	Replica sim.NodeID
	View    uint64
	Seq     uint64
	Digest  Digest
}

// Executed: replica Replica executed request Index of the block Digest at
// height Seq (Null: the block has no request).
type Executed struct {
	Replica   sim.NodeID
	View      uint64
	Seq       uint64
	Index     int
	Digest    Digest
	Null      bool
	Client    sim.NodeID
	Timestamp uint64
	Op        string
	Result    string
}

// Name implements sim.Event.
func (e *Submitted) Name() string { return "submitted" }

// AppendCanonical implements sim.Event.
func (e *Submitted) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Client)
	b = appendU64(b, e.Timestamp)
	b = appendStr(b, e.Op)
	return appendU64(b, uint64(e.At))
}

// Name implements sim.Event.
func (e *Accepted) Name() string { return "accepted" }

// AppendCanonical implements sim.Event.
func (e *Accepted) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Client)
	b = appendU64(b, e.Timestamp)
	b = appendStr(b, e.Op)
	b = appendStr(b, e.Result)
	b = appendU64(b, uint64(e.SubmittedAt))
	b = appendU64(b, uint64(e.At))
	b = appendU64(b, uint64(len(e.Replicas)))
	for _, id := range e.Replicas {
		b = appendNode(b, id)
	}
	return b
}

// Name implements sim.Event.
func (e *Decided) Name() string { return "decided" }

// AppendCanonical implements sim.Event.
func (e *Decided) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Replica)
	b = appendU64(b, e.View)
	b = appendU64(b, e.Seq)
	return append(b, e.Digest[:]...)
}

// Name implements sim.Event.
func (e *Executed) Name() string { return "executed" }

// AppendCanonical implements sim.Event.
func (e *Executed) AppendCanonical(b []byte) []byte {
	b = appendNode(b, e.Replica)
	b = appendU64(b, e.View)
	b = appendU64(b, e.Seq)
	b = appendU64(b, uint64(e.Index))
	b = append(b, e.Digest[:]...)
	if e.Null {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendNode(b, e.Client)
	b = appendU64(b, e.Timestamp)
	b = appendStr(b, e.Op)
	return appendStr(b, e.Result)
}

// Submission implements events.Submitted.
func (e *Submitted) Submission() events.Submission {
	return events.Submission{Client: e.Client, Timestamp: e.Timestamp, Op: e.Op, At: e.At}
}

// Acceptance implements events.Accepted.
func (e *Accepted) Acceptance() events.Acceptance {
	return events.Acceptance{Client: e.Client, Timestamp: e.Timestamp, Op: e.Op, Result: e.Result,
		SubmittedAt: e.SubmittedAt, At: e.At, Latency: e.Latency}
}

// Decision implements events.Decided.
func (e *Decided) Decision() events.Decision {
	return events.Decision{Replica: e.Replica, View: e.View, Seq: e.Seq, Digest: events.Digest(e.Digest)}
}

// Execution implements events.Executed.
func (e *Executed) Execution() events.Execution {
	return events.Execution{Replica: e.Replica, View: e.View, Seq: e.Seq, Index: e.Index, Digest: events.Digest(e.Digest),
		Null: e.Null, Client: e.Client, Timestamp: e.Timestamp, Op: e.Op, Result: e.Result}
}

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
	_ events.Submitted     = (*Submitted)(nil)
	_ events.Accepted      = (*Accepted)(nil)
	_ events.Decided       = (*Decided)(nil)
	_ events.Executed      = (*Executed)(nil)
	_ events.ViewEntered   = (*ViewEntered)(nil)
	_ events.StateReported = (*StateDigest)(nil)
)
