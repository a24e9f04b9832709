package byzantine

import (
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// attackCases run the attack strategies on the full stub script of a
// replica (it sends one message of each kind) and check the forgery.
var attackCases = []strategyCase{
	{name: "preprepare-forge/double", strategy: "preprepare-forge", params: map[string]string{"mode": "double"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			got := msgsOf[pbft.PrePrepare](byz, 2)
			if len(got) != 2*len(msgsOf[pbft.PrePrepare](honest, 2)) {
				t.Fatalf("backup 2 got %d PRE-PREPAREs, want two per honest one", len(got))
			}
			if got[0].Seq != got[1].Seq || got[0].Digest == got[1].Digest || got[1].Digest != pbft.BatchDigest(got[1].Batch) {
				t.Errorf("not two valid conflicting PRE-PREPAREs for one (v, n): %+v %+v", got[0], got[1])
			}
		}},
	{name: "preprepare-forge/mismatch", strategy: "preprepare-forge", params: map[string]string{"mode": "mismatch"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			h, b := msgsOf[pbft.PrePrepare](honest, 1), msgsOf[pbft.PrePrepare](byz, 1)
			if len(b) != len(h) || len(b) == 0 {
				t.Fatalf("%d PRE-PREPAREs, want %d", len(b), len(h))
			}
			for i := range b {
				if b[i].Digest != h[i].Digest || b[i].Digest == pbft.BatchDigest(b[i].Batch) {
					t.Errorf("PRE-PREPARE %d: digest should be the true one over another batch: %+v", i, b[i])
				}
			}
		}},
	{name: "checkpoint-forge/digest", strategy: "checkpoint-forge", params: map[string]string{"mode": "digest"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			h, b := msgsOf[pbft.Checkpoint](honest, 2), msgsOf[pbft.Checkpoint](byz, 2)
			if len(b) != 1 || b[0].Seq != h[0].Seq || b[0].StateDigest == h[0].StateDigest {
				t.Errorf("CHECKPOINT %+v, want another digest for seq %d", b, h[0].Seq)
			}
			if s := msgsOf[pbft.Checkpoint](byz, 1); len(s) != 1 || s[0] != h[0] {
				t.Errorf("its own copy was altered")
			}
		}},
	{name: "checkpoint-forge/seq", strategy: "checkpoint-forge", params: map[string]string{"mode": "seq"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			h, b := msgsOf[pbft.Checkpoint](honest, 2), msgsOf[pbft.Checkpoint](byz, 2)
			if len(b) != 1 || b[0].Seq <= h[0].Seq || b[0].StateDigest != h[0].StateDigest {
				t.Errorf("CHECKPOINT %+v, want the digest of seq %d claimed for a later seq", b, h[0].Seq)
			}
		}},
	{name: "viewchange-forge/dup-prepares", strategy: "viewchange-forge", params: map[string]string{"mode": "dup-prepares"}, id: 3,
		check: func(t *testing.T, honest, byz []step) {
			b := msgsOf[pbft.ViewChange](byz, 2)
			if len(b) != 1 || len(b[0].Prepared) == 0 {
				t.Fatalf("VIEW-CHANGEs %+v", b)
			}
			ps := b[0].Prepared[0].Prepares
			if len(ps) < 2 || ps[0] != ps[1] {
				t.Errorf("prepared certificate should repeat one PREPARE: %+v", ps)
			}
		}},
	{name: "viewchange-forge/stable-lie", strategy: "viewchange-forge", params: map[string]string{"mode": "stable-lie"}, id: 3,
		check: func(t *testing.T, honest, byz []step) {
			h, b := msgsOf[pbft.ViewChange](honest, 2), msgsOf[pbft.ViewChange](byz, 2)
			if len(b) != 1 || b[0].StableSeq <= h[0].StableSeq || !slices.Equal(b[0].Checkpoints, h[0].Checkpoints) {
				t.Errorf("VIEW-CHANGE %+v: want a higher stable seq than %d with the same proof", b, h[0].StableSeq)
			}
		}},
	{name: "viewchange-forge/skip", strategy: "viewchange-forge", params: map[string]string{"mode": "skip"}, id: 3,
		check: func(t *testing.T, honest, byz []step) {
			h, b := msgsOf[pbft.ViewChange](honest, 2), msgsOf[pbft.ViewChange](byz, 2)
			if len(b) != 1 || b[0].NewView != h[0].NewView+1 {
				t.Errorf("VIEW-CHANGE %+v: want view %d", b, h[0].NewView+1)
			}
		}},
	{name: "newview-forge/dup-vc", strategy: "newview-forge", params: map[string]string{"mode": "dup-vc"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			b := msgsOf[pbft.NewView](byz, 2)
			if len(b) != 1 || len(b[0].ViewChanges) < 2 || b[0].ViewChanges[0] != b[0].ViewChanges[len(b[0].ViewChanges)-1] {
				t.Errorf("NEW-VIEW %+v: want a repeated VIEW-CHANGE", b)
			}
		}},
	{name: "newview-forge/mismatch", strategy: "newview-forge", params: map[string]string{"mode": "mismatch"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			b := msgsOf[pbft.NewView](byz, 2)
			if len(b) != 1 || len(b[0].PrePrepares) == 0 || b[0].PrePrepares[0].Digest == pbft.BatchDigest(b[0].PrePrepares[0].Batch) {
				t.Errorf("NEW-VIEW %+v: want an O entry whose batch does not match its digest", b)
			}
		}},
}

func TestAttackStrategies(t *testing.T) {
	for _, c := range attackCases {
		t.Run(c.name, func(t *testing.T) {
			honest, byz := runCase(t, c, 1)
			checkOwnName(t, c.id, honest, byz)
			c.check(t, honest, byz)
			_, again := runCase(t, c, 1)
			if !slices.Equal(encodeAll(byz), encodeAll(again)) {
				t.Fatalf("two runs with the same seed differ")
			}
		})
	}
}

func TestStateForge(t *testing.T) {
	env := testEnv(1, 1)
	st := func(seq uint64) *pbft.State {
		return &pbft.State{Seq: seq, StateDigest: pbft.Digest{byte(seq)}, Proof: []*pbft.Checkpoint{ckpt(0, seq), ckpt(1, seq), ckpt(2, seq)}, Replica: 1}
	}
	for _, mode := range []string{"stale", "dup-proof"} {
		n, err := New("state-forge", map[string]string{"mode": mode}, nopNode{}, env)
		if err != nil {
			t.Fatal(err)
		}
		r := n.(*node).chain[0]
		c := &stepCtx{env: &env}
		first, second := st(2), st(4)
		out := r.rewrite(c, []sim.Send{{To: 2, Msg: first}}, nil)
		if out[0].Msg != sim.Message(first) && mode == "stale" {
			t.Errorf("%s: the first state should go out as it is", mode)
		}
		out = r.rewrite(c, []sim.Send{{To: 3, Msg: second}}, nil)
		got := out[0].Msg.(*pbft.State)
		switch mode {
		case "stale":
			if got.Seq != 2 || got.StateDigest != first.StateDigest {
				t.Errorf("stale: sent seq %d, want the older state 2", got.Seq)
			}
		case "dup-proof":
			if got.Seq != 4 || got.Proof[0] != got.Proof[1] || got.Proof[0] != got.Proof[2] {
				t.Errorf("dup-proof: proof %+v should repeat one CHECKPOINT", got.Proof)
			}
		}
	}
}

func TestRequestRelay(t *testing.T) {
	env := testEnv(1, 1)
	n, err := New("request-relay", map[string]string{"mode": "both"}, nopNode{}, env)
	if err != nil {
		t.Fatal(err)
	}
	var out sim.Output
	r1, r2 := req(1, "authorize PAY001 1"), req(2, "authorize PAY002 2")
	n.Step(0, sim.Input{Kind: sim.InputMessage, From: testClient, Msg: r1}, &out)
	relays := 0
	for _, s := range out.Sends {
		if s.Msg != sim.Message(r1) || s.To == 1 || int(s.To) >= testN {
			t.Errorf("unexpected send %+v", s)
		}
		relays++
	}
	if relays != 2*(testN-1) {
		t.Errorf("flood: %d relays of the first request, want %d", relays, 2*(testN-1))
	}
	out.Sends = out.Sends[:0]
	n.Step(1, sim.Input{Kind: sim.InputMessage, From: testClient, Msg: r2}, &out)
	replayed := 0
	for _, s := range out.Sends {
		if s.Msg == sim.Message(r1) {
			replayed++
		}
	}
	if replayed != testN-1 {
		t.Errorf("replay: the old request went to %d replicas, want %d", replayed, testN-1)
	}
	// tamper: one relay per other replica, the op altered under the
	// client's signature (which no longer verifies).
	n, _ = New("request-relay", map[string]string{"mode": "tamper"}, nopNode{}, env)
	out.Sends = out.Sends[:0]
	n.Step(2, sim.Input{Kind: sim.InputMessage, From: testClient, Msg: r1}, &out)
	if len(out.Sends) != testN-1 {
		t.Fatalf("tamper: %d relays, want %d", len(out.Sends), testN-1)
	}
	for _, s := range out.Sends {
		q := s.Msg.(*pbft.Request)
		if s.To == 1 || q.Client != r1.Client || q.Timestamp != r1.Timestamp || q.Op == r1.Op || q.Sig != r1.Sig || testKeys.Verify(q) {
			t.Errorf("tamper: relayed %+v to %d (valid signature %v), want r1 with its op altered, unsigned by its client", q, s.To, testKeys.Verify(q))
		}
	}
}

// TestVoteReplay: "own" sends each own vote twice and replays a kept one
// with the next new vote; "others" relays a vote received from its author
// to the other replicas, unaltered, and never a relayed one.
func TestVoteReplay(t *testing.T) {
	env := testEnv(1, 1)
	own := &voteReplay{mode: "own"}
	c := &stepCtx{env: &env}
	c1 := &pbft.Commit{View: 0, Seq: 1, Replica: 1}
	c2 := &pbft.Commit{View: 0, Seq: 2, Replica: 1}
	out := own.rewrite(c, []sim.Send{{To: 2, Msg: c1}}, nil)
	if len(out) != 2 || out[1].Msg != sim.Message(c1) || out[1].To != 2 {
		t.Fatalf("own: first vote sent %+v, want twice to 2", out)
	}
	out = own.rewrite(c, []sim.Send{{To: 2, Msg: c2}}, nil)
	late := 0
	for _, s := range out {
		if s.Msg == sim.Message(c1) {
			late++
		}
	}
	if late != testN-1 {
		t.Errorf("own: the kept vote was replayed to %d replicas, want %d", late, testN-1)
	}
	others := &voteReplay{mode: "others"}
	p := &pbft.Prepare{View: 0, Seq: 1, Replica: 2}
	out = others.rewrite(&stepCtx{env: &env, in: &sim.Input{Kind: sim.InputMessage, From: 2, Msg: p}}, nil, nil)
	if len(out) != testN-2 {
		t.Fatalf("others: %d relays, want %d", len(out), testN-2)
	}
	for _, s := range out {
		if s.Msg != sim.Message(p) || s.To == 1 || s.To == 2 {
			t.Errorf("others: unexpected relay %+v", s)
		}
	}
	if out = others.rewrite(&stepCtx{env: &env, in: &sim.Input{Kind: sim.InputMessage, From: 3, Msg: p}}, nil, nil); len(out) != 0 {
		t.Errorf("others: relayed a relayed vote: %+v", out)
	}
}

// TestForgeStateModes: each mode of forge-state sends, for one STATE, the
// forgeries it names in order: a forged snapshot under the true digest and
// proof, under its own digest with the true proof, or under its own digest
// with a proof of the faulty replica's own CHECKPOINT only (validly signed).
func TestForgeStateModes(t *testing.T) {
	env := testEnv(1, 1)
	true1 := &pbft.State{Seq: 2, StateDigest: pbft.Digest{2}, Proof: []*pbft.Checkpoint{ckpt(0, 2), ckpt(1, 2), ckpt(2, 2)}, Replica: 1}
	cases := []struct {
		mode string
		want []string // per STATE sent: "snapshot", "digest" or "self-proof"
	}{
		{"snapshot", []string{"snapshot"}},
		{"digest", []string{"digest"}},
		{"self-proof", []string{"self-proof"}},
		{"all", []string{"self-proof", "digest", "snapshot"}},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			n, err := New("forge-state", map[string]string{"mode": c.mode}, nopNode{}, env)
			if err != nil {
				t.Fatal(err)
			}
			out := n.(*node).chain[0].rewrite(&stepCtx{env: &env}, []sim.Send{{To: 3, Msg: true1}}, nil)
			if len(out) != len(c.want) {
				t.Fatalf("%d STATEs sent, want %d", len(out), len(c.want))
			}
			for i, s := range out {
				st := s.Msg.(*pbft.State)
				got := "snapshot"
				switch {
				case st.StateDigest == true1.StateDigest:
				case len(st.Proof) == 1 && st.Proof[0].Replica == 1 && st.Proof[0].StateDigest == st.StateDigest && testKeys.Verify(st.Proof[0]):
					got = "self-proof"
				case len(st.Proof) == len(true1.Proof):
					got = "digest"
				default:
					got = "?"
				}
				if s.To != 3 || st.Seq != 2 || got != c.want[i] || string(st.Snapshot) == string(true1.Snapshot) {
					t.Errorf("STATE %d to %d: seq %d, %s, want %s with a forged snapshot", i, s.To, st.Seq, got, c.want[i])
				}
			}
		})
	}
}

