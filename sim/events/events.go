// Package events defines the protocol-neutral events that the property
// checkers (package properties) consume: what a client submitted and
// accepted, what a replica decided and executed, which view it entered and
// the digest of its state at a sequence number. A protocol reports its own
// event types through sim.Output.Report (they are hashed into the trace
// under their own names); each type that carries one of these facts also
// implements the matching interface below, returning the fact as a plain
// value. The checkers of agreement, total order, integrity, validity,
// state agreement, client view and linearizability read only these
// interfaces, so a second protocol reuses them unchanged by implementing
// them on its events (see docs/architecture.md).
//
// Conventions every protocol must follow for the checkers to be sound:
//   - Seq numbers the decided log from 1 without gaps; Index numbers the
//     requests of a batch at one Seq from 0. A null (no-op) entry is one
//     Execution with Null set.
//   - Digest identifies what was decided at Seq (the same bytes at every
//     correct replica that decides the same batch).
//   - A StateReport's Digest is the digest of the replica's replicated
//     state right after executing Seq (equal at correct replicas).
//   - Replica and Client are node ids of the run; an event reported by a
//     node is about that node (the checkers also use the record's From).
package events

import (
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Digest is a 32-byte digest (of a batch, or of a replicated state).
type Digest [32]byte

// Submission: client Client sent a new request (its first transmission).
type Submission struct {
	Client    sim.NodeID
	Timestamp uint64 // the client's request number, increasing
	Op        string
	At        sim.Time // 0: the record's time
}

// Acceptance: client Client accepted Result for its request Timestamp.
type Acceptance struct {
	Client      sim.NodeID
	Timestamp   uint64
	Op          string
	Result      string
	SubmittedAt sim.Time
	At          sim.Time
	Latency     time.Duration
}

// Decision: replica Replica decided (committed) Digest at Seq in View, before
// executing it.
type Decision struct {
	Replica sim.NodeID
	View    uint64
	Seq     uint64
	Digest  Digest
}

// Execution: replica Replica executed the request at (Seq, Index) of the
// decided log, whose batch digest is Digest, with result Result.
type Execution struct {
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

// ViewEntry: replica Replica entered view View (views never decrease at a
// correct replica).
type ViewEntry struct {
	Replica sim.NodeID
	View    uint64
}

// StateReport: the digest of replica Replica's replicated state right
// after executing Seq (a checkpoint).
type StateReport struct {
	Replica sim.NodeID
	Seq     uint64
	Digest  Digest
}

// StateInstall: replica Replica installed a snapshot of the state at Seq
// (state transfer): it goes on executing at Seq+1 without executing the
// sequence numbers in between.
type StateInstall struct {
	Replica sim.NodeID
	Seq     uint64
}

// Submitted is an event that reports a Submission.
type Submitted interface {
	sim.Event
	Submission() Submission
}

// Accepted is an event that reports an Acceptance.
type Accepted interface {
	sim.Event
	Acceptance() Acceptance
}

// Decided is an event that reports a Decision.
type Decided interface {
	sim.Event
	Decision() Decision
}

// Executed is an event that reports an Execution.
type Executed interface {
	sim.Event
	Execution() Execution
}

// ViewEntered is an event that reports a ViewEntry.
type ViewEntered interface {
	sim.Event
	ViewEntry() ViewEntry
}

// StateReported is an event or a message that reports a StateReport. A
// protocol may implement it on the message a replica sends with its state
// digest (PBFT's CHECKPOINT): the checkers then read it from the send
// record of its author.
type StateReported interface {
	StateReport() StateReport
}

// StateInstalled is an event that reports a StateInstall.
type StateInstalled interface {
	sim.Event
	StateInstall() StateInstall
}
