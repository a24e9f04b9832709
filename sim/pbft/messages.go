package pbft

import (
	"github.com/pbftsim/pbftsim/sim"
)

// Protocol is PBFT's message-type namespace (see sim.Protocol).
var Protocol = sim.NewProtocol("pbft")

// Message types of the PBFT protocol, as they appear in counters and traces.
var (
	TypeRequest    = Protocol.MsgType("REQUEST")
	TypePrePrepare = Protocol.MsgType("PRE-PREPARE")
	TypePrepare    = Protocol.MsgType("PREPARE")
	TypeCommit     = Protocol.MsgType("COMMIT")
	TypeReply      = Protocol.MsgType("REPLY")
	TypeCheckpoint = Protocol.MsgType("CHECKPOINT")
	TypeViewChange = Protocol.MsgType("VIEW-CHANGE")
	TypeNewView    = Protocol.MsgType("NEW-VIEW")
	TypeFetchState = Protocol.MsgType("FETCH-STATE")
	TypeState      = Protocol.MsgType("STATE")
)

// Wire tags: the first byte of each message's canonical encoding (what is
// signed, digested and folded into the trace hash). They are fixed constants,
// like protobuf field numbers, and not the registry's MsgType numbers, which
// follow package initialisation order: a binary that links another protocol
// initialised before PBFT must encode, sign and hash PBFT messages exactly as
// one that does not. The values are those the types had when PBFT was the
// first protocol registered, so no encoding changed.
const (
	tagRequest byte = iota
	tagPrePrepare
	tagPrepare
	tagCommit
	tagReply
	tagCheckpoint
	tagViewChange
	tagNewView
	tagFetchState
	tagState
)

// Request is a client operation ⟨REQUEST, o, t, c⟩.
type Request struct {
	Op        string     // the operation, e.g. "authorize PAY001 100"
	Timestamp uint64     // client-local, strictly increasing
	Client    sim.NodeID // the client
	Sig       Sig
}

// PrePrepare is ⟨PRE-PREPARE, v, n, d⟩ with the request batch it orders.
// An empty Batch is the null request (used by NEW-VIEW to fill gaps).
type PrePrepare struct {
	View    uint64
	Seq     uint64
	Digest  Digest // digest of Batch
	Batch   []*Request
	Replica sim.NodeID // the primary that sent it
	Sig     Sig
}

// Prepare is ⟨PREPARE, v, n, d, i⟩.
type Prepare struct {
	View    uint64
	Seq     uint64
	Digest  Digest
	Replica sim.NodeID
	Sig     Sig
}

// Commit is ⟨COMMIT, v, n, d, i⟩.
type Commit struct {
	View    uint64
	Seq     uint64
	Digest  Digest
	Replica sim.NodeID
	Sig     Sig
}

// Reply is ⟨REPLY, v, t, c, i, r⟩.
type Reply struct {
	View      uint64
	Timestamp uint64
	Client    sim.NodeID
	Replica   sim.NodeID
	Result    string
}

// Checkpoint is ⟨CHECKPOINT, n, d, i⟩: replica i's state digest after
// executing sequence number Seq.
type Checkpoint struct {
	Seq         uint64
	StateDigest Digest
	Replica     sim.NodeID
	Sig         Sig
}

// PreparedCert proves that a request prepared: its PRE-PREPARE and 2f
// matching PREPAREs from distinct backups.
type PreparedCert struct {
	PrePrepare *PrePrepare
	Prepares   []*Prepare
}

// ViewChange is ⟨VIEW-CHANGE, v+1, n, C, P, i⟩.
type ViewChange struct {
	NewView     uint64
	StableSeq   uint64        // n: the sender's last stable checkpoint
	Checkpoints []*Checkpoint // C: 2f+1 CHECKPOINTs proving StableSeq (empty when StableSeq is 0)
	Prepared    []PreparedCert
	Replica     sim.NodeID
	Sig         Sig
}

// NewView is ⟨NEW-VIEW, v+1, V, O⟩.
type NewView struct {
	View        uint64
	ViewChanges []*ViewChange // V
	PrePrepares []*PrePrepare // O, in sequence order
	Replica     sim.NodeID
	Sig         Sig
}

// FetchState asks replicas for their state at a stable checkpoint (state
// transfer for a replica that fell behind).
type FetchState struct {
	Seq     uint64 // the checkpoint wanted (at least)
	View    uint64 // the requester's view: a responder in a higher view includes its NEW-VIEW
	Replica sim.NodeID
}

// State answers FetchState with a checkpointed snapshot of the state machine.
type State struct {
	Seq         uint64
	StateDigest Digest
	Snapshot    []byte
	// LastReplies is part of the replicated state: the last reply per client.
	LastReplies []Reply
	// Proof is 2f+1 signed CHECKPOINTs for (Seq, StateDigest): the sender's
	// stable-checkpoint certificate, which the receiver adopts as its own.
	Proof []*Checkpoint
	// NewView is the NEW-VIEW of the sender's current view when the
	// requester is in a lower view (nil otherwise); lets a replica that
	// missed a view change rejoin.
	NewView *NewView
	Replica sim.NodeID
}
