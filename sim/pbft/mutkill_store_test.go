package pbft

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestStoreStatsCount: every put is one write, a sync that flushes
// something is one sync (an empty one is none), and Records counts the
// disk and the pending writes.
func TestStoreStatsCount(t *testing.T) {
	s := NewStore()
	s.sync()
	s.put(storeKey{keyEntry, 1}, &entryRec{view: 1})
	s.put(storeKey{keyEntry, 2}, &entryRec{view: 1})
	if got, want := s.Stats(), (StoreStats{Writes: 2, Records: 2}); got != want {
		t.Errorf("after 2 puts: %+v, want %+v", got, want)
	}
	s.sync()
	s.sync()
	s.put(storeKey{keyEntry, 1}, nil)
	s.sync()
	if got, want := s.Stats(), (StoreStats{Writes: 3, Syncs: 2, Records: 1}); got != want {
		t.Errorf("after a deletion and 3 syncs (one empty): %+v, want %+v", got, want)
	}
}

// durableState is the part of a replica's state that its stable store
// brings back after an amnesia crash (the persistence model in store.go):
// view and view-change status with its own VIEW-CHANGE, the stable
// checkpoint, the last executed number, its own checkpoints and, per log
// entry, what it signed (PRE-PREPARE, own PREPARE and COMMIT, certificate)
// and whether it executed it. Votes of others are volatile and left out.
func durableState(s ReplicaState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "view=%d changing=%v h=%d stable=%d/%s proof=%v exec=%d\n",
		s.View, s.InViewChange, s.Low, s.StableCheckpoint, s.StableDigest, s.StableProof, s.LastExecuted)
	fmt.Fprintf(&b, "new-view=%d/%v\n", s.LastNewView, s.HasNewView)
	if s.Primary == s.ID && !s.InViewChange {
		fmt.Fprintf(&b, "primary, last assigned %d\n", s.LastAssigned) // a backup does not track it
	}
	for _, vc := range s.ViewChanges {
		if slices.Contains(vc.Replicas, s.ID) {
			fmt.Fprintf(&b, "own view-change for %d\n", vc.View)
		}
	}
	for _, c := range s.Checkpoints {
		if c.Mine {
			fmt.Fprintf(&b, "own checkpoint %d %s\n", c.Seq, c.Digest)
		}
	}
	for _, e := range s.Log {
		cert := ""
		if e.Certificate != nil {
			cert = fmt.Sprintf("%d/%s/%v", e.Certificate.View, e.Certificate.Digest, e.Certificate.Prepares)
		}
		fmt.Fprintf(&b, "entry %d v%d %s pp=%v prepare=%v commit=%v executed=%v cert=%s\n", e.Seq, e.View, e.Digest,
			e.PrePrepared, slices.Contains(e.Prepares, s.ID), slices.Contains(e.Commits, s.ID), e.Executed, cert)
	}
	return b.String()
}

// amnesiaKeepsDurable crashes replica id with amnesia and checks that it
// comes back with the durable part of its state unchanged.
func amnesiaKeepsDurable(t *testing.T, h *harness, id sim.NodeID) {
	t.Helper()
	h.crash(id) // runs what was due before the crash
	before := durableState(h.replicas[id].Inspect())
	h.recoverKind(id, sim.CrashAmnesia)
	if after := durableState(h.replicas[id].Inspect()); after != before {
		t.Errorf("replica %d after amnesia:\n%s\nbefore the crash:\n%s", id, after, before)
	}
}

