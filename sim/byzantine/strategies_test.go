package byzantine

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// strategyCase wraps the full stub script of replica id in a strategy.
type strategyCase struct {
	name     string
	strategy string
	params   map[string]string
	id       sim.NodeID
	// check inspects the honest and faulty sends (same inputs).
	check func(t *testing.T, honest, byz []step)
	// inputs replace fullInputs when set.
	inputs func() []sim.Input
}

func runCase(t *testing.T, c strategyCase, seed uint64) (honest, byz []step) {
	t.Helper()
	inputs := fullInputs
	if c.inputs != nil {
		inputs = c.inputs
	}
	honest = drive(fullScript(c.id), inputs())
	env := testEnv(c.id, seed)
	env.NewHonest = func() (sim.Node, error) { return fullScript(c.id), nil }
	n, err := New(c.strategy, c.params, fullScript(c.id), env)
	if err != nil {
		t.Fatalf("New(%q, %v): %v", c.strategy, c.params, err)
	}
	return honest, drive(n, inputs())
}

var strategyCases = []strategyCase{
	{name: "silent", strategy: "silent", id: 1, check: func(t *testing.T, honest, byz []step) {
		for _, st := range byz {
			for _, s := range st {
				if s.To != 1 {
					t.Errorf("silent replica sent %s to %d", typeName(s.Msg), s.To)
				}
			}
		}
		if got, want := len(msgsOf[pbft.Commit](byz, 1)), len(msgsOf[pbft.Commit](honest, 1)); got != want || got == 0 {
			t.Errorf("self-sends: got %d COMMITs to itself, want %d (> 0)", got, want)
		}
	}},
	{name: "selective-silent/to", strategy: "selective-silent", params: map[string]string{"to": "2,4"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			for _, st := range byz {
				for _, s := range st {
					if s.To == 2 || s.To == 4 {
						t.Errorf("sent %s to withheld node %d", typeName(s.Msg), s.To)
					}
				}
			}
			assertSameTo(t, honest, byz, 3)
		}},
	{name: "selective-silent/types", strategy: "selective-silent", params: map[string]string{"types": "commit,VIEW-CHANGE"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			for _, st := range byz {
				for _, s := range st {
					if s.To != 1 && (s.Msg.Type() == pbft.TypeCommit || s.Msg.Type() == pbft.TypeViewChange) {
						t.Errorf("sent withheld %s to %d", typeName(s.Msg), s.To)
					}
				}
			}
			if len(msgsOf[pbft.PrePrepare](byz, 2)) != len(msgsOf[pbft.PrePrepare](honest, 2)) {
				t.Errorf("PRE-PREPAREs to 2 changed")
			}
		}},
	{name: "selective-silent/both", strategy: "selective-silent", params: map[string]string{"types": "REPLY", "to": "5"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			if len(msgsOf[pbft.Reply](byz, 5)) != 0 || len(msgsOf[pbft.Reply](byz, 4)) != 2 {
				t.Errorf("replies to 5: %d (want 0), to 4: %d (want 2)", len(msgsOf[pbft.Reply](byz, 5)), len(msgsOf[pbft.Reply](byz, 4)))
			}
		}},
	{name: "equivocate/null", strategy: "equivocate", id: 0, check: checkEquivocate("null")},
	{name: "equivocate/reorder", strategy: "equivocate", params: map[string]string{"alt": "reorder", "split": "1"}, id: 0, check: checkEquivocate("reorder")},
	{name: "equivocate/forge-op", strategy: "equivocate", params: map[string]string{"alt": "forge-op", "split": "alternate"}, id: 0, check: checkEquivocate("forge-op")},
	{name: "conflicting-votes/fabricate", strategy: "conflicting-votes", id: 1, check: func(t *testing.T, honest, byz []step) {
		real := digestsOf(honest)
		fake := map[viewSeq]pbft.Digest{}
		n := 0
		for _, st := range byz {
			for _, s := range st {
				v, ok := voteOf(s.Msg)
				if !ok || s.To == 1 {
					continue
				}
				n++
				if real[v.d] {
					t.Errorf("vote %+v to %d carries a digest the replica received", v, s.To)
				}
				if d, ok := fake[viewSeq{v.v, v.n}]; ok && d != v.d {
					t.Errorf("two fabricated digests for (%d,%d)", v.v, v.n)
				}
				fake[viewSeq{v.v, v.n}] = v.d
			}
		}
		if n == 0 {
			t.Errorf("no votes sent")
		}
	}},
	{name: "conflicting-votes/split", strategy: "conflicting-votes", params: map[string]string{"mode": "split", "types": "PREPARE"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			// others of 1 are 0,2,3: the upper half 2,3 get a fake PREPARE digest.
			h := msgsOf[pbft.Prepare](honest, 0)
			if len(h) == 0 {
				t.Fatal("no honest PREPARE")
			}
			if p := msgsOf[pbft.Prepare](byz, 0); len(p) != 1 || p[0].Digest != h[0].Digest {
				t.Errorf("replica 0 should get the true PREPARE")
			}
			for _, to := range []sim.NodeID{2, 3} {
				if p := msgsOf[pbft.Prepare](byz, to); len(p) != 1 || p[0].Digest == h[0].Digest {
					t.Errorf("replica %d should get a fabricated PREPARE digest", to)
				}
			}
			a, b := msgsOf[pbft.Prepare](byz, 2), msgsOf[pbft.Prepare](byz, 3)
			if a[0].Digest != b[0].Digest {
				t.Errorf("the fabricated digest differs between receivers")
			}
			if c := msgsOf[pbft.Commit](byz, 2); len(c) == 0 || c[0] != msgsOf[pbft.Commit](honest, 2)[0] {
				t.Errorf("COMMIT changed although types=PREPARE")
			}
		}},
	{name: "conflicting-votes/mirror", strategy: "conflicting-votes", params: map[string]string{"mode": "mirror"}, id: 1,
		check: func(t *testing.T, honest, byz []step) {
			// Replica 2 voted for `other` at (0,1): it gets PREPARE and COMMIT
			// for other and nothing else; replica 3 never voted: no votes; the
			// primary 0 gets the honest votes.
			other := fullInputs()[0].Msg.(*pbft.Prepare).Digest
			var to2 []vote
			for _, st := range byz {
				for _, s := range st {
					if v, ok := voteOf(s.Msg); ok && s.To == 2 {
						to2 = append(to2, v)
					}
				}
			}
			want := []vote{{false, 0, 1, other}, {true, 0, 1, other}}
			if !slices.Equal(to2, want) {
				t.Errorf("votes to 2: %+v, want %+v", to2, want)
			}
			if n := len(msgsOf[pbft.Prepare](byz, 3)) + len(msgsOf[pbft.Commit](byz, 3)); n != 0 {
				t.Errorf("%d votes to replica 3, which never voted", n)
			}
			if h, b := msgsOf[pbft.Commit](honest, 0), msgsOf[pbft.Commit](byz, 0); !slices.Equal(h, b) || len(h) == 0 {
				t.Errorf("votes to the primary changed")
			}
		}},
	{name: "mutate/view+1", strategy: "mutate", params: map[string]string{"kind": "view+1", "prob": "1"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			for i := range honest {
				if len(honest[i]) != len(byz[i]) {
					t.Fatalf("step %d: %d sends, want %d", i, len(byz[i]), len(honest[i]))
				}
				for j, s := range honest[i] {
					hv, ok := viewOf(s.Msg)
					bv, _ := viewOf(byz[i][j].Msg)
					if ok && s.To != 0 && bv != hv+1 {
						t.Errorf("step %d send %d (%s): view %d, want %d", i, j, typeName(s.Msg), bv, hv+1)
					}
				}
			}
		}},
	{name: "mutate/seq-1", strategy: "mutate", params: map[string]string{"kind": "seq-1", "prob": "1", "types": "PREPARE,COMMIT"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			for i := range honest {
				for j, s := range honest[i] {
					v, ok := voteOf(s.Msg)
					b, _ := voteOf(byz[i][j].Msg)
					if ok && s.To != 0 && b.n != v.n-1 {
						t.Errorf("step %d: seq %d, want %d", i, b.n, v.n-1)
					}
					if !ok && byz[i][j].Msg != s.Msg {
						t.Errorf("step %d: %s changed although not in types", i, typeName(s.Msg))
					}
				}
			}
		}},
	{name: "mutate/digest", strategy: "mutate", params: map[string]string{"kind": "digest", "prob": "1"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			n := 0
			for i := range honest {
				for j, s := range honest[i] {
					hd, ok := digestOf(s.Msg)
					bd, _ := digestOf(byz[i][j].Msg)
					if ok && s.To != 0 {
						n++
						if hd == bd {
							t.Errorf("step %d: %s digest not swapped", i, typeName(s.Msg))
						}
					}
				}
			}
			if n == 0 {
				t.Error("nothing to mutate")
			}
		}},
	{name: "mutate/replay", strategy: "mutate", params: map[string]string{"kind": "replay", "prob": "0.5"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			replayed := 0
			for i := range honest {
				for j, s := range honest[i] {
					if b := byz[i][j].Msg; b != s.Msg {
						replayed++
						found := false
						for k := 0; k <= i; k++ { // earlier steps, or earlier in this one
							for _, e := range honest[k] {
								found = found || e.Msg == b
							}
						}
						if !found {
							t.Errorf("step %d: sent %s that is not an earlier message of its own", i, typeName(b))
						}
					}
				}
			}
			if replayed == 0 {
				t.Error("nothing replayed")
			}
		}},
	{name: "vc-stale", strategy: "vc-stale", id: 0, check: func(t *testing.T, honest, byz []step) {
		vcs := msgsOf[pbft.ViewChange](byz, 2)
		if len(vcs) != 1 || vcs[0].StableSeq != 0 || len(vcs[0].Checkpoints) != 0 || len(vcs[0].Prepared) != 0 {
			t.Fatalf("VIEW-CHANGE not stale: %+v", vcs)
		}
		nv := msgsOf[pbft.NewView](byz, 2)
		if len(nv) != 1 || nv[0].ViewChanges[0].StableSeq != 0 || nv[0].ViewChanges[1] != msgsOf[pbft.NewView](honest, 2)[0].ViewChanges[1] {
			t.Errorf("NEW-VIEW should carry its own stale VIEW-CHANGE and the others' untouched")
		}
	}},
	{name: "vc-stale/stale", strategy: "vc-stale", params: map[string]string{"mode": "stale"}, id: 0, check: func(t *testing.T, honest, byz []step) {
		vcs := msgsOf[pbft.ViewChange](byz, 2)
		if len(vcs) != 1 || vcs[0].StableSeq != 0 || len(vcs[0].Checkpoints) != 0 || len(vcs[0].Prepared) != 1 {
			t.Fatalf("VIEW-CHANGE: %+v", vcs)
		}
	}},
	{name: "vc-stale/no-prepared", strategy: "vc-stale", params: map[string]string{"mode": "no-prepared"}, id: 0, check: func(t *testing.T, honest, byz []step) {
		vcs := msgsOf[pbft.ViewChange](byz, 2)
		if len(vcs) != 1 || vcs[0].StableSeq != 1 || len(vcs[0].Checkpoints) != 3 || len(vcs[0].Prepared) != 0 {
			t.Fatalf("VIEW-CHANGE: %+v", vcs)
		}
	}},
	{name: "newview-drop/replace", strategy: "newview-drop", id: 0, check: func(t *testing.T, honest, byz []step) {
		nv := msgsOf[pbft.NewView](byz, 3)
		h := msgsOf[pbft.NewView](honest, 3)
		if len(nv) != 1 || len(nv[0].PrePrepares) != len(h[0].PrePrepares) {
			t.Fatalf("NEW-VIEW: %+v", nv)
		}
		for i, p := range nv[0].PrePrepares {
			if len(p.Batch) != 0 || p.Digest != pbft.BatchDigest(nil) || p.Seq != h[0].PrePrepares[i].Seq {
				t.Errorf("O[%d] = %+v, want the null request at seq %d", i, p, h[0].PrePrepares[i].Seq)
			}
		}
	}},
	{name: "newview-drop/drop", strategy: "newview-drop", params: map[string]string{"mode": "drop"}, id: 0, check: func(t *testing.T, honest, byz []step) {
		nv := msgsOf[pbft.NewView](byz, 3)
		if len(nv) != 1 || len(nv[0].PrePrepares) != 1 || len(nv[0].PrePrepares[0].Batch) != 0 {
			t.Fatalf("NEW-VIEW O should keep only the null request: %+v", nv)
		}
	}},
	{name: "lying-reply", strategy: "lying-reply", id: 2, check: func(t *testing.T, honest, byz []step) {
		checkLies(t, honest, byz, testClient, "")
		checkLies(t, honest, byz, testClient+1, "")
	}},
	{name: "lying-reply/fixed", strategy: "lying-reply", params: map[string]string{"result": "ok", "clients": "4"}, id: 2,
		check: func(t *testing.T, honest, byz []step) {
			checkLies(t, honest, byz, testClient, "ok!")
			if msgsOf[pbft.Reply](byz, testClient+1)[0] != msgsOf[pbft.Reply](honest, testClient+1)[0] {
				t.Errorf("lied to client 5, not listed")
			}
		}},
	{name: "twins", strategy: "twins", params: map[string]string{"groups": "0|2,3"}, id: 1, inputs: twinsInputs, check: func(t *testing.T, honest, byz []step) {
		// Both instances send the same script: group A (0 and the clients)
		// gets A's copy, group B (2,3) B's; itself gets both copies, tagged.
		for _, to := range []sim.NodeID{0, 2, 3, testClient} {
			if got, want := countTo(byz, to), countTo(honest, to); got != want || want == 0 {
				t.Errorf("sends to %d: %d, want %d", to, got, want)
			}
		}
		if got, want := countTo(byz, 1), 2*countTo(honest, 1); got != want {
			t.Errorf("self-sends: %d, want %d", got, want)
		}
	}},
	{name: "compose", strategy: "equivocate+lying-reply+selective-silent", params: map[string]string{"types": "CHECKPOINT", "result": "x"}, id: 0,
		check: func(t *testing.T, honest, byz []step) {
			checkEquivocate("null")(t, honest, byz)
			checkLies(t, honest, byz, testClient, "x")
			if len(msgsOf[pbft.Checkpoint](byz, 2)) != 0 {
				t.Errorf("CHECKPOINT not withheld")
			}
		}},
}

