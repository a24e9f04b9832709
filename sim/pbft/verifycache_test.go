package pbft

import "testing"

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
func (nopSM) Snapshot() []byte       { return nil }
func (nopSM) Restore(b []byte) error { return nil }
