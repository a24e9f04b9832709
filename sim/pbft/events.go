package pbft

import (
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Events a replica or client reports through sim.Output.Report. Checkers in
// properties/ and the cluster harness read them; they never affect the run.
// Each type implements sim.Event (Name and AppendCanonical in events_enc.go).

// Prepared: replica Replica reached prepared(m, v, n) for Digest.
type Prepared struct {
	Replica sim.NodeID
	View    uint64
	Seq     uint64
	Digest  Digest
}

// Committed: replica Replica reached committed-local(m, v, n) for Digest.
type Committed struct {
	Replica sim.NodeID
	View    uint64
	Seq     uint64
	Digest  Digest
}

// Executed: replica Replica executed the request at sequence number Seq.
// A batch of b requests produces b Executed events with the same Seq and
// Index 0..b-1; a null request produces one with Null set.
type Executed struct {
	Replica   sim.NodeID
	View      uint64
	Seq       uint64
	Index     int
	Digest    Digest // digest of the whole batch at Seq
	Null      bool
	Client    sim.NodeID
	Timestamp uint64
	Op        string
	Result    string
}

// SentPrepare: a replica sent (multicast) a PREPARE. Reported so invariant
// checkers can see a replica's own votes even when it votes to nobody.
type SentPrepare struct {
	Replica sim.NodeID
	View    uint64
	Seq     uint64
	Digest  Digest
}

// StableCheckpoint: replica Replica's checkpoint at Seq became stable.
type StableCheckpoint struct {
	Replica     sim.NodeID
	Seq         uint64
	StateDigest Digest
}

// ViewChangeStarted: replica Replica stopped accepting messages of view
// From and sent VIEW-CHANGE for view To.
type ViewChangeStarted struct {
	Replica sim.NodeID
	From    uint64
	To      uint64
}

// NewViewEntered: replica Replica entered view View, having accepted (or,
// as primary, sent) its NEW-VIEW. Recomputed reports whether the replica
// recomputed O from V and found it equal to the O it accepted.
type NewViewEntered struct {
	Replica    sim.NodeID
	View       uint64
	Primary    sim.NodeID
	Recomputed bool
	OMatches   bool
}

// StateTransferred: replica Replica installed a snapshot at Seq.
type StateTransferred struct {
	Replica sim.NodeID
	Seq     uint64
}

// BadState: replica Replica received from replica From a STATE for the
// stable checkpoint Seq whose 2f+1 CHECKPOINT proof fixes the digest Want,
// but whose snapshot restores to a state with digest Got (the zero digest
// when the snapshot does not decode). The replica discarded it and
// distrusts From's STATE replies from then on. A correct replica only ever
// sends the snapshot it checkpointed, so this accuses From; the evidence
// is the STATE message itself (From's reply in the trace).
type BadState struct {
	Replica sim.NodeID
	From    sim.NodeID
	Seq     uint64
	Want    Digest
	Got     Digest
}

// Submitted: client Client sent a new request (first transmission).
type Submitted struct {
	Client    sim.NodeID
	Timestamp uint64
	Op        string
	At        sim.Time
}

// Accepted: client Client accepted Result for its request Timestamp after
// enough matching replies.
type Accepted struct {
	Client      sim.NodeID
	Timestamp   uint64
	Op          string
	Result      string
	SubmittedAt sim.Time
	At          sim.Time
	Latency     time.Duration
	Replicas    []sim.NodeID // the replicas whose matching replies were counted
}
