package pbft

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

func ckptFrom(h *harness, seq uint64, d Digest, i sim.NodeID) *Checkpoint {
	c := &Checkpoint{Seq: seq, StateDigest: d, Replica: i}
	c.Sig = h.kr.Signer(i).Sign(c)
	return c
}

// TestWindowMoveKeepsCheckpointVotes: CHECKPOINTs above the window are
// kept per sender (its highest, the first for a seq); when the low
// watermark moves (K=100, L=200: h 0 -> 100, H 200 -> 300) those now in the
// window become votes of their checkpoint, those still above stay, and
// checkpoints in the window above the new h keep their votes. A state
// fetch already aiming higher keeps its target.
func TestWindowMoveKeepsCheckpointVotes(t *testing.T) {
	d1, d2, d3, d5, dx := Digest{1}, Digest{2}, Digest{3}, Digest{5}, Digest{9}
	h := isolated(t, 4, Correct)
	r := h.replicas[3]
	for _, c := range []*Checkpoint{
		ckptFrom(h, 200, d2, 0), ckptFrom(h, 200, d2, 1), // in the window
		ckptFrom(h, 300, d3, 1), ckptFrom(h, 300, d3, 2), ckptFrom(h, 300, dx, 2), // above; 2's second one for 300 does not count
		ckptFrom(h, 500, d5, 0), // above, and above the next window too
	} {
		h.inject(c.Replica, 3, c)
	}
	h.deliverAll()
	if !r.fetching || r.fetchSeq != 300 {
		t.Fatalf("f+1 CHECKPOINTs above the window: fetching=%v target %d, want 300", r.fetching, r.fetchSeq)
	}
	for _, i := range []sim.NodeID{0, 1, 2} {
		h.inject(i, 3, ckptFrom(h, 100, d1, i))
	}
	h.run(60*time.Millisecond, nil) // the behind timer (T/2) makes 100 stable
	if r.h != 100 {
		t.Fatalf("h=%d, want 100", r.h)
	}
	if r.fetchSeq != 300 {
		t.Errorf("fetch target %d after the window moved, want 300 (a lower one does not replace it)", r.fetchSeq)
	}
	if cs := r.ckpts[200]; cs == nil || cs.votes[0] == nil || cs.votes[1] == nil {
		t.Errorf("the votes for checkpoint 200 (in the window) were dropped when h moved to 100")
	}
	cs := r.ckpts[300]
	if cs == nil || cs.votes[1] == nil || cs.votes[2] == nil || cs.votes[2].StateDigest != d3 {
		t.Fatalf("CHECKPOINTs for 300 (now in the window) did not become votes (or not the first of replica 2): %+v", cs)
	}
	if cs.votes[0] != nil || r.ckpts[500] != nil {
		t.Errorf("replica 0's CHECKPOINT for 500 (above the new window) was moved into the window")
	}
	if c := r.high[0]; c == nil || c.Seq != 500 {
		t.Errorf("replica 0's CHECKPOINT for 500 is no longer kept above the window: %v", c)
	}
	if r.high[1] != nil || r.high[2] != nil {
		t.Errorf("CHECKPOINTs now in the window are still kept as above it")
	}
}

// TestWindowMoveCompletesALaterCheckpoint: 2f+1 CHECKPOINTs for 300 wait
// above the window; when h moves to 100 they become votes and at once
// prove 300 stable (the replica is then behind 300).
func TestWindowMoveCompletesALaterCheckpoint(t *testing.T) {
	h := isolated(t, 4, Correct)
	r := h.replicas[3]
	for _, i := range []sim.NodeID{0, 1, 2} {
		h.inject(i, 3, ckptFrom(h, 300, Digest{3}, i))
	}
	h.deliverAll()
	for _, i := range []sim.NodeID{0, 1, 2} {
		h.inject(i, 3, ckptFrom(h, 100, Digest{1}, i))
	}
	h.run(60*time.Millisecond, nil)
	if r.h != 100 || r.behindSeq != 300 {
		t.Fatalf("h=%d behind=%d, want h=100 and 300 proven stable when the window moved", r.h, r.behindSeq)
	}
}

// TestFetchStopsAtItsTarget: a replica that recovered asks for newer state
// (target: the next number); when it executes that number by the normal
// protocol before the fetch timer, the fetch ends without asking again.
func TestFetchStopsAtItsTarget(t *testing.T) {
	h := isolated(t, 4, Correct)
	h.crash(3)
	h.recover(3)
	if got := h.sent["FETCH-STATE"]; got != 3 {
		t.Fatalf("FETCH-STATE sends %d after recovery, want 3", got)
	}
	pp := ppWith(h, 0, 1, req(h, "x", 1))
	h.inject(0, 3, pp)
	h.inject(1, 3, prep(h.kr, 0, 1, pp.Digest, 1))
	h.inject(1, 3, commit(h.kr, 0, 1, pp.Digest, 1))
	h.inject(2, 3, commit(h.kr, 0, 1, pp.Digest, 2))
	h.deliverAll()
	if h.replicas[3].LastExecuted() != 1 {
		t.Fatalf("seq 1 not executed")
	}
	h.run(2*time.Second, nil)
	if got := h.sent["FETCH-STATE"]; got != 3 || h.replicas[3].fetching {
		t.Fatalf("FETCH-STATE sends %d (fetching=%v) after reaching the target, want no more asks", got, h.replicas[3].fetching)
	}
}

// TestStateCarriesTheNewView: a replica changing to view 1 that gets a
// STATE carrying the NEW-VIEW of view 1 enters the view.
func TestStateCarriesTheNewView(t *testing.T) {
	h := isolated(t, 4, Correct)
	h.inject(4, 3, req(h, "x", 1))
	h.deliverAll()
	h.fireNext(sim.Time(1 << 62)) // request timer: VIEW-CHANGE(1)
	r := h.replicas[3]
	if r.view != 1 || r.active {
		t.Fatalf("set-up: %v", r)
	}
	V := []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 2)}
	h.inject(0, 3, &State{Replica: 0, NewView: nvFor(h.kr, 1, V, nil)})
	h.deliverAll()
	if r.view != 1 || !r.active {
		t.Fatalf("after a STATE carrying NEW-VIEW(1): %v, want active in view 1", r)
	}
}

// TestFetchStateAnsweredFromTheStableCheckpoint: a replica whose stable
// checkpoint is h = 4 answers a FETCH-STATE asking for state from 4 (or
// below) with its STATE, and does not answer one asking for 5.
func TestFetchStateAnsweredFromTheStableCheckpoint(t *testing.T) {
	for _, c := range []struct {
		from uint64
		want int
	}{{3, 1}, {4, 1}, {5, 0}} {
		h := newHarness(t, hopts{n: 4, clients: 1, ops: 4, k: 4, l: 8})
		h.start()
		h.run(10*time.Second, nil)
		if r := h.replicas[1]; r.h != 4 {
			t.Fatalf("set-up: %v", r)
		}
		before := h.sent["STATE"]
		h.inject(3, 1, &FetchState{Seq: c.from, View: 0, Replica: 3})
		h.deliverAll()
		if got := h.sent["STATE"] - before; got != c.want {
			t.Errorf("FETCH-STATE from %d: %d STATEs, want %d", c.from, got, c.want)
		}
	}
}