func TestStrategies(t *testing.T) {
	for _, c := range strategyCases {
		t.Run(c.name, func(t *testing.T) {
			honest, byz := runCase(t, c, 1)
			h, b := encodeAll(honest), encodeAll(byz)
			if slices.Equal(h, b) {
				t.Fatalf("faulty replica sent exactly what the honest one sent")
			}
			checkOwnName(t, c.id, honest, byz)
			c.check(t, honest, byz)
		})
	}
}

func TestStrategiesDeterministic(t *testing.T) {
	for _, c := range strategyCases {
		t.Run(c.name, func(t *testing.T) {
			_, a := runCase(t, c, 5)
			_, b := runCase(t, c, 5)
			if !slices.Equal(encodeAll(a), encodeAll(b)) {
				t.Fatalf("two runs with the same seed differ")
			}
		})
	}
}

// TestSeedMatters shows the seeded strategies draw from Env.Rand.
func TestSeedMatters(t *testing.T) {
	c := strategyCase{strategy: "mutate", params: map[string]string{"kind": "view+1,seq+1,digest,replay", "prob": "0.5"}, id: 0}
	_, a := runCase(t, c, 1)
	for seed := uint64(2); seed < 6; seed++ {
		_, b := runCase(t, c, seed)
		if !slices.Equal(encodeAll(a), encodeAll(b)) {
			return
		}
	}
	t.Fatal("mutate gave the same output for five seeds")
}

