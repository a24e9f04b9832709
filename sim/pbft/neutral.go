package pbft

import "github.com/pbftsim/pbftsim/sim/events"

// PBFT's events (and its CHECKPOINT message) implement the protocol-neutral
// interfaces of package events, which the property checkers read.

var (
	_ events.Submitted      = (*Submitted)(nil)
	_ events.Accepted       = (*Accepted)(nil)
	_ events.Decided        = (*Committed)(nil)
	_ events.Executed       = (*Executed)(nil)
	_ events.ViewEntered    = (*NewViewEntered)(nil)
	_ events.StateReported  = (*Checkpoint)(nil)
	_ events.StateInstalled = (*StateTransferred)(nil)
)

// Submission implements events.Submitted.
func (e *Submitted) Submission() events.Submission {
	return events.Submission{Client: e.Client, Timestamp: e.Timestamp, Op: e.Op, At: e.At}
}

// Acceptance implements events.Accepted.
func (e *Accepted) Acceptance() events.Acceptance {
	return events.Acceptance{Client: e.Client, Timestamp: e.Timestamp, Op: e.Op, Result: e.Result,
		SubmittedAt: e.SubmittedAt, At: e.At, Latency: e.Latency}
}

// Decision implements events.Decided: committed-local is PBFT's decision.
func (e *Committed) Decision() events.Decision {
	return events.Decision{Replica: e.Replica, View: e.View, Seq: e.Seq, Digest: events.Digest(e.Digest)}
}

// Execution implements events.Executed.
func (e *Executed) Execution() events.Execution {
	return events.Execution{Replica: e.Replica, View: e.View, Seq: e.Seq, Index: e.Index, Digest: events.Digest(e.Digest),
		Null: e.Null, Client: e.Client, Timestamp: e.Timestamp, Op: e.Op, Result: e.Result}
}

// ViewEntry implements events.ViewEntered.
func (e *NewViewEntered) ViewEntry() events.ViewEntry {
	return events.ViewEntry{Replica: e.Replica, View: e.View}
}

// StateReport implements events.StateReported: a CHECKPOINT carries its
// author's state digest after executing Seq.
func (m *Checkpoint) StateReport() events.StateReport {
	return events.StateReport{Replica: m.Replica, Seq: m.Seq, Digest: events.Digest(m.StateDigest)}
}

// StateInstall implements events.StateInstalled.
func (e *StateTransferred) StateInstall() events.StateInstall {
	return events.StateInstall{Replica: e.Replica, Seq: e.Seq}
}
