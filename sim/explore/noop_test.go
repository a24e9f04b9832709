package explore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// timerVectors maps what a world shows the safety checks but its pending
// timers (node hashes, down nodes) to the pending-timer sets reached with
// it (each as a sorted list of node/id pairs).
type timerVectors map[string][][]string

// noopVectors returns the timer vectors of the states m's search with o
// judges, and the result.
func noopVectors(t *testing.T, m *Model, o Options) (timerVectors, *Result) {
	t.Helper()
	got := timerVectors{}
	res := judgeEach(t, m, o, func(w *World) {
		ts := make([]string, 0, len(w.Timers))
		for _, tm := range w.Timers {
			ts = append(ts, fmt.Sprintf("%d/%d", tm.Node, tm.ID))
		}
		slices.Sort(ts)
		k := fmt.Sprint(w.nh, w.Down)
		if !slices.ContainsFunc(got[k], func(x []string) bool { return slices.Equal(x, ts) }) {
			got[k] = append(got[k], ts)
		}
	})
	return got, res
}

// coverDiff compares the timer vectors of a search without (all) and with
// (reduced) the no-op subsumption: lost counts the node vectors of all
// that reduced lacks (node states, or a node state with a pending-timer
// set no reduced one contains), extra those of reduced that all lacks
// (which a reduction must never reach).
func coverDiff(all, reduced timerVectors) (lost, extra int) {
	superset := func(big, small []string) bool {
		for _, x := range small {
			if !slices.Contains(big, x) {
				return false
			}
		}
		return true
	}
	for k, sets := range all {
		for _, ts := range sets {
			if !slices.ContainsFunc(reduced[k], func(r []string) bool { return superset(r, ts) }) {
				lost++
			}
		}
	}
	for k, sets := range reduced {
		for _, ts := range sets {
			if !slices.ContainsFunc(all[k], func(a []string) bool { return slices.Equal(a, ts) }) {
				extra++
			}
		}
	}
	return lost, extra
}

