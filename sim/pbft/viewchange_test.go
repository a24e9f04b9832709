package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// silent drops every message sent by the given replicas.
func silent(nodes ...sim.NodeID) func(from, to sim.NodeID, m sim.Message) bool {
	return func(from, to sim.NodeID, m sim.Message) bool { return contains(nodes, from) }
}

func TestViewChangePrimarySilentCounts(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			// The client times out (50ms) and backups start their timers
			// before the old primary's own timer (T = 100ms) leads it to
			// retransmit its VIEW-CHANGE, so no retransmission is counted.
			h := newHarness(t, hopts{n: n, clients: 1, ops: 1, clientTimeout: 50 * time.Millisecond})
			h.drop = silent(0)
			h.start()
			h.run(time.Minute, nil)
			if !h.allDone() {
				t.Fatalf("request not accepted after view change: %v", h.counts())
			}
			if got := h.sent["VIEW-CHANGE"]; got != n*(n-1) {
				t.Errorf("VIEW-CHANGE %d, want n(n-1) = %d", got, n*(n-1))
			}
			if got := h.sent["NEW-VIEW"]; got != n-1 {
				t.Errorf("NEW-VIEW %d, want n-1 = %d", got, n-1)
			}
			for _, r := range h.replicas {
				if r.View() != 1 || r.InViewChange() {
					t.Errorf("%v: want active in view 1", r)
				}
			}
			for _, e := range h.eventsOf("executed") {
				if x := e.ev.(*Executed); x.View != 1 {
					t.Errorf("executed in view %d, want 1", x.View)
				}
			}
			h.checkAgreement(ids(1, n))
			nv := h.eventsOf("new-view")
			if len(nv) != n {
				t.Errorf("%d new-view events, want %d", len(nv), n)
			}
			for _, e := range nv {
				x := e.ev.(*NewViewEntered)
				if !x.Recomputed || !x.OMatches || x.Primary != 1 {
					t.Errorf("new-view event %+v", x)
				}
			}
		})
	}
}

func TestPreparedRequestSurvivesViewChange(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 1})
	// In view 0: replica 3 gets no PREPAREs and nobody gets COMMITs, so the
	// request prepares at 0, 1, 2 only and commits nowhere.
	h.drop = func(from, to sim.NodeID, m sim.Message) bool {
		switch m := m.(type) {
		case *Prepare:
			return m.View == 0 && to == 3
		case *Commit:
			return m.View == 0
		}
		return false
	}
	h.start()
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	var d0 Digest
	for _, e := range h.eventsOf("prepared") {
		x := e.ev.(*Prepared)
		if x.View == 0 {
			d0 = x.Digest
			if e.node == 3 {
				t.Fatal("replica 3 prepared in view 0")
			}
		}
	}
	ex := h.eventsOf("executed")
	if len(ex) != 4 {
		t.Fatalf("%d executions, want 4", len(ex))
	}
	for _, e := range ex {
		x := e.ev.(*Executed)
		if x.Seq != 1 || x.Digest != d0 || x.View < 1 {
			t.Errorf("replica %d executed %+v; want seq 1, digest %v, view >= 1", e.node, x, d0)
		}
	}
	h.checkAgreement(ids(0, 4))
}

func TestCommittedRequestNotReexecutedAfterViewChange(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 2})
	// replica 3 misses every COMMIT, so only 0, 1, 2 execute op0 in view 0;
	// then the primary goes silent.
	h.drop = func(from, to sim.NodeID, m sim.Message) bool {
		if c, ok := m.(*Commit); ok && to == 3 && c.View == 0 {
			return true
		}
		return from == 0 && h.clients[0].Completed() >= 1
	}
	h.start()
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	for i, sm := range h.sms {
		seen := map[string]bool{}
		for _, op := range sm.ops {
			if seen[op] {
				t.Fatalf("replica %d executed %s twice: %v", i, op, sm.ops)
			}
			seen[op] = true
		}
	}
	if len(h.sms[3].ops) == 0 || h.sms[3].ops[0] != "c4-op0" {
		t.Fatalf("replica 3 did not execute the re-proposed op0: %v", h.sms[3].ops)
	}
	for i := 1; i < 4; i++ {
		if len(h.sms[i].ops) != 2 {
			t.Errorf("replica %d executed %v", i, h.sms[i].ops)
		}
	}
	if h.replicas[1].View() < 1 {
		t.Fatal("no view change happened")
	}
	h.checkAgreement(ids(0, 4))
}

