package properties

import (
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

func checkpoint(r sim.NodeID, seq uint64, dg pbft.Digest) *pbft.Checkpoint {
	return &pbft.Checkpoint{Replica: r, Seq: seq, StateDigest: dg}
}

func hasProperty(c *Checker, p string) bool {
	for _, v := range c.Violations() {
		if v.Property == p {
			return true
		}
	}
	return false
}

// TestStateAgreement: correct replicas' CHECKPOINT state digests (and final
// states) at one seq must be equal; a Byzantine replica's are not judged.
func TestStateAgreement(t *testing.T) {
	tests := []struct {
		name   string
		faulty []sim.NodeID
		build  func(s *stream)
		final  []events.StateReport
		want   bool // state-agreement violated
		judged bool
	}{
		{"equal checkpoints", nil, func(s *stream) {
			s.send(1, 2, checkpoint(1, 16, d(5))).send(2, 1, checkpoint(2, 16, d(5)))
		}, nil, false, true},
		{"diverged checkpoints", nil, func(s *stream) {
			s.send(1, 2, checkpoint(1, 16, d(5))).send(2, 1, checkpoint(2, 16, d(6)))
		}, nil, true, true},
		{"a Byzantine replica's checkpoint is not judged", []sim.NodeID{2}, func(s *stream) {
			s.send(1, 2, checkpoint(1, 16, d(5))).send(2, 1, checkpoint(2, 16, d(6)))
		}, nil, false, false},
		{"a checkpoint in another's name is not its author's state", nil, func(s *stream) {
			s.send(1, 2, checkpoint(1, 16, d(5))).send(3, 1, checkpoint(2, 16, d(6)))
		}, nil, false, false},
		{"diverged final states", nil, func(s *stream) {}, []events.StateReport{{Replica: 0, Seq: 3, Digest: events.Digest{1}}, {Replica: 1, Seq: 3, Digest: events.Digest{2}}}, true, true},
		{"final states at different seqs are not compared", nil, func(s *stream) {}, []events.StateReport{{Replica: 0, Seq: 3, Digest: events.Digest{1}}, {Replica: 1, Seq: 4, Digest: events.Digest{2}}}, false, false},
		{"a final state against a checkpoint", nil, func(s *stream) {
			s.send(1, 2, checkpoint(1, 16, d(5)))
		}, []events.StateReport{{Replica: 3, Seq: 16, Digest: events.Digest{6}}}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &stream{}
			tc.build(s)
			o := opts()
			o.Faulty = tc.faulty
			c := New(o)
			for i := range s.recs {
				c.Record(&s.recs[i])
			}
			for _, f := range tc.final {
				c.FinalState(f)
			}
			c.Finish(s.now)
			if got := hasProperty(c, StateAgreement); got != tc.want {
				t.Errorf("state-agreement violated = %v, want %v (violations %v)", got, tc.want, c.Violations())
			}
			var j Judgement
			for _, x := range c.judgements("") {
				if x.Property == StateAgreement {
					j = x
				}
			}
			if j.Judged != tc.judged {
				t.Errorf("state-agreement judged = %+v, want judged=%v", j, tc.judged)
			}
		})
	}
}

// divergedRun runs a small cluster whose replica 2 silently has one more
// payment in its ledger than the others (a state machine that diverged
// without changing any result the clients see), with the checkers
// attached; diverge=false runs the same cluster untouched.
func divergedRun(t *testing.T, diverge bool) *Outcome {
	t.Helper()
	sc := scenarios.Scenario{Name: "diverged", N: 4, Seed: 3}
	sc.Workload.Requests = 24
	sc.Workload.Clients = 2
	sc.Protocol.CheckpointInterval = 4
	cfg, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	ro := RunOptions{Liveness: true}
	chk := Attach(&cfg, ro)
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diverge {
		if res := cl.Ledger(2).Execute(ledger.Authorize("ZZZ999", 1)); !strings.HasPrefix(res, "ok") {
			t.Fatalf("diverging the ledger: %s", res)
		}
	}
	cl.Run()
	return Judge(sc, cl, chk, ro, chk.Stopped())
}

