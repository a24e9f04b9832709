package pbft

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestRandomSchedules runs many seeded schedules with reordering, loss and
// duplication before a stabilisation time, one faulty (silent or crashed
// and recovering) replica, and checks agreement among correct replicas and
// that every request completes.
func TestRandomSchedules(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := 1; seed <= seeds; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		n := []int{4, 7}[rng.IntN(2)]
		batch := 1 + rng.IntN(3)
		k := []int{2, 4, 8}[rng.IntN(3)]
		name := fmt.Sprintf("seed=%d/n=%d/b=%d/k=%d", seed, n, batch, k)
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, hopts{n: n, clients: 3, ops: 12, k: k, l: 2 * k, batch: batch, interval: time.Millisecond})
			faulty := sim.NodeID(rng.IntN(n))
			mode := rng.IntN(3) // 0: silent, 1: crash and recover, 2: none
			gst := sim.Time(time.Duration(200+rng.IntN(800)) * time.Millisecond)
			h.pick = func(k int) int {
				if rng.IntN(4) == 0 {
					return rng.IntN(k)
				}
				return 0
			}
			h.drop = func(from, to sim.NodeID, m sim.Message) bool {
				if mode == 0 && from == faulty {
					return true
				}
				if h.now < gst && rng.Float64() < 0.2 {
					return true
				}
				if rng.Float64() < 0.05 { // duplicate
					h.queue = append(h.queue, hmsg{from, to, m})
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
				t.Fatalf("not done by %v (mode %d faulty %d): %v %v", h.now, mode, faulty, st, h.counts())
			}
			honest := ids(0, n)
			if mode == 0 {
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
			}
		})
	}
}