func TestMutateProbability(t *testing.T) {
	const steps = 2000
	env := testEnv(1, 3)
	p := prep(1, 0, 1, pbft.Digest{1})
	honest := &script{id: 1}
	for i := 0; i < steps; i++ {
		honest.steps = append(honest.steps, func(out *sim.Output) { out.Send(2, p) })
	}
	n, err := New("mutate", map[string]string{"kind": "seq+1", "prob": "0.25"}, honest, env)
	if err != nil {
		t.Fatal(err)
	}
	mutated := 0
	for _, st := range drive(n, make([]sim.Input, steps-1)) {
		if st[0].Msg.(*pbft.Prepare).Seq == 2 {
			mutated++
		}
	}
	if rate := float64(mutated) / steps; rate < 0.22 || rate > 0.28 {
		t.Fatalf("mutated %d of %d messages (%.3f), want about 0.25", mutated, steps, rate)
	}
}

// TestEquivocateRetransmission: a re-sent PRE-PREPARE for the same (v, n)
// gets the same alternative, so each backup sees one consistent lie.
func TestEquivocateRetransmission(t *testing.T) {
	_, byz := runCase(t, strategyCase{strategy: "equivocate", id: 0}, 1)
	var d []pbft.Digest
	for _, p := range msgsOf[pbft.PrePrepare](byz, 3) {
		if p.Seq == 3 {
			d = append(d, p.Digest)
		}
	}
	if len(d) != 2 || d[0] != d[1] {
		t.Fatalf("digests sent to 3 for (0,3): %v, want two equal ones", d)
	}
}

