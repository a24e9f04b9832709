package pbft

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

func prep(kr *Keyring, v, seq uint64, d Digest, i sim.NodeID) *Prepare {
	p := &Prepare{View: v, Seq: seq, Digest: d, Replica: i}
	p.Sig = kr.Signer(i).Sign(p)
	return p
}

func commit(kr *Keyring, v, seq uint64, d Digest, i sim.NodeID) *Commit {
	c := &Commit{View: v, Seq: seq, Digest: d, Replica: i}
	c.Sig = kr.Signer(i).Sign(c)
	return c
}

// ppWith builds a signed PRE-PREPARE of view v's primary with the batch.
func ppWith(h *harness, v, seq uint64, batch ...*Request) *PrePrepare {
	p := sim.NodeID(v % uint64(h.n))
	pp := &PrePrepare{View: v, Seq: seq, Batch: batch, Replica: p}
	pp.Digest = BatchDigest(batch)
	pp.Sig = h.kr.Signer(p).Sign(pp)
	return pp
}

func req(h *harness, op string, ts uint64) *Request {
	c := sim.NodeID(h.n)
	q := &Request{Op: op, Timestamp: ts, Client: c}
	q.Sig = h.kr.Signer(c).Sign(q)
	return q
}

// isolated returns a harness where every send of every node is dropped, so
// a test drives replica 1 alone by injecting messages.
func isolated(t *testing.T, n int, v Variant) *harness {
	h := newHarness(t, hopts{n: n, clients: 1, variant: v})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	return h
}

func countEvents(h *harness, node sim.NodeID, name string) int {
	c := 0
	for _, e := range h.eventsOf(name) {
		if e.node == node {
			c++
		}
	}
	return c
}

