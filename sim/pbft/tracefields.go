package pbft

import "github.com/pbftsim/pbftsim/sim"

// The messages and events of the normal case write their JSON through
// sim.FieldWriter (sim.TraceAppender): exactly what encoding/json writes for
// them (TestTraceFieldsMatchJSON compares the two), without reflection, and
// compactly in the binary trace. The rarer view-change and state-transfer
// values are encoded by encoding/json.

func node(w *sim.FieldWriter, key string, id sim.NodeID) {
	w.Lit(key)
	w.Int(int64(id))
}

func u64(w *sim.FieldWriter, key string, v uint64) {
	w.Lit(key)
	w.Uint(v)
}

func digest(w *sim.FieldWriter, key string, d *Digest) {
	w.Lit(key)
	w.Hex(d[:])
}

func str(w *sim.FieldWriter, key, s string) {
	w.Lit(key)
	w.String(s)
}

// AppendTraceFields implements sim.TraceAppender.
func (m *Request) AppendTraceFields(w *sim.FieldWriter) {
	str(w, `{"Op":`, m.Op)
	u64(w, `,"Timestamp":`, m.Timestamp)
	node(w, `,"Client":`, m.Client)
	u64(w, `,"Sig":`, uint64(m.Sig))
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (m *PrePrepare) AppendTraceFields(w *sim.FieldWriter) {
	u64(w, `{"View":`, m.View)
	u64(w, `,"Seq":`, m.Seq)
	digest(w, `,"Digest":`, &m.Digest)
	w.Lit(`,"Batch":`)
	if m.Batch == nil {
		w.Lit(`null`)
	} else {
		w.Lit(`[`)
		for i, q := range m.Batch {
			if i > 0 {
				w.Lit(`,`)
			}
			if q == nil {
				w.Lit(`null`)
			} else {
				q.AppendTraceFields(w)
			}
		}
		w.Lit(`]`)
	}
	node(w, `,"Replica":`, m.Replica)
	u64(w, `,"Sig":`, uint64(m.Sig))
	w.Lit(`}`)
}

// appendVote writes the fields shared by PREPARE and COMMIT.
func appendVote(w *sim.FieldWriter, view, seq uint64, d *Digest, replica sim.NodeID, sig Sig) {
	u64(w, `{"View":`, view)
	u64(w, `,"Seq":`, seq)
	digest(w, `,"Digest":`, d)
	node(w, `,"Replica":`, replica)
	u64(w, `,"Sig":`, uint64(sig))
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (m *Prepare) AppendTraceFields(w *sim.FieldWriter) {
	appendVote(w, m.View, m.Seq, &m.Digest, m.Replica, m.Sig)
}

// AppendTraceFields implements sim.TraceAppender.
func (m *Commit) AppendTraceFields(w *sim.FieldWriter) {
	appendVote(w, m.View, m.Seq, &m.Digest, m.Replica, m.Sig)
}

// AppendTraceFields implements sim.TraceAppender.
func (m *Reply) AppendTraceFields(w *sim.FieldWriter) {
	u64(w, `{"View":`, m.View)
	u64(w, `,"Timestamp":`, m.Timestamp)
	node(w, `,"Client":`, m.Client)
	node(w, `,"Replica":`, m.Replica)
	str(w, `,"Result":`, m.Result)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (m *Checkpoint) AppendTraceFields(w *sim.FieldWriter) {
	u64(w, `{"Seq":`, m.Seq)
	digest(w, `,"StateDigest":`, &m.StateDigest)
	node(w, `,"Replica":`, m.Replica)
	u64(w, `,"Sig":`, uint64(m.Sig))
	w.Lit(`}`)
}

// appendSlot writes the fields shared by the prepared, committed and
// sent-prepare events.
func appendSlot(w *sim.FieldWriter, replica sim.NodeID, view, seq uint64, d *Digest) {
	node(w, `{"Replica":`, replica)
	u64(w, `,"View":`, view)
	u64(w, `,"Seq":`, seq)
	digest(w, `,"Digest":`, d)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *Prepared) AppendTraceFields(w *sim.FieldWriter) {
	appendSlot(w, e.Replica, e.View, e.Seq, &e.Digest)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *Committed) AppendTraceFields(w *sim.FieldWriter) {
	appendSlot(w, e.Replica, e.View, e.Seq, &e.Digest)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *SentPrepare) AppendTraceFields(w *sim.FieldWriter) {
	appendSlot(w, e.Replica, e.View, e.Seq, &e.Digest)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *Executed) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Replica":`, e.Replica)
	u64(w, `,"View":`, e.View)
	u64(w, `,"Seq":`, e.Seq)
	w.Lit(`,"Index":`)
	w.Int(int64(e.Index))
	digest(w, `,"Digest":`, &e.Digest)
	w.Lit(`,"Null":`)
	w.Bool(e.Null)
	node(w, `,"Client":`, e.Client)
	u64(w, `,"Timestamp":`, e.Timestamp)
	str(w, `,"Op":`, e.Op)
	str(w, `,"Result":`, e.Result)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *StableCheckpoint) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Replica":`, e.Replica)
	u64(w, `,"Seq":`, e.Seq)
	digest(w, `,"StateDigest":`, &e.StateDigest)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *ViewChangeStarted) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Replica":`, e.Replica)
	u64(w, `,"From":`, e.From)
	u64(w, `,"To":`, e.To)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *NewViewEntered) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Replica":`, e.Replica)
	u64(w, `,"View":`, e.View)
	node(w, `,"Primary":`, e.Primary)
	w.Lit(`,"Recomputed":`)
	w.Bool(e.Recomputed)
	w.Lit(`,"OMatches":`)
	w.Bool(e.OMatches)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *StateTransferred) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Replica":`, e.Replica)
	u64(w, `,"Seq":`, e.Seq)
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *Submitted) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Client":`, e.Client)
	u64(w, `,"Timestamp":`, e.Timestamp)
	str(w, `,"Op":`, e.Op)
	w.Lit(`,"At":`)
	w.Int(int64(e.At))
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *Accepted) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Client":`, e.Client)
	u64(w, `,"Timestamp":`, e.Timestamp)
	str(w, `,"Op":`, e.Op)
	str(w, `,"Result":`, e.Result)
	w.Lit(`,"SubmittedAt":`)
	w.Int(int64(e.SubmittedAt))
	w.Lit(`,"At":`)
	w.Int(int64(e.At))
	w.Lit(`,"Latency":`)
	w.Int(int64(e.Latency))
	w.Lit(`,"Replicas":`)
	if e.Replicas == nil {
		w.Lit(`null`)
	} else {
		w.Lit(`[`)
		for i, id := range e.Replicas {
			if i > 0 {
				w.Lit(`,`)
			}
			w.Int(int64(id))
		}
		w.Lit(`]`)
	}
	w.Lit(`}`)
}

// AppendTraceFields implements sim.TraceAppender.
func (e *Probe) AppendTraceFields(w *sim.FieldWriter) {
	node(w, `{"Replica":`, e.Replica)
	u64(w, `,"View":`, e.View)
	str(w, `,"Path":`, e.Path)
	w.Lit(`}`)
}
