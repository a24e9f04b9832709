package explore

import (
	"fmt"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// BenchmarkTarget explores the first 100,000 states of the issue-21 target
// (`explore --dfs --drops 2 --byzantine 0:equivocate --views 1 --timers 3
// --inert --symmetry`, one worker) with timed and with asynchronous timers:
// the same work per iteration, so transitions per CPU-second compare
// binaries (and, with -cpuprofile, say where a transition's time goes).
func BenchmarkTarget(b *testing.B) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, async := range []bool{false, true} {
		name := "timed"
		if async {
			name = "async"
		}
		c := Config{Nodes: 4, Requests: 1, Byzantine: equiv, Drops: 2, Views: 1, TimerLimit: true, Timers: 3,
			Inert: true, Symmetry: true, DFS: true, Workers: 1, MaxStates: 100_000, AsyncTimers: async}
		b.Run(name, func(b *testing.B) { targetLoop(b, c) })
	}
	// The monotone network (--keep-sent, drops subsumed): --timers 1 is
	// complete (88,315 states); --timers 2 to its first 100,000 states.
	for _, timers := range []int{1, 2} {
		c := Config{Nodes: 4, Requests: 1, Byzantine: equiv, Drops: 2, Views: 1, TimerLimit: true, Timers: timers,
			Inert: true, Symmetry: true, DFS: true, Workers: 1, AsyncTimers: true, KeepSent: true}
		if timers > 1 {
			c.MaxStates = 100_000
		}
		b.Run(fmt.Sprintf("keepsent/timers=%d", timers), func(b *testing.B) { targetLoop(b, c) })
	}
}

// targetLoop runs exploreLoop on c and reports the transitions per
// iteration, the step memo's hits per transition (a transition steps 0 to
// several nodes) and the transitions per CPU-second.
func targetLoop(b *testing.B, c Config) {
	trans, _, hits, cpu := exploreLoop(b, c)
	b.ReportMetric(float64(trans)/float64(b.N), "transitions")
	b.ReportMetric(float64(hits)/float64(trans), "memo-hits/transition")
	if cpu > 0 {
		b.ReportMetric(float64(trans)/cpu, "transitions/cpu-s")
	}
}

// exploreLoop explores c once per benchmark iteration, failing on an error
// or a violation, and returns the transitions, states and step-memo hits
// summed over the iterations and their CPU seconds.
func exploreLoop(b *testing.B, c Config) (trans, states, hits int, cpu float64) {
	b.Helper()
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Explore(c)
		if err != nil || res.Found() {
			b.Fatal(err, res.Property)
		}
		trans += res.Transitions
		states += res.States
		hits += res.MemoHits
	}
	return trans, states, hits, (cpuTime() - cpu0).Seconds()
}