// TestViewChangeForgeEarly: in mode early the replica's first message of a
// view v (here a PREPARE) goes out with a VIEW-CHANGE for v+1 to every
// other replica, signed in its own name; later messages of v, or of an
// older view, add none.
func TestViewChangeForgeEarly(t *testing.T) {
	env := testEnv(1, 1)
	n, err := New("viewchange-forge", map[string]string{"mode": "early"}, nopNode{}, env)
	if err != nil {
		t.Fatal(err)
	}
	r := n.(*node).chain[0]
	d := pbft.Digest{7}
	steps := []struct {
		msg  sim.Message
		vcTo int // VIEW-CHANGEs for want sent besides the message
		want uint64
	}{
		{prep(1, 2, 5, d), testN - 1, 3},
		{commit(1, 2, 5, d), 0, 0},
		{prep(1, 1, 6, d), 0, 0},
		{prep(0, 4, 6, d), 0, 0}, // not its own message
		{commit(1, 3, 7, d), testN - 1, 4},
	}
	for i, s := range steps {
		out := r.rewrite(&stepCtx{env: &env}, []sim.Send{{To: 2, Msg: s.msg}}, nil)
		if len(out) != 1+s.vcTo || out[0].Msg != s.msg {
			t.Fatalf("step %d: %d sends, want the message and %d VIEW-CHANGEs", i, len(out), s.vcTo)
		}
		for _, o := range out[1:] {
			vc, ok := o.Msg.(*pbft.ViewChange)
			if !ok || vc.NewView != s.want || vc.Replica != 1 || o.To == 1 || !testKeys.Verify(vc) {
				t.Fatalf("step %d: sent %+v to %d, want a signed VIEW-CHANGE of replica 1 for view %d", i, o.Msg, o.To, s.want)
			}
		}
	}
}
