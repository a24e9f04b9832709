package pbft

import (
	"crypto/sha256"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// TestVerifyCache checks that the cache remembers exactly the messages
// added (by identity, not content), that replicas sharing it still reject a
// bad signature, and that a hit skips nothing observable.
func TestVerifyCache(t *testing.T) {
	c := NewVerifyCache(4)
	if len(c.slots) != 64 || len(NewVerifyCache(100).slots) != 1<<14 {
		t.Fatalf("sizes %d and %d, want 64 and %d", len(c.slots), len(NewVerifyCache(100).slots), 1<<14)
	}
	a := &Prepare{View: 1, Seq: 2, Replica: 1}
	b := &Prepare{View: 1, Seq: 2, Replica: 1} // same content, another message
	if c.has(a) {
		t.Fatal("empty cache has a message")
	}
	c.add(a)
	if !c.has(a) {
		t.Fatal("added message not found")
	}
	if c.has(b) {
		t.Fatal("a different message with equal content counts as verified")
	}

	kr := NewKeyring(9, 5)
	r, err := NewReplica(Config{ID: 0, N: 4, F: 1, CheckpointInterval: 2, Window: 4, Batch: 1,
		ViewChangeTimeout: 1, Keyring: kr, SM: nopSM{}, VerifyCache: NewVerifyCache(4)})
	if err != nil {
		t.Fatal(err)
	}
	good := &Prepare{View: 0, Seq: 1, Replica: 1}
	good.Sig = kr.Signer(1).Sign(good)
	bad := &Prepare{View: 0, Seq: 1, Replica: 1, Sig: good.Sig + 1}
	for i := 0; i < 2; i++ { // the second round answers from the cache
		if !r.verify(good) {
			t.Fatalf("round %d: good signature rejected", i)
		}
		if r.verify(bad) {
			t.Fatalf("round %d: bad signature accepted", i)
		}
	}
}

// nopSM is a state machine that does nothing.
type nopSM struct{}

func (nopSM) Execute(string) string  { return "" }
func (nopSM) Digest() [32]byte       { return [32]byte{} }
func (nopSM) Freeze() Frozen         { return EncodedState(nil) }
func (nopSM) Thaw(Frozen) error      { return nil }
func (nopSM) Restore(b []byte) error { return nil }

// TestVerifyCachePrePrepare checks that replicas sharing a cache accept a
// valid PRE-PREPARE, remember it, and still reject one whose batch does not
// match its digest or holds a badly signed request, however often asked.
func TestVerifyCachePrePrepare(t *testing.T) {
	kr := NewKeyring(9, 6)
	vc := NewVerifyCache(4)
	var rs []*Replica
	for id := range 2 {
		r, err := NewReplica(Config{ID: sim.NodeID(id + 1), N: 4, F: 1, CheckpointInterval: 2, Window: 4, Batch: 1,
			ViewChangeTimeout: 1, Keyring: kr, SM: nopSM{}, VerifyCache: vc})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	req := func(ts uint64) *Request {
		q := &Request{Op: "get PAY001", Timestamp: ts, Client: 4}
		q.Sig = kr.Signer(4).Sign(q)
		return q
	}
	pp := func(batch ...*Request) *PrePrepare {
		m := &PrePrepare{View: 0, Seq: 1, Batch: batch, Replica: 0}
		m.Digest, _ = batchDigestBuf(nil, batch)
		m.Sig = kr.Signer(0).Sign(m)
		return m
	}
	good := pp(req(1))
	wrongDigest := pp(req(1))
	wrongDigest.Batch = []*Request{req(2)} // signed over the old digest, carries another batch
	wrongDigest.Sig = kr.Signer(0).Sign(wrongDigest)
	forged := req(3)
	forged.Sig++
	badRequest := pp(forged)
	for round := range 2 { // the second round answers from the cache where it can
		for _, r := range rs {
			if !r.validPrePrepare(good) {
				t.Fatalf("round %d, replica %d: valid PRE-PREPARE rejected", round, r.id)
			}
			if r.validPrePrepare(wrongDigest) {
				t.Fatalf("round %d, replica %d: PRE-PREPARE with a mismatched digest accepted", round, r.id)
			}
			if r.validPrePrepare(badRequest) {
				t.Fatalf("round %d, replica %d: PRE-PREPARE with a forged request accepted", round, r.id)
			}
		}
	}
	if !vc.validPP(good) || vc.validPP(wrongDigest) || vc.validPP(badRequest) {
		t.Fatalf("cache holds good=%v wrongDigest=%v badRequest=%v, want only good", vc.validPP(good), vc.validPP(wrongDigest), vc.validPP(badRequest))
	}
}

// TestVerifyCacheVerify: Verify agrees with the keyring on good, forged and
// changed-copy signatures, however often asked and after Reset, and its
// table does not grow with the messages it sees.
func TestVerifyCacheVerify(t *testing.T) {
	kr := NewKeyring(3, 5)
	c := NewVerifyCacheSize(100)
	if len(c.slots) != 128 {
		t.Fatalf("%d entries for 100, want 128", len(c.slots))
	}
	for i := range 20000 {
		good := &Commit{View: 0, Seq: uint64(i), Replica: 2}
		good.Sig = kr.Signer(2).Sign(good)
		forged := &Commit{View: 0, Seq: uint64(i), Replica: 2, Sig: good.Sig ^ 1}
		copied := *good
		copied.Seq++ // same signature over other content
		for round := range 2 {
			if !c.Verify(kr, good) || c.Verify(kr, forged) || c.Verify(kr, &copied) {
				t.Fatalf("message %d round %d: good %v forged %v changed copy %v", i, round, c.Verify(kr, good), c.Verify(kr, forged), c.Verify(kr, &copied))
			}
		}
		if i%1000 == 0 {
			c.Reset()
			if c.has(good) {
				t.Fatal("a message survived Reset")
			}
		}
	}
	if len(c.slots) != 128 {
		t.Fatalf("the table grew to %d entries", len(c.slots))
	}
}

// TestVerifyCacheStateSum checks the state digest memo: it answers SHA-256
// of its input whether the input repeats the last one or not, also when the
// caller writes the next input into the buffer it passed before (as
// Replica.stateDigest does), and a nil cache hashes.
func TestVerifyCacheStateSum(t *testing.T) {
	c := NewVerifyCache(4)
	buf := make([]byte, 0, 64)
	for i, in := range []string{"state-a", "state-a", "state-b", "state-a", "", "", "state-c"} {
		buf = append(buf[:0], in...) // the caller's buffer, reused
		if got, want := c.stateSum(buf), sha256.Sum256([]byte(in)); got != want {
			t.Fatalf("step %d: stateSum(%q) = %x, want %x", i, in, got[:4], want[:4])
		}
		var nilCache *VerifyCache
		if got, want := nilCache.stateSum(buf), sha256.Sum256([]byte(in)); got != want {
			t.Fatalf("step %d: nil cache's stateSum(%q) = %x, want %x", i, in, got[:4], want[:4])
		}
	}
}