func TestTwoFaultyPrimariesReachView2(t *testing.T) {
	h := newHarness(t, hopts{n: 7, clients: 1, ops: 3})
	h.drop = silent(0, 1)
	h.start()
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatalf("not done: %v", h.counts())
	}
	for i := 2; i < 7; i++ {
		r := h.replicas[i]
		if r.View() != 2 || r.InViewChange() {
			t.Errorf("%v: want active in view 2", r)
		}
	}
	h.checkAgreement(ids(2, 7))
	// the view-change timer doubles: T while waiting for view 1, 2T for view 2
	var got []time.Duration
	for _, ts := range h.timerLog {
		if ts.node == 2 && ts.op.ID == timerViewChange && !ts.op.Cancel {
			got = append(got, ts.op.After)
		}
	}
	if fmt.Sprint(got) != "[100ms 200ms]" {
		t.Errorf("replica 2 view-change timers %v, want [100ms 200ms]", got)
	}
}

// vcFor builds a VIEW-CHANGE for view v signed by replica i with no checkpoint
// and the given prepared certificates.
func vcFor(kr *Keyring, v uint64, i sim.NodeID, certs ...PreparedCert) *ViewChange {
	vc := &ViewChange{NewView: v, Replica: i, Prepared: certs}
	vc.Sig = kr.Signer(i).Sign(vc)
	return vc
}

func nvFor(kr *Keyring, v uint64, V []*ViewChange, O []*PrePrepare) *NewView {
	p := sim.NodeID(v % 4)
	for _, pp := range O {
		pp.Sig = kr.Signer(p).Sign(pp)
	}
	nv := &NewView{View: v, ViewChanges: V, PrePrepares: O, Replica: p}
	nv.Sig = kr.Signer(p).Sign(nv)
	return nv
}

// certFor builds a prepared certificate for pp signed by the given backups.
func certFor(kr *Keyring, pp *PrePrepare, signers ...sim.NodeID) PreparedCert {
	pc := PreparedCert{PrePrepare: pp}
	for _, s := range signers {
		p := &Prepare{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: s}
		p.Sig = kr.Signer(s).Sign(p)
		pc.Prepares = append(pc.Prepares, p)
	}
	return pc
}

