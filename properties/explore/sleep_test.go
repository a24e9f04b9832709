package explore

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// stateSet returns the hashes of the states judged by breadth-first
// exploration of c, with or without sleep sets (inexact: their former rules).
func stateSet(t *testing.T, c Config, sleep, inexact bool) (map[uint64]bool, *engine.Result) {
	t.Helper()
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	res, err := engine.Run(m, engine.Options{Bounds: engine.Bounds{Drops: c.Drops, Crashes: c.Crashes, Depth: c.Depth},
		Sleep: sleep, InexactSleep: inexact, Check: func(w *engine.World, _ []engine.Record) (string, string) {
			seen[w.Hash()] = true
			return "", ""
		}})
	if err != nil || !res.Complete {
		t.Fatalf("%+v sleep=%v: %v", c, sleep, err)
	}
	return seen, res
}

// missing counts the states of a that b lacks.
func missing(a, b map[uint64]bool) int {
	n := 0
	for h := range a {
		if !b[h] {
			n++
		}
	}
	return n
}

// TestSleepSetsReachTheBFSStates: breadth-first exploration with sleep sets
// judges exactly the states plain breadth-first exploration judges. The
// depth-8 configurations (not with -short) are where the former rules lost
// states (3 with 1 drop, 18 with 2 drops: the target configuration); with
// those rules restored the 1-drop comparison fails, so the test can fail.
func TestSleepSetsReachTheBFSStates(t *testing.T) {
	byz := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	cs := []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 6},
		{Nodes: 4, Requests: 1, Crashes: 1, Views: 1, Depth: 5},
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, Depth: 6, Byzantine: byz},
	}
	lossy := Config{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 8, Byzantine: byz}
	if !testing.Short() {
		cs = append(cs, lossy)
	}
	for _, c := range cs {
		a, ra := stateSet(t, c, false, false)
		b, rb := stateSet(t, c, true, false)
		t.Logf("%+v: %d states; transitions %d plain, %d with sleep sets (%d slept)", c, ra.States, ra.Transitions, rb.Transitions, rb.Slept)
		if n := missing(a, b); n > 0 || len(a) != len(b) || rb.Slept == 0 {
			t.Errorf("%+v: sleep sets judged %d states, plain %d, %d of plain's missing (%d slept)", c, len(b), len(a), n, rb.Slept)
		}
	}
	if testing.Short() {
		return
	}
	a, _ := stateSet(t, lossy, false, false)
	b, _ := stateSet(t, lossy, true, true)
	if n := missing(a, b); n == 0 {
		t.Errorf("%+v: the former sleep-set rules should lose states here, lost none", lossy)
	} else {
		t.Logf("former rules: %d of %d states missing", n, len(a))
	}
}