// TestAmnesiaRestoresDurableState: on the real kernel, a replica that
// executed, committed, prepared, checkpointed, changed views or installed
// a state by transfer, and then crashed with amnesia, comes back with all
// of it (executed flags at the last executed number included, its COMMITs,
// its own checkpoints, its own VIEW-CHANGE, the checkpoint it installed).
func TestAmnesiaRestoresDurableState(t *testing.T) {
	t.Run("signed-and-checkpointed", func(t *testing.T) {
		// replica 1 alone (K=2, L=4): 1 and 2 executed (own checkpoint at
		// 2, not stable), 3 prepared with its COMMIT sent, 4 only PREPAREd
		h := newHarness(t, hopts{n: 4, k: 2, l: 4, clients: 1, stores: true})
		h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
		for seq := uint64(1); seq <= 4; seq++ {
			pp := ppWith(h, 0, seq, req(h, fmt.Sprintf("op%d", seq), seq))
			h.inject(0, 1, pp)
			if seq <= 3 {
				h.inject(2, 1, prep(h.kr, 0, seq, pp.Digest, 2))
				h.inject(3, 1, prep(h.kr, 0, seq, pp.Digest, 3))
			}
			if seq <= 2 {
				for _, i := range []sim.NodeID{0, 2, 3} {
					h.inject(i, 1, commit(h.kr, 0, seq, pp.Digest, i))
				}
			}
			h.deliverAll()
		}
		s := h.replicas[1].Inspect()
		if s.LastExecuted != 2 || len(s.Checkpoints) == 0 || h.sent["COMMIT"] != 3*3 {
			t.Fatalf("setup: last executed %d, checkpoints %+v, COMMITs sent %d", s.LastExecuted, s.Checkpoints, h.sent["COMMIT"])
		}
		amnesiaKeepsDurable(t, h, 1)
		// it resends the PREPARE and COMMIT it signed when the PRE-PREPARE comes again
		p0, c0 := h.sent["PREPARE"], h.sent["COMMIT"]
		h.inject(0, 1, ppWith(h, 0, 3, req(h, "op3", 3)))
		h.deliverAll()
		if p, c := h.sent["PREPARE"]-p0, h.sent["COMMIT"]-c0; p != 3 || c != 3 {
			t.Errorf("after amnesia, the PRE-PREPARE of 3 again: %d PREPAREs, %d COMMITs resent, want 3 and 3", p, c)
		}
	})
	t.Run("stable-checkpoint", func(t *testing.T) {
		// as above, and the checkpoint at 2 becomes stable: the disk keeps
		// the checkpoint at h and what was signed above h, nothing below
		h := newHarness(t, hopts{n: 4, k: 2, l: 4, clients: 1, stores: true})
		h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
		r := h.replicas[1]
		for seq := uint64(1); seq <= 4; seq++ {
			pp := ppWith(h, 0, seq, req(h, fmt.Sprintf("op%d", seq), seq))
			h.inject(0, 1, pp)
			h.inject(2, 1, prep(h.kr, 0, seq, pp.Digest, 2))
			h.inject(3, 1, prep(h.kr, 0, seq, pp.Digest, 3))
			if seq <= 2 {
				for _, i := range []sim.NodeID{0, 2, 3} {
					h.inject(i, 1, commit(h.kr, 0, seq, pp.Digest, i))
				}
			}
			h.deliverAll()
			if seq == 2 {
				cs := r.ckpts[2]
				if cs == nil || !cs.mine {
					t.Fatalf("setup: no own checkpoint at 2")
				}
				h.inject(0, 1, ckptFrom(h, 2, cs.digest, 0))
				h.inject(2, 1, ckptFrom(h, 2, cs.digest, 2))
				h.deliverAll()
			}
		}
		if s := r.Inspect(); s.StableCheckpoint != 2 {
			t.Fatalf("setup: stable checkpoint %d, want 2", s.StableCheckpoint)
		}
		var disk []string
		for _, k := range r.store.keys(0) {
			disk = append(disk, fmt.Sprintf("%d/%d", k.kind, k.seq))
		}
		want := fmt.Sprintf("%d/0 %d/2 %d/0 %d/3 %d/4", keyStable, keyCkpt, keyState, keyEntry, keyEntry)
		if got := strings.Join(disk, " "); got != want {
			t.Errorf("records (kind/seq) on the disk with h = 2: %s, want %s", got, want)
		}
		amnesiaKeepsDurable(t, h, 1)
	})
	t.Run("new-view", func(t *testing.T) {
		// the primary of view 0 fails; 1 (the new primary) and 2 enter
		// view 1 by its NEW-VIEW and order requests there
		h := newHarness(t, hopts{n: 4, clients: 1, ops: 40, stores: true, interval: 2 * time.Millisecond})
		down := false
		h.drop = func(from, to sim.NodeID, _ sim.Message) bool { return down && (from == 0 || to == 0) }
		h.start()
		h.run(time.Minute, func() bool { return h.replicas[1].Inspect().LastExecuted >= 3 })
		h.crash(0)
		down = true
		h.run(time.Minute, func() bool {
			s := h.replicas[1].Inspect()
			return s.View == 1 && !s.InViewChange && s.LastAssigned > s.LastExecuted+1
		})
		if s := h.replicas[1].Inspect(); s.View != 1 || s.InViewChange || !s.HasNewView {
			t.Fatalf("setup: replica 1 in view %d (changing %v, NEW-VIEW %v)", s.View, s.InViewChange, s.HasNewView)
		}
		amnesiaKeepsDurable(t, h, 1)
		amnesiaKeepsDurable(t, h, 2)
	})
	t.Run("view-change", func(t *testing.T) {
		h := newHarness(t, hopts{n: 4, clients: 1, stores: true})
		h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
		h.inject(4, 2, req(h, "x", 1))
		h.deliverAll()
		h.run(time.Minute, func() bool { return h.replicas[2].InViewChange() })
		amnesiaKeepsDurable(t, h, 2)
	})
	t.Run("state-transfer", func(t *testing.T) {
		// replica 3 is cut off while the others run past its window, then
		// catches up by state transfer; it crashes right after the install
		h := newHarness(t, hopts{n: 4, k: 2, l: 4, clients: 1, ops: 14, stores: true})
		cut := true
		h.drop = func(from, to sim.NodeID, _ sim.Message) bool { return cut && (from == 3 || to == 3) }
		h.start()
		h.run(time.Minute, func() bool { return h.replicas[0].Inspect().LastExecuted >= 8 })
		cut = false
		h.run(time.Minute, func() bool { return countEvents(h, 3, "state-transfer") > 0 })
		if countEvents(h, 3, "state-transfer") == 0 {
			t.Fatalf("setup: replica 3 never installed a state (replica 0 at %d, replica 3 at %d)",
				h.replicas[0].Inspect().LastExecuted, h.replicas[3].Inspect().LastExecuted)
		}
		amnesiaKeepsDurable(t, h, 3)
	})
}