func TestBadNewViewRejected(t *testing.T) {
	type tc struct {
		name   string
		build  func(h *harness) *NewView
		accept bool
		from   sim.NodeID // who delivers it (0 means the primary, replica 1)
	}
	cases := []tc{
		{"valid, forwarded by replica 3", func(h *harness) *NewView {
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 3)}, nil)
		}, true, 3},
		{"signed by a backup instead of the primary", func(h *harness) *NewView {
			nv := nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 3)}, nil)
			nv.Sig = h.kr.Signer(3).Sign(nv)
			return nv
		}, false, 3},
		{"valid empty", func(h *harness) *NewView {
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 3)}, nil)
		}, true, 0},
		{"valid with cert", func(h *harness) *NewView {
			pp, _ := conflictingPP(h, 0, 1)
			cert := certFor(h.kr, pp, 1, 2)
			O := []*PrePrepare{{View: 1, Seq: 1, Digest: pp.Digest, Batch: pp.Batch, Replica: 1}}
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1, cert), vcFor(h.kr, 1, 3)}, O)
		}, true, 0},
		{"O mismatch: extra null request", func(h *harness) *NewView {
			O := []*PrePrepare{{View: 1, Seq: 1, Digest: BatchDigest(nil), Replica: 1}}
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 3)}, O)
		}, false, 0},
		{"O mismatch: prepared request replaced by null", func(h *harness) *NewView {
			pp, _ := conflictingPP(h, 0, 1)
			cert := certFor(h.kr, pp, 1, 2)
			O := []*PrePrepare{{View: 1, Seq: 1, Digest: BatchDigest(nil), Replica: 1}}
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1, cert), vcFor(h.kr, 1, 3)}, O)
		}, false, 0},
		{"V with 2f VIEW-CHANGEs", func(h *harness) *NewView {
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1)}, nil)
		}, false, 0},
		{"V with a duplicate replica", func(h *harness) *NewView {
			v0 := vcFor(h.kr, 1, 0)
			return nvFor(h.kr, 1, []*ViewChange{v0, vcFor(h.kr, 1, 1), v0}, nil)
		}, false, 0},
		{"V with a forged VIEW-CHANGE signature", func(h *harness) *NewView {
			v3 := &ViewChange{NewView: 1, Replica: 3}
			v3.Sig = h.kr.Signer(1).Sign(v3)
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), v3}, nil)
		}, false, 0},
		{"forged prepared certificate", func(h *harness) *NewView {
			pp, _ := conflictingPP(h, 0, 1)
			cert := certFor(h.kr, pp, 1, 2)
			cert.Prepares[1].Sig = h.kr.Signer(3).Sign(cert.Prepares[1]) // replica 3 forges 2's PREPARE
			O := []*PrePrepare{{View: 1, Seq: 1, Digest: pp.Digest, Batch: pp.Batch, Replica: 1}}
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 3, cert)}, O)
		}, false, 0},
		{"certificate counting the primary's PREPARE", func(h *harness) *NewView {
			pp, _ := conflictingPP(h, 0, 1)
			cert := certFor(h.kr, pp, 0, 2)
			O := []*PrePrepare{{View: 1, Seq: 1, Digest: pp.Digest, Batch: pp.Batch, Replica: 1}}
			return nvFor(h.kr, 1, []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 3, cert)}, O)
		}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, hopts{n: 4, clients: 1})
			nv := c.build(h)
			from := c.from
			if from == 0 {
				from = 1
			}
			h.inject(from, 2, nv)
			h.deliverAll()
			r := h.replicas[2]
			entered := len(h.eventsOf("new-view")) == 1
			if c.accept {
				if !entered || r.View() != 1 || r.InViewChange() {
					t.Fatalf("valid NEW-VIEW rejected: %v", r)
				}
				return
			}
			if c.name == "signed by a backup instead of the primary" {
				// unauthenticated: proves nothing about the primary, ignored
				if entered || r.View() != 0 || r.InViewChange() {
					t.Fatalf("forged NEW-VIEW not ignored: %v", r)
				}
				return
			}
			if entered || r.View() != 2 || !r.InViewChange() {
				t.Fatalf("bad NEW-VIEW not rejected (want view change to 2): %v", r)
			}
		})
	}
}

func TestCrashedReplicaCatchesUpByStateTransfer(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 40, k: 4, l: 8, interval: time.Millisecond})
	h.start()
	h.crash(3)
	h.run(time.Minute, func() bool { return h.clients[0].Completed() >= 20 })
	if h.replicas[3].LastExecuted() != 0 {
		t.Fatal("crashed replica executed")
	}
	h.recover(3)
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	if len(h.eventsOf("state-transfer")) == 0 {
		t.Fatal("no state transfer")
	}
	r3, r0 := h.replicas[3], h.replicas[0]
	if r3.LastExecuted() != r0.LastExecuted() || r3.StateDigest() != r0.StateDigest() {
		t.Fatalf("replica 3 did not catch up: %v vs %v", r3, r0)
	}
	h.checkAgreement(ids(0, 4))
}

