package explore

import (
	"fmt"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// TestPDFSSamePBFT: on PBFT the one-pass depth-first search (--dfs
// --timers K) on 2 and 3 workers reaches the one-worker search's states:
// the same order-independent counters (states, transitions, revisits,
// pruned, inert messages discarded), with every state judged by the
// checkers. To keep the spaces small, states with more than maxFlight
// messages in flight are not expanded (a function of the state, so the
// pruned space does not depend on the order of the visits).
func TestPDFSSamePBFT(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, tc := range []struct {
		name      string
		c         Config
		maxFlight int
	}{
		{"fault-free", Config{Nodes: 4, Requests: 1, Views: 0, Timers: 0}, 6},
		{"drops-inert", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Timers: 1, Inert: true}, 4},
		{"equivocate-inert", Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 1, Inert: true}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.TimerLimit = true
			m, cfg, err := tc.c.model()
			if err != nil {
				t.Fatal(err)
			}
			prune := m.Prune
			m.Prune = func(w *engine.World) bool { return len(w.Flight) > tc.maxFlight || prune(w) }
			run := func(workers int) *engine.Result {
				o := engine.Options{
					Bounds:   engine.Bounds{Drops: tc.c.Drops, TimerLimit: true, Timers: tc.c.Timers},
					DFS:      true,
					Workers:  workers,
					Records:  true,
					Check:    check(cfg),
					NewCheck: func() func(*engine.World, []engine.Record) (string, string) { return check(cfg) },
				}
				r, err := engine.Run(m, o)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			counters := func(r *engine.Result) string {
				return fmt.Sprintf("complete %v, found %q, %d states, %d transitions, %d revisits, %d pruned, %d inert",
					r.Complete, r.Property, r.States, r.Transitions, r.Revisits, r.Pruned, r.Inert)
			}
			one := run(1)
			if !one.Complete || one.Found() || one.States < 200 || one.Pruned == 0 {
				t.Fatalf("one worker: %s; want complete, no violation, at least 200 states, some pruned", counters(one))
			}
			t.Logf("one worker: %s", counters(one))
			for _, w := range []int{2, 3} {
				if par := run(w); counters(par) != counters(one) {
					t.Errorf("%d workers: %s\none worker: %s", w, counters(par), counters(one))
				}
			}
		})
	}
}
