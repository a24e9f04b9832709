package explore

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// BenchmarkExplore measures explored transitions per second and per CPU
// second (ns/op is per exploration of the bounds) on the correct protocol,
// n=4, one request, with the checkers on every new state.
func BenchmarkExplore(b *testing.B) {
	for _, bc := range []struct {
		name string
		c    Config
	}{
		{"n=4/drops=1/depth=5", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 5}},
		// The compact depth-first search: iterative deepening 1..5, so
		// more transitions for the same states (shallow levels again).
		{"n=4/drops=1/dfs/depth=5", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 5, DFS: true}},
		{"n=4/equivocate/depth=6", Config{Nodes: 4, Requests: 1, Views: 0, Depth: 6,
			Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}}},
		// The fault-free slice (no timer expiration, view 0) to depth 9,
		// without and with inert messages discarded: same bounds, so the
		// ratio of the two is the reduction's (states and CPU).
		{"n=4/slice/timers=0/depth=9", Config{Nodes: 4, Requests: 1, Views: 0, TimerLimit: true, Depth: 9}},
		{"n=4/slice/timers=0/inert/depth=9", Config{Nodes: 4, Requests: 1, Views: 0, TimerLimit: true, Depth: 9, Inert: true}},
		// The breadth-first search on 1 and 2 goroutines (no sleep sets:
		// the parallel search does not take them); the same states and
		// transitions, so the ratio of the two is the parallel speed-up
		// (wall-clock: transitions/s; cost: transitions/cpu-s).
		{"n=4/drops=1/depth=6/workers=1", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 6, NoSleep: true, Workers: 1}},
		{"n=4/drops=1/depth=6/workers=2", Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 6, NoSleep: true, Workers: 2}},
		// DPOR: depth is the causal depth (paths up to 11 transitions).
		{"n=4/dpor/depth=5", Config{Nodes: 4, Requests: 1, Views: 0, Depth: 5, DPOR: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			trans, states := 0, 0
			cpu0 := cpuTime()
			for b.Loop() {
				res, err := Explore(bc.c)
				if err != nil || res.Found() {
					b.Fatal(err, res.Property)
				}
				trans += res.Transitions
				states += res.States
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(trans)/s, "transitions/s")
			b.ReportMetric(float64(states)/s, "states/s")
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				// The process's CPU time includes the GC's background
				// work; on a shared machine this is the steadier figure.
				b.ReportMetric(float64(trans)/cpu, "transitions/cpu-s")
			}
		})
	}
}