func TestLaggingReplicaCatchesUpViaCheckpoints(t *testing.T) {
	// replica 3 is cut off (receives nothing) for a while, then reconnects:
	// f+1 CHECKPOINTs above its window trigger state transfer.
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 60, k: 4, l: 8, interval: time.Millisecond})
	cut := true
	h.drop = func(from, to sim.NodeID, m sim.Message) bool { return cut && (to == 3 || from == 3) }
	h.start()
	h.run(time.Minute, func() bool { return h.clients[0].Completed() >= 30 })
	cut = false
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	r3, r0 := h.replicas[3], h.replicas[0]
	if len(h.eventsOf("state-transfer")) == 0 || r3.LastExecuted() != r0.LastExecuted() || r3.StateDigest() != r0.StateDigest() {
		t.Fatalf("replica 3 did not catch up: %v vs %v", r3, r0)
	}
	h.checkAgreement(ids(0, 4))
}

func TestRecoveredReplicaRejoinsLaterView(t *testing.T) {
	// Replica 3 is down while the cluster changes view (primary 0 withholds
	// its PRE-PREPAREs). After recovery, replica 3 learns the NEW-VIEW (with
	// the state it missed) and takes part in view 1.
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 10, k: 4, l: 8, interval: time.Millisecond})
	h.drop = func(from, to sim.NodeID, m sim.Message) bool {
		pp, ok := m.(*PrePrepare)
		return ok && pp.View == 0
	}
	h.start()
	h.crash(3)
	h.run(time.Minute, func() bool { return h.clients[0].Completed() >= 5 })
	if h.replicas[1].View() != 1 || h.replicas[3].View() != 0 {
		t.Fatalf("setup: %v %v", h.replicas[1], h.replicas[3])
	}
	h.recover(3)
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	r := h.replicas[3]
	if r.View() != 1 || r.InViewChange() || r.LastExecuted() != h.replicas[1].LastExecuted() || r.StateDigest() != h.replicas[1].StateDigest() {
		t.Fatalf("replica 3 did not rejoin: %v vs %v", r, h.replicas[1])
	}
	// and it votes in view 1: some PREPARE of view 1 came from replica 3
	voted := false
	for _, e := range h.eventsOf("sent-prepare") {
		if e.node == 3 && e.ev.(*SentPrepare).View == 1 {
			voted = true
		}
	}
	if !voted {
		t.Fatal("replica 3 never voted in view 1")
	}
	h.checkAgreement(ids(0, 4))
}

func TestClientFollowsNewPrimary(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 3, clientTimeout: 50 * time.Millisecond, interval: time.Millisecond})
	h.drop = silent(0)
	h.start()
	h.run(time.Minute, func() bool { return h.clients[0].Completed() >= 1 })
	if h.clients[0].View() != 1 {
		t.Fatalf("client view %d after the view change, want 1", h.clients[0].View())
	}
	before := h.sent["REQUEST"]
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	// two more requests, each sent once, straight to the new primary
	if got := h.sent["REQUEST"] - before; got != 2 {
		t.Fatalf("%d REQUEST sends for 2 requests, want 2 (no retransmission)", got)
	}
	var last uint64
	for _, e := range h.eventsOf("submitted") {
		ts := e.ev.(*Submitted).Timestamp
		if ts <= last {
			t.Fatalf("timestamps not strictly increasing: %d after %d", ts, last)
		}
		last = ts
	}
	if len(h.eventsOf("accepted")) != 3 {
		t.Fatal("want 3 accepted events")
	}
}