func TestTwinsRouting(t *testing.T) {
	a, b := fullScript(1), fullScript(1)
	env := testEnv(1, 1)
	env.NewHonest = func() (sim.Node, error) { return b, nil }
	n, err := New("twins", map[string]string{"groups": "0|2,3"}, a, env)
	if err != nil {
		t.Fatal(err)
	}
	var out sim.Output
	n.Start(0, &out) // both set their timer 1: two distinct kernel timers
	if len(out.Timers) != 2 || out.Timers[0].ID == out.Timers[1].ID {
		t.Fatalf("timers: %+v, want two distinct ids", out.Timers)
	}
	ta, tb := out.Timers[0].ID, out.Timers[1].ID
	step := func(in sim.Input) sim.Output {
		out.Reset()
		n.Step(1, in, &out)
		return out
	}
	step(sim.Input{Kind: sim.InputMessage, From: 2, Msg: prep(2, 0, 1, pbft.Digest{2})})
	if len(a.inputs) != 0 || len(b.inputs) != 1 {
		t.Fatalf("message from 2 went to A=%d B=%d inputs, want B", len(a.inputs), len(b.inputs))
	}
	step(sim.Input{Kind: sim.InputMessage, From: testClient, Msg: req(5, "x")})
	if len(a.inputs) != 1 {
		t.Fatalf("client message did not go to A")
	}
	o := step(sim.Input{Kind: sim.InputTimer, Timer: tb}) // B: step 2, PREPARE to all with self
	if len(b.inputs) != 2 || b.inputs[1].Timer != 1 {
		t.Fatalf("B's timer not delivered to B as timer 1: %+v", b.inputs)
	}
	var self sim.Message
	for _, s := range o.Sends {
		if s.To == 0 {
			t.Errorf("B sent to 0, outside its group")
		}
		if s.To == 1 {
			self = s.Msg
		}
	}
	if self == nil {
		t.Fatal("no self-send")
	}
	step(sim.Input{Kind: sim.InputMessage, From: 1, Msg: self})
	if len(b.inputs) != 3 || b.inputs[2].Msg.Type() != pbft.TypePrepare {
		t.Fatalf("self-send of B did not come back to B unwrapped")
	}
	if _, wrapped := b.inputs[2].Msg.(*twinLocal); wrapped {
		t.Fatal("B got the wrapper")
	}
	step(sim.Input{Kind: sim.InputTimer, Timer: ta})
	if len(a.inputs) != 2 || a.inputs[1].Kind != sim.InputTimer {
		t.Fatalf("A's timer not delivered to A")
	}
	step(sim.Input{Kind: sim.InputRecover})
	if len(a.inputs) != 3 || len(b.inputs) != 4 {
		t.Fatal("recovery not given to both instances")
	}
}

