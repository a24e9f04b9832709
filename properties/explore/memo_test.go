package explore

import (
	"fmt"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// TestStepMemoSamePBFT: on the real replicas (Byzantine equivocation,
// inert messages, drops, crashes, timers and a view change, breadth- and
// depth-first) the step memo changes nothing the exploration reports: the
// same states are judged in the same order, with the same verdicts and
// counters, while most steps come from the memo.
func TestStepMemoSamePBFT(t *testing.T) {
	byz := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 6},
		{Nodes: 4, Requests: 1, Crashes: 1, Views: 0, Depth: 5},
		{Nodes: 4, Requests: 1, Views: 0, Depth: 6, Inert: true, Byzantine: byz},
		// The target's configuration (one-pass depth-first, a view
		// change), its first states.
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 3, Inert: true, DFS: true, Byzantine: byz, MaxStates: 20_000},
		// The same with asynchronous timers: replicas commit and execute
		// early, so many steps report events (replayed from the memo
		// with them).
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 3, Inert: true, DFS: true, Byzantine: byz, MaxStates: 20_000, AsyncTimers: true},
	} {
		name := fmt.Sprintf("drops=%d/crashes=%d/depth=%d/inert=%v/dfs=%v/byz=%d/async=%v", c.Drops, c.Crashes, c.Depth, c.Inert, c.DFS, len(c.Byzantine), c.AsyncTimers)
		t.Run(name, func(t *testing.T) {
			var runs [2]struct {
				judged []uint64
				res    *engine.Result
			}
			for i, slots := range []int{-1, 0} {
				cc := c
				cc.StepMemo = slots
				m, cfg, err := cc.model()
				if err != nil {
					t.Fatal(err)
				}
				chk := check(cfg)
				r := &runs[i]
				o := engine.Options{
					Bounds: engine.Bounds{Drops: c.Drops, Crashes: c.Crashes, Depth: c.Depth, TimerLimit: c.TimerLimit, Timers: c.Timers},
					DFS:    c.DFS, Sleep: true, Records: true, MaxStates: c.MaxStates,
					Check: func(w *engine.World, recs []engine.Record) (string, string) {
						r.judged = append(r.judged, w.Hash())
						return chk(w, recs)
					},
				}
				if r.res, err = engine.Run(m, o); err != nil {
					t.Fatal(err)
				}
			}
			off, on := runs[0].res.Stats, runs[1].res.Stats
			hits := on.MemoHits
			off.Elapsed, on.Elapsed, off.MemoHits, on.MemoHits = 0, 0, 0, 0
			if off != on || runs[0].res.Property != runs[1].res.Property || runs[0].res.Complete != runs[1].res.Complete {
				t.Fatalf("memo off: %+v %q; on: %+v %q", off, runs[0].res.Property, on, runs[1].res.Property)
			}
			if fmt.Sprint(runs[0].judged) != fmt.Sprint(runs[1].judged) {
				t.Fatalf("the judged states differ (%d states)", len(runs[0].judged))
			}
			t.Logf("%d states, %d transitions, %d steps from the memo", on.States, on.Transitions, hits)
			if hits < on.Revisits/2 {
				t.Errorf("%d steps from the memo for %d revisits: the memo hardly works", hits, on.Revisits)
			}
		})
	}
}

// TestStepMemoSameCounterexample: broken variants are found with the same
// counterexample, replaying to the same kernel trace hash, with the memo
// on and off.
func TestStepMemoSameCounterexample(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-ignores-digest", Byzantine: equivocate0, Inert: true},
		{Nodes: 4, Requests: 1, Views: 0, Variant: "commit-quorum-2f", Drops: 1},
		// Asynchronous timers, one-pass depth-first: the violation is
		// seen in events that steps from the memo report.
		{Nodes: 4, Requests: 1, Views: 1, Variant: "prepare-ignores-digest", Byzantine: equivocate0, Inert: true,
			AsyncTimers: true, DFS: true, TimerLimit: true, Timers: 2, Workers: 1},
	} {
		var hash [2]string
		var path [2]string
		for i, slots := range []int{-1, 0} {
			cc := c
			cc.StepMemo, cc.MaxStates = slots, 200_000
			res, err := Explore(cc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Found() || res.ReplayErr != nil {
				t.Fatalf("%s memo %d: found %q (replay: %v)", c.Variant, slots, res.Property, res.ReplayErr)
			}
			hash[i], path[i] = res.Outcome.TraceHash(), fmt.Sprint(res.Path)
		}
		if hash[0] != hash[1] || path[0] != path[1] {
			t.Errorf("%s: memo off %s %s, on %s %s", c.Variant, path[0], hash[0], path[1], hash[1])
		}
	}
}