// TestStateAgreementCatchesSilentDivergence: a replica whose state
// diverged without changing a single result passes every other property;
// state agreement names it.
func TestStateAgreementCatchesSilentDivergence(t *testing.T) {
	ok := divergedRun(t, false)
	if ok.Failed() || !ok.FullyJudged() {
		t.Fatalf("untouched run: %s", ok.Summary())
	}
	bad := divergedRun(t, true)
	if !bad.Failed() || bad.Property() != StateAgreement {
		t.Fatalf("diverged run: first violation %q, want %s:\n%s", bad.Property(), StateAgreement, bad.Summary())
	}
	for _, v := range bad.Violations {
		if v.Property != StateAgreement {
			t.Errorf("the divergence is silent, yet %s", v)
		}
		if !containsID(v.Replicas, 2) {
			t.Errorf("violation does not name replica 2: %s", v)
		}
	}
}

// TestRecoveredReplicaMustNotEquivocate: a replica that is not Byzantine,
// crashes, recovers and then signs a second, different PRE-PREPARE for a
// (v, n) it already proposed (as if it had lost its log) violates
// preprepare-once; a Byzantine replica doing the same is only accused.
// PREPAREs are judged by prepare-once the same way.
func TestRecoveredReplicaMustNotEquivocate(t *testing.T) {
	keys := pbft.NewKeyring(1, 6)
	signedPP := func(dg pbft.Digest) *pbft.PrePrepare {
		m := &pbft.PrePrepare{Replica: 0, View: 0, Seq: 1, Digest: dg}
		m.Sig = keys.Signer(0).Sign(m)
		return m
	}
	signedPrep := func(dg pbft.Digest) *pbft.Prepare {
		m := prep(1, 0, 1, dg)
		m.Sig = keys.Signer(1).Sign(m)
		return m
	}
	run := func(faulty []sim.NodeID, who sim.NodeID) *Checker {
		s := &stream{}
		if who == 0 {
			s.send(0, 1, signedPP(d(1)))
		} else {
			a := signedPrep(d(1))
			s.send(1, 2, a).ev(1, &pbft.SentPrepare{Replica: 1, View: 0, Seq: 1, Digest: d(1)})
		}
		s.at(time.Millisecond)
		s.recs = append(s.recs, sim.Record{Time: s.now, Kind: sim.RecCrash, From: who, To: who})
		s.at(2 * time.Millisecond)
		s.recs = append(s.recs, sim.Record{Time: s.now, Kind: sim.RecRecover, From: who, To: who})
		if who == 0 {
			s.send(0, 2, signedPP(d(2)))
		} else {
			b := signedPrep(d(2))
			s.send(1, 3, b).ev(1, &pbft.SentPrepare{Replica: 1, View: 0, Seq: 1, Digest: d(2)})
		}
		o := opts()
		o.Faulty = faulty
		o.Keyring = keys
		return Check(o, s.recs)
	}
	c := run(nil, 0)
	if !hasProperty(c, PrePrepareOnce) {
		t.Fatalf("recovered primary signing two PRE-PREPAREs for (0, 1): violations %v", c.Violations())
	}
	if v := c.Violations()[0]; !strings.Contains(v.Detail, "crashed and recovered") {
		t.Errorf("violation does not say the replica had crashed: %s", v)
	}
	if c := run([]sim.NodeID{0}, 0); len(c.Violations()) != 0 || len(c.Accused()) != 1 {
		t.Errorf("Byzantine primary: violations %v, accused %v; want none and an accusation", c.Violations(), c.Accused())
	}
	if c := run(nil, 1); !hasProperty(c, PrepareOnce) {
		t.Errorf("recovered backup signing two PREPAREs for (0, 1): violations %v", c.Violations())
	}
}

