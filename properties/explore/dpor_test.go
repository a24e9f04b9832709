package explore

import (
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// TestDPORSameLeavesPBFT: on small bounds of the real PBFT cluster (a
// drop, a crash, an equivocating primary), DPOR reaches exactly the states
// at the end of maximal paths that the unreduced enumeration with the same
// causal depth bound reaches, in no more transitions (fewer where deliveries to different replicas interleave).
func TestDPORSameLeavesPBFT(t *testing.T) {
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Views: 0, Depth: 3},
		{Nodes: 4, Requests: 1, Views: 0, Depth: 2, Drops: 1},
		{Nodes: 4, Requests: 1, Views: 1, Depth: 2, Crashes: 1},
		{Nodes: 4, Requests: 1, Views: 0, Depth: 3, Byzantine: eq},
		{Nodes: 4, Requests: 1, Views: 1, Depth: 2, Drops: 2, Byzantine: eq},
	} {
		m, _, err := c.model()
		if err != nil {
			t.Fatal(err)
		}
		b := engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, Depth: c.Depth}
		want, plain, err := engine.Leaves(m, b, true)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]bool{}
		res, err := engine.Run(m, engine.Options{Bounds: b, DPOR: true, Leaf: func(w *engine.World) { got[w.Hash()] = true }})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v: %d leaves; DPOR %d transitions (%d states, %d fallbacks), unreduced %d transitions", b, len(want), res.Transitions, res.States, res.Fallbacks, plain)
		if !maps.Equal(got, want) || !res.Complete || res.Fallbacks != 0 {
			t.Errorf("%+v: DPOR reaches %d leaves (complete %v, %d fallbacks), the unreduced enumeration %d", b, len(got), res.Complete, res.Fallbacks, len(want))
		}
		if res.Transitions > plain {
			t.Errorf("%+v: DPOR executes %d transitions, the unreduced enumeration %d", b, res.Transitions, plain)
		}
	}
}

// TestDPORIndependenceCommutes: along random paths of the real PBFT
// cluster (drops, duplicates, a crash, an equivocating primary, view
// changes), every pair of enabled transitions DPOR calls independent can
// be taken in either order and reaches the same state.
func TestDPORIndependenceCommutes(t *testing.T) {
	pairs := 0
	for seed := uint64(1); seed <= 6; seed++ {
		c := Config{Nodes: 4, Requests: 2, Drops: 2, Duplicates: 1, Crashes: 1, Views: 1}
		if seed%2 == 0 {
			c.Byzantine = []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
		}
		m, _, err := c.model()
		if err != nil {
			t.Fatal(err)
		}
		e := engine.NewEngine(m)
		w, _, err := e.Initial()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 11))
		b := engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes}
		for step := 0; step < 40; step++ {
			n, err := engine.CheckCommute(e, w, b)
			if err != nil {
				t.Fatalf("seed %d, step %d: %v", seed, step, err)
			}
			pairs += n
			ch := e.Choices(nil, w, b)
			if len(ch) == 0 {
				break
			}
			w, _ = e.Apply(w, ch[rng.IntN(len(ch))])
		}
	}
	t.Logf("%d independent pairs commute", pairs)
	if pairs == 0 {
		t.Fatal("no independent pair checked")
	}
}
