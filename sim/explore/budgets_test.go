package explore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// quotientStates explores m with o and returns the hashes, without the
// budgets used, of the states it judges (the same world hashed as
// Options.SubsumeBudgets hashes it), and the result.
func quotientStates(t *testing.T, m *Model, o Options) (map[uint64]bool, *Result) {
	t.Helper()
	got := map[uint64]bool{}
	var mu sync.Mutex
	o.Check = func(w *World, _ []Record) (string, string) {
		q := *w
		q.noBudgets = true
		mu.Lock()
		got[q.Hash()] = true
		mu.Unlock()
		return "", ""
	}
	o.NewCheck = func() func(*World, []Record) (string, string) { return o.Check }
	res, err := Run(m, o)
	if err != nil || !res.Complete {
		t.Fatalf("%+v: %v", o.Bounds, err)
	}
	return got, res
}

// budgetCases are one-pass spaces with budgets: drops, duplicates, crashes
// and timer expirations, timed and asynchronous.
func budgetCases() []struct {
	name string
	m    func() *Model
	b    Bounds
} {
	return []struct {
		name string
		m    func() *Model
		b    Bounds
	}{
		{"pings/drops=1/dup=1/timers=2", func() *Model { return pingsModel(2) }, Bounds{Drops: 1, Duplicates: 1, TimerLimit: true, Timers: 2}},
		{"pings/crash/timers=2", func() *Model { return pingsModel(2, 1, 2) }, Bounds{Crashes: 2, TimerLimit: true, Timers: 2}},
		{"pings/async/drops=2/crash/timers=3", func() *Model { return async(pingsModel(2, 1)) }, Bounds{Drops: 2, Crashes: 1, TimerLimit: true, Timers: 3}},
		{"rearm/timers=2", rearmModel, Bounds{TimerLimit: true, Timers: 2}},
	}
}

// TestSubsumeBudgetsSameStates: the one-pass depth-first search with
// budget subsumption reaches exactly the states of the search without it,
// taken without their budgets used (1, 2 and 3 workers), and States
// counts them, in fewer transitions (one worker, over the spaces); a violation found without it is
// found with it (1 and 2 workers). With the comparison of budgets
// reversed (brokenBudgetCover: a revisit with fewer budgets left is
// expanded, one with more skipped) states are lost (rearmModel; the echo
// spaces reach every state by other orders too), and with the budgets
// left in the hash (brokenBudgetKey) nothing is saved, so the test can
// fail both ways.
func TestSubsumeBudgetsSameStates(t *testing.T) {
	reexpanded, lost := 0, 0
	var trans [2]int // without and with, one worker
	for _, tc := range budgetCases() {
		o := Options{DFS: true, Bounds: tc.b}
		want, plain := quotientStates(t, tc.m(), o)
		for _, workers := range []int{1, 2, 3} {
			so := o
			so.SubsumeBudgets, so.Workers = true, workers
			got, res := quotientStates(t, tc.m(), so)
			a, b := missingSet(want, got), missingSet(got, want)
			t.Logf("%s, %d workers: without %d states (%d quotient), %d transitions; with %d states, %d transitions, %d re-expanded",
				tc.name, workers, plain.States, len(want), plain.Transitions, res.States, res.Transitions, res.Reexpanded)
			if len(a) != 0 || len(b) != 0 || res.States != len(want) {
				t.Errorf("%s, %d workers: %d quotient states missed, %d extra, States %d (want %d)", tc.name, workers, len(a), len(b), res.States, len(want))
			}
			if workers == 1 {
				reexpanded += res.Reexpanded
				trans[0] += plain.Transitions
				trans[1] += res.Transitions
			}
		}
		brokenBudgetCover = true
		got, _ := quotientStates(t, tc.m(), Options{DFS: true, Bounds: tc.b, SubsumeBudgets: true})
		brokenBudgetCover = false
		lost += len(missingSet(want, got))
		t.Logf("%s: reversed comparison: %d of %d quotient states lost", tc.name, len(missingSet(want, got)), len(want))
		brokenBudgetKey = true
		_, kept := quotientStates(t, tc.m(), Options{DFS: true, Bounds: tc.b, SubsumeBudgets: true})
		brokenBudgetKey = false
		if kept.States != plain.States || kept.Transitions != plain.Transitions || kept.Reexpanded != 0 {
			t.Errorf("%s: budgets kept in the hash: %d states, %d transitions, %d re-expanded; want the plain %d, %d, 0", tc.name, kept.States, kept.Transitions, kept.Reexpanded, plain.States, plain.Transitions)
		}
	}
	t.Logf("%d re-expansions (1 worker); reversed comparison: %d quotient states lost", reexpanded, lost)
	if trans[1] >= trans[0] {
		t.Errorf("%d transitions with budget subsumption, %d without: nothing saved", trans[1], trans[0])
	}
	if reexpanded == 0 {
		t.Error("no state was re-expanded: the comparison of budgets was never exercised")
	}
	if lost == 0 {
		t.Error("reversed comparison of budgets: no state lost, the test cannot fail")
	}
	// Verdicts: a violation reached only after 3 pongs.
	for _, tc := range budgetCases()[:3] {
		for _, workers := range []int{1, 2} {
			o := Options{DFS: true, Bounds: tc.b, Records: true, Workers: workers, NewCheck: pongCheck("pongs", 3)}
			o.Check = o.NewCheck()
			plain, err := Run(tc.m(), o)
			if err != nil {
				t.Fatal(err)
			}
			o.SubsumeBudgets = true
			sub, err := Run(tc.m(), o)
			if err != nil {
				t.Fatal(err)
			}
			if plain.Property != sub.Property || !plain.Found() {
				t.Errorf("%s, %d workers: without subsumption found %q, with %q", tc.name, workers, plain.Property, sub.Property)
			}
		}
	}
}