// TestCrashedReplicasAreJudgedAndCounted: a crashed replica counts against
// f for the fault model and is judged for safety.
func TestCrashedReplicasAreJudgedAndCounted(t *testing.T) {
	cfg := cluster.Config{N: 4, Crashes: []sim.Crash{{Node: 0, At: 1}, {Node: 1, At: 1, Recover: 5}, {Node: 5, At: 1}},
		Byzantine: []cluster.ByzantineSpec{{Replica: 2, Strategy: "silent"}}}
	if ok, why := WithinFaultModel(cfg); ok || !strings.Contains(why, "3 replicas faulty at once") {
		t.Errorf("WithinFaultModel = %v, %q; want false: 3 replicas faulty at once", ok, why)
	}
	if cfg.WithinFaultModel() {
		t.Errorf("cluster.Config.WithinFaultModel: 2 crashed + 1 Byzantine > f = 1, want false")
	}
	got := CheckerOptions(cfg).Faulty
	if want := []sim.NodeID{2, 5}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("not judged %v, want the Byzantine replica and the crashed client %v", got, want)
	}
	one := cluster.Config{N: 4, Crashes: []sim.Crash{{Node: 3, At: 1, Recover: 5}}}
	if ok, _ := WithinFaultModel(one); !ok || !one.WithinFaultModel() {
		t.Errorf("one crashed replica of 4: want within the fault model")
	}
	// Over time: a crashed replica counts while down, so two replicas
	// down at different times are within f = 1, at the same time not.
	for _, tc := range []struct {
		name    string
		crashes []sim.Crash
		within  bool
	}{
		{"one after the other", []sim.Crash{{Node: 1, At: 10, Recover: 20}, {Node: 2, At: 20, Recover: 30}}, true},
		{"overlapping", []sim.Crash{{Node: 1, At: 10, Recover: 21}, {Node: 2, At: 20, Recover: 30}}, false},
		{"the first never recovers", []sim.Crash{{Node: 1, At: 10}, {Node: 2, At: 20, Recover: 30}}, false},
		{"one replica twice", []sim.Crash{{Node: 1, At: 10, Recover: 20, Kind: sim.CrashAmnesia}, {Node: 1, At: 15, Recover: 30}}, true},
		{"wipe then crash after its recovery (before the run)", []sim.Crash{{Node: 1, At: 10, Recover: 20, Kind: sim.CrashWipe}, {Node: 2, At: 25, Recover: 30}}, true},
	} {
		c := cluster.Config{N: 4, Crashes: tc.crashes}
		if ok, why := WithinFaultModel(c); ok != tc.within || c.WithinFaultModel() != tc.within {
			t.Errorf("%s: within %v (%s), cluster %v; want %v", tc.name, ok, why, c.WithinFaultModel(), tc.within)
		}
	}
}