// TestWipedReplicaProposesInViewItOpened: a replica wiped and caught up
// by state transfer proposes as the primary of a view whose NEW-VIEW it
// sent itself after the wipe (and not in the view it was primary of when
// its disk was lost, TestWipedReplicaSignsNothingUntilCaughtUp's setting),
// also after a later amnesia crash.
func TestWipedReplicaProposesInViewItOpened(t *testing.T) {
	h := newHarness(t, hopts{n: 4, k: 2, l: 4, clients: 1, ops: 100, stores: true, interval: 2 * time.Millisecond})
	cut, primaryDown := false, false
	var proposed []uint64 // sequence numbers of replica 1's PRE-PREPAREs in view 1
	h.drop = func(from, to sim.NodeID, m sim.Message) bool {
		if pp, ok := m.(*PrePrepare); ok && from == 1 && pp.View == 1 && to == 2 {
			proposed = append(proposed, pp.Seq)
		}
		return (cut && (from == 1 || to == 1)) || (primaryDown && (from == 0 || to == 0))
	}
	h.start()
	h.run(time.Minute, func() bool { return h.replicas[0].Inspect().LastExecuted >= 2 })
	h.crash(1)
	cut = true
	h.run(time.Minute, func() bool { return h.replicas[0].Inspect().LastExecuted >= 8 })
	h.recoverKind(1, sim.CrashWipe)
	cut = false
	h.run(time.Minute, func() bool { return !h.replicas[1].rejoining })
	if h.replicas[1].rejoining {
		t.Fatalf("setup: the wiped replica 1 never caught up")
	}
	if h.allDone() {
		t.Fatalf("setup: the clients finished before the view change")
	}
	h.crash(0) // the primary of view 0 fails: replica 1 opens view 1
	primaryDown = true
	h.run(10*time.Minute, h.allDone)
	if !h.allDone() {
		t.Errorf("the clients did not finish")
	}
	s := h.replicas[1].Inspect()
	if s.View != 1 || s.InViewChange {
		t.Fatalf("replica 1 ended in view %d (changing %v), want view 1", s.View, s.InViewChange)
	}
	if len(proposed) == 0 {
		t.Errorf("the wiped and caught-up replica 1 proposed nothing as the primary of view 1, which it opened")
	}
	// an amnesia crash of replica 1 in the view it opened: it still knows
	// it sent that NEW-VIEW, and proposes the next request it receives
	h.crash(1)
	h.recoverKind(1, sim.CrashAmnesia)
	before := len(proposed)
	h.inject(sim.NodeID(h.n), 1, req(h, "after-amnesia", 1_000_000))
	h.run(h.now.Duration()+50*time.Millisecond, func() bool { return len(proposed) > before })
	if len(proposed) == before {
		t.Errorf("after an amnesia crash, replica 1 (wiped before) proposes nothing in view 1, whose NEW-VIEW it sent")
	}
}
