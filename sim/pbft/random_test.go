package pbft

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestRandomSchedules runs many seeded schedules with reordering, loss and
// duplication before a stabilisation time, one faulty replica (silent,
// crashed and recovering, or equivocating with its own key), and checks
// agreement among correct replicas, the log bound, and that every request
// completes.
func TestRandomSchedules(t *testing.T) { randomSchedules(t, false) }

// TestRandomSchedulesHarsh is TestRandomSchedules with 50% loss before a
// later stabilisation time, n up to 10 (including n > 3f+1) and K down to 1.
func TestRandomSchedulesHarsh(t *testing.T) { randomSchedules(t, true) }

// Environment knobs: PBFT_SEEDS=N runs N seeds; PBFT_VARIANT=name runs a
// broken variant (expect failures); PBFT_DEBUG=1 logs the last events of a
// run that did not finish.
func randomSchedules(t *testing.T, harsh bool) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	if s, err := strconv.Atoi(os.Getenv("PBFT_SEEDS")); err == nil {
		seeds = s // e.g. PBFT_SEEDS=2000 for a longer search
	}
	loss, gstMax, ns, ks := 0.2, 800, []int{4, 7}, []int{2, 4, 8}
	if harsh {
		loss, gstMax, ns, ks = 0.5, 5000, []int{4, 5, 6, 7, 10}, []int{1, 2, 4, 8}
	}
	for seed := 1; seed <= seeds; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), map[bool]uint64{false: 7, true: 8}[harsh]))
		n := ns[rng.IntN(len(ns))]
		batch := 1 + rng.IntN(3)
		k := ks[rng.IntN(len(ks))]
		name := fmt.Sprintf("seed=%d/n=%d/b=%d/k=%d", seed, n, batch, k)
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, hopts{n: n, clients: 3, ops: 12, k: k, l: 2 * k, batch: batch, interval: time.Millisecond, variant: Variant(os.Getenv("PBFT_VARIANT")),
				delay: sim.Delay{Kind: sim.DelayExponential, Mean: 200 * time.Microsecond}, seed: uint64(seed)}) // random delays reorder
			faulty := sim.NodeID(rng.IntN(n))
			mode := rng.IntN(4) // 0: silent, 1: crash and recover, 2: none, 3: equivocating
			gst := sim.Time(time.Duration(200+rng.IntN(gstMax)) * time.Millisecond)
			h.drop = func(from, to sim.NodeID, m sim.Message) bool {
				if mode == 0 && from == faulty {
					return true
				}
				if mode == 3 && from == faulty && to%2 == 0 {
					// equivocate: a different (null) batch, or a vote for a
					// different digest, signed with the faulty replica's own key
					signer := h.kr.Signer(faulty)
					var alt sim.Message
					switch m := m.(type) {
					case *PrePrepare:
						pp := *m
						pp.Batch = nil
						pp.Digest = BatchDigest(nil)
						pp.Sig = signer.Sign(&pp)
						alt = &pp
					case *Prepare:
						p := *m
						p.Digest[0] ^= 1
						p.Sig = signer.Sign(&p)
						alt = &p
					case *Commit:
						c := *m
						c.Digest[0] ^= 1
						c.Sig = signer.Sign(&c)
						alt = &c
					}
					if alt != nil {
						h.inject(from, to, alt)
						return true
					}
				}
				if h.now < gst && rng.Float64() < loss {
					return true
				}
				if rng.Float64() < 0.05 { // duplicate
					h.inject(from, to, m)
				}
				return false
			}
			h.start()
			if mode == 1 {
				h.crash(faulty)
				h.run(gst.Duration(), nil)
				h.recover(faulty)
			}
			h.run(5*time.Minute, h.allDone)
			if !h.allDone() {
				var st []string
				for _, r := range h.replicas {
					st = append(st, r.String())
				}
				if os.Getenv("PBFT_DEBUG") != "" {
					evs := h.events
					if len(evs) > 80 {
						evs = evs[len(evs)-80:]
					}
					for _, e := range evs {
						t.Logf("%v n%d %s %+v", e.at, e.node, e.ev.Name(), e.ev)
					}
				}
				t.Fatalf("not done by %v (mode %d faulty %d): %v %v", h.now, mode, faulty, st, h.counts())
			}
			honest := ids(0, n)
			if mode == 0 || mode == 3 {
				honest = nil
				for i := 0; i < n; i++ {
					if sim.NodeID(i) != faulty {
						honest = append(honest, sim.NodeID(i))
					}
				}
			}
			h.checkAgreement(honest)
			for _, r := range h.replicas {
				if r.LogSize() > 2*k {
					t.Fatalf("%v: log above L", r)
				}
				checkPendingCounts(t, r)
			}
		})
	}
}

// checkPendingCounts checks the replica's per-client counts of pending
// requests against its pending set.
func checkPendingCounts(t *testing.T, r *Replica) {
	t.Helper()
	want := map[sim.NodeID]int32{}
	for key := range r.pending {
		want[sim.NodeID(key.client)]++
	}
	for c, n := range r.pendingOf {
		if n != want[sim.NodeID(c)] {
			t.Fatalf("%v: client %d counted %d pending requests, has %d", r, c, n, want[sim.NodeID(c)])
		}
		delete(want, sim.NodeID(c))
	}
	for c, n := range want {
		if n != 0 {
			t.Fatalf("%v: client %d has %d pending requests, none counted", r, c, n)
		}
	}
}
