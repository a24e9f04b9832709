package properties

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
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
