package pbft_test

// Paper-rule tests of the request timer's owner and of retransmission (the
// same real-kernel world as paper_test.go): backups run the request timer,
// the primary does not (OSDI'99 §4.5.2); lost protocol messages are
// retransmitted (Castro's thesis §5.2, here triggered by the client's
// retransmission), including the votes a replica signed in a view it has
// since left.

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// TestPaper4_5_2_OnlyBackupsRunTheRequestTimer: the primary orders a
// request that never commits (the other backups are silent); the backup
// that got the request from the client times out and sends VIEW-CHANGE,
// the primary does not vote itself out.
func TestPaper4_5_2_OnlyBackupsRunTheRequestTimer(t *testing.T) {
	w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{2, 3, 4}, clients: [][]string{nil}, maxTime: time.Second})
	q := w.request(4, 1, "authorize P1 10")
	w.actors[4].after(0, to(0, q), to(1, q))
	w.run()
	if pp := gotOf[*pbft.PrePrepare](w.actors[2]); len(pp) != 1 {
		t.Fatalf("the primary sent %d PRE-PREPAREs to replica 2, want 1", len(pp))
	}
	if got := eventsOf[*pbft.ViewChangeStarted](w, 1); len(got) == 0 {
		t.Errorf("the backup waiting for the request never sent VIEW-CHANGE")
	}
	if got := eventsOf[*pbft.ViewChangeStarted](w, 0); len(got) != 0 {
		t.Errorf("the primary ran the request timer: VIEW-CHANGE %d->%d at its own expiry", got[0].From, got[0].To)
	}
	if v := w.replicas[0].View(); v != 0 {
		t.Errorf("the primary left view 0 (now %d) with one VIEW-CHANGE for view 1", v)
	}
}

// TestPaperRetransmit_PrimaryResendsUnexecutedUpToTheRequest: when the
// client retransmits a request the primary ordered at n, the primary
// multicasts again the PRE-PREPAREs it has not executed up to n (each
// followed by its COMMIT once sent), not those above n.
func TestPaperRetransmit_PrimaryResendsUnexecutedUpToTheRequest(t *testing.T) {
	for _, c := range []struct {
		retransmit int // index of the request the client retransmits
		want       []uint64
	}{{0, []uint64{1}}, {1, []uint64{1, 2}}, {2, []uint64{1, 2, 3}}} {
		w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{1, 2, 3, 4, 5, 6}, clients: [][]string{nil, nil, nil}, maxTime: 50 * time.Millisecond})
		qs := []*pbft.Request{w.request(4, 1, "authorize P1 10"), w.request(5, 1, "authorize P2 10"), w.request(6, 1, "authorize P3 10")}
		for i, q := range qs {
			w.actors[sim.NodeID(4+i)].after(time.Duration(i)*time.Millisecond, to(0, q))
		}
		w.actors[sim.NodeID(4+c.retransmit)].after(20*time.Millisecond, to(0, qs[c.retransmit]))
		w.run()
		var again []uint64
		for _, r := range w.actors[1].got {
			if pp, ok := r.msg.(*pbft.PrePrepare); ok && r.at > sim.Time(20*time.Millisecond) {
				again = append(again, pp.Seq)
			}
		}
		if len(again) != len(c.want) {
			t.Errorf("retransmitted request %d: PRE-PREPAREs sent again %v, want %v", c.retransmit, again, c.want)
			continue
		}
		for i := range again {
			if again[i] != c.want[i] {
				t.Errorf("retransmitted request %d: PRE-PREPAREs sent again %v, want %v", c.retransmit, again, c.want)
			}
		}
	}
}

