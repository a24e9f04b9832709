package explore

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// nodeVector is what a world shows the safety checks: every node's state
// hash, which nodes are down and the set of pending (node, timer) pairs,
// without the messages in flight and the budgets used.
func nodeVector(w *World) string {
	ts := make([]string, 0, len(w.Timers))
	for _, t := range w.Timers {
		ts = append(ts, fmt.Sprintf("%d/%d", t.Node, t.ID))
	}
	slices.Sort(ts)
	return fmt.Sprint(w.nh, w.Down, ts)
}

// nodeVectors returns the node vectors of every state m's search with o
// judges, and the result.
func nodeVectors(t *testing.T, m *Model, o Options) (map[string]bool, *Result) {
	t.Helper()
	got := map[string]bool{}
	res := judgeEach(t, m, o, func(w *World) { got[nodeVector(w)] = true })
	return got, res
}

// judgeEach runs m's search with o to completion, calling each (under a
// lock: the workers of a parallel search judge at once) on every state it
// judges, and returns the result.
func judgeEach(t *testing.T, m *Model, o Options, each func(*World)) *Result {
	t.Helper()
	var mu sync.Mutex
	o.Check = func(w *World, _ []Record) (string, string) {
		mu.Lock()
		each(w)
		mu.Unlock()
		return "", ""
	}
	o.NewCheck = func() func(*World, []Record) (string, string) { return o.Check }
	res, err := Run(m, o)
	if err != nil || !res.Complete {
		t.Fatalf("%+v: %v (complete %v)", o.Bounds, err, res != nil && res.Complete)
	}
	return res
}

// diffVectors returns how many vectors one set has that the other lacks.
func diffVectors(a, b map[string]bool) (onlyA, onlyB int) {
	for v := range a {
		if !b[v] {
			onlyA++
		}
	}
	for v := range b {
		if !a[v] {
			onlyB++
		}
	}
	return onlyA, onlyB
}

// faulty returns m with node id's messages withheld at no cost.
func faulty(m *Model, id int) *Model {
	m.Faulty = append(m.Faulty, sim.NodeID(id))
	return m
}

// TestSubsumedDropsSameNodeStates: with asynchronous timers (and clockless
// nodes), without quiet timers, the node vectors (node state hashes, down
// nodes, pending timers: what the safety checks see besides the records)
// reached with explicit drops are exactly those reached without any Drop
// transition (Bounds.SubsumeDrops), on echo spaces with drops, a faulty
// node's withholding, a crash, a duplicate, a depth bound and a timer
// bound, breadth-first and in one depth-first pass (1 and 2 workers). The
// subsumed searches explore fewer states. It fails when the argument's
// conditions do not hold: with quiet timers a drop empties the flight and
// so enables a Fire, and
// the subsumed search misses node vectors; so it does when duplications
// are wrongly taken for subsumed too (brokenSubsumeDups: a duplicate is
// one more delivery, not a lost one). (With timed timers these echo
// spaces show no difference: the argument fails there only through the
// order of timers armed one Unit earlier, which they do not exercise;
// drops stay explicit with timed timers all the same.)
func TestSubsumedDropsSameNodeStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    func() *Model
		o    Options
	}{
		{"echo2/drops=2/depth=6", func() *Model { return async(echo2Model(2)) }, Options{Bounds: Bounds{Drops: 2, Depth: 6}}},
		{"echo2/faulty/depth=6", func() *Model { return faulty(async(echo2Model(2)), 2) }, Options{Bounds: Bounds{Depth: 6}}},
		{"echo2/drops=1/crash/dup/depth=5", func() *Model { return async(echo2Model(2, 0, 3)) }, Options{Bounds: Bounds{Drops: 1, Crashes: 1, Duplicates: 1, Depth: 5}}},
		{"pings/drops=2/faulty/timers=1/one-pass", func() *Model { return faulty(async(pingsModel(2)), 1) }, Options{DFS: true, Bounds: Bounds{Drops: 2, TimerLimit: true, Timers: 1}}},
		{"pings/drops=1/dup/timers=2/one-pass/2 workers", func() *Model { return async(pingsModel(2, 2)) }, Options{DFS: true, Workers: 2, Bounds: Bounds{Drops: 1, Duplicates: 1, Crashes: 1, TimerLimit: true, Timers: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			explicit, re := nodeVectors(t, tc.m(), tc.o)
			o := tc.o
			o.SubsumeDrops = true
			subsumed, rs := nodeVectors(t, tc.m(), o)
			t.Logf("explicit drops: %d states, %d transitions, %d node vectors; subsumed: %d states, %d transitions, %d node vectors",
				re.States, re.Transitions, len(explicit), rs.States, rs.Transitions, len(subsumed))
			if a, b := diffVectors(explicit, subsumed); a != 0 || b != 0 {
				t.Errorf("%d node vectors reached only with explicit drops, %d only with subsumed drops", a, b)
			}
			if rs.States >= re.States {
				t.Errorf("subsumed drops: %d states, explicit %d: nothing saved", rs.States, re.States)
			}
		})
	}
	// The conditions: each violation makes the sets differ.
	for _, tc := range []struct {
		name string
		m    func() *Model
		b    Bounds
	}{
		{"quiet timers", func() *Model { return async(echoRoundsModel(2, true)) }, Bounds{Drops: 1, Depth: 6, QuietTimers: true}},
		{"duplicates taken for subsumed", func() *Model { return async(echo2Model(2)) }, Bounds{Drops: 1, Duplicates: 1, Depth: 5}},
	} {
		explicit, _ := nodeVectors(t, tc.m(), Options{Bounds: tc.b})
		b := tc.b
		b.SubsumeDrops = true
		brokenSubsumeDups = tc.b.Duplicates > 0
		subsumed, _ := nodeVectors(t, tc.m(), Options{Bounds: b})
		brokenSubsumeDups = false
		a, _ := diffVectors(explicit, subsumed)
		t.Logf("%s: %d node vectors only with explicit drops (of %d)", tc.name, a, len(explicit))
		if a == 0 {
			t.Errorf("%s: explicit drops reach no node vector the subsumed search misses: the test cannot fail", tc.name)
		}
	}
}
