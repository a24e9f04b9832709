package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestProbeViewChangeDuringCheckpoint: the view-change-during-checkpoint
// probe fires when a replica starts a view change after taking a
// checkpoint that is not stable yet (K=2: two requests executed, nobody
// else's CHECKPOINT arrives), and not when its last checkpoint is the
// stable one (one request executed).
func TestProbeViewChangeDuringCheckpoint(t *testing.T) {
	for _, executed := range []uint64{1, 2, 3} {
		h := newHarness(t, hopts{n: 4, clients: 1, k: 2, l: 4})
		h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
		for s := uint64(1); s <= executed; s++ {
			pp := ppWith(h, 0, s, req(h, fmt.Sprint(s), s))
			h.inject(0, 3, pp)
			h.inject(1, 3, prep(h.kr, 0, s, pp.Digest, 1))
			h.inject(1, 3, commit(h.kr, 0, s, pp.Digest, 1))
			h.inject(2, 3, commit(h.kr, 0, s, pp.Digest, 2))
		}
		h.deliverAll()
		h.inject(4, 3, req(h, "pending", executed+1))
		h.deliverAll()
		h.fireNext(sim.Time(1 << 62)) // request timer: VIEW-CHANGE(1)
		if r := h.replicas[3]; r.view != 1 || r.lastExec != executed {
			t.Fatalf("set-up: %v", r)
		}
		fired := false
		for _, e := range h.eventsOf("probe") {
			if p := e.ev.(*Probe); e.node == 3 && p.Path == ProbeVCInCheckpoint {
				fired = true
			}
		}
		if want := executed >= 2; fired != want {
			t.Errorf("%d executed (K=2, h=0): probe fired=%v, want %v", executed, fired, want)
		}
	}
}

// TestInspectLogIsSorted: Inspect lists the log by (view, seq) even when
// the log's ring wraps around (L=8, a ring of 16 slots, h=8: seqs 14, 15
// and 16 sit in slots 14, 15 and 0).
func TestInspectLogIsSorted(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, k: 4, l: 8})
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
	for _, i := range []sim.NodeID{0, 1, 2} {
		c := &Checkpoint{Seq: 8, StateDigest: Digest{8}, Replica: i}
		c.Sig = h.kr.Signer(i).Sign(c)
		h.inject(i, 3, c)
	}
	h.run(60*time.Millisecond, nil)
	if r := h.replicas[3]; r.h != 8 {
		t.Fatalf("set-up: %v", r)
	}
	for _, s := range []uint64{16, 14, 15} {
		h.inject(0, 3, ppWith(h, 0, s, req(h, fmt.Sprint(s), s)))
	}
	h.deliverAll()
	var seqs []uint64
	for _, e := range h.replicas[3].Inspect().Log {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[14 15 16]" {
		t.Fatalf("Inspect log order %v, want [14 15 16]", seqs)
	}
}
