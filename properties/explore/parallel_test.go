package explore

import (
	"reflect"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestParallelSamePBFT: on PBFT the breadth-first search on 2 and 3
// workers gives the one-worker result (every counter, the verdict, the
// counterexample and its replay's trace hash): without a violation, with
// a variant's violation, with inert messages discarded, at a state limit
// and with the liveness check. Run with -race, it also shows that the
// workers share no value a replica writes (each has its own signature
// cache, Copier.Private).
func TestParallelSamePBFT(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, tc := range []struct {
		name  string
		c     Config
		found bool
	}{
		{"correct", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 6}, false},
		{"equivocate-inert", Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Depth: 6, Inert: true}, false},
		{"variant", Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Variant: "commit-quorum-2f", Inert: true}, true},
		{"max-states", Config{Nodes: 4, Requests: 1, Drops: 2, Views: 1, MaxStates: 3000}, false},
		{"liveness", Config{Nodes: 4, Requests: 1, Drops: 2, Byzantine: equiv, Views: 1, Depth: 4, LivenessSteps: 400}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && (tc.name == "max-states" || tc.name == "liveness" || tc.name == "correct") {
				t.Skip("short")
			}
			tc.c.NoSleep = true
			one, err := Explore(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if one.Found() != tc.found || one.States < 500 {
				t.Fatalf("one worker: found %q in %d states; want found %v in at least 500", one.Property, one.States, tc.found)
			}
			for _, w := range []int{2, 3} {
				c := tc.c
				c.Workers = w
				if c.ParallelWorkers() != w {
					t.Fatalf("ParallelWorkers %d, want %d", c.ParallelWorkers(), w)
				}
				par, err := Explore(c)
				if err != nil {
					t.Fatal(err)
				}
				a, b := *one.Result, *par.Result
				a.Elapsed, b.Elapsed = 0, 0
				a.MemoHits, b.MemoHits = 0, 0 // per engine: the workers have their own memos
				if !reflect.DeepEqual(a, b) {
					t.Errorf("%d workers: result differs:\n  %+v\nvs\n  %+v", w, a, b)
				}
				if tc.found && (par.ReplayErr != nil || par.Outcome == nil || par.Outcome.TraceHash() != one.Outcome.TraceHash()) {
					t.Errorf("%d workers: counterexample replay %v", w, par.ReplayErr)
				}
			}
		})
	}
}