// TestJudgements: what a run judged, and why not.
func TestJudgements(t *testing.T) {
	get := func(o *Outcome, p string) Judgement {
		for _, j := range o.Judgements {
			if j.Property == p {
				return j
			}
		}
		t.Fatalf("no judgement of %s in %+v", p, o.Judgements)
		return Judgement{}
	}
	run := func(sc *scenarios.Scenario) *Outcome {
		t.Helper()
		o, err := RunScenario(*sc, RunOptions{Liveness: true})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	ff, _ := scenarios.Builtin("fault-free")
	o := run(ff)
	if !o.FullyJudged() || !o.LivenessChecked || o.Verdict() != "ok" {
		t.Errorf("fault-free: %s", o.Summary())
	}
	// Clients send only to the primary, so no backup waits for a request:
	// timeliness had nothing to judge, and the one-line summary says so.
	if n := o.VacuousNote(); !strings.Contains(n, "timeliness vacuous: ") || !strings.Contains(o.JudgedSummary(), n) {
		t.Errorf("fault-free: vacuous note %q, summary %q; want timeliness named as vacuous", n, o.JudgedSummary())
	}

	// The run ends before a pending request's liveness bound passes.
	cp, _ := scenarios.Builtin("crashed-primary")
	cp.Run.MaxTime = 300 * time.Millisecond
	o = run(cp)
	if j := get(o, Liveness); !j.Judged || !j.Partial() || !strings.Contains(j.Reason, "the bound is") || o.FullyJudged() {
		t.Errorf("crashed-primary to 300ms: liveness %+v, fully judged %v", j, o.FullyJudged())
	}
	cp.Run.MaxTime = 100 * time.Millisecond
	cp.Network.GST = 200 * time.Millisecond
	cp.Network.Delta = 10 * time.Millisecond
	o = run(cp)
	if j := get(o, Liveness); !j.Partial() || !strings.Contains(j.Reason, "before GST at 200ms") {
		t.Errorf("crashed-primary to 100ms, GST 200ms: liveness %+v", j)
	}

	// Nothing committed: every correct replica crashed at once.
	ff.Crashes = []scenarios.Crash{{Node: 0}, {Node: 1}}
	o = run(ff)
	if !o.Vacuous() || o.FullyJudged() || get(o, Liveness).Judged || !strings.Contains(get(o, Liveness).Reason, "outside the fault model") {
		t.Errorf("two crashed replicas at 0: vacuous %v, liveness %+v", o.Vacuous(), get(o, Liveness))
	}
	if get(o, Agreement).Reason == "" || !strings.Contains(o.JudgedSummary(), "vacuously") {
		t.Errorf("a run that executed nothing must say its safety verdict is vacuous: %s", o.JudgedSummary())
	}
}

// TestBudgetExceeded: a run that exceeds its event budget or its bound on
// queued events stops with the verdict budget-exceeded, liveness not
// judged; the default budgets never stop the built-in scenarios.
func TestBudgetExceeded(t *testing.T) {
	ff, _ := scenarios.Builtin("adversarial")
	for _, tc := range []struct {
		name string
		set  func(*scenarios.Scenario)
		want string
	}{
		{"events", func(sc *scenarios.Scenario) { sc.Run.MaxEvents = 300 }, "budget exceeded after 300 events: the event budget (run.max_events) is 300"},
		{"queued", func(sc *scenarios.Scenario) { sc.Run.MaxPending = 20 }, "events queued at once, the bound (run.max_pending) is 20"},
	} {
		sc := clone(*ff)
		tc.set(&sc)
		o, err := RunScenario(sc, RunOptions{Liveness: true})
		if err != nil {
			t.Fatal(err)
		}
		if o.Verdict() != "budget-exceeded" || !strings.Contains(o.BudgetExceeded(), tc.want) {
			t.Errorf("%s: verdict %s, %q; want budget-exceeded, %q", tc.name, o.Verdict(), o.BudgetExceeded(), tc.want)
		}
		for _, j := range o.Judgements {
			if j.Property == Liveness && (j.Judged || !strings.Contains(j.Reason, "budget exceeded")) {
				t.Errorf("%s: liveness %+v, want not judged: budget exceeded", tc.name, j)
			}
		}
		if o.FullyJudged() || !strings.Contains(o.Summary(), "budget exceeded after") {
			t.Errorf("%s: summary %s", tc.name, o.Summary())
		}
	}
	for _, info := range scenarios.List() {
		sc, err := scenarios.Builtin(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		o, err := RunScenario(*sc, RunOptions{Liveness: true})
		if err != nil {
			t.Fatal(err)
		}
		if b := o.BudgetExceeded(); b != "" {
			t.Errorf("built-in %s: %s", info.Name, b)
		}
	}
}

// TestAmnesiacReplicaEquivocatesOnTheKernel: fault injection on the real
// kernel. The twins strategy runs replica 0's honest code twice with the
// same identity and keys, which is what a replica that restarts without
// its persisted log amounts to. Judged as a correct replica (as a crashed
// one is), replica 0 then violates preprepare-once; declared Byzantine, it
// is only accused.
func TestAmnesiacReplicaEquivocatesOnTheKernel(t *testing.T) {
	run := func(judgeAsCorrect bool) *Outcome {
		sc, err := scenarios.Builtin("twins")
		if err != nil {
			t.Fatal(err)
		}
		sc.Seed = 3
		cfg, err := sc.Config()
		if err != nil {
			t.Fatal(err)
		}
		chk := Attach(&cfg, RunOptions{})
		if judgeAsCorrect {
			o := CheckerOptions(cfg)
			o.Faulty = nil
			chk.Reset(o)
		}
		cl, err := cluster.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cl.Run()
		return Judge(*sc, cl, chk, RunOptions{}, false)
	}
	o := run(true)
	found := false
	for _, v := range o.Violations {
		found = found || v.Property == PrePrepareOnce && containsID(v.Replicas, 0)
	}
	if !found {
		t.Errorf("replica 0 signing PRE-PREPAREs twice, judged as correct: %s", o.Summary())
	}
	if o := run(false); o.Failed() || len(o.Accused) == 0 || o.Accused[0].Replica != 0 {
		t.Errorf("replica 0 declared Byzantine: %s", o.Summary())
	}
}