// TestNewPrimaryNeverReusesOSequenceNumbers is a regression test: a new
// primary that adopts a stable checkpoint from V while it holds queued
// requests must not assign a sequence number that O already uses.
func TestNewPrimaryNeverReusesOSequenceNumbers(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, k: 2, l: 4})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true } // observe sends only
	var pps []*PrePrepare
	h.afterStep = func() {
		for _, s := range h.out.Sends {
			switch m := s.Msg.(type) {
			case *PrePrepare:
				pps = append(pps, m)
			case *NewView:
				pps = append(pps, m.PrePrepares...)
			}
		}
	}
	// replica 0, primary of view 0 and of view 4, orders two requests and
	// queues a third: the window (h + L/2 = 2) is full
	for ts := uint64(1); ts <= 3; ts++ {
		h.inject(4, 0, req(h, fmt.Sprint("op", ts), ts))
	}
	// a stable checkpoint at 2 and a request prepared at 3 in view 0
	var d Digest
	d[0] = 9
	var proof []*Checkpoint
	for _, i := range []sim.NodeID{0, 2, 3} {
		c := &Checkpoint{Seq: 2, StateDigest: d, Replica: i}
		c.Sig = h.kr.Signer(i).Sign(c)
		proof = append(proof, c)
	}
	pp := ppWith(h, 0, 3, req(h, "prepared", 9))
	for _, i := range []sim.NodeID{1, 2, 3} {
		vc := &ViewChange{NewView: 4, StableSeq: 2, Checkpoints: proof, Replica: i}
		if i == 2 {
			vc.Prepared = []PreparedCert{certFor(h.kr, pp, 2, 3)}
		}
		vc.Sig = h.kr.Signer(i).Sign(vc)
		h.inject(i, 0, vc)
	}
	h.deliverAll()
	r := h.replicas[0]
	if r.View() != 4 || r.InViewChange() || r.StableCheckpoint() != 2 {
		t.Fatalf("setup: %v", r)
	}
	seen := map[[2]uint64]Digest{}
	for _, p := range pps {
		k := [2]uint64{p.View, p.Seq}
		if old, ok := seen[k]; ok && old != p.Digest {
			t.Fatalf("primary sent two PRE-PREPAREs for (view %d, seq %d)", p.View, p.Seq)
		}
		seen[k] = p.Digest
	}
	if _, ok := seen[[2]uint64{4, 4}]; !ok {
		t.Fatalf("queued request not proposed at seq 4: %v", seen)
	}
}

// TestStateTransferTakesAnyNewerStableState: a replica that learns of
// checkpoints far ahead (which may never become stable) fetches whatever
// stable state others have; one STATE with a valid proof is enough when its
// snapshot has the proven digest, and a lying one is rolled back.
func TestStateTransferTakesAnyNewerStableState(t *testing.T) {
	cases := []struct {
		name      string
		states    []sim.NodeID // replicas whose STATE messages reach replica 3
		corrupt   bool         // replica 0's snapshot is corrupted
		wantExec  uint64
		wantXfers int
	}{
		{"f+1 matching", []sim.NodeID{0, 1, 2}, false, 4, 1},
		{"one proven STATE", []sim.NodeID{0}, false, 4, 1},
		{"one lying STATE", []sim.NodeID{0}, true, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, hopts{n: 4, clients: 1, ops: 4, k: 2, l: 4})
			cut := true
			h.drop = func(from, to sim.NodeID, m sim.Message) bool {
				if cut {
					return to == 3 || from == 3
				}
				if st, ok := m.(*State); ok {
					if c.corrupt && from == 0 {
						bad := *st
						bad.Snapshot = (&logSM{}).Snapshot()
						h.inject(from, to, &bad)
						return true
					}
					return !contains(c.states, from)
				}
				return false
			}
			h.start()
			h.run(time.Minute, nil)
			if !h.allDone() || h.replicas[0].StableCheckpoint() != 4 {
				t.Fatalf("setup: %v", h.replicas[0])
			}
			cut = false
			// replicas 0 and 1 claim a checkpoint at 8, above replica 3's window
			for _, i := range []sim.NodeID{0, 1} {
				ck := &Checkpoint{Seq: 8, Replica: i}
				ck.Sig = h.kr.Signer(i).Sign(ck)
				h.inject(i, 3, ck)
			}
			h.run(2*time.Minute, nil)
			r3 := h.replicas[3]
			if r3.LastExecuted() != c.wantExec || len(h.eventsOf("state-transfer")) != c.wantXfers {
				t.Fatalf("replica 3: %v, %d transfers; want exec %d, %d transfers", r3, len(h.eventsOf("state-transfer")), c.wantExec, c.wantXfers)
			}
			if c.wantExec > 0 && r3.StateDigest() != h.replicas[0].StateDigest() {
				t.Fatal("installed state differs")
			}
			if c.wantExec == 0 && r3.StateDigest() != freshDigest(t) {
				t.Fatal("lying STATE was not rolled back")
			}
		})
	}
}

