package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestStoreCrashKinds checks what each crash kind leaves on the disk: a
// synced write survives every kind but wipe; an unsynced one survives
// amnesia (the operating system still flushes it) but not lose-unsynced.
func TestStoreCrashKinds(t *testing.T) {
	cases := []struct {
		kind                 sim.CrashKind
		synced, unsynced     bool
		rejoining, lostWrite uint64
	}{
		{sim.CrashAmnesia, true, true, 0, 0},
		{sim.CrashLoseUnsynced, true, false, 0, 1},
		{sim.CrashWipe, false, false, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			s := NewStore()
			a, b := storeKey{keyEntry, 1}, storeKey{keyEntry, 2}
			s.put(a, &entryRec{view: 1})
			s.sync()
			s.put(b, &entryRec{view: 2})
			s.crash(tc.kind)
			_, hasA := s.disk[a]
			_, hasB := s.disk[b]
			rej := uint64(0)
			if s.rejoining {
				rej = 1
			}
			if hasA != tc.synced || hasB != tc.unsynced || rej != tc.rejoining || s.lostWrites != tc.lostWrite {
				t.Errorf("after %v: synced write kept %v (want %v), unsynced kept %v (want %v), rejoining %d, lost %d (want %d, %d)",
					tc.kind, hasA, tc.synced, hasB, tc.unsynced, rej, s.lostWrites, tc.rejoining, tc.lostWrite)
			}
		})
	}
}

// TestAmnesiaKeepsSignedVotes: a backup that accepted a PRE-PREPARE and
// sent its PREPARE, then lost its volatile state, still refuses a
// conflicting PRE-PREPARE for the same (v, n) and keeps its view, state
// and stable checkpoint; under no-persist-signed it signs a second PREPARE.
func TestAmnesiaKeepsSignedVotes(t *testing.T) {
	run := func(v Variant, kind sim.CrashKind) string {
		h := newHarness(t, hopts{n: 4, clients: 1, variant: v, stores: true})
		h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
		a, b := conflictingPP(h, 0, 1)
		h.inject(0, 1, a)
		h.deliverAll()
		h.crash(1)
		h.recoverKind(1, kind)
		h.inject(0, 1, b)
		h.deliverAll()
		s := h.replicas[1].Inspect()
		return fmt.Sprintf("prepares=%d view=%d", h.sent["PREPARE"]/3, s.View)
	}
	for _, kind := range []sim.CrashKind{sim.CrashAmnesia, sim.CrashLoseUnsynced} {
		if got := run(Correct, kind); got != "prepares=1 view=0" {
			t.Errorf("correct protocol after %v: %s, want prepares=1 view=0", kind, got)
		}
	}
	if got := run(VariantNoPersistSigned, sim.CrashAmnesia); got != "prepares=2 view=0" {
		t.Errorf("no-persist-signed after amnesia: %s, want prepares=2 view=0", got)
	}
}

// TestAmnesiaKeepsViewChange: a replica that sent VIEW-CHANGE for view 1
// comes back from amnesia still changing to view 1 with that VIEW-CHANGE
// (it resends it), not in view 0.
func TestAmnesiaKeepsViewChange(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, stores: true})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	h.inject(4, 2, req(h, "x", 1))
	h.deliverAll()
	h.run(time.Minute, func() bool { return h.replicas[2].InViewChange() })
	if s := h.replicas[2].Inspect(); s.View != 1 || !s.InViewChange {
		t.Fatalf("before the crash: view %d, in view change %v", s.View, s.InViewChange)
	}
	h.crash(2)
	h.recoverKind(2, sim.CrashAmnesia)
	if s := h.replicas[2].Inspect(); s.View != 1 || !s.InViewChange {
		t.Errorf("after amnesia: view %d, in view change %v; want view 1, in view change", s.View, s.InViewChange)
	}
}

// TestWipedReplicaSignsNothingUntilCaughtUp: after a wipe a replica
// answers no PRE-PREPARE (it may have signed anything before) until it
// has installed a stable state by state transfer.
func TestWipedReplicaSignsNothingUntilCaughtUp(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, stores: true})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	a, _ := conflictingPP(h, 0, 1)
	h.crash(1)
	h.recoverKind(1, sim.CrashWipe)
	h.inject(0, 1, a)
	h.deliverAll()
	if got := h.sent["PREPARE"]; got != 0 {
		t.Errorf("a wiped replica sent %d PREPAREs before catching up", got)
	}
	if !h.replicas[1].rejoining {
		t.Errorf("a wiped replica is not rejoining")
	}
}
