package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// toView1 makes the isolated replica id wait for a request, time out and
// send VIEW-CHANGE(1); with enter it then accepts NEW-VIEW(1) (empty O).
func toView1(t *testing.T, h *harness, id sim.NodeID, enter bool) *Replica {
	t.Helper()
	h.inject(sim.NodeID(h.n), id, req(h, "x", 1))
	h.deliverAll()
	h.fireNext(sim.Time(1 << 62)) // request timer: VIEW-CHANGE(1)
	r := h.replicas[id]
	if r.view != 1 || r.active {
		t.Fatalf("set-up: %v", r)
	}
	if enter {
		var V []*ViewChange
		for i := 0; i < h.n && len(V) < 3; i++ {
			if sim.NodeID(i) != id {
				V = append(V, vcFor(h.kr, 1, sim.NodeID(i)))
			}
		}
		h.inject(1, id, nvFor(h.kr, 1, V, nil))
		h.deliverAll()
		if r.view != 1 || !r.active {
			t.Fatalf("set-up: not active in view 1: %v", r)
		}
	}
	return r
}

// TestFutureMessagesSurviveViewChanges: messages buffered for view 2 are
// kept when the replica starts changing to view 1 and when it enters view
// 1 (they are for a view it may still enter); those for view 1 are
// replayed when it enters view 1.
func TestFutureMessagesSurviveViewChanges(t *testing.T) {
	h := isolated(t, 4, Correct)
	r := h.replicas[3]
	d := Digest{7}
	h.inject(0, 3, prep(h.kr, 2, 1, d, 0))
	h.deliverAll()
	if len(r.future) != 1 {
		t.Fatalf("set-up: %d buffered", len(r.future))
	}
	toView1(t, h, 3, false)
	if len(r.future) != 1 || r.futureCount[0] != 1 {
		t.Fatalf("starting the change to view 1 dropped the buffered view-2 PREPARE (%d buffered)", len(r.future))
	}
	h.inject(2, 3, prep(h.kr, 1, 1, d, 2))
	h.deliverAll()
	if len(r.future) != 2 {
		t.Fatalf("view-1 PREPARE not buffered while changing to view 1 (%d buffered)", len(r.future))
	}
	V := []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 2)}
	h.inject(1, 3, nvFor(h.kr, 1, V, nil))
	h.deliverAll()
	if !r.active || len(r.future) != 1 || r.future[0].view != 2 {
		t.Fatalf("after entering view 1: %d buffered (want the view-2 one only)", len(r.future))
	}
	if e := r.log.get(1); e == nil || e.prepares[2] == nil {
		t.Fatalf("the buffered view-1 PREPARE was not replayed on entering view 1")
	}
}

// TestFutureCapSurvivesARecount: the per-sender cap on buffered messages
// (4L+8) still holds after the buffer is recounted at a view change (the
// PREPAREs differ in their digests: one received again is not buffered
// again).
func TestFutureCapSurvivesARecount(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, k: 4, l: 8})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	r := h.replicas[3]
	capN := r.futureCap()
	for i := 0; i < capN+5; i++ {
		h.inject(0, 3, prep(h.kr, 2, 1, Digest{7, byte(i)}, 0))
	}
	h.deliverAll()
	if len(r.future) != capN {
		t.Fatalf("%d buffered, want the cap %d", len(r.future), capN)
	}
	toView1(t, h, 3, false) // recounts the buffer
	for i := 0; i < 5; i++ {
		h.inject(0, 3, prep(h.kr, 2, 1, Digest{8, byte(i)}, 0))
	}
	h.deliverAll()
	if len(r.future) != capN || r.futureCount[0] != capN {
		t.Fatalf("after a recount %d buffered (count %d), want the cap %d", len(r.future), r.futureCount[0], capN)
	}
}

// TestNewViewResetsOldEntries: a backup accepted a PRE-PREPARE of view 0
// that never prepared; NEW-VIEW(1) has no certificate for it (empty O), so
// the entry is reset and the new primary's PRE-PREPARE for that number with
// another request is accepted.
func TestNewViewResetsOldEntries(t *testing.T) {
	h := isolated(t, 4, Correct)
	old := ppWith(h, 0, 1, req(h, "a", 1))
	h.inject(0, 3, old)
	h.deliverAll()
	r := toView1(t, h, 3, true)
	q := &Request{Op: "b", Timestamp: 2, Client: 4}
	q.Sig = h.kr.Signer(4).Sign(q)
	pp := ppWith(h, 1, 1, q)
	before := h.sent["PREPARE"]
	h.inject(1, 3, pp)
	h.deliverAll()
	if e := r.log.get(1); e == nil || e.pp == nil || e.pp.Digest != pp.Digest || h.sent["PREPARE"] == before {
		t.Fatalf("view 1's PRE-PREPARE for seq 1 was not accepted after NEW-VIEW (entry %+v)", e)
	}
}