// freshDigest returns the state digest of a fresh replica.
func freshDigest(t *testing.T) Digest {
	h := newHarness(t, hopts{n: 4, clients: 1})
	return h.replicas[0].StateDigest()
}

// TestStuckReplicaGetsForwardedNewView: a replica cut off during two view
// changes keeps retransmitting VIEW-CHANGE for an old view; replicas of the
// current view forward it their NEW-VIEW (signed by its primary) and it
// enters the current view.
func TestStuckReplicaGetsForwardedNewView(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 1})
	runStuckReplica(t, h)
	forwarded := 0
	for _, m := range h.forwards {
		if m.to == 3 && m.from != 2 {
			forwarded++
		}
	}
	if forwarded == 0 {
		t.Fatal("no NEW-VIEW forwarded to replica 3 by a backup")
	}
}

// runStuckReplica runs h (4 replicas, a client with one op) through two
// view changes with replica 3 cut off, then lets a late copy of the
// request reach replica 3, which keeps asking for view 1 until it enters
// view 2.
func runStuckReplica(t *testing.T, h *harness) {
	t.Helper()
	cut := true
	h.drop = func(from, to sim.NodeID, m sim.Message) bool {
		if pp, ok := m.(*PrePrepare); ok && pp.View < 2 {
			return true // primaries 0 and 1 withhold their PRE-PREPAREs
		}
		return cut && (to == 3 || from == 3)
	}
	h.start()
	h.run(time.Minute, nil)
	if !h.allDone() || h.replicas[2].View() != 2 || h.replicas[3].View() != 0 {
		t.Fatalf("setup: %v %v", h.replicas[2], h.replicas[3])
	}
	cut = false
	// a late copy of the request reaches replica 3: it times out, and
	// asks for view 1 again and again
	h.inject(4, 3, req(h, "c4-op0", 1))
	h.run(2*time.Second, func() bool { return h.replicas[3].View() >= 2 })
	entered := false
	for _, e := range h.eventsOf("new-view") {
		if e.node == 3 && e.ev.(*NewViewEntered).View == 2 {
			entered = true
		}
	}
	if !entered {
		t.Fatalf("replica 3 did not enter view 2: %v", h.replicas[3])
	}
}

// TestLostCheckpointsResentAfterViewChange: CHECKPOINTs are sent once; if
// they are lost the checkpoint never becomes stable and the primary stops at
// the top of its window. The view change that follows makes replicas resend
// their unstable CHECKPOINTs, and progress resumes.
func TestLostCheckpointsResentAfterViewChange(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 5, k: 2, l: 4})
	h.drop = func(from, to sim.NodeID, m sim.Message) bool {
		if from == 3 {
			return true // replica 3 is silent: stability needs 0, 1 and 2
		}
		_, ck := m.(*Checkpoint)
		return ck && h.replicas[2].View() == 0
	}
	h.start()
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatalf("stuck: %v %v", h.replicas[0], h.replicas[1])
	}
	if h.replicas[1].View() == 0 || h.replicas[1].StableCheckpoint() < 4 {
		t.Fatalf("want a view change and stable checkpoints: %v", h.replicas[1])
	}
	h.checkAgreement(ids(0, 3))
}
