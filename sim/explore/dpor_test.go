package explore

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// echo2Model is two pingers (nodes 0 and 1) each pinging two pongers
// (nodes 2 and 3) for rounds rounds: deliveries to different nodes are
// independent, deliveries to one ponger are not, and the round timers
// move the clock.
func echo2Model(rounds int, crashable ...sim.NodeID) *Model {
	return &Model{
		New: func() ([]sim.Node, error) {
			return []sim.Node{
				echo.NewPinger(0, []sim.NodeID{2, 3}, time.Millisecond, rounds),
				echo.NewPinger(1, []sim.NodeID{2, 3}, time.Millisecond, rounds),
				echo.NewPonger(2), echo.NewPonger(3),
			}, nil
		},
		Crashable: crashable,
	}
}

// TestDPORSameLeaves: DPOR (to one causal depth bound, and deepening)
// reaches exactly the states at the end of maximal paths that the
// unreduced enumeration with the same bound reaches, on configurations with
// drops, duplicates, crashes and timers, executing fewer transitions, and
// never falls back to full expansion.
func TestDPORSameLeaves(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    func() *Model
		b    Bounds
	}{
		{"echo/dups=1/crash", func() *Model { return echoModel(1) }, Bounds{Duplicates: 1, Crashes: 1, Depth: 6}},
		{"echo2/depth=1", func() *Model { return echo2Model(1) }, Bounds{Depth: 1}},
		{"echo2/depth=2", func() *Model { return echo2Model(1) }, Bounds{Depth: 2}},
		{"echo2/depth=3", func() *Model { return echo2Model(1) }, Bounds{Depth: 3}},
		{"echo2/depth=4", func() *Model { return echo2Model(1) }, Bounds{Depth: 4}},
		{"echo2/rounds=2/depth=3", func() *Model { return echo2Model(2) }, Bounds{Depth: 3}},
		{"echo2/drops=2/depth=3", func() *Model { return echo2Model(1) }, Bounds{Drops: 2, Depth: 3}},
		{"echo2/drops=1", func() *Model { return echo2Model(1) }, Bounds{Drops: 1, Depth: 2}},
		{"echo2/dups=1", func() *Model { return echo2Model(1) }, Bounds{Duplicates: 1, Depth: 2}},
		{"echo2/rounds=2", func() *Model { return echo2Model(2) }, Bounds{Depth: 2}},
		{"echo2/crash", func() *Model { return echo2Model(1, 2) }, Bounds{Crashes: 1, Depth: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, plain, err := Leaves(tc.m(), tc.b, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, dfs := range []bool{false, true} {
				got := map[uint64]bool{}
				lim := 0
				res, err := Run(tc.m(), Options{Bounds: tc.b, DPOR: true, DFS: dfs, Leaf: func(w *World) {
					if w.Depth > lim { // a deeper iteration: the shallower leaves were its prefixes
						lim = w.Depth
					}
					got[w.Hash()] = true
				}})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Complete || res.Fallbacks != 0 {
					t.Fatalf("dfs %v: complete %v, %d fallbacks", dfs, res.Complete, res.Fallbacks)
				}
				if dfs {
					// Deepening also reports the leaves of shallower bounds;
					// keep only the last bound's (run it alone to compare).
					got = map[uint64]bool{}
					res, _ = Run(tc.m(), Options{Bounds: Bounds{Drops: tc.b.Drops, Duplicates: tc.b.Duplicates, Crashes: tc.b.Crashes, Depth: res.Checked},
						DPOR: true, Leaf: func(w *World) { got[w.Hash()] = true }})
				}
				if !maps.Equal(got, want) {
					t.Errorf("dfs %v: DPOR reaches %d leaf states, the unreduced enumeration %d (missing %d)", dfs, len(got), len(want), len(missing(want, got)))
				}
				t.Logf("dfs %v: %d leaves; DPOR %d transitions (%d distinct states), unreduced %d transitions",
					dfs, len(want), res.Transitions, res.States, plain)
				if !dfs && res.Transitions >= plain && plain > 100 {
					t.Errorf("DPOR executes %d transitions, the unreduced enumeration %d", res.Transitions, plain)
				}
			}
		})
	}
}

func missing(want, got map[uint64]bool) []uint64 {
	var out []uint64
	for h := range want {
		if !got[h] {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// TestDPORShortestViolation: deepening DPOR finds the echo protocol's
// "a pong was reported" violation at the shortest depth, and a deliberately
// broken independence relation (every pair independent) loses leaves, so
// the leaf comparison can fail.
func TestDPORShortestViolation(t *testing.T) {
	res, err := Run(echo2Model(1), Options{Bounds: Bounds{Drops: 1, Depth: 8}, DPOR: true, DFS: true, Records: true,
		Check: func(w *World, recs []Record) (string, string) {
			for i, r := range recs {
				if r.Seq != uint64(i) {
					return "seq", fmt.Sprintf("record %d has Seq %d", i, r.Seq)
				}
				if r.Kind == sim.RecEvent && r.Event.Name() == "pong" {
					return "no-pong", "pong"
				}
			}
			return "", ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Property != "no-pong" || len(res.Path) != 2 {
		t.Fatalf("found %q (%s) with path %v, want no-pong after 2 transitions", res.Property, res.Detail, res.Path)
	}
	sc, err := Replay(echo2Model(1), res.Path)
	if err != nil || sc.Final.Depth != 2 {
		t.Fatalf("replaying the path: %v", err)
	}

	want, _, _ := Leaves(echo2Model(1), Bounds{Depth: 3}, true)
	broken = true
	defer func() { broken = false }()
	got := map[uint64]bool{}
	if _, err := Run(echo2Model(1), Options{Bounds: Bounds{Depth: 3}, DPOR: true, Leaf: func(w *World) { got[w.Hash()] = true }}); err != nil {
		t.Fatal(err)
	}
	if len(got) >= len(want) {
		t.Errorf("with every pair independent DPOR still reaches %d of %d leaves", len(got), len(want))
	}
}

// TestCheckCommuteCanFail: with every pair of transitions called
// independent, CheckCommute finds a pair that does not commute (two
// deliveries to one ponger), so the commutation test of the real protocol
// can fail.
func TestCheckCommuteCanFail(t *testing.T) {
	e := NewEngine(echo2Model(1))
	w, _, err := e.Initial()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := CheckCommute(e, w, Bounds{}); err != nil || n == 0 {
		t.Fatalf("correct relation: %d pairs, %v", n, err)
	}
	broken = true
	defer func() { broken = false }()
	w, _ = e.Apply(w, Choice{Kind: Deliver, Msg: 0})
	if _, err := CheckCommute(e, w, Bounds{Drops: 1}); err == nil {
		t.Fatal("every pair independent: no pair found that does not commute")
	}
}
