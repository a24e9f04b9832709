package pbft

// Event names (sim.Event.Name) and canonical encodings of the PBFT events.

// Name implements sim.Event.
func (e *Prepared) Name() string { return "prepared" }

// AppendCanonical implements sim.Event.
func (e *Prepared) AppendCanonical(b []byte) []byte {
	b = append(b, 'P')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.View)
	b = appendU64(b, e.Seq)
	return append(b, e.Digest[:]...)
}

// Name implements sim.Event.
func (e *Committed) Name() string { return "committed" }

// AppendCanonical implements sim.Event.
func (e *Committed) AppendCanonical(b []byte) []byte {
	b = append(b, 'C')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.View)
	b = appendU64(b, e.Seq)
	return append(b, e.Digest[:]...)
}

// Name implements sim.Event.
func (e *Executed) Name() string { return "executed" }

// AppendCanonical implements sim.Event.
func (e *Executed) AppendCanonical(b []byte) []byte {
	b = append(b, 'E')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.View)
	b = appendU64(b, e.Seq)
	b = appendU64(b, uint64(e.Index))
	b = append(b, e.Digest[:]...)
	b = appendBool(b, e.Null)
	b = appendNode(b, int32(e.Client))
	b = appendU64(b, e.Timestamp)
	b = appendStr(b, e.Op)
	return appendStr(b, e.Result)
}

// Name implements sim.Event.
func (e *SentPrepare) Name() string { return "sent-prepare" }

// AppendCanonical implements sim.Event.
func (e *SentPrepare) AppendCanonical(b []byte) []byte {
	b = append(b, 'S')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.View)
	b = appendU64(b, e.Seq)
	return append(b, e.Digest[:]...)
}

// Name implements sim.Event.
func (e *StableCheckpoint) Name() string { return "stable-checkpoint" }

// AppendCanonical implements sim.Event.
func (e *StableCheckpoint) AppendCanonical(b []byte) []byte {
	b = append(b, 'K')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.Seq)
	return append(b, e.StateDigest[:]...)
}

// Name implements sim.Event.
func (e *ViewChangeStarted) Name() string { return "view-change" }

// AppendCanonical implements sim.Event.
func (e *ViewChangeStarted) AppendCanonical(b []byte) []byte {
	b = append(b, 'V')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.From)
	return appendU64(b, e.To)
}

// Name implements sim.Event.
func (e *NewViewEntered) Name() string { return "new-view" }

// AppendCanonical implements sim.Event.
func (e *NewViewEntered) AppendCanonical(b []byte) []byte {
	b = append(b, 'N')
	b = appendNode(b, int32(e.Replica))
	b = appendU64(b, e.View)
	b = appendNode(b, int32(e.Primary))
	b = appendBool(b, e.Recomputed)
	return appendBool(b, e.OMatches)
}

// Name implements sim.Event.
func (e *StateTransferred) Name() string { return "state-transfer" }

// AppendCanonical implements sim.Event.
func (e *StateTransferred) AppendCanonical(b []byte) []byte {
	b = append(b, 'T')
	b = appendNode(b, int32(e.Replica))
	return appendU64(b, e.Seq)
}

// Name implements sim.Event.
func (e *BadState) Name() string { return "bad-state" }

// AppendCanonical implements sim.Event.
func (e *BadState) AppendCanonical(b []byte) []byte {
	b = append(b, 'B')
	b = appendNode(b, int32(e.Replica))
	b = appendNode(b, int32(e.From))
	b = appendU64(b, e.Seq)
	b = append(b, e.Want[:]...)
	return append(b, e.Got[:]...)
}

// Name implements sim.Event.
func (e *Submitted) Name() string { return "submitted" }

// AppendCanonical implements sim.Event.
func (e *Submitted) AppendCanonical(b []byte) []byte {
	b = append(b, 's')
	b = appendNode(b, int32(e.Client))
	b = appendU64(b, e.Timestamp)
	b = appendStr(b, e.Op)
	return appendU64(b, uint64(e.At))
}

// Name implements sim.Event.
func (e *Accepted) Name() string { return "accepted" }

// AppendCanonical implements sim.Event.
func (e *Accepted) AppendCanonical(b []byte) []byte {
	b = append(b, 'a')
	b = appendNode(b, int32(e.Client))
	b = appendU64(b, e.Timestamp)
	b = appendStr(b, e.Op)
	b = appendStr(b, e.Result)
	b = appendU64(b, uint64(e.SubmittedAt))
	b = appendU64(b, uint64(e.At))
	b = appendU64(b, uint64(e.Latency))
	b = appendLen(b, len(e.Replicas))
	for _, r := range e.Replicas {
		b = appendNode(b, int32(r))
	}
	return b
}