func TestNamesAndLookup(t *testing.T) {
	want := []string{"censor", "checkpoint-forge", "conflicting-votes", "equivocate", "forge", "forge-state", "lying-reply", "mutate", "newview-drop",
		"newview-forge", "pp-batch-mismatch", "preprepare-forge", "request-relay", "selective-silent", "silent", "state-forge", "twins", "vc-stale", "viewchange-forge", "vote-replay"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, name := range want {
		i, ok := Lookup(name)
		if !ok || i.Name != name || i.Doc == "" {
			t.Errorf("Lookup(%q) = %+v, %v", name, i, ok)
		}
		for _, p := range i.Params {
			if p.Doc == "" {
				t.Errorf("%s: param %s has no doc", name, p.Name)
			}
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
}

func TestBadParams(t *testing.T) {
	cases := []struct {
		strategy string
		params   map[string]string
		want     []string // substrings of the error
	}{
		{"", nil, []string{"empty strategy", "silent", "twins"}},
		{"nope", nil, []string{`unknown strategy "nope"`, "equivocate", "mutate"}},
		{"silent+nope", nil, []string{`unknown strategy "nope"`}},
		{"silent+silent", nil, []string{"twice"}},
		{"silent", map[string]string{"prob": "1"}, []string{`unknown param "prob"`, "none"}},
		{"mutate", map[string]string{"kind": "view+2"}, []string{"kind", "view+2", "view+1, view-1, seq+1, seq-1, digest, replay"}},
		{"mutate", map[string]string{"prob": "1.5"}, []string{"prob", "[0,1]"}},
		{"mutate", map[string]string{"prob": "x"}, []string{"prob", "[0,1]"}},
		{"mutate", map[string]string{"types": "PING"}, []string{"types", "PING", "PRE-PREPARE"}},
		{"mutate", map[string]string{"bogus": "1"}, []string{`unknown param "bogus"`, "kind, prob, types"}},
		{"selective-silent", nil, []string{"to", "types", "silent"}},
		{"selective-silent", map[string]string{"to": "a,b"}, []string{"to", "node ids"}},
		{"selective-silent", map[string]string{"to": "-1"}, []string{"to", ">= 0"}},
		{"equivocate", map[string]string{"alt": "x"}, []string{"alt", "null, reorder, forge-op"}},
		{"equivocate", map[string]string{"split": "1"}, []string{"split", "not another replica"}},
		{"equivocate", map[string]string{"split": "9"}, []string{"split", "[0,4)"}},
		{"equivocate", map[string]string{"split": "abc"}, []string{"split", "half", "alternate"}},
		{"conflicting-votes", map[string]string{"mode": "x"}, []string{"mode", "fabricate, split, mirror"}},
		{"conflicting-votes", map[string]string{"types": "REPLY"}, []string{"types", "PREPARE, COMMIT"}},
		{"conflicting-votes", map[string]string{"split": "half"}, []string{"split", "mode=split"}},
		{"vc-stale", map[string]string{"mode": "x"}, []string{"mode", "both, stale, no-prepared"}},
		{"newview-drop", map[string]string{"mode": "x"}, []string{"mode", "replace, drop"}},
		{"lying-reply", map[string]string{"clients": ""}, []string{"clients", "at least one"}},
		{"twins", nil, []string{"groups", "required"}},
		{"twins", map[string]string{"groups": "0,1"}, []string{"groups", "two groups"}},
		{"twins", map[string]string{"groups": "0,1|1,2"}, []string{"groups", "both groups"}},
		{"twins", map[string]string{"groups": "0|x"}, []string{"groups", "group 2"}},
		{"silent+twins", map[string]string{"groups": "0|2"}, []string{"twins must come first"}},
		{"mutate", map[string]string{"silent.prob": "1"}, []string{`"silent"`, "not in"}},
		{"mutate+lying-reply", map[string]string{"lying-reply.prob": "1"}, []string{`unknown param "lying-reply.prob"`}},
	}
	for _, c := range cases {
		_, err := New(c.strategy, c.params, fullScript(1), testEnv(1, 1))
		if err == nil {
			t.Errorf("New(%q, %v): no error", c.strategy, c.params)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("New(%q, %v) = %q, want it to mention %q", c.strategy, c.params, err, w)
			}
		}
	}
}

func TestBadEnv(t *testing.T) {
	env := testEnv(1, 1)
	if _, err := New("silent", nil, nil, env); err == nil {
		t.Error("nil honest node accepted")
	}
	env.ID = 4
	if _, err := New("silent", nil, fullScript(1), env); err == nil || !strings.Contains(err.Error(), "[0,4)") {
		t.Errorf("replica id 4 of 4: %v", err)
	}
	env = testEnv(1, 1)
	env.Rand = nil
	if _, err := New("silent", nil, fullScript(1), env); err == nil {
		t.Error("nil Rand accepted")
	}
	env = testEnv(1, 1)
	if _, err := New("twins", map[string]string{"groups": "0|2"}, fullScript(1), env); err == nil || !strings.Contains(err.Error(), "NewHonest") {
		t.Errorf("twins without NewHonest: %v", err)
	}
}

// TestParamPrefix: "name.key" targets one strategy of a composition.
func TestParamPrefix(t *testing.T) {
	c := strategyCase{strategy: "conflicting-votes+mutate", id: 1,
		params: map[string]string{"conflicting-votes.types": "COMMIT", "mutate.types": "REPLY", "prob": "1", "kind": "view+1"}}
	honest, byz := runCase(t, c, 1)
	h, b := msgsOf[pbft.Prepare](honest, 2), msgsOf[pbft.Prepare](byz, 2)
	if len(h) == 0 || h[0] != b[0] {
		t.Errorf("PREPARE changed although neither strategy targets it")
	}
	if hc, bc := msgsOf[pbft.Commit](honest, 2), msgsOf[pbft.Commit](byz, 2); hc[0].Digest == bc[0].Digest {
		t.Errorf("COMMIT digest not fabricated")
	}
	if r := msgsOf[pbft.Reply](byz, testClient); r[0].View != 1 {
		t.Errorf("REPLY view %d, want 1", r[0].View)
	}
}

func checkEquivocate(alt string) func(t *testing.T, honest, byz []step) {
	return func(t *testing.T, honest, byz []step) {
		t.Helper()
		var split []sim.NodeID
		switch alt {
		case "null":
			split = []sim.NodeID{2, 3}
		case "reorder":
			split = []sim.NodeID{1}
		case "forge-op":
			split = []sim.NodeID{2}
		}
		truth := msgsOf[pbft.PrePrepare](honest, 1)[0]
		for to := sim.NodeID(1); to < testN; to++ {
			p := msgsOf[pbft.PrePrepare](byz, to)[0]
			if p.View != truth.View || p.Seq != truth.Seq {
				t.Fatalf("to %d: PRE-PREPARE for (%d,%d), want (%d,%d)", to, p.View, p.Seq, truth.View, truth.Seq)
			}
			if !slices.Contains(split, to) {
				if p != truth {
					t.Errorf("to %d: PRE-PREPARE changed, want the honest one", to)
				}
				continue
			}
			if p.Digest == truth.Digest || p.Digest != pbft.BatchDigest(p.Batch) {
				t.Errorf("to %d: alternative digest %v (honest %v, D(batch) %v)", to, p.Digest, truth.Digest, pbft.BatchDigest(p.Batch))
			}
			switch alt {
			case "null":
				if len(p.Batch) != 0 {
					t.Errorf("to %d: batch %v, want null", to, p.Batch)
				}
			case "reorder":
				if len(p.Batch) != 2 || p.Batch[0] != truth.Batch[1] || p.Batch[1] != truth.Batch[0] {
					t.Errorf("to %d: batch not reversed", to)
				}
			case "forge-op":
				if len(p.Batch) != 1 || p.Batch[0].Client != 0 || p.Batch[0].Op != "authorize PAY001 101" {
					t.Errorf("to %d: batch %+v, want a forged op in its own name", to, p.Batch[0])
				}
			}
			c := msgsOf[pbft.Commit](byz, to)[0]
			if c.Digest != p.Digest {
				t.Errorf("to %d: COMMIT digest %v, want the alternative %v", to, c.Digest, p.Digest)
			}
		}
	}
}

func checkLies(t *testing.T, honest, byz []step, client sim.NodeID, want string) {
	t.Helper()
	h, b := msgsOf[pbft.Reply](honest, client), msgsOf[pbft.Reply](byz, client)
	if len(h) == 0 || len(h) != len(b) {
		t.Fatalf("replies to %d: %d, want %d (> 0)", client, len(b), len(h))
	}
	for i := range h {
		if b[i].Result == h[i].Result || (want != "" && b[i].Result != want) {
			t.Errorf("reply to %d: result %q (honest %q, want %q)", client, b[i].Result, h[i].Result, want)
		}
		if b[i].Timestamp != h[i].Timestamp || b[i].Replica != h[i].Replica {
			t.Errorf("reply header changed")
		}
	}
}

func assertSameTo(t *testing.T, honest, byz []step, to sim.NodeID) {
	t.Helper()
	if countTo(honest, to) != countTo(byz, to) {
		t.Errorf("sends to %d: %d, want %d", to, countTo(byz, to), countTo(honest, to))
	}
}

func countTo(steps []step, to sim.NodeID) int {
	n := 0
	for _, st := range steps {
		for _, s := range st {
			if s.To == to {
				n++
			}
		}
	}
	return n
}

func digestsOf(steps []step) map[pbft.Digest]bool {
	m := map[pbft.Digest]bool{}
	for _, st := range steps {
		for _, s := range st {
			if d, ok := digestOf(s.Msg); ok {
				m[d] = true
			}
		}
	}
	for _, in := range fullInputs() {
		if d, ok := digestOf(in.Msg); ok {
			m[d] = true
		}
	}
	return m
}

// twinsInputs alternate messages from a client (for instance A) and from
// replica 2 (for instance B), enough for each instance to run its script.
func twinsInputs() []sim.Input {
	var ins []sim.Input
	for i := 0; i < 12; i++ {
		ins = append(ins, sim.Input{Kind: sim.InputMessage, From: testClient, Msg: req(uint64(10+i), "x")},
			sim.Input{Kind: sim.InputMessage, From: 2, Msg: prep(2, 0, 1, pbft.Digest{9})})
	}
	return ins
}

func TestCheck(t *testing.T) {
	good := []struct {
		s string
		p map[string]string
	}{
		{"twins", map[string]string{"groups": "0,1|2,3"}},
		{"mutate+lying-reply", map[string]string{"kind": "digest,replay", "prob": "0.1"}},
		{"selective-silent", map[string]string{"types": "COMMIT,PREPARE", "to": "0,5"}},
	}
	for _, g := range good {
		if err := Check(g.s, g.p, 1, 4); err != nil {
			t.Errorf("Check(%q, %v): %v", g.s, g.p, err)
		}
	}
	if err := Check("mutate", map[string]string{"prob": "2"}, 1, 4); err == nil || !strings.Contains(err.Error(), "prob") {
		t.Errorf("Check accepted prob=2: %v", err)
	}
	if err := Check("silent", nil, 4, 4); err == nil {
		t.Error("Check accepted replica 4 of 4")
	}
}

// TestFromParam: a strategy with from=T leaves the replica honest before T
// (the same sends as an honest replica) and rewrites from T on.
func TestFromParam(t *testing.T) {
	for _, tc := range []struct {
		params map[string]string
		err    string
	}{
		{map[string]string{"from": "soon"}, "want a duration >= 0"},
		{map[string]string{"from": "-1ms"}, "want a duration >= 0"},
	} {
		if err := Check("silent", tc.params, 1, 4); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("params %v: error %v, want %q", tc.params, err, tc.err)
		}
	}
	if err := Check("twins", map[string]string{"from": "1ms"}, 1, 4); err == nil || !strings.Contains(err.Error(), "from the start") {
		t.Errorf("twins with from: %v", err)
	}
	honest := &echoSends{}
	env := Env{ID: 1, N: 4, F: 1, Rand: rand.New(rand.NewPCG(1, 2))}
	w, err := New("silent", map[string]string{"from": "10ms"}, honest, env)
	if err != nil {
		t.Fatal(err)
	}
	var out sim.Output
	w.Step(sim.Time(5*time.Millisecond), sim.Input{Kind: sim.InputTimer, Timer: 1}, &out)
	if len(out.Sends) != 1 {
		t.Fatalf("before from: %d sends, want the honest 1", len(out.Sends))
	}
	out.Reset()
	w.Step(sim.Time(10*time.Millisecond), sim.Input{Kind: sim.InputTimer, Timer: 1}, &out)
	if len(out.Sends) != 0 {
		t.Fatalf("from on: %d sends, want silent's 0", len(out.Sends))
	}
}

// echoSends sends one message to replica 2 on every step.
type echoSends struct{}

func (*echoSends) Start(sim.Time, *sim.Output) {}
func (*echoSends) Step(_ sim.Time, _ sim.Input, out *sim.Output) {
	out.Send(2, &pbft.Prepare{View: 0, Seq: 1, Replica: 1})
}
