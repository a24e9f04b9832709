package explore

import (
	"fmt"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
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
			run := func(workers int) *engine.Result {
				r, err := prunedOnePass(tc.c, tc.maxFlight, workers)
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

// prunedOnePass runs the one-pass depth-first search of c (with a timer
// bound) on workers goroutines, with the checkers, not expanding states
// with more than maxFlight messages in flight (0: no such limit).
func prunedOnePass(c Config, maxFlight, workers int) (*engine.Result, error) {
	c.TimerLimit = true
	m, cfg, err := c.model()
	if err != nil {
		return nil, err
	}
	if maxFlight > 0 {
		prune := m.Prune
		m.Prune = func(w *engine.World) bool { return len(w.Flight) > maxFlight || prune(w) }
	}
	return engine.Run(m, engine.Options{
		Bounds:         engine.Bounds{Drops: c.Drops, TimerLimit: true, Timers: c.Timers},
		DFS:            true,
		Workers:        workers,
		SubsumeBudgets: c.SubsumeBudgets,
		Records:        true,
		Check:          check(cfg),
		NewCheck:       func() func(*engine.World, []engine.Record) (string, string) { return check(cfg) },
		NewJudge:       func() engine.Judge { return newJudge(properties.CheckerOptions(cfg)) },
	})
}

// BenchmarkOnePassDFS measures the one-pass depth-first search on 1 and 2
// goroutines (the same states and transitions, so the ratio of the two is
// the parallel speed-up: transitions/s wall-clock, transitions/cpu-s the
// cost), on PBFT spaces kept small by not expanding states with more than
// a few messages in flight.
func BenchmarkOnePassDFS(b *testing.B) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, bc := range []struct {
		name      string
		c         Config
		maxFlight int
	}{
		{"drops=1/timers=1/inert/flight<=5", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Timers: 1, Inert: true}, 5},
		{"equivocate/views=1/timers=1/inert/flight<=4", Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 1, Inert: true}, 4},
		// A slice of the issue-21 target, unpruned (330,993 states, 2.18M
		// transitions; no timer expires, so any number of workers
		// reaches the same states): long enough for the workers' caches
		// to warm up, as in a real run.
		{"equivocate/drops=3/timers=0/inert/symmetry", Config{Nodes: 4, Requests: 1, Byzantine: equiv, Drops: 3, Views: 1, Timers: 0, Inert: true, Symmetry: true}, 0},
	} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", bc.name, workers), func(b *testing.B) {
				trans := 0
				cpu0 := cpuTime()
				for b.Loop() {
					res, err := prunedOnePass(bc.c, bc.maxFlight, workers)
					if err != nil || res.Found() || !res.Complete {
						b.Fatal(err, res.Property)
					}
					trans += res.Transitions
				}
				b.ReportMetric(float64(trans)/b.Elapsed().Seconds(), "transitions/s")
				if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
					b.ReportMetric(float64(trans)/cpu, "transitions/cpu-s")
				}
			})
		}
	}
}
