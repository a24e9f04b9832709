package byzantine

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// TestPPBatchMismatchKinds: each other batch of pp-batch-mismatch is what
// its documentation says: null, reorder, drop-first and repeat-first keep
// the digest of the true batch over another batch, forge-client carries the
// digest of a batch whose first request the client did not sign; mix takes
// them in turn by sequence number and split replicas alone get all but
// forge-client.
func TestPPBatchMismatchKinds(t *testing.T) {
	env := testEnv(0, 1)
	a := signed(&pbft.Request{Op: "pay 1", Timestamp: 1, Client: testClient})
	b := signed(&pbft.Request{Op: "pay 2", Timestamp: 1, Client: testClient + 1})
	pp := func(seq uint64) *pbft.PrePrepare {
		batch := []*pbft.Request{a, b}
		return signed(&pbft.PrePrepare{View: 0, Seq: seq, Batch: batch, Digest: pbft.BatchDigest(batch), Replica: 0})
	}
	cases := []struct {
		batch string
		seq   uint64
		want  string // the kind the backups in the split get
	}{
		{"null", 1, "null"}, {"reorder", 1, "reorder"}, {"drop-first", 1, "drop-first"}, {"forge-client", 1, "forge-client"},
		{"repeat-first", 1, "repeat-first"},
		{"mix", 5, "null"}, {"mix", 6, "reorder"}, {"mix", 7, "drop-first"}, {"mix", 8, "forge-client"}, {"mix", 9, "repeat-first"},
	}
	for _, tc := range cases {
		n, err := New("pp-batch-mismatch", map[string]string{"batch": tc.batch, "split": "3"}, nopNode{}, env)
		if err != nil {
			t.Fatal(err)
		}
		r := n.(*node).chain[0]
		m := pp(tc.seq)
		out := r.rewrite(&stepCtx{env: &env}, []sim.Send{{To: 1, Msg: m}, {To: 3, Msg: m}}, nil)
		got := out[1].Msg.(*pbft.PrePrepare)
		if !testKeys.Verify(got) {
			t.Errorf("%s seq %d: the PRE-PREPARE is not signed by the primary", tc.batch, tc.seq)
		}
		if (out[0].Msg != sim.Message(m)) != (tc.want == "forge-client") {
			t.Errorf("%s seq %d: replica 1 (not in the split) got an altered PRE-PREPARE: %v", tc.batch, tc.seq, out[0].Msg != sim.Message(m))
		}
		keeps := got.Digest == m.Digest
		switch tc.want {
		case "null":
			if !keeps || len(got.Batch) != 0 {
				t.Errorf("%s: batch %v digest kept %v, want the null batch under the true digest", tc.batch, got.Batch, keeps)
			}
		case "reorder":
			if !keeps || len(got.Batch) != 2 || got.Batch[0] != b || got.Batch[1] != a {
				t.Errorf("%s: batch %v digest kept %v, want b, a under the true digest", tc.batch, got.Batch, keeps)
			}
		case "drop-first":
			if !keeps || len(got.Batch) != 1 || got.Batch[0] != b {
				t.Errorf("%s: batch %v digest kept %v, want b under the true digest", tc.batch, got.Batch, keeps)
			}
		case "repeat-first":
			if !keeps || len(got.Batch) != 2 || got.Batch[0] != a || got.Batch[1] != a || m.Batch[1] != b {
				t.Errorf("%s: batch %v digest kept %v, want a, a under the true digest (the true batch untouched)", tc.batch, got.Batch, keeps)
			}
		case "forge-client":
			f := got.Batch[0]
			if len(got.Batch) != 2 || f.Client != a.Client || f.Op == a.Op || testKeys.Verify(f) || got.Digest != pbft.BatchDigest(got.Batch) {
				t.Errorf("%s: first request %+v (valid signature %v), digest of the batch %v: want an altered op in the client's name, unsigned by it, under its batch's digest",
					tc.batch, f, testKeys.Verify(f), got.Digest == pbft.BatchDigest(got.Batch))
			}
		}
	}
	// A one-request batch is left alone by reorder, drop-first and repeat-first.
	for _, kind := range []string{"reorder", "drop-first", "repeat-first"} {
		n, _ := New("pp-batch-mismatch", map[string]string{"batch": kind}, nopNode{}, env)
		one := signed(&pbft.PrePrepare{Seq: 1, Batch: []*pbft.Request{a}, Digest: pbft.BatchDigest([]*pbft.Request{a})})
		if out := n.(*node).chain[0].rewrite(&stepCtx{env: &env}, []sim.Send{{To: 3, Msg: one}}, nil); out[0].Msg != sim.Message(one) {
			t.Errorf("%s altered a one-request batch", kind)
		}
	}
}

// TestForgeStateReplies: mode replies keeps the snapshot and the proven
// digest and moves every last reply's timestamp ahead; mix forges the
// snapshot and the replies in turn.
func TestForgeStateReplies(t *testing.T) {
	env := testEnv(1, 1)
	st := &pbft.State{Seq: 2, StateDigest: pbft.Digest{2}, Snapshot: []byte("true"), Replica: 1,
		LastReplies: []pbft.Reply{{Client: testClient, Timestamp: 3, Result: "ok"}}}
	for _, tc := range []struct {
		mode    string
		replies []bool // per STATE sent: the replies forged (else the snapshot)
	}{{"replies", []bool{true, true}}, {"snapshot", []bool{false, false}}, {"mix", []bool{false, true, false}}} {
		n, err := New("forge-state", map[string]string{"mode": tc.mode}, nopNode{}, env)
		if err != nil {
			t.Fatal(err)
		}
		r := n.(*node).chain[0]
		for i, want := range tc.replies {
			got := r.rewrite(&stepCtx{env: &env}, []sim.Send{{To: 2, Msg: st}}, nil)[0].Msg.(*pbft.State)
			forgedReplies := len(got.LastReplies) == 1 && got.LastReplies[0].Timestamp == 1003 && got.LastReplies[0].Result == "forged"
			trueSnapshot := string(got.Snapshot) == "true"
			if got.StateDigest != st.StateDigest || forgedReplies != want || trueSnapshot != want {
				t.Errorf("%s STATE %d: replies forged %v, snapshot kept %v, digest kept %v; want replies forged %v (and the snapshot kept exactly then)",
					tc.mode, i, forgedReplies, trueSnapshot, got.StateDigest == st.StateDigest, want)
			}
		}
	}
	if st.LastReplies[0].Timestamp != 3 {
		t.Fatal("forge-state changed the honest STATE in place")
	}
}