// TestSubsumeBudgetsOnePassOnly: the option is refused outside the
// one-pass depth-first search and for bounds a budget key cannot hold.
func TestSubsumeBudgetsOnePassOnly(t *testing.T) {
	for _, o := range []Options{
		{SubsumeBudgets: true, Bounds: Bounds{TimerLimit: true, Timers: 1}},
		{SubsumeBudgets: true, DFS: true, Bounds: Bounds{Depth: 3}},
		{SubsumeBudgets: true, DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 1, Depth: 3}},
		{SubsumeBudgets: true, DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 1, Duplicates: 8}},
	} {
		if _, err := Run(pingsModel(1), o); err == nil {
			t.Errorf("%s: accepted", fmt.Sprintf("%+v", o.Bounds))
		}
	}
}

// rearmer (node 0) arms timer 1 at Start, which does nothing when it
// fires; a message cancels it and arms timer 2, which records its firing.
type rearmer struct{ Cancelled, Fired2 bool }

func (r *rearmer) Start(_ sim.Time, out *sim.Output) { out.SetTimer(1, time.Millisecond) }
func (r *rearmer) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	switch {
	case in.Kind == sim.InputMessage:
		out.CancelTimer(1)
		out.SetTimer(2, time.Millisecond)
		r.Cancelled = true
	case in.Kind == sim.InputTimer && in.Timer == 2:
		r.Fired2 = true
	}
}

// canceller (node 1) arms a timer at Start whose firing sends node 0 a
// message.
type canceller struct{}

func (canceller) Start(_ sim.Time, out *sim.Output) { out.SetTimer(1, time.Millisecond) }
func (canceller) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind == sim.InputTimer {
		out.Send(0, &echo.Ping{})
	}
}

// rearmModel: a rearmer and a canceller, asynchronous timers. With 2
// timer expirations, the depth-first search (Fire choices in arming order)
// first reaches S = (node 0 cancelled, timer 2 pending) by firing node 0's
// timer 1 (a no-op), node 1's timer and delivering its message: 2
// expirations, none left. Then by firing node 1's timer and delivering:
// 1 expiration, so timer 2 may still fire, reaching Fired2, which no
// other path reaches. Budget subsumption must expand S again.
func rearmModel() *Model {
	return &Model{New: func() ([]sim.Node, error) { return []sim.Node{&rearmer{}, canceller{}}, nil }, AsyncTimers: true}
}