// TestVariantsChangeBehaviour runs one crafted situation per broken variant
// with the correct protocol and with the variant, and checks that the
// observable outcome differs as documented.
func TestVariantsChangeBehaviour(t *testing.T) {
	cases := []struct {
		variant       Variant
		run           func(t *testing.T, v Variant) string
		correct, want string
	}{
		{VariantPrepare2fMinus1, func(t *testing.T, v Variant) string {
			// n=7, f=2: replica 1 holds the PRE-PREPARE, its own PREPARE and
			// those of 2 and 3: three, one short of 2f.
			h := isolated(t, 7, v)
			pp := ppWith(h, 0, 1, req(h, "x", 1))
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 1, pp.Digest, 2))
			h.inject(3, 1, prep(h.kr, 0, 1, pp.Digest, 3))
			h.deliverAll()
			return fmt.Sprintf("prepared=%d", countEvents(h, 1, "prepared"))
		}, "prepared=0", "prepared=1"},
		{VariantCommitQuorum2f, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp := ppWith(h, 0, 1, req(h, "x", 1))
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 1, pp.Digest, 2))
			h.inject(2, 1, commit(h.kr, 0, 1, pp.Digest, 2)) // own + 2 = 2f
			h.deliverAll()
			return fmt.Sprintf("committed=%d executed=%d", countEvents(h, 1, "committed"), len(h.sms[1].ops))
		}, "committed=0 executed=0", "committed=1 executed=1"},
		{VariantExecuteOnPrep, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp := ppWith(h, 0, 1, req(h, "x", 1))
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 1, pp.Digest, 2))
			h.deliverAll()
			return fmt.Sprintf("executed=%d commits=%d", len(h.sms[1].ops), h.sent["COMMIT"])
		}, "executed=0 commits=3", "executed=1 commits=0"},
		{VariantPrepareNoDigest, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp := ppWith(h, 0, 1, req(h, "x", 1))
			other := BatchDigest([]*Request{req(h, "y", 1)})
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 1, other, 2))
			h.deliverAll()
			return fmt.Sprintf("prepared=%d", countEvents(h, 1, "prepared"))
		}, "prepared=0", "prepared=1"},
		{VariantAcceptSecondPP, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			a, b := conflictingPP(h, 0, 1)
			h.inject(0, 1, a)
			h.inject(0, 1, b)
			h.deliverAll()
			return fmt.Sprintf("sent-prepare=%d", countEvents(h, 1, "sent-prepare"))
		}, "sent-prepare=1", "sent-prepare=2"},
		{VariantNVIgnorePrepared, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp, _ := conflictingPP(h, 0, 1)
			V := []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 2, certFor(h.kr, pp, 1, 2)), vcFor(h.kr, 1, 3)}
			O, _, _ := h.replicas[1].computeO(V, 1)
			return describeO(O)
		}, "[1:a]", "[]"},
		{VariantNVNotHighestView, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			old, _ := conflictingPP(h, 0, 1)   // op "a" prepared in view 0
			_, newer := conflictingPP(h, 1, 1) // op "b" prepared in view 1
			c0 := certFor(h.kr, old, 1, 2)     // backups of view 0
			c1 := certFor(h.kr, newer, 2, 3)   // backups of view 1
			V := []*ViewChange{vcFor(h.kr, 2, 0, c0), vcFor(h.kr, 2, 1, c1), vcFor(h.kr, 2, 3)}
			O, _, _ := h.replicas[2].computeO(V, 2)
			return describeO(O)
		}, "[1:b]", "[1:a]"},
		{VariantNVNoRecompute, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp, _ := conflictingPP(h, 0, 1)
			cert := certFor(h.kr, pp, 1, 2)
			O := []*PrePrepare{{View: 1, Seq: 1, Digest: BatchDigest(nil), Replica: 1}} // drops the prepared request
			h.inject(1, 2, nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1, cert), vcFor(h.kr, 1, 3)}, O))
			h.deliverAll()
			r := h.replicas[2]
			return fmt.Sprintf("view=%d active=%v", r.View(), !r.InViewChange())
		}, "view=2 active=false", "view=1 active=true"},
		{VariantExecOutOfOrder, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp := ppWith(h, 0, 2, req(h, "x", 1)) // seq 2 commits, seq 1 never arrives
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 2, pp.Digest, 2))
			h.inject(2, 1, commit(h.kr, 0, 2, pp.Digest, 2))
			h.inject(3, 1, commit(h.kr, 0, 2, pp.Digest, 3))
			h.deliverAll()
			return fmt.Sprintf("committed=%d executed=%d", countEvents(h, 1, "committed"), len(h.sms[1].ops))
		}, "committed=1 executed=0", "committed=1 executed=1"},
		{VariantClientOneReply, func(t *testing.T, v Variant) string {
			h := newHarness(t, hopts{n: 4, clients: 1, ops: 1, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			h.start()
			h.deliverAll()
			h.inject(2, 4, &Reply{Timestamp: 1, Client: 4, Replica: 2, Result: "forged"})
			h.deliverAll()
			return fmt.Sprintf("accepted=%d", h.clients[0].Completed())
		}, "accepted=0", "accepted=1"},
		{VariantNoTimestampCheck, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			q := req(h, "x", 1)
			pp := ppWith(h, 0, 1, q, q) // a faulty primary repeats a request
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 1, pp.Digest, 2))
			h.inject(2, 1, commit(h.kr, 0, 1, pp.Digest, 2))
			h.inject(3, 1, commit(h.kr, 0, 1, pp.Digest, 3))
			h.deliverAll()
			return fmt.Sprintf("executed=%d", len(h.sms[1].ops))
		}, "executed=1", "executed=2"},
		{VariantStateUnverified, func(t *testing.T, v Variant) string {
			// Replica 1 learns that checkpoint 2 is stable with digest D
			// and fetches it; replica 2 answers first with the true (seq,
			// digest, proof) and a forged snapshot, replica 3 with the
			// true one.
			h, good, forged, d, proof := fetchingReplica(t, v)
			h.inject(2, 1, &State{Seq: 2, StateDigest: d, Snapshot: forged.Snapshot(), Proof: proof, Replica: 2})
			h.inject(3, 1, &State{Seq: 2, StateDigest: d, Snapshot: good.Snapshot(), Proof: proof, Replica: 3})
			h.deliverAll()
			r := h.replicas[1]
			return fmt.Sprintf("transfers=%d bad=%d exec=%d state-ok=%v", countEvents(h, 1, "state-transfer"),
				countEvents(h, 1, "bad-state"), r.LastExecuted(), r.StateDigest() == d)
		}, "transfers=1 bad=1 exec=2 state-ok=true", "transfers=1 bad=0 exec=2 state-ok=false"},
		{VariantTimeoutNoGrowth, func(t *testing.T, v Variant) string {
			// Replica 3 waits for a request; its timer expires in view 0
			// and again in view 1 (entered by a NEW-VIEW, nothing
			// executed): the timer of view 2 is 2T, not T.
			h := newHarness(t, hopts{n: 4, clients: 1, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			h.inject(4, 3, req(h, "x", 1))
			h.deliverAll()
			var after []time.Duration
			for view := uint64(1); view <= 2; view++ {
				h.fireNext(sim.Time(time.Hour)) // request timer: VIEW-CHANGE(view)
				V := []*ViewChange{vcFor(h.kr, view, 0), vcFor(h.kr, view, 1), vcFor(h.kr, view, 2)}
				h.inject(sim.NodeID(view%4), 3, nvFor(h.kr, view, V, nil))
				h.deliverAll()
				after = append(after, lastTimer(h, 3, timerRequest))
			}
			return fmt.Sprint(after)
		}, "[100ms 200ms]", "[100ms 100ms]"},
		{VariantTimerAnyExec, func(t *testing.T, v Variant) string {
			// Replica 2 waits for client 4's request from t=0; at 60ms
			// client 5's request executes: the timer still expires at
			// 100ms (the variant restarts it).
			h := newHarness(t, hopts{n: 4, clients: 2, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			h.inject(4, 2, req(h, "x", 1))
			h.deliverAll()
			h.advance(60 * time.Millisecond)
			q := &Request{Op: "y", Timestamp: 1, Client: 5}
			q.Sig = h.kr.Signer(5).Sign(q)
			pp := ppWith(h, 0, 1, q)
			h.inject(0, 2, pp)
			h.inject(1, 2, prep(h.kr, 0, 1, pp.Digest, 1))
			h.inject(1, 2, commit(h.kr, 0, 1, pp.Digest, 1))
			h.inject(3, 2, commit(h.kr, 0, 1, pp.Digest, 3))
			h.deliverAll()
			return fmt.Sprintf("executed=%d timer-at=%v", len(h.sms[2].ops), time.Duration(h.timers[[2]uint64{2, uint64(timerRequest)}]))
		}, "executed=1 timer-at=100ms", "executed=1 timer-at=160ms"},
		{VariantClientIDOrder, func(t *testing.T, v Variant) string {
			// Replica 2 holds client 6's request (awaited from t=0),
			// then client 5's, then client 4's. Client 6's executes at
			// 20ms: the timer restarts for client 5's (it arrived first;
			// the variant picks client 4's, the smallest id). Client 4's
			// executes at 60ms: the timer stays due at 120ms; the
			// variant restarts it (160ms).
			h := newHarness(t, hopts{n: 4, clients: 3, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			reqs := map[sim.NodeID]*Request{}
			for _, c := range []sim.NodeID{6, 5, 4} {
				q := &Request{Op: fmt.Sprint("op", c), Timestamp: 1, Client: c}
				q.Sig = h.kr.Signer(c).Sign(q)
				reqs[c] = q
				h.inject(c, 2, q)
			}
			h.deliverAll()
			for seq, c := range []sim.NodeID{6, 4} {
				h.advance(time.Duration(20+40*seq) * time.Millisecond) // to 20ms, 60ms
				pp := ppWith(h, 0, uint64(seq+1), reqs[c])
				h.inject(0, 2, pp)
				h.inject(1, 2, prep(h.kr, 0, uint64(seq+1), pp.Digest, 1))
				h.inject(1, 2, commit(h.kr, 0, uint64(seq+1), pp.Digest, 1))
				h.inject(3, 2, commit(h.kr, 0, uint64(seq+1), pp.Digest, 3))
				h.deliverAll()
			}
			return fmt.Sprintf("executed=%d timer-at=%v", len(h.sms[2].ops), time.Duration(h.timers[[2]uint64{2, uint64(timerRequest)}]))
		}, "executed=2 timer-at=120ms", "executed=2 timer-at=160ms"},
		{VariantPrimaryUntimed, func(t *testing.T, v Variant) string {
			// The primary orders client 4's request (nothing else is
			// delivered); at 200ms the client retransmits it: the
			// primary starts its request timer, due at 300ms (the
			// variant never does).
			h := newHarness(t, hopts{n: 4, clients: 1, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			q := req(h, "x", 1)
			h.inject(4, 0, q)
			h.deliverAll()
			_, before := h.timers[[2]uint64{0, uint64(timerRequest)}]
			h.advance(200 * time.Millisecond)
			h.inject(4, 0, q)
			h.deliverAll()
			at, ok := h.timers[[2]uint64{0, uint64(timerRequest)}]
			return fmt.Sprintf("before=%v after=%v at=%v", before, ok, time.Duration(at))
		}, "before=false after=true at=300ms", "before=false after=false at=0s"},
		{VariantCommitDupSender, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp := ppWith(h, 0, 1, req(h, "x", 1))
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, 1, pp.Digest, 2))
			c := commit(h.kr, 0, 1, pp.Digest, 2)
			h.inject(2, 1, c)
			h.inject(2, 1, c) // the same COMMIT again: own + 2's = 2f
			h.deliverAll()
			return fmt.Sprintf("committed=%d", countEvents(h, 1, "committed"))
		}, "committed=0", "committed=1"},
		{VariantNVTimerNoGrowth, func(t *testing.T, v Variant) string {
			// The primaries of views 0 and 1 are silent (n = 7): replica
			// 2 waits for view 1's NEW-VIEW, its timer runs out, and it
			// waits for view 2's with the timeout doubled, or not.
			h := newHarness(t, hopts{n: 7, clients: 1, ops: 3, variant: v})
			h.drop = silent(0, 1)
			h.start()
			h.run(time.Minute, nil)
			var got []time.Duration
			for _, ts := range h.timerLog {
				if ts.node == 2 && ts.op.ID == timerViewChange && !ts.op.Cancel {
					got = append(got, ts.op.After)
				}
			}
			return fmt.Sprintf("new-view timers %v", got)
		}, "new-view timers [100ms 200ms]", "new-view timers [100ms 100ms]"},
		{VariantJoinOnF, func(t *testing.T, v Variant) string {
			// One VIEW-CHANGE for view 1 (from replica 0 alone, f = 1)
			// reaches replica 2, whose timer has not run out.
			h := isolated(t, 4, v)
			h.inject(0, 2, vcFor(h.kr, 1, 0))
			h.deliverAll()
			return fmt.Sprintf("view=%d view-changes=%d", h.replicas[2].View(), h.sent["VIEW-CHANGE"])
		}, "view=0 view-changes=0", "view=1 view-changes=3"},
		{VariantStateProofF, func(t *testing.T, v Variant) string {
			// Replica 1 learns that checkpoint 2 is stable with digest D
			// and fetches it; replica 2 answers first with a forged
			// snapshot, its digest and a proof of its own CHECKPOINT only,
			// replica 3 with the true state and its 2f+1 proof.
			h, good, forged, d, proof := fetchingReplica(t, v)
			fd := Digest(sha256.Sum256(forged.chain[:]))
			h.inject(2, 1, &State{Seq: 2, StateDigest: fd, Snapshot: forged.Snapshot(), Proof: ckptVotes(h.kr, 2, fd, 2), Replica: 2})
			h.inject(3, 1, &State{Seq: 2, StateDigest: d, Snapshot: good.Snapshot(), Proof: proof, Replica: 3})
			h.deliverAll()
			r := h.replicas[1]
			return fmt.Sprintf("transfers=%d exec=%d state-ok=%v", countEvents(h, 1, "state-transfer"), r.LastExecuted(), r.StateDigest() == d)
		}, "transfers=1 exec=2 state-ok=true", "transfers=1 exec=2 state-ok=false"},
		{VariantCkptFPlus1, func(t *testing.T, v Variant) string {
			// f+1 = 2 matching CHECKPOINTs for seq 2, which replica 1 has
			// not reached: only the variant takes it as stable (and fetches).
			h := newHarness(t, hopts{n: 4, clients: 1, k: 2, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			for _, c := range ckptVotes(h.kr, 2, Digest{1}, 0, 2) {
				h.inject(c.Replica, 1, c)
			}
			h.run(80*time.Millisecond, nil)
			return fmt.Sprintf("fetches=%d", h.sent["FETCH-STATE"])
		}, "fetches=0", "fetches=3"},
		{VariantCkptNoDigest, func(t *testing.T, v Variant) string {
			// 2f+1 CHECKPOINTs for seq 2 with three different digests.
			h := newHarness(t, hopts{n: 4, clients: 1, k: 2, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			for i, id := range []sim.NodeID{0, 2, 3} {
				c := ckptVotes(h.kr, 2, Digest{byte(i + 1)}, id)[0]
				h.inject(id, 1, c)
			}
			h.run(80*time.Millisecond, nil)
			return fmt.Sprintf("fetches=%d", h.sent["FETCH-STATE"])
		}, "fetches=0", "fetches=3"},
		{VariantPPDigestUnchecked, func(t *testing.T, v Variant) string {
			h := isolated(t, 4, v)
			pp := ppWith(h, 0, 1, req(h, "x", 1))
			forged := &PrePrepare{View: 0, Seq: 1, Digest: pp.Digest, Replica: 0} // null batch, d of "x"
			forged.Sig = h.kr.Signer(0).Sign(forged)
			h.inject(0, 1, forged)
			h.deliverAll()
			return fmt.Sprintf("sent-prepare=%d", countEvents(h, 1, "sent-prepare"))
		}, "sent-prepare=0", "sent-prepare=1"},
		{VariantDigestUnordered, func(t *testing.T, v Variant) string {
			// The primary sends the batch x, y reversed under the digest
			// of x, y.
			h := isolated(t, 4, v)
			x, y := req(h, "x", 1), req(h, "y", 2)
			rev := &PrePrepare{View: 0, Seq: 1, Batch: []*Request{y, x}, Digest: BatchDigest([]*Request{x, y}), Replica: 0}
			rev.Sig = h.kr.Signer(0).Sign(rev)
			h.inject(0, 1, rev)
			h.deliverAll()
			return fmt.Sprintf("sent-prepare=%d", countEvents(h, 1, "sent-prepare"))
		}, "sent-prepare=0", "sent-prepare=1"},
		{VariantDigestFirstOnly, func(t *testing.T, v Variant) string {
			// The primary sends the batch x, x under the digest (its
			// variant's) of x, y: same length, same first request.
			h := isolated(t, 4, v)
			x, y := req(h, "x", 1), req(h, "y", 2)
			d, _ := rulesOf(v).batchDigest(nil, []*Request{x, y})
			rep := &PrePrepare{View: 0, Seq: 1, Batch: []*Request{x, x}, Digest: d, Replica: 0}
			rep.Sig = h.kr.Signer(0).Sign(rep)
			h.inject(0, 1, rep)
			h.deliverAll()
			return fmt.Sprintf("sent-prepare=%d", countEvents(h, 1, "sent-prepare"))
		}, "sent-prepare=0", "sent-prepare=1"},
		{VariantPrimaryUnverified, func(t *testing.T, v Variant) string {
			// Replica 3 relays to the primary a request whose op was
			// altered after its client signed it.
			h := isolated(t, 4, v)
			bad := *req(h, "x", 1)
			bad.Op = "x'"
			h.inject(3, 0, &bad)
			h.deliverAll()
			return fmt.Sprintf("pre-prepares=%d", h.sent["PRE-PREPARE"])
		}, "pre-prepares=0", "pre-prepares=3"},
		{VariantPPRequestsUnverif, func(t *testing.T, v Variant) string {
			// The primary orders request x with its op altered: the
			// client's signature no longer matches.
			h := isolated(t, 4, v)
			forged := *req(h, "x", 1)
			forged.Op = "x'"
			h.inject(0, 1, ppWith(h, 0, 1, &forged))
			h.deliverAll()
			return fmt.Sprintf("sent-prepare=%d", countEvents(h, 1, "sent-prepare"))
		}, "sent-prepare=0", "sent-prepare=1"},
		{VariantStateNoReplies, func(t *testing.T, v Variant) string {
			// Replica 1 fetches the stable checkpoint 2 (digest D, no
			// replies); replica 2 answers first with the true snapshot and
			// a forged reply table, replica 3 with the true state.
			h := newHarness(t, hopts{n: 4, clients: 1, k: 2, variant: v})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			good := &logSM{}
			good.Execute("x")
			good.Execute("y")
			d := Digest(sha256.Sum256(good.chain[:])) // state digest: SM digest, no replies
			proof := ckptVotes(h.kr, 2, d, 0, 2, 3)
			for _, c := range proof {
				h.inject(c.Replica, 1, c)
			}
			h.run(80*time.Millisecond, nil) // the "behind" timer starts the fetch
			forged := []Reply{{View: 0, Timestamp: 1000, Client: 4, Replica: 2, Result: "forged"}}
			h.inject(2, 1, &State{Seq: 2, StateDigest: d, Snapshot: good.Snapshot(), LastReplies: forged, Proof: proof, Replica: 2})
			h.inject(3, 1, &State{Seq: 2, StateDigest: d, Snapshot: good.Snapshot(), Proof: proof, Replica: 3})
			h.deliverAll()
			return fmt.Sprintf("transfers=%d bad=%d exec=%d", countEvents(h, 1, "state-transfer"), countEvents(h, 1, "bad-state"), h.replicas[1].LastExecuted())
		}, "transfers=1 bad=1 exec=2", "transfers=1 bad=0 exec=2"},
		{VariantNewPrimarySeq, func(t *testing.T, v Variant) string {
			// Replica 1 becomes primary of view 1 with seq 1 prepared in
			// V, then gets a new request.
			h := isolated(t, 4, v)
			pp, _ := conflictingPP(h, 0, 1)
			h.inject(0, 1, vcFor(h.kr, 1, 0))
			h.inject(2, 1, vcFor(h.kr, 1, 2, certFor(h.kr, pp, 2, 3)))
			h.inject(3, 1, vcFor(h.kr, 1, 3))
			h.deliverAll()
			h.inject(4, 1, req(h, "y", 2))
			h.deliverAll()
			s := h.replicas[1].Inspect()
			return fmt.Sprintf("view=%d last-assigned=%d", s.View, s.LastAssigned)
		}, "view=1 last-assigned=2", "view=1 last-assigned=1"},
		// The primary orders a request, crashes and recovers (keeping
		// its state: the variant drops its log), then gets another one.
		{VariantRecoveryForgets, primaryLosesState(sim.CrashKeep), "pre-prepares=2 last-assigned=2", "pre-prepares=3 last-assigned=2"},
		// The primary orders a request, loses its volatile state (amnesia)
		// or its unsynced writes too (a power loss), then gets another one.
		{VariantNoPersistSigned, primaryLosesState(sim.CrashAmnesia), "pre-prepares=2 last-assigned=2", "pre-prepares=2 last-assigned=1"},
		{VariantLazySync, primaryLosesState(sim.CrashLoseUnsynced), "pre-prepares=2 last-assigned=2", "pre-prepares=2 last-assigned=1"},
	}
	seen := map[Variant]bool{}
	for _, c := range cases {
		seen[c.variant] = true
		t.Run(string(c.variant), func(t *testing.T) {
			if got := c.run(t, Correct); got != c.correct {
				t.Errorf("correct protocol: %s, want %s", got, c.correct)
			}
			if got := c.run(t, c.variant); got != c.want {
				t.Errorf("variant: %s, want %s", got, c.want)
			}
		})
	}
	for _, v := range Variants() {
		if !seen[v.Name] {
			t.Errorf("variant %s has no behaviour test", v.Name)
		}
	}
}

// primaryLosesState returns a behaviour run in which the primary (with a
// stable store) orders request x, crashes with kind k and recovers, then
// orders request y: the PRE-PREPAREs it sent and its last assigned number.
func primaryLosesState(k sim.CrashKind) func(t *testing.T, v Variant) string {
	return func(t *testing.T, v Variant) string {
		h := newHarness(t, hopts{n: 4, clients: 1, variant: v, stores: true})
		h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
		h.inject(4, 0, req(h, "x", 1))
		h.deliverAll()
		h.crash(0)
		h.recoverKind(0, k)
		h.inject(4, 0, req(h, "y", 2))
		h.deliverAll()
		return fmt.Sprintf("pre-prepares=%d last-assigned=%d", h.sent["PRE-PREPARE"]/3, h.replicas[0].Inspect().LastAssigned)
	}
}

// ckptVotes returns signed CHECKPOINTs for (seq, d) of the given replicas.
func ckptVotes(kr *Keyring, seq uint64, d Digest, ids ...sim.NodeID) []*Checkpoint {
	var out []*Checkpoint
	for _, i := range ids {
		c := &Checkpoint{Seq: seq, StateDigest: d, Replica: i}
		c.Sig = kr.Signer(i).Sign(c)
		out = append(out, c)
	}
	return out
}

// lastTimer returns the duration of the last SetTimer of id by node.
func lastTimer(h *harness, node sim.NodeID, id sim.TimerID) time.Duration {
	var d time.Duration
	for _, op := range h.timerLog {
		if op.node == node && op.op.ID == id && !op.op.Cancel {
			d = op.op.After
		}
	}
	return d
}

func describeO(O []*PrePrepare) string {
	out := "["
	for i, pp := range O {
		if i > 0 {
			out += " "
		}
		op := "null"
		if len(pp.Batch) > 0 {
			op = pp.Batch[0].Op
		}
		out += fmt.Sprintf("%d:%s", pp.Seq, op)
	}
	return out + "]"
}

// TestSameDigest checks sameDigest against == on equal digests and on
// digests that differ in any one byte, by one bit or by all of them.
func TestSameDigest(t *testing.T) {
	var base Digest
	for i := range base {
		base[i] = byte(i*37 + 11)
	}
	if !sameDigest(&base, &base) || !sameDigest(&Digest{}, &Digest{}) {
		t.Fatal("equal digests compare unequal")
	}
	for i := range base {
		for _, flip := range []byte{1, 0x80, 0xff} {
			other := base
			other[i] ^= flip
			if got, want := sameDigest(&base, &other), base == other; got != want {
				t.Fatalf("byte %d ^ %#x: sameDigest = %v, == says %v", i, flip, got, want)
			}
		}
	}
}

// fetchingReplica returns a harness (n = 4, checkpoints every 2, variant
// v, nothing delivered by the network) in which replica 1 has learnt that
// checkpoint 2 is stable with digest d, by the proof of replicas 0, 2 and
// 3, and has started fetching it; good is the state machine of that state
// (x, y), forged another (z). The state digest is the machine's, without
// replies.
func fetchingReplica(t *testing.T, v Variant) (h *harness, good, forged *logSM, d Digest, proof []*Checkpoint) {
	t.Helper()
	h = newHarness(t, hopts{n: 4, clients: 1, k: 2, variant: v})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	good, forged = &logSM{}, &logSM{}
	good.Execute("x")
	good.Execute("y")
	forged.Execute("z")
	d = Digest(sha256.Sum256(good.chain[:]))
	proof = ckptVotes(h.kr, 2, d, 0, 2, 3)
	for _, c := range proof {
		h.inject(c.Replica, 1, c)
	}
	h.run(80*time.Millisecond, nil) // the "behind" timer starts the fetch
	return h, good, forged, d, proof
}