// TestSubsumedNoopsHandCounted: the vote protocol's collector ignores
// every vote once it has decided. With drops subsumed and asynchronous
// timers, no transition is a Drop; of its 10 states and 12 transitions
// (TestInertHandCounted) the 3 deliveries of the third vote, each to a
// decided collector, are no-ops: skipped, 7 states, 12 transitions of
// which 3 no-ops, breadth-first and depth-first. Each decided state is
// still reached (the third vote stays in flight there).
func TestSubsumedNoopsHandCounted(t *testing.T) {
	for _, dfs := range []bool{false, true} {
		for _, tc := range []struct {
			noops                bool
			states, trans, skips int
		}{{false, 10, 12, 0}, {true, 7, 12, 3}} {
			m := voteModel(false, false)
			m.AsyncTimers = true
			res, err := Run(m, Options{DFS: dfs, Bounds: Bounds{SubsumeDrops: true, SubsumeNoops: tc.noops}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || res.States != tc.states || !dfs && res.Transitions != tc.trans || res.Noops != tc.skips {
				t.Errorf("noops=%v dfs=%v: complete %v, %d states, %d transitions, %d no-ops; by hand %d, %d, %d",
					tc.noops, dfs, res.Complete, res.States, res.Transitions, res.Noops, tc.states, tc.trans, tc.skips)
			}
		}
	}
}

// TestSubsumedNoopsSameNodeStates: with drops subsumed, the node states
// (node hashes, down nodes) reached with the successors of no-op
// transitions skipped are those reached without, and each with a superset
// of the pending timers of every unreduced one (a no-op Fire's timer stays
// pending in the parent): on the gated vote protocol (a vote ignored now
// and taken later), the rearmer (a timer whose firing does nothing) and
// echo spaces, breadth-first (1 and 2 workers), iterative deepening and one
// depth-first pass (1 and 2 workers). No state is reached that the full
// search does not reach. It fails when a step that changes its node's
// state is taken for a no-op (brokenNoopState), and the option is refused
// without drops subsumed, with timed or quiet timers, sleep sets, DPOR or a
// liveness check.
func TestSubsumedNoopsSameNodeStates(t *testing.T) {
	gate := func() *Model { m := voteModel(true, false); m.AsyncTimers = true; return m }
	cases := []struct {
		name string
		m    func() *Model
		o    Options
	}{
		{"vote/gate", gate, Options{}},
		{"vote/gate/dfs", gate, Options{DFS: true}},
		{"rearm/timers=2/one-pass", rearmModel, Options{DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 2}}},
		{"rearm/timers=2/one-pass/2 workers", rearmModel, Options{DFS: true, Workers: 2, Bounds: Bounds{TimerLimit: true, Timers: 2}}},
		{"echo2/drops=2/depth=6/2 workers", func() *Model { return async(echo2Model(2)) }, Options{Workers: 2, Bounds: Bounds{Drops: 2, Depth: 6}}},
		{"echo2/crash/dup/depth=5", func() *Model { return async(echo2Model(2, 0, 3)) }, Options{Bounds: Bounds{Drops: 1, Crashes: 1, Duplicates: 1, Depth: 5}}},
		{"pings/dup/timers=2/one-pass", func() *Model { return async(pingsModel(2, 2)) }, Options{DFS: true, Bounds: Bounds{Drops: 1, Duplicates: 1, Crashes: 1, TimerLimit: true, Timers: 2}}},
	}
	skipped := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, rr := noopCompare(t, tc.m, tc.o)
			skipped += rr.Noops
		})
	}
	if skipped == 0 {
		t.Error("no no-op skipped in any space: the comparison shows nothing")
	}
	// A step that changes its node (the collector taking a vote, with no
	// output) taken for a no-op loses node states.
	brokenNoopState = true
	reduced, _ := noopVectors(t, gate(), Options{Bounds: Bounds{SubsumeDrops: true, SubsumeNoops: true}})
	brokenNoopState = false
	all, _ := noopVectors(t, gate(), Options{Bounds: Bounds{SubsumeDrops: true}})
	if lost, _ := coverDiff(all, reduced); lost == 0 {
		t.Error("state-changing steps taken for no-ops: no node vector lost, the comparison cannot fail")
	}
	for _, tc := range []struct {
		m *Model
		o Options
	}{
		{gate(), Options{Bounds: Bounds{SubsumeNoops: true}}},
		{voteModel(true, false), Options{Bounds: Bounds{SubsumeDrops: true, SubsumeNoops: true}}},
		{gate(), Options{Bounds: Bounds{SubsumeDrops: true, SubsumeNoops: true, QuietTimers: true}}},
		{gate(), Options{Sleep: true, Bounds: Bounds{SubsumeDrops: true, SubsumeNoops: true}}},
		{gate(), Options{DPOR: true, Bounds: Bounds{Depth: 3, SubsumeDrops: true, SubsumeNoops: true}}},
		{gate(), Options{LivenessSteps: 10, Bounds: Bounds{SubsumeDrops: true, SubsumeNoops: true}}},
	} {
		if _, err := Run(tc.m, tc.o); err == nil || !strings.Contains(err.Error(), "SubsumeNoops") {
			t.Errorf("%+v (async %v): %v, want SubsumeNoops refused", tc.o.Bounds, tc.m.AsyncTimers, err)
		}
	}
}

// retrier (node 0) sends node 1 a PING at Start and arms timer 1; when it
// fires it sends the same PING value again (Rebuild: an identical PING
// built anew, as a replica re-building its VIEW-CHANGE would) and re-arms
// it, and a PONG makes it stop (its state changes, the timer is cancelled).
type retrier struct {
	Got, Rebuild bool
	Ping         *echo.Ping
}

func (r *retrier) Start(_ sim.Time, out *sim.Output) { r.retry(out) }
func (r *retrier) retry(out *sim.Output) {
	if r.Ping == nil || r.Rebuild {
		r.Ping = &echo.Ping{}
	}
	out.Send(1, r.Ping)
	out.SetTimer(1, time.Millisecond)
}
func (r *retrier) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	switch {
	case in.Kind == sim.InputMessage && !r.Got:
		r.Got = true
		out.CancelTimer(1)
	case in.Kind == sim.InputTimer && !r.Got:
		r.retry(out)
	}
}

// onceReplier (node 1) answers the first PING with a PONG and ignores
// what it gets after.
type onceReplier struct{ Done bool }

func (*onceReplier) Start(sim.Time, *sim.Output) {}
func (r *onceReplier) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind == sim.InputMessage && !r.Done {
		r.Done = true
		out.Send(in.From, &echo.Pong{})
	}
}