// TestBudgetKeys: a revisit that used at least as much of every budget is
// skipped, one that used less of some (fewer timer expirations, fewer
// drops, or incomparable) is expanded again and its budgets stored; the
// key packs each budget to its maximum. Fails with the comparison
// reversed.
func TestBudgetKeys(t *testing.T) {
	key := func(fires, drops, dups, crashes int) uint16 {
		return (&World{Fires: fires, Drops: drops, Dups: dups, Crashes: crashes}).budgetKey()
	}
	if k := key(maxKeyFires, maxKeyDrops, maxKeyDups, maxKeyCrashes); k != 0xffff {
		t.Errorf("the largest budgets: key %#x, want 0xffff", k)
	}
	var s fpSet
	s.aux = fpBudgets
	defer s.free()
	const h = 0x1234_5678_9abc_def0
	for _, step := range []struct {
		name          string
		key           uint16
		isNew, expand bool
	}{
		{"first visit, 1 expiration", key(1, 0, 0, 0), true, false},
		{"2 expirations (fewer left)", key(2, 0, 0, 0), false, false},
		{"1 expiration, a drop", key(1, 1, 0, 0), false, false},
		{"no expiration (more left)", key(0, 0, 0, 0), false, true},
		{"1 expiration, now covered", key(1, 0, 0, 0), false, false},
		{"no expiration again", key(0, 0, 0, 0), false, false},
		{"a duplicate", key(0, 0, 1, 0), false, false},
		{"a crash, 0 expirations", key(0, 0, 0, 1), false, false},
	} {
		isNew, again := s.visitBudgets(h, step.key)
		if isNew != step.isNew || again != step.expand {
			t.Errorf("%s: new %v, expand again %v; want %v, %v", step.name, isNew, again, step.isNew, step.expand)
		}
	}
	// Incomparable: fewer drops but more expirations than stored.
	s.visitBudgets(h+1, key(0, 2, 0, 0))
	if _, again := s.visitBudgets(h+1, key(1, 1, 0, 0)); !again {
		t.Error("incomparable budgets (fewer drops used): not expanded again")
	}
	// Growth keeps every fingerprint's budgets.
	for i := uint64(0); i < 5000; i++ {
		s.visitBudgets(i*0x9e37_79b9_7f4a_7c15, key(int(i%4), 0, 0, 0))
	}
	for i := uint64(0); i < 5000; i++ {
		if isNew, again := s.visitBudgets(i*0x9e37_79b9_7f4a_7c15, key(int(i%4), 0, 0, 0)); isNew || again {
			t.Fatalf("fingerprint %d after growth: new %v, again %v", i, isNew, again)
		}
	}
}

// TestSubsumeBudgetsLeavesOnce: with budget subsumption the Leaf hook sees
// each leaf state (hashed without its budgets) once, on 1 and 2 workers,
// though a state may be expanded again for its budgets: a re-expanded
// leaf was a leaf when first reached. It fails when re-expansions call
// the hook again.
func TestSubsumeBudgetsLeavesOnce(t *testing.T) {
	again := 0
	for _, tc := range budgetCases() {
		for _, workers := range []int{1, 2} {
			seen := map[uint64]int{}
			calls := 0
			o := Options{DFS: true, Bounds: tc.b, SubsumeBudgets: true, Workers: workers}
			o.Leaf = func(w *World) { // under the run's lock with workers
				q := *w
				q.noBudgets = true
				seen[q.Hash()]++
				calls++
			}
			res, err := Run(tc.m(), o)
			if err != nil || !res.Complete {
				t.Fatalf("%s: %v", tc.name, err)
			}
			again += res.Reexpanded
			if calls != len(seen) {
				t.Errorf("%s, %d workers: Leaf called %d times for %d leaf states", tc.name, workers, calls, len(seen))
			}
		}
	}
	if again == 0 {
		t.Error("no re-expansion: the test cannot fail")
	}
}
