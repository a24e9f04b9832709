package pbft

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestStateFetchRetriesAndGivesUp: a replica that asks for newer state
// without evidence that it is behind (on recovery) asks once and retries
// twice, one timeout apart, then gives up; with evidence (2f+1 CHECKPOINTs
// proving a checkpoint above what it executed) it keeps asking until it
// gets the state; a fetch for a number it has already executed asks
// nothing.
func TestStateFetchRetriesAndGivesUp(t *testing.T) {
	asks := func(h *harness, from sim.NodeID) []time.Duration {
		var at []time.Duration
		for _, op := range h.timerLog {
			if op.node == from && op.op.ID == timerFetch && !op.op.Cancel {
				at = append(at, op.op.After)
			}
		}
		return at
	}
	t.Run("no evidence", func(t *testing.T) {
		h := isolated(t, 4, Correct)
		h.crash(3)
		h.recover(3)
		h.run(5*time.Second, nil)
		if got := h.sent["FETCH-STATE"]; got != 3*3 {
			t.Fatalf("FETCH-STATE sends %d (timers %v), want 3 asks to 3 replicas", got, asks(h, 3))
		}
		if r := h.replicas[3]; r.fetching {
			t.Fatalf("still fetching after giving up")
		}
	})
	t.Run("behind a stable checkpoint", func(t *testing.T) {
		h := isolated(t, 4, Correct)
		d := Digest{1}
		for _, i := range []sim.NodeID{0, 1, 2} {
			c := &Checkpoint{Seq: 100, StateDigest: d, Replica: i}
			c.Sig = h.kr.Signer(i).Sign(c)
			h.inject(i, 3, c)
		}
		h.run(2*time.Second, nil)
		r := h.replicas[3]
		if !r.fetching || r.h != 100 {
			t.Fatalf("fetching=%v h=%d, want a fetch of the proven checkpoint 100", r.fetching, r.h)
		}
		// one ask at the behind timer (T/2 = 50ms), then one per T
		if got := h.sent["FETCH-STATE"] / 3; got < 15 {
			t.Fatalf("%d asks in 2s, want one per timeout while behind", got)
		}
	})
}