// TestPaperRetransmit_BackupResendsItsVotes: a backup that receives again
// a PRE-PREPARE it holds answers with the PREPARE and COMMIT it signed for
// it, also once it executed it and also after it left that view (a
// replica that missed them before GST may need them to commit); it
// resends nothing for a PRE-PREPARE that does not match the one it holds
// or whose signature is bad.
func TestPaperRetransmit_BackupResendsItsVotes(t *testing.T) {
	for _, c := range []struct {
		name       string
		commits    bool // the other replicas' COMMITs arrive: the backup executes
		leave      bool // f+1 VIEW-CHANGEs for view 2 (primary: an actor) arrive before the retransmission
		other      bool // the PRE-PREPARE sent again carries another request
		badSig     bool
		wantResend bool
	}{
		{name: "prepared", wantResend: true},
		{name: "executed", commits: true, wantResend: true},
		{name: "left the view", leave: true, wantResend: true},
		{name: "executed and left", commits: true, leave: true, wantResend: true},
		{name: "other digest", other: true},
		{name: "other digest after leaving", leave: true, other: true},
		{name: "bad signature after leaving", leave: true, badSig: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 2, 3, 4}, clients: [][]string{nil}, maxTime: 80 * time.Millisecond})
			q := w.request(4, 1, "authorize P1 10")
			pp := w.prePrepare(0, 1, q)
			w.actors[0].after(0, to(1, pp))
			for _, id := range []sim.NodeID{2, 3} {
				w.actors[id].after(2*time.Millisecond, to(1, w.prepare(0, 1, pp.Digest, id)))
				if c.commits {
					w.actors[id].after(4*time.Millisecond, to(1, w.commit(0, 1, pp.Digest, id)))
				}
				if c.leave {
					w.actors[id].after(10*time.Millisecond, to(1, w.viewChange(2, id)))
				}
			}
			again := pp
			switch {
			case c.other:
				again = w.prePrepare(0, 1, w.request(4, 2, "authorize P2 10"))
			case c.badSig:
				bad := *pp
				bad.Sig ^= 1
				again = &bad
			}
			w.actors[0].after(30*time.Millisecond, to(1, again))
			w.run()
			if ex := len(eventsOf[*pbft.Executed](w, 1)) > 0; ex != c.commits {
				t.Fatalf("executed=%v, want %v", ex, c.commits)
			}
			if left := w.replicas[1].View() == 2; left != c.leave {
				t.Fatalf("replica 1 in view %d", w.replicas[1].View())
			}
			var prepares, commits int
			for _, r := range w.actors[2].got {
				if r.at <= sim.Time(30*time.Millisecond) {
					continue
				}
				switch m := r.msg.(type) {
				case *pbft.Prepare:
					if m.View == 0 && m.Seq == 1 && m.Digest == pp.Digest {
						prepares++
					}
				case *pbft.Commit:
					if m.View == 0 && m.Seq == 1 && m.Digest == pp.Digest {
						commits++
					}
				}
			}
			if got := prepares == 1 && commits == 1; got != c.wantResend || !c.wantResend && prepares+commits != 0 {
				t.Errorf("after the PRE-PREPARE came again, replica 2 got %d PREPAREs and %d COMMITs of view 0 from replica 1, want resent=%v",
					prepares, commits, c.wantResend)
			}
		})
	}
}

// TestPaperRetransmit_PrimaryResendsItsCommit: a primary that prepared a
// request (and sent its COMMIT) but cannot execute it resends, on the
// client's retransmission, the PRE-PREPARE and its COMMIT; before it
// prepared, only the PRE-PREPARE.
func TestPaperRetransmit_PrimaryResendsItsCommit(t *testing.T) {
	for _, prepared := range []bool{false, true} {
		w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{1, 2, 3, 4}, clients: [][]string{nil}, maxTime: 50 * time.Millisecond})
		q := w.request(4, 1, "authorize P1 10")
		w.actors[4].after(0, to(0, q))
		if prepared {
			d := pbft.BatchDigest([]*pbft.Request{q})
			for _, id := range []sim.NodeID{1, 2} {
				w.actors[id].after(5*time.Millisecond, to(0, w.prepare(0, 1, d, id)))
			}
		}
		w.actors[4].after(20*time.Millisecond, to(0, q))
		w.run()
		var pps, commits int
		for _, r := range w.actors[3].got {
			if r.at <= sim.Time(20*time.Millisecond) {
				continue
			}
			switch r.msg.(type) {
			case *pbft.PrePrepare:
				pps++
			case *pbft.Commit:
				commits++
			}
		}
		want := 0
		if prepared {
			want = 1
		}
		if pps != 1 || commits != want {
			t.Errorf("prepared=%v: after the retransmission replica 3 got %d PRE-PREPAREs and %d COMMITs, want 1 and %d", prepared, pps, commits, want)
		}
	}
}
