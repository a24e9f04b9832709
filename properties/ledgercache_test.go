package properties

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pbftsim/pbftsim/sim/ledger"
)

// TestLedgerCacheSameAsRebuilt checks that cutPayment's ledger cache hands
// out exactly the ledger ledgerOf rebuilds: random payments (more than the
// cache's slots, so ids collide) in random states are put, then taken back
// with their own state, another payment's id in the same slot, or another
// state; every ledger taken must equal ledgerOf's for the asked state, and
// reuse must happen (else the test shows nothing).
func TestLedgerCacheSameAsRebuilt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	// state returns a random summary of payment id and a ledger that got
	// there by executing operations (as a segment's replay does).
	built := func(id string) (paySum, *ledger.Ledger) {
		l := ledger.New()
		if rng.IntN(6) > 0 {
			amt := int64(1 + rng.IntN(5))
			l.Execute(ledger.Authorize(id, amt))
			switch rng.IntN(4) {
			case 1:
				l.Execute(ledger.Cancel(id))
			case 2:
				l.Execute(ledger.Confirm(id))
			case 3:
				l.Execute(ledger.Confirm(id))
				l.Execute(ledger.Refund(id, int64(1+rng.IntN(int(amt)))))
			}
		}
		s, ok := sumOf(l, id, paySum{})
		if !ok {
			t.Fatalf("sumOf(%s) not exact", id)
		}
		return s, l
	}
	state := func(id string) paySum { s, _ := built(id); return s }
	var lc ledgerCache
	ids := make([]string, 2500)
	sums := make([]paySum, len(ids))
	for i := range ids {
		ids[i] = fmt.Sprintf("PAY%04d", i)
		sums[i] = state(ids[i])
	}
	hits := 0
	for step := range 50_000 {
		i := rng.IntN(len(ids))
		id := ids[i]
		switch rng.IntN(3) {
		case 0: // a segment ended: the ledger goes into the cache
			var l *ledger.Ledger
			sums[i], l = built(id)
			lc.put(id, sums[i], l)
		default: // a segment starts: from the cache or rebuilt
			want := sums[i]
			if rng.IntN(4) == 0 {
				want = state(id) // the summary moved on (another path)
			}
			slot := ledgerSlot(id)
			cached := lc.ls[slot]
			l := lc.take(id, want)
			if l == cached {
				hits++
			}
			if got, exp := string(l.Snapshot()), string(want.ledgerOf(id).Snapshot()); got != exp {
				t.Fatalf("step %d: take(%s, %+v) gave a ledger holding %q, want %q", step, id, want, got, exp)
			}
			// the caller changes it: it must no longer be in the cache
			l.Execute(ledger.Cancel(id))
			if lc.ls[slot] == l {
				t.Fatalf("step %d: a ledger taken stayed in the cache", step)
			}
		}
	}
	if hits < 1000 {
		t.Fatalf("%d cache hits: the test does not exercise reuse", hits)
	}
}

// TestLedgerCacheReset: a reset empties every slot filled since the last
// one (it clears the listed slots only, or all of them when more were
// filled than it lists), and the cache fills again after it.
func TestLedgerCacheReset(t *testing.T) {
	var lc ledgerCache
	for _, n := range []int{0, 1, 7, 300, ledgerCacheSize, 3 * ledgerCacheSize} {
		for round := range 2 {
			for i := range n {
				id := fmt.Sprintf("PAY%d-%d-%d", n, round, i)
				l := ledger.New()
				l.Execute(ledger.Authorize(id, 1))
				s, _ := sumOf(l, id, paySum{})
				lc.put(id, s, l)
				if i%3 == 0 {
					lc.take(id, s) // emptied again, still listed
				}
			}
			lc.reset()
			for i := range ledgerCacheSize {
				if lc.ls[i] != nil || lc.ids[i] != "" {
					t.Fatalf("%d puts, round %d: slot %d still holds %q after a reset", n, round, i, lc.ids[i])
				}
			}
		}
	}
}
