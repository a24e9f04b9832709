package pbft

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// canonicalSample is a NEW-VIEW, a STATE and a VIEW-CHANGE nesting every kind
// of message (a NEW-VIEW and a STATE carry their VIEW-CHANGEs by reference).
func canonicalSample() []sim.Message {
	q := &Request{Op: "op", Timestamp: 3, Client: 5, Sig: 7}
	pp := &PrePrepare{View: 1, Seq: 2, Digest: Digest{1}, Batch: []*Request{q}, Replica: 1, Sig: 8}
	p := &Prepare{View: 1, Seq: 2, Digest: Digest{1}, Replica: 2, Sig: 9}
	c := &Checkpoint{Seq: 4, StateDigest: Digest{2}, Replica: 3, Sig: 10}
	vc := &ViewChange{NewView: 2, StableSeq: 4, Checkpoints: []*Checkpoint{c}, Prepared: []PreparedCert{{PrePrepare: pp, Prepares: []*Prepare{p}}}, Replica: 0, Sig: 11}
	nv := &NewView{View: 2, ViewChanges: []*ViewChange{vc}, PrePrepares: []*PrePrepare{pp}, Replica: 2, Sig: 12}
	st := &State{Seq: 4, StateDigest: Digest{2}, Snapshot: []byte("snap"), LastReplies: []Reply{{View: 1, Timestamp: 3, Client: 5, Replica: 0, Result: "r"}},
		Proof: []*Checkpoint{c}, NewView: nv, Replica: 1}
	return []sim.Message{nv, st, vc}
}

// TestCanonicalEncodingPinned pins the canonical encoding (what the trace
// hash is computed over) of messages nesting every message kind: a change
// of encoding changes every golden trace hash, so it must be deliberate.
func TestCanonicalEncodingPinned(t *testing.T) {
	want := []string{"f8b827094cefd223", "e3b532056703fb53", "4da1189e2f2f59e2"}
	for i, m := range canonicalSample() {
		sum := sha256.Sum256(m.AppendCanonical(nil))
		if got := hex.EncodeToString(sum[:8]); got != want[i] {
			t.Errorf("%v: canonical encoding hash %s, want %s", m.Type(), got, want[i])
		}
	}
	// nested messages are encoded by reference (signer, signature): a
	// nested signature shows in the encoding
	ms := canonicalSample()
	nv := ms[0].(*NewView)
	before := string(nv.AppendCanonical(nil))
	nv.ViewChanges[0].Sig++
	if string(nv.AppendCanonical(nil)) == before {
		t.Error("a nested VIEW-CHANGE's signature does not change the NEW-VIEW's encoding")
	}
}
