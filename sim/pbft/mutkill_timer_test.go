package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestRequestTimerAwaitsTheOldestRequest: the request timer belongs to
// the request it was started for; when that one executes and others are
// still pending, it restarts at once for the one of them that arrived
// first (not the smallest (client, timestamp): a client with a large id
// would never be awaited while others keep submitting). Executing another
// request then leaves its deadline as it is, executing the awaited one
// restarts it again. Each case runs 200 times:
// pending is a map, so a choice that depended on its iteration order would
// show as a varying deadline (a small map's iteration starts at a random
// one of 8 slots, so one order can come up only 1 time in 8).
func TestRequestTimerAwaitsTheOldestRequest(t *testing.T) {
	type pend struct {
		client sim.NodeID
		ts     uint64
	}
	first := pend{4, 1} // pending alone at 0, executed at 60ms (seq 1)
	for _, c := range []struct {
		name    string
		later   []pend // pending from 10ms, arriving in this order
		execute pend   // executed at 80ms (seq 2)
		want    time.Duration
	}{
		{"the oldest, a larger client, executes", []pend{{6, 1}, {5, 1}}, pend{6, 1}, 180 * time.Millisecond},
		{"a younger, smaller client executes", []pend{{6, 1}, {5, 1}}, pend{5, 1}, 160 * time.Millisecond},
		{"the oldest, a smaller client, executes", []pend{{5, 1}, {6, 1}}, pend{5, 1}, 180 * time.Millisecond},
		{"a younger, older timestamp executes", []pend{{5, 2}, {5, 1}}, pend{5, 1}, 160 * time.Millisecond},
		{"the oldest of three executes", []pend{{6, 1}, {5, 2}, {5, 1}}, pend{6, 1}, 180 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			for run := 0; run < 200; run++ {
				h := newHarness(t, hopts{n: 4, clients: 3})
				h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
				reqs := map[pend]*Request{}
				mk := func(p pend) *Request {
					q := &Request{Op: fmt.Sprintf("op-%d-%d", p.client, p.ts), Timestamp: p.ts, Client: p.client}
					q.Sig = h.kr.Signer(p.client).Sign(q)
					reqs[p] = q
					return q
				}
				h.inject(first.client, 2, mk(first))
				h.deliverAll()
				h.advance(10 * time.Millisecond)
				for _, p := range c.later {
					h.inject(p.client, 2, mk(p))
				}
				h.deliverAll()
				execute := func(seq uint64, q *Request) {
					pp := ppWith(h, 0, seq, q)
					h.inject(0, 2, pp)
					h.inject(1, 2, prep(h.kr, 0, seq, pp.Digest, 1))
					h.inject(1, 2, commit(h.kr, 0, seq, pp.Digest, 1))
					h.inject(3, 2, commit(h.kr, 0, seq, pp.Digest, 3))
					h.deliverAll()
				}
				due := func() time.Duration { return time.Duration(h.timers[[2]uint64{2, uint64(timerRequest)}]) }
				if due() != 100*time.Millisecond {
					t.Fatalf("timer due at %v, want 100ms", due())
				}
				h.advance(60 * time.Millisecond)
				execute(1, reqs[first])
				if due() != 160*time.Millisecond {
					t.Fatalf("after the awaited request executed at 60ms the timer is due at %v, want 160ms", due())
				}
				h.advance(80 * time.Millisecond)
				execute(2, reqs[c.execute])
				if len(h.sms[2].ops) != 2 {
					t.Fatalf("executed %v", h.sms[2].ops)
				}
				if due() != c.want {
					t.Fatalf("run %d: after %v executed at 80ms the timer is due at %v, want %v", run, c.execute, due(), c.want)
				}
			}
		})
	}
}

// TestObsoleteRequestsStopTheTimer: a replica waits for client 4's request
// 1; the primary orders the client's request 2 instead (the client moved
// on): once it executes, request 1 is obsolete (older than the client's
// last reply), it is no longer awaited and the request timer stops, so no
// VIEW-CHANGE follows.
func TestObsoleteRequestsStopTheTimer(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	old := req(h, "x", 1)
	h.inject(4, 2, old)
	h.deliverAll()
	if _, ok := h.timers[[2]uint64{2, uint64(timerRequest)}]; !ok {
		t.Fatal("no request timer for the awaited request")
	}
	h.advance(30 * time.Millisecond)
	pp := ppWith(h, 0, 1, req(h, "y", 2))
	h.inject(0, 2, pp)
	h.inject(1, 2, prep(h.kr, 0, 1, pp.Digest, 1))
	h.inject(1, 2, commit(h.kr, 0, 1, pp.Digest, 1))
	h.inject(3, 2, commit(h.kr, 0, 1, pp.Digest, 3))
	h.deliverAll()
	r := h.replicas[2]
	if len(h.sms[2].ops) != 1 || len(r.pending) != 0 {
		t.Fatalf("executed %v, pending %d: request 1 should be obsolete", h.sms[2].ops, len(r.pending))
	}
	h.run(time.Second, nil)
	if n := countEvents(h, 2, "view-change"); n != 0 || r.view != 0 {
		t.Fatalf("%d view changes (view %d): the timer of an obsolete request ran out", n, r.view)
	}
}