// TestNewPrimaryOrdersPendingByArrival: a replica that becomes primary
// orders the requests it holds in the order they arrived, whatever their
// clients and timestamps (an order by client id starves the clients with
// larger ids). Repeated: pending is a map.
func TestNewPrimaryOrdersPendingByArrival(t *testing.T) {
	for run := 0; run < 200; run++ {
		h := newHarness(t, hopts{n: 4, clients: 2})
		var pps []string
		h.drop = func(from, to sim.NodeID, m sim.Message) bool {
			if pp, ok := m.(*PrePrepare); ok && from == 1 && to == 2 {
				for _, q := range pp.Batch {
					pps = append(pps, fmt.Sprintf("%d:%d/%d", pp.Seq, q.Client, q.Timestamp))
				}
			}
			return true
		}
		for _, k := range [][2]uint64{{5, 1}, {4, 2}, {5, 2}, {4, 1}} {
			q := &Request{Op: fmt.Sprint(k), Timestamp: k[1], Client: sim.NodeID(k[0])}
			q.Sig = h.kr.Signer(q.Client).Sign(q)
			h.inject(q.Client, 1, q)
		}
		h.deliverAll()
		h.fireNext(sim.Time(1 << 62)) // replica 1's request timer: VIEW-CHANGE(1)
		for _, i := range []sim.NodeID{0, 2} {
			h.inject(i, 1, vcFor(h.kr, 1, i))
		}
		h.deliverAll()
		if r := h.replicas[1]; r.view != 1 || !r.active {
			t.Fatalf("replica 1 not primary of view 1: %v", r)
		}
		want := "[1:5/1 2:4/2 3:5/2 4:4/1]"
		if got := fmt.Sprint(pps); got != want {
			t.Fatalf("run %d: the new primary ordered %s, want %s", run, got, want)
		}
	}
}

// TestLaggingReplicaAsksForTheNewViewOnce: a replica whose f+1 peers send
// normal-case messages of a view it has not entered (view 1 while it still
// waits for NEW-VIEW(1), then view 2 once in view 1) asks them for the
// NEW-VIEW, once per view.
func TestLaggingReplicaAsksForTheNewViewOnce(t *testing.T) {
	d := Digest{7}
	for _, c := range []struct {
		name   string
		enter  bool     // replica 3 is active in view 1 (else waiting for NEW-VIEW(1))
		rounds [][]hmsg // each round is delivered, then 60ms pass (the lag timer is T/2)
		want   int      // FETCH-STATE sends (one ask = 3)
	}{
		{"waiting for NEW-VIEW", false, [][]hmsg{{{0, 3, &Prepare{View: 1, Seq: 1, Digest: d, Replica: 0}}, {2, 3, &Prepare{View: 1, Seq: 1, Digest: d, Replica: 2}}}}, 3},
		{"waiting for NEW-VIEW, one peer only", false, [][]hmsg{{{0, 3, &Prepare{View: 1, Seq: 1, Digest: d, Replica: 0}}}}, 0},
		// a third peer in view 2 (its primary, hence a COMMIT) after the ask: no second ask
		{"in view 1, peers in view 2", true, [][]hmsg{{{0, 3, &Prepare{View: 2, Seq: 1, Digest: d, Replica: 0}}, {1, 3, &Prepare{View: 2, Seq: 1, Digest: d, Replica: 1}}}, {{2, 3, &Commit{View: 2, Seq: 1, Digest: d, Replica: 2}}}}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := isolated(t, 4, Correct)
			toView1(t, h, 3, c.enter)
			before := h.sent["FETCH-STATE"]
			for _, round := range c.rounds {
				for _, m := range round {
					h.inject(m.from, m.to, resign(h.kr, m.msg))
				}
				h.deliverAll()
				h.run(time.Duration(h.now)+60*time.Millisecond, nil)
			}
			if got := h.sent["FETCH-STATE"] - before; got != c.want {
				t.Fatalf("%d FETCH-STATE sends, want %d (3 per ask)", got, c.want)
			}
		})
	}
}

// resign signs a PREPARE or COMMIT built without a keyring by its replica.
func resign(kr *Keyring, m sim.Message) sim.Message {
	switch m := m.(type) {
	case *Prepare:
		m.Sig = kr.Signer(m.Replica).Sign(m)
	case *Commit:
		m.Sig = kr.Signer(m.Replica).Sign(m)
	}
	return m
}
