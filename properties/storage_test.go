package properties

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// storageBuiltin loads a built-in scenario and lets mod change it.
func storageBuiltin(t *testing.T, name string, mod func(*scenarios.Scenario)) *Outcome {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(sc)
	}
	o, err := RunScenario(*sc, RunOptions{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestAmnesiaPrimaryBuiltin: the primary's amnesia crash passes every
// property, judged in full, with the correct protocol; the variant that
// never persists what it signed signs a second PRE-PREPARE for a (v, n)
// there, and preprepare-once says so.
func TestAmnesiaPrimaryBuiltin(t *testing.T) {
	if o := storageBuiltin(t, "amnesia-primary", nil); o.Failed() || !o.FullyJudged() || !o.Result.WithinFaultModel {
		t.Errorf("correct protocol: %s (%s)", o.Summary(), o.JudgedSummary())
	}
	o := storageBuiltin(t, "amnesia-primary", func(s *scenarios.Scenario) { s.Protocol.Variant = "no-persist-signed" })
	if !o.Failed() || o.Property() != PrePrepareOnce {
		t.Errorf("no-persist-signed: %s; want preprepare-once violated", o.Summary())
	}
	// The same crash under keep loses nothing: the variant passes there.
	o = storageBuiltin(t, "amnesia-primary", func(s *scenarios.Scenario) {
		s.Protocol.Variant = "no-persist-signed"
		s.Crashes[0].Kind = ""
	})
	if o.Failed() {
		t.Errorf("no-persist-signed under keep: %s; want no violation (nothing is lost)", o.Summary())
	}
	// lazy-sync (syncs only at checkpoints) loses nothing when the OS
	// still flushes (amnesia), and what it signed since its last sync in
	// a power loss (lose-unsynced), which the correct protocol survives.
	if o := storageBuiltin(t, "amnesia-primary", func(s *scenarios.Scenario) { s.Protocol.Variant = "lazy-sync" }); o.Failed() {
		t.Errorf("lazy-sync under amnesia: %s; want no violation", o.Summary())
	}
	powerLoss := func(s *scenarios.Scenario) { s.Crashes[0].Kind = "lose-unsynced" }
	if o := storageBuiltin(t, "amnesia-primary", powerLoss); o.Failed() || !o.FullyJudged() {
		t.Errorf("correct protocol under lose-unsynced: %s", o.Summary())
	}
	o = storageBuiltin(t, "amnesia-primary", func(s *scenarios.Scenario) { powerLoss(s); s.Protocol.Variant = "lazy-sync" })
	if !o.Failed() || o.Property() != PrePrepareOnce {
		t.Errorf("lazy-sync under lose-unsynced: %s; want preprepare-once violated", o.Summary())
	}
}

// TestWipedReplicaBuiltin: the wiped replica counts as faulty until it
// caught up by state transfer, then as correct again, so the later crash
// of another replica is within the fault model; the same crash while the
// wiped replica is still catching up is not.
func TestWipedReplicaBuiltin(t *testing.T) {
	o := storageBuiltin(t, "wiped-replica-catches-up", nil)
	if o.Failed() || !o.FullyJudged() || !o.Result.WithinFaultModel {
		t.Fatalf("correct protocol: %s (%s)", o.Summary(), o.JudgedSummary())
	}
	var wipe *struct{ from, to sim.Time }
	for _, iv := range o.Result.FaultIntervals {
		if iv.Replica == 2 && iv.UntilCaughtUp {
			wipe = &struct{ from, to sim.Time }{iv.From, iv.To}
		}
	}
	if wipe == nil || wipe.to <= sim.Time(120*time.Millisecond) || wipe.to >= sim.Time(900*time.Millisecond) {
		t.Fatalf("fault intervals %+v: want replica 2 faulty from 40ms until it caught up, after its recovery at 120ms and before 900ms", o.Result.FaultIntervals)
	}
	// Replica 3 crashing right after the wiped replica is back (before it
	// can have caught up) is two faulty replicas at once.
	o = storageBuiltin(t, "wiped-replica-catches-up", func(s *scenarios.Scenario) {
		s.Crashes[1].At, s.Crashes[1].Recover = 121*time.Millisecond, 400*time.Millisecond
	})
	if o.Result.WithinFaultModel || o.LivenessChecked {
		t.Errorf("crash of replica 3 before replica 2 caught up: within %v, liveness checked %v; want outside the fault model", o.Result.WithinFaultModel, o.LivenessChecked)
	}
}

// TestWipedReplicaJudgedOnceCaughtUp: a wiped replica is not judged from
// its crash until it has caught up (installed a state at or past every
// seq it signed for before the wipe); what it signs before does not
// count, what it signs after does. The same records under a keep crash
// are judged throughout.
func TestWipedReplicaJudgedOnceCaughtUp(t *testing.T) {
	keys := pbft.NewKeyring(1, 6)
	prepare := func(seq uint64, dg pbft.Digest) *pbft.Prepare {
		m := prep(1, 0, seq, dg)
		m.Sig = keys.Signer(1).Sign(m)
		return m
	}
	run := func(kind sim.CrashKind, installSeq uint64) *Checker {
		s := &stream{}
		s.send(1, 2, prepare(1, d(1))).ev(1, &pbft.SentPrepare{Replica: 1, View: 0, Seq: 1, Digest: d(1)})
		s.at(time.Millisecond)
		s.recs = append(s.recs, sim.Record{Time: s.now, Kind: sim.RecCrash, From: 1, To: 1, Timer: sim.TimerID(kind)})
		s.at(2 * time.Millisecond)
		s.recs = append(s.recs, sim.Record{Time: s.now, Kind: sim.RecRecover, From: 1, To: 1, Timer: sim.TimerID(kind)})
		// a second PREPARE for (0, 1): a fault, unless it is not judged
		s.send(1, 3, prepare(1, d(2))).ev(1, &pbft.SentPrepare{Replica: 1, View: 0, Seq: 1, Digest: d(2)})
		s.at(3*time.Millisecond).ev(1, &pbft.StateTransferred{Replica: 1, Seq: installSeq})
		// two PREPAREs for (0, 5) once it may have caught up
		s.at(4*time.Millisecond).send(1, 2, prepare(5, d(3))).ev(1, &pbft.SentPrepare{Replica: 1, View: 0, Seq: 5, Digest: d(3)})
		s.send(1, 3, prepare(5, d(4))).ev(1, &pbft.SentPrepare{Replica: 1, View: 0, Seq: 5, Digest: d(4)})
		o := opts()
		o.Keyring = keys
		o.FaultIntervals = cluster.Config{N: 4, Crashes: []sim.Crash{{Node: 1, At: sim.Time(time.Millisecond), Recover: sim.Time(2 * time.Millisecond), Kind: kind}}}.FaultIntervals()
		return Check(o, s.recs)
	}
	seqsOf := func(c *Checker) []uint64 {
		var out []uint64
		for _, v := range c.Violations() {
			if v.Property == PrepareOnce {
				out = append(out, v.Seq)
			}
		}
		return out
	}
	// Caught up at the install (seq 4 >= 1): only (0, 5) is judged.
	c := run(sim.CrashWipe, 4)
	if got := seqsOf(c); len(got) != 1 || got[0] != 5 {
		t.Errorf("wiped, caught up at 3ms: prepare-once violations at seqs %v, want [5] (violations %v)", got, c.Violations())
	}
	if iv := c.FaultIntervals(); len(iv) != 1 || iv[0].To != sim.Time(3*time.Millisecond) {
		t.Errorf("fault intervals %+v: want the wipe to end at the catch-up, 3ms", iv)
	}
	// An install at seq 0 is not past seq 1: never caught up, never judged.
	c = run(sim.CrashWipe, 0)
	if got := seqsOf(c); len(got) != 0 {
		t.Errorf("wiped, not caught up: prepare-once violations at seqs %v, want none", got)
	}
	if iv := c.FaultIntervals(); len(iv) != 1 || iv[0].To != 0 {
		t.Errorf("fault intervals %+v: want the wipe to last to the end", iv)
	}
	// keep: judged throughout.
	if got := seqsOf(run(sim.CrashKeep, 4)); len(got) != 2 {
		t.Errorf("keep: prepare-once violations at seqs %v, want [1 5]", got)
	}
}