// retryModel: a retrier and a onceReplier, asynchronous timers, optionally
// a monotone network.
func retryModel(keepSent bool) *Model { return retryModelOf(keepSent, false) }

// retryModelOf is retryModel with a retrier that rebuilds its PING.
func retryModelOf(keepSent, rebuild bool) *Model {
	return &Model{New: func() ([]sim.Node, error) { return []sim.Node{&retrier{Rebuild: rebuild}, &onceReplier{}}, nil }, AsyncTimers: true, KeepSent: keepSent}
}

// TestSubsumedNoopsMonotone: with a monotone network (Model.KeepSent) a
// retry that re-sends the PING in flight already and re-arms its timer is a
// no-op (its successor is its parent with one more expiration used), so it
// is skipped; the node vectors are those of the search without, on the
// retrier (2-3 expirations, 1 and 2 workers) and the rearmer. Without a
// monotone network each retry adds a copy, so none is a no-op. It fails
// when new sends are taken for sends in flight already (brokenNoopSends:
// the canceller's timer, which sends the rearmer its message, is skipped).
func TestSubsumedNoopsMonotone(t *testing.T) {
	cases := []struct {
		name string
		m    func() *Model
		o    Options
	}{
		{"retry/timers=2", func() *Model { return retryModel(true) }, Options{DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 2}}},
		{"retry/timers=3/2 workers", func() *Model { return retryModel(true) }, Options{DFS: true, Workers: 2, Bounds: Bounds{TimerLimit: true, Timers: 3}}},
		{"rearm/timers=2", func() *Model { m := rearmModel(); m.KeepSent = true; return m }, Options{DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ra, rr := noopCompare(t, tc.m, tc.o)
			if strings.HasPrefix(tc.name, "retry") && (rr.Noops == 0 || rr.States >= ra.States) {
				t.Errorf("retries re-sending a PING in flight: %d no-ops, %d states of %d", rr.Noops, rr.States, ra.States)
			}
		})
	}
	// The retry from the initial world: a no-op only when its PING value
	// is in the flight's set already, not when an identical PING is built
	// anew (the checkers judge a new message value again), nor with
	// brokenNoopSameMsg.
	for _, tc := range []struct{ keep, rebuild, broken, want bool }{
		{false, false, false, false}, {true, false, false, true},
		{true, true, false, false}, {true, true, true, true},
	} {
		brokenNoopSameMsg = tc.broken
		e := NewEngine(retryModelOf(tc.keep, tc.rebuild))
		e.SetSubsumeNoops(true)
		w0, _, err := e.Initial()
		if err != nil {
			t.Fatal(err)
		}
		if e.Apply(w0, Choice{Kind: Fire, Node: 0, Timer: 1}); e.Noop() != tc.want {
			t.Errorf("monotone network %v, rebuilt PING %v, broken %v: the retry is a no-op: %v, want %v", tc.keep, tc.rebuild, tc.broken, e.Noop(), tc.want)
		}
	}
	brokenNoopSameMsg = false
	brokenNoopSends = true
	reduced, _ := noopVectors(t, rearmModel(), Options{DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 2, SubsumeDrops: true, SubsumeNoops: true}})
	brokenNoopSends = false
	all, _ := noopVectors(t, rearmModel(), Options{DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 2, SubsumeDrops: true}})
	if lost, _ := coverDiff(all, reduced); lost == 0 {
		t.Error("new sends taken for sends in flight already: no node vector lost, the comparison cannot fail")
	}
}

// noopCompare searches m with o and drops subsumed, without and with the
// no-op subsumption, fails t when a node vector of the full search is not
// covered or one is reached only with no-ops skipped, and returns both
// results.
func noopCompare(t *testing.T, m func() *Model, o Options) (all, reduced *Result) {
	t.Helper()
	o.SubsumeDrops = true
	va, ra := noopVectors(t, m(), o)
	o.SubsumeNoops = true
	vr, rr := noopVectors(t, m(), o)
	t.Logf("all: %d states, %d transitions; no-ops skipped: %d states, %d transitions, %d no-ops",
		ra.States, ra.Transitions, rr.States, rr.Transitions, rr.Noops)
	if lost, extra := coverDiff(va, vr); lost != 0 || extra != 0 {
		t.Errorf("%d node vectors of the full search not covered, %d reached only with no-ops skipped", lost, extra)
	}
	return ra, rr
}
