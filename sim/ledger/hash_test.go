package ledger

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDigestResumesExact: the digests of ledgers whose node hashes resume
// from the states of earlier inputs (hashTable) equal the digest computed
// from scratch (a new trie, every node hashed whole, no table), for four
// ledgers sharing a SnapshotCache (so sharing its table) that mostly
// execute the same operations but also diverge, lag behind, thaw older
// frozen states and restore snapshots (the table then holds inputs of
// other tries at the same places), and for an unshared ledger with its own
// table. The table must have been used: a variant that never resumes
// fails, as does one that resumes a stride too far or trusts the table
// without comparing the inputs.
func TestDigestResumesExact(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		c := NewSnapshotCache()
		ls := []*Ledger{NewShared(c), NewShared(c), NewShared(c), NewShared(c), New()}
		type kept struct {
			f    interface{ Encode() []byte }
			from int
		}
		var frozen []kept
		const ids = 3000
		for i := range ids / 2 { // a trie whose top levels hold full nodes
			op := Authorize(payID(i), int64(1+i%900))
			for _, l := range ls {
				l.Execute(op)
			}
		}
		checks, steps := 0, 6000
		if testing.Short() {
			steps = 1600
		}
		for step := range steps {
			var op string
			switch id := payID(rng.IntN(ids)); rng.IntN(6) {
			case 0:
				op = Authorize(id, 1+rng.Int64N(1000))
			case 1, 2:
				op = Confirm(id)
			case 3:
				op = Refund(id, 1+rng.Int64N(300))
			case 4:
				op = Cancel(id)
			default:
				op = Get(id)
			}
			for i, l := range ls {
				switch x := rng.IntN(1000); {
				case x < 900:
					l.Execute(op)
				case x < 930: // diverge
					l.Execute(Authorize(fmt.Sprintf("X%d-%d", i, step), 7))
				case x < 940:
					frozen = append(frozen, kept{l.Freeze(), i})
				case x < 945 && len(frozen) > 0: // back to an older state, maybe another's
					k := frozen[rng.IntN(len(frozen))]
					if err := l.Thaw(k.f); err != nil {
						t.Fatal(err)
					}
				case x < 947:
					if err := l.Restore(ls[rng.IntN(len(ls))].Snapshot()); err != nil {
						t.Fatal(err)
					}
				}
			}
			if step%16 == 15 {
				for i, l := range ls {
					if got, want := l.Digest(), scratchDigest(l); got != want {
						t.Fatalf("seed %d step %d: ledger %d: digest %x, from scratch %x", seed, step, i, got[:6], want[:6])
					}
					checks++
				}
			}
		}
		resumed, hashed := 0, 0
		for _, l := range ls {
			resumed += l.h.resumed
			hashed += l.h.hashed
		}
		if resumed == 0 {
			t.Fatalf("seed %d: no node hash resumed from the table (%d bytes hashed, %d digests)", seed, hashed, checks)
		}
		t.Logf("seed %d: %d digests, %d bytes hashed, %d resumed from the table", seed, checks, hashed, resumed)
	}
}
