package hotstuff

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
	"github.com/pbftsim/pbftsim/sim/ledger"
)

// newView returns replica id's signed NEW-VIEW (TIMEOUT if timeout) for v.
func newView(keys *crypto.Keyring, id sim.NodeID, v uint64, timeout bool) *NewView {
	m := &NewView{View: v, PrepareQC: GenesisQC, Replica: id, Timeout: timeout}
	m.Sig = keys.Signer(id).Sign(m)
	return m
}

func cert(keys *crypto.Keyring, v uint64, ids ...sim.NodeID) *ViewCert {
	c := &ViewCert{View: v}
	for _, id := range ids {
		c.NewViews = append(c.NewViews, newView(keys, id, v, true))
	}
	return c
}

func TestValidCert(t *testing.T) {
	keys := crypto.NewKeyring(1, 6)
	r := newTestReplica(t, keys, Correct)
	forged := cert(keys, 3, 0, 2, 3)
	forged.NewViews[2] = &NewView{View: 3, PrepareQC: GenesisQC, Replica: 3, Timeout: true, Sig: 7}
	mixed := cert(keys, 3, 0, 2)
	mixed.NewViews = append(mixed.NewViews, newView(keys, 3, 4, true))
	tests := []struct {
		name string
		c    *ViewCert
		v    uint64
		want bool
	}{
		{"n-f NEW-VIEWs", cert(keys, 3, 0, 2, 3), 3, true},
		{"n-f-1 NEW-VIEWs", cert(keys, 3, 0, 2), 3, false},
		{"a replica twice", cert(keys, 3, 0, 2, 2), 3, false},
		{"forged signature", forged, 3, false},
		{"a NEW-VIEW of another view", mixed, 3, false},
		{"certificate of another view", cert(keys, 4, 0, 2, 3), 3, false},
		{"a client's NEW-VIEW", cert(keys, 3, 0, 2, 4), 3, false},
		{"nil", nil, 3, false},
	}
	for _, tc := range tests {
		if got := r.validCert(tc.c, tc.v); got != tc.want {
			t.Errorf("%s: validCert = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLinearPacemaker: a replica that times out enters the next view alone
// and sends one TIMEOUT, to that view's leader only; it follows a leader's
// proposal of a higher view only with a view certificate of n−f replicas;
// a leader that passed a view hands its DECIDE to a replica timing out into
// it, and a NEW-VIEW to a replica that does not lead the view is ignored.
func TestLinearPacemaker(t *testing.T) {
	keys := crypto.NewKeyring(1, 6)
	newR := func(id sim.NodeID) *Replica {
		r, err := NewReplica(Config{ID: id, N: 4, F: 1, Batch: 1, ViewTimeout: time.Second, Keyring: keys, SM: ledger.New(), Rules: Correct})
		if err != nil {
			t.Fatal(err)
		}
		r.out = &sim.Output{}
		return r
	}
	r := newR(2)
	req := &Request{Op: "authorize PAY001 100", Timestamp: 1, Client: 4}
	req.Sig = keys.Signer(4).Sign(req)
	r.Step(0, sim.Input{Kind: sim.InputMessage, From: 4, Msg: req}, r.out)
	r.out.Reset()
	r.Step(0, sim.Input{Kind: sim.InputTimer, Timer: timerView}, r.out)
	if r.View() != 2 || len(r.out.Sends) != 1 || r.out.Sends[0].To != Leader(2, 4) || r.out.Sends[0].Msg.Type() != TypeTimeout {
		t.Fatalf("after a timeout: view %d, sends %+v; want view 2 and one TIMEOUT to replica %d", r.View(), r.out.Sends, Leader(2, 4))
	}
	if got := timerAfter(r.out); got != 2*time.Second {
		t.Errorf("timeout in view 2 after a failed view 1: %v, want 2s (doubled)", got)
	}
	// a proposal of view 4 (leader 3) moves it only with a valid certificate
	b := NewBlock(Genesis.Hash, 1, 4, []*Request{req})
	for _, c := range []*ViewCert{nil, cert(keys, 4, 0, 1), cert(keys, 3, 0, 1, 3)} {
		r.Step(0, sim.Input{Kind: sim.InputMessage, From: 3, Msg: &Proposal{View: 4, Block: b, Justify: GenesisQC, Cert: c, Leader: 3}}, r.out)
		if r.View() != 2 {
			t.Fatalf("followed a proposal of view 4 with certificate %+v", c)
		}
	}
	r.out.Reset()
	r.Step(0, sim.Input{Kind: sim.InputMessage, From: 3, Msg: &Proposal{View: 4, Block: b, Justify: GenesisQC, Cert: cert(keys, 4, 0, 1, 3), Leader: 3}}, r.out)
	if r.View() != 4 || len(r.out.Sends) != 1 || r.out.Sends[0].To != 3 || r.out.Sends[0].Msg.Type() != TypePrepareVote {
		t.Fatalf("with a certificate: view %d, sends %+v; want view 4 and a PREPARE-VOTE to 3 only", r.View(), r.out.Sends)
	}

	// leader hand-off: replica 1 decided view 2 and is in view 3; replica 3
	// times out into view 2 (led by 1): it gets the DECIDE, nothing else
	l := newR(1)
	l.view, l.lastDecide = 3, &PhaseMsg{View: 2, QC: qc(keys, PhaseCommit, 2, b.Hash, 0, 2, 3), Leader: 1}
	l.out.Reset()
	l.Step(0, sim.Input{Kind: sim.InputMessage, From: 3, Msg: newView(keys, 3, 2, true)}, l.out)
	if len(l.out.Sends) != 1 || l.out.Sends[0].To != 3 || l.out.Sends[0].Msg != l.lastDecide {
		t.Errorf("TIMEOUT of a passed view: sends %+v, want the DECIDE to replica 3", l.out.Sends)
	}
	// a NEW-VIEW for a view replica 1 does not lead (view 7, leader 2) is
	// ignored; one replica's TIMEOUT for it (f, see TestViewSync) moves
	// nothing, and only gets the sender, whose prepareQC is older, the DECIDE
	l.out.Reset()
	for _, id := range []sim.NodeID{0, 2, 3} {
		l.Step(0, sim.Input{Kind: sim.InputMessage, From: id, Msg: newView(keys, id, 7, false)}, l.out)
	}
	if len(l.nv) != 0 || l.View() != 3 || len(l.out.Sends) != 0 {
		t.Errorf("replica 1 kept NEW-VIEWs for a view led by %d (or moved to view %d, or sent %+v)", Leader(7, 4), l.View(), l.out.Sends)
	}
	l.Step(0, sim.Input{Kind: sim.InputMessage, From: 3, Msg: newView(keys, 3, 7, true)}, l.out)
	if len(l.nv) != 0 || l.View() != 3 || len(l.out.Sends) != 1 || l.out.Sends[0].To != 3 || l.out.Sends[0].Msg != l.lastDecide {
		t.Errorf("one TIMEOUT for view 7: view %d, sends %+v; want view 3 and the DECIDE to replica 3", l.View(), l.out.Sends)
	}
	// f+1 NEW-VIEWs after decisions for a view it leads (10) do not move
	// it; f+1 TIMEOUTs for one (6) do: it joins, its own TIMEOUT to itself
	// completing n−f (it decided view 4, so view 6 follows one failed view
	// and the view change is linear)
	l = newR(1)
	l.view, l.decidedView = 5, 4
	for _, id := range []sim.NodeID{0, 2} {
		l.Step(0, sim.Input{Kind: sim.InputMessage, From: id, Msg: newView(keys, id, 10, false)}, l.out)
	}
	if l.View() != 5 {
		t.Errorf("leader of view 10 moved to view %d on f+1 NEW-VIEWs that are not TIMEOUTs", l.View())
	}
	l.out.Reset()
	for _, id := range []sim.NodeID{0, 2} {
		l.Step(0, sim.Input{Kind: sim.InputMessage, From: id, Msg: newView(keys, id, 6, true)}, l.out)
	}
	if l.View() != 6 || len(l.out.Sends) != 1 || l.out.Sends[0].To != 1 || l.out.Sends[0].Msg.Type() != TypeTimeout {
		t.Errorf("leader of view 6 after f+1 TIMEOUTs for it: view %d, sends %+v; want view 6 and its own TIMEOUT", l.View(), l.out.Sends)
	}
}

// TestViewSync: after more than f failed views a replica sends its TIMEOUT
// to every replica, stays in the view it timed out into (sending the
// TIMEOUT again) until n−f replicas reached it, then runs the view's timer
// from that moment; f+1 TIMEOUTs of higher views move it to the highest
// view f+1 replicas reached, one replica's (or a forged one) does not.
func TestViewSync(t *testing.T) {
	keys := crypto.NewKeyring(1, 6)
	r, err := NewReplica(Config{ID: 2, N: 4, F: 1, Batch: 1, ViewTimeout: time.Second, Keyring: keys, SM: ledger.New(), Rules: Correct})
	if err != nil {
		t.Fatal(err)
	}
	r.out = &sim.Output{}
	req := &Request{Op: "authorize PAY001 100", Timestamp: 1, Client: 4}
	req.Sig = keys.Signer(4).Sign(req)
	step := func(in sim.Input) {
		r.out.Reset()
		r.Step(0, in, r.out)
	}
	timeout := sim.Input{Kind: sim.InputTimer, Timer: timerView}
	from := func(id sim.NodeID, v uint64) sim.Input {
		return sim.Input{Kind: sim.InputMessage, From: id, Msg: newView(keys, id, v, true)}
	}
	to := func() []sim.NodeID {
		var ids []sim.NodeID
		for _, s := range r.out.Sends {
			if s.Msg.Type() == TypeTimeout {
				ids = append(ids, s.To)
			}
		}
		return ids
	}
	step(sim.Input{Kind: sim.InputMessage, From: 4, Msg: req})
	step(timeout) // view 2: one failed view, linear
	if got := to(); r.View() != 2 || len(got) != 1 {
		t.Fatalf("view 2 after one failed view: view %d, TIMEOUTs to %v; want view 2, one TIMEOUT", r.View(), got)
	}
	step(timeout) // view 3: two failed views > f, synchronizing
	if got := to(); r.View() != 3 || len(got) != 4 {
		t.Fatalf("view 3 after two failed views: view %d, TIMEOUTs to %v; want view 3 and a TIMEOUT to all 4 (itself as leader)", r.View(), got)
	}
	step(timeout) // nobody else in view 3: it stays and sends again
	if got := to(); r.View() != 3 || len(got) != 4 || timerAfter(r.out) == 0 {
		t.Fatalf("timer of view 3 without n−f there: view %d, TIMEOUTs to %v, timer %v; want view 3, its TIMEOUT again to all, the timer again", r.View(), got, timerAfter(r.out))
	}
	step(from(0, 3))
	if timerAfter(r.out) != 0 {
		t.Errorf("timer restarted with %d of n−f = 3 in view 3", 2)
	}
	step(from(1, 3))
	if got := timerAfter(r.out); got != 4*time.Second {
		t.Errorf("n−f in view 3: timer %v, want it restarted with 4s", got)
	}
	step(timeout)
	if got := to(); r.View() != 4 || len(got) != 3 {
		t.Fatalf("timer of view 3 after n−f there: view %d, TIMEOUTs to %v; want view 4 and a TIMEOUT to the 3 others", r.View(), got)
	}
	// one replica far ahead, a forged TIMEOUT: no move; f+1 replicas ahead
	// (views 9 and 7): it joins view 7, the highest f+1 of them reached
	forged := newView(keys, 1, 8, true)
	forged.Sig++
	step(from(0, 9))
	step(sim.Input{Kind: sim.InputMessage, From: 1, Msg: forged})
	if r.View() != 4 {
		t.Fatalf("moved to view %d on one replica's TIMEOUT and a forged one", r.View())
	}
	step(from(1, 7))
	if got := to(); r.View() != 7 || len(got) != 4 {
		t.Fatalf("f+1 TIMEOUTs for views 9 and 7: view %d, TIMEOUTs to %v; want view 7 and a TIMEOUT to all 4 (itself as leader)", r.View(), got)
	}
	// a replica in view 2 that did not time out (no request, no timer)
	// answers f+1 TIMEOUTs for its view with its own TIMEOUT, once
	idle, err := NewReplica(Config{ID: 3, N: 4, F: 1, Batch: 1, ViewTimeout: time.Second, Keyring: keys, SM: ledger.New(), Rules: Correct})
	if err != nil {
		t.Fatal(err)
	}
	idle.out = &sim.Output{}
	idle.view = 2
	for i, id := range []sim.NodeID{0, 1, 2} {
		idle.out.Reset()
		idle.Step(0, sim.Input{Kind: sim.InputMessage, From: id, Msg: newView(keys, id, 2, true)}, idle.out)
		want := 0
		if i == 1 {
			want = 3
		}
		if idle.View() != 2 || len(idle.out.Sends) != want {
			t.Errorf("idle replica in view 2 after %d TIMEOUTs for it: view %d, sends %+v; want %d TIMEOUTs", i+1, idle.View(), idle.out.Sends, want)
		}
	}
}

func timerAfter(out *sim.Output) time.Duration {
	for i := len(out.Timers) - 1; i >= 0; i-- {
		if op := out.Timers[i]; op.ID == timerView && !op.Cancel {
			return op.After
		}
	}
	return 0
}
