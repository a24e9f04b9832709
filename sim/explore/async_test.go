package explore

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// echoRoundsModel is one pinger (node 0) pinging one ponger (node 1) for
// rounds rounds (its round timer arms rounds-1 times).
func echoRoundsModel(rounds int, async bool) *Model {
	return &Model{
		New: func() ([]sim.Node, error) {
			return []sim.Node{echo.NewPinger(0, []sim.NodeID{1}, time.Millisecond, rounds), echo.NewPonger(1)}, nil
		},
		AsyncTimers: async,
		// The pinger's PING carries the time it was sent: its step
		// depends on the clock, which the step memo assumes it does not.
		StepMemo: -1,
	}
}

// TestEchoAsyncHandCounted compares the state space of the echo protocol
// under asynchronous timers with one counted by hand. Two rounds: the
// events are a = PING0 delivered, b = PONG0 delivered (after a), c = the
// round timer fires (sending PING1), d = PING1 delivered (after c), e =
// PONG1 delivered (after d). A state is a pair of prefixes (i of a<b, j of
// c<d<e): 3 x 4 = 12 pairs; but PING1 and PONG1 carry the time c fired
// (one Unit per transition before it, plus one), so while one of them is
// in flight (j = 1, 2) the state also says how many of a, b came before
// c: i+1 states for each i. States: j=0: 3, j=3: 3, j=1: 1+2+3, j=2:
// 1+2+3: 18. Transitions (one per state and enabled event, i < 2 and j <
// 3): j=0: 2+2+1 = 5, j=1: 2+2*2+3*1 = 9, j=2: 9, j=3: 1+1 = 2: 25. With
// timed timers the timer fires at its deadline (1 ms: PING1's time is the
// same on every path): 12 states, 17 transitions.
func TestEchoAsyncHandCounted(t *testing.T) {
	for _, tc := range []struct {
		async         bool
		states, trans int
	}{{true, 18, 25}, {false, 12, 17}} {
		for _, mode := range []string{"bfs", "dfs"} {
			res, err := Run(echoRoundsModel(2, tc.async), Options{DFS: mode == "dfs", Bounds: Bounds{TimerLimit: mode == "dfs", Timers: 5}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || res.Found() {
				t.Fatalf("async %v %s: complete %v, found %q", tc.async, mode, res.Complete, res.Property)
			}
			if res.States != tc.states || res.Transitions != tc.trans {
				t.Errorf("async %v %s: %d states, %d transitions; counted by hand %d, %d", tc.async, mode, res.States, res.Transitions, tc.states, tc.trans)
			}
		}
	}
}

// clockless runs a node as if the clock stood at 0: the echo pinger's
// PING carries its send time, so its steps depend on the clock, which
// asynchronous timers' independence (a Fire commutes with the other nodes'
// transitions) and the step memo assume they do not.
type clockless struct{ n sim.Node }

func (c *clockless) Start(_ sim.Time, out *sim.Output)              { c.n.Start(0, out) }
func (c *clockless) Step(_ sim.Time, in sim.Input, out *sim.Output) { c.n.Step(0, in, out) }

// async returns m with asynchronous timers and its nodes clockless.
func async(m *Model) *Model {
	m.AsyncTimers = true
	nw := m.New
	m.New = func() ([]sim.Node, error) {
		nodes, err := nw()
		for i, nd := range nodes {
			nodes[i] = &clockless{nd}
		}
		return nodes, err
	}
	return m
}

// cancelNode arms timer 1 at Start and cancels it when it gets a message;
// firing it sends a PONG to node 1 when tick is set (else nothing). Its
// state is empty: whether its timer is pending is told by the world's
// timers only.
type cancelNode struct{ tick bool }

func (cancelNode) Start(_ sim.Time, out *sim.Output) { out.SetTimer(1, time.Millisecond) }
func (c cancelNode) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	switch {
	case in.Kind == sim.InputMessage:
		out.CancelTimer(1)
	case in.Kind == sim.InputTimer && c.tick:
		out.Send(1, &echo.Pong{})
	}
}

// stopSender sends one PING to node 0 at Start and ignores what it gets.
type stopSender struct{}

func (stopSender) Start(_ sim.Time, out *sim.Output)     { out.Send(0, &echo.Ping{}) }
func (stopSender) Step(sim.Time, sim.Input, *sim.Output) {}

// cancelModel: node 0 (a cancelNode) and node 1 (a stopSender), all
// timers asynchronous. Without tick, with the timers left out of the
// hash, the initial state ({PING}, timer pending) and the state after the
// timer fired ({PING}, no timer) are taken for one, though only the first
// can fire a timer. With tick, the PONG of the timer then delivering the
// PING (which cancels nothing any more) reaches {PONG}, a state no other
// order reaches: the delivery disables the timer.
func cancelModel(tick bool) *Model {
	return &Model{New: func() ([]sim.Node, error) { return []sim.Node{&cancelNode{tick: tick}, &stopSender{}}, nil }, AsyncTimers: true}
}

// successorsCheck explores m with o and compares, for every state reached
// again (Options.Revisit), the hashes of its successors with those of the
// state first reached with its hash: with an exact hash they are the same
// set. It returns the revisits compared and how many differed.
func successorsCheck(t *testing.T, m *Model, o Options) (revisits, differ int) {
	t.Helper()
	e := NewEngine(m)
	e.CountFires(o.TimerLimit)
	b := o.Bounds.Limit()
	succ := func(w *World) []uint64 {
		var hs []uint64
		for _, c := range e.Choices(nil, w, b) {
			nw, _ := e.Apply(w, c)
			hs = append(hs, nw.Hash())
		}
		slices.Sort(hs)
		return slices.Compact(hs)
	}
	first := map[uint64][]uint64{}
	o.Check = func(w *World, _ []Record) (string, string) {
		first[w.Hash()] = succ(w)
		return "", ""
	}
	o.Revisit = func(w *World, _ []Record) {
		revisits++
		if !slices.Equal(first[w.Hash()], succ(w)) {
			differ++
		}
	}
	res, err := Run(m, o)
	if err != nil || !res.Complete {
		t.Fatalf("%v (complete %v)", err, res != nil && res.Complete)
	}
	return revisits, differ
}

// TestAsyncMergedStatesSameSuccessors: with asynchronous timers, every
// state reached again has the successors of the state first reached with
// its hash (merging is exact), breadth-first and depth-first; with the
// pending timers left out of the hash it does not (cancelModel), so the
// check can fail.
func TestAsyncMergedStatesSameSuccessors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    func() *Model
		o    Options
	}{
		{"echo2/rounds=2/drops=1/depth=6", func() *Model { return async(echo2Model(2)) }, Options{Bounds: Bounds{Drops: 1, Depth: 6}}},
		{"echo2/rounds=2/dups=1/depth=5/dfs", func() *Model { return async(echo2Model(2)) }, Options{Bounds: Bounds{Duplicates: 1, Depth: 5}, DFS: true}},
		{"echo2/rounds=2/crash/depth=5", func() *Model { return async(echo2Model(2, 0, 2)) }, Options{Bounds: Bounds{Crashes: 1, Depth: 5}}},
		{"cancel", func() *Model { return cancelModel(false) }, Options{}},
	} {
		n, d := successorsCheck(t, tc.m(), tc.o)
		t.Logf("%s: %d revisits compared, %d with other successors", tc.name, n, d)
		if n == 0 || d != 0 {
			t.Errorf("%s: %d of %d revisits have other successors than the first state with their hash", tc.name, d, n)
		}
	}
	brokenAsyncHash = true
	defer func() { brokenAsyncHash = false }()
	if n, d := successorsCheck(t, cancelModel(false), Options{}); d == 0 {
		t.Errorf("timers left out of the hash: %d revisits, none with other successors", n)
	}
}

// stateHashes returns the hashes of the states m's breadth-first search
// with o judges.
func stateHashes(t *testing.T, m *Model, o Options) (map[uint64]bool, *Result) {
	t.Helper()
	seen := map[uint64]bool{}
	o.Check = func(w *World, _ []Record) (string, string) {
		seen[w.Hash()] = true
		return "", ""
	}
	res, err := Run(m, o)
	if err != nil || !res.Complete {
		t.Fatalf("%v", err)
	}
	return seen, res
}

// TestAsyncReductionsLoseNothing: with asynchronous timers the sleep sets
// take a Fire independent of the transitions of other nodes (and a timer
// armed by a delivery no longer makes it dependent on everything). Sleep
// sets still judge exactly the states plain breadth-first search judges;
// DPOR (whose Fire stays dependent on everything, but whose timer-arming
// deliveries are independent of other nodes' deliveries) still reaches
// exactly the unreduced enumeration's leaves; and CheckCommute finds
// every pair DPOR calls independent commuting along random paths. With a
// Fire called independent of deliveries to its own node (brokenAsyncFire)
// the sleep sets lose states (cancelModel with tick), so the comparison
// can fail. (So they do when a node's step depends on the clock: with the
// echo pinger not clockless, sleep sets judged 1,042 of the 2,350 states
// of the first case.)
func TestAsyncReductionsLoseNothing(t *testing.T) {
	type tc struct {
		name string
		m    func() *Model
		b    Bounds
		dpor int // the causal depth bound of the DPOR comparison
	}
	cases := []tc{
		{"echo2/rounds=2/drops=1/depth=4", func() *Model { return async(echo2Model(2)) }, Bounds{Drops: 1, Depth: 4}, 2},
		{"echo2/rounds=2/crash/depth=4", func() *Model { return async(echo2Model(2, 0)) }, Bounds{Crashes: 1, Depth: 4}, 2},
		{"cancel/tick", func() *Model { return cancelModel(true) }, Bounds{Depth: 4}, 4},
	}
	lose := func(c tc) (sleepMissing, leavesMissing int) {
		a, _ := stateHashes(t, c.m(), Options{Bounds: c.b})
		b, rb := stateHashes(t, c.m(), Options{Bounds: c.b, Sleep: true})
		db := c.b
		db.Depth = c.dpor
		want, plain, err := Leaves(c.m(), db, true)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]bool{}
		rd, err := Run(c.m(), Options{Bounds: db, DPOR: true, Leaf: func(w *World) { got[w.Hash()] = true }})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d states, sleep sets %d (%d slept); %d leaves, DPOR %d (%d transitions, unreduced %d, %d fallbacks)",
			c.name, len(a), len(b), rb.Slept, len(want), len(got), rd.Transitions, plain, rd.Fallbacks)
		if len(got) != len(want) && len(missing(want, got)) == 0 {
			t.Errorf("%s: DPOR reaches leaves the unreduced enumeration does not", c.name)
		}
		return len(missingSet(a, b)) + len(missingSet(b, a)), len(missing(want, got))
	}
	for _, c := range cases {
		if s, l := lose(c); s != 0 || l != 0 {
			t.Errorf("%s: sleep sets miss %d states, DPOR %d leaves", c.name, s, l)
		}
		e := NewEngine(c.m())
		w0, _, err := e.Initial()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		pairs := 0
		for p := 0; p < 20; p++ {
			w := w0
			for d := 0; d < 6; d++ {
				n, err := CheckCommute(e, w, c.b.Limit())
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				pairs += n
				ch := e.Choices(nil, w, c.b.Limit())
				if len(ch) == 0 {
					break
				}
				w, _ = e.Apply(w, ch[rng.IntN(len(ch))])
			}
		}
		if pairs == 0 {
			t.Errorf("%s: no independent pair checked", c.name)
		}
	}
	brokenAsyncFire = true
	defer func() { brokenAsyncFire = false }()
	if s, _ := lose(cases[2]); s == 0 {
		t.Errorf("Fire independent of its own node's deliveries: sleep sets miss no state")
	}
}

// missingSet returns the states of a that b lacks.
func missingSet(a, b map[uint64]bool) []uint64 {
	var out []uint64
	for h := range a {
		if !b[h] {
			out = append(out, h)
		}
	}
	return out
}

// TestAsyncSearches: with asynchronous timers the breadth-first search on
// 1 and 2 workers, iterative deepening, and the one-pass depth-first
// search on 1 and 3 workers agree on the states (and where they should,
// the transitions); quiet timers offer a Fire exactly when nothing is in
// flight; and the liveness check's fair continuation completes both
// rounds of the echo protocol, but not after a drop.
func TestAsyncSearches(t *testing.T) {
	b := Bounds{Drops: 1, Depth: 5}
	bfs, err := Run(async(echo2Model(2)), Options{Bounds: b})
	if err != nil || !bfs.Complete {
		t.Fatal(err)
	}
	par, err := Run(async(echo2Model(2)), Options{Bounds: b, Workers: 2})
	if err != nil || par.States != bfs.States || par.Transitions != bfs.Transitions {
		t.Errorf("2 workers: %v, %d states %d transitions; one: %d, %d", err, par.States, par.Transitions, bfs.States, bfs.Transitions)
	}
	dfs, err := Run(async(echo2Model(2)), Options{Bounds: b, DFS: true})
	if err != nil || dfs.States != bfs.States {
		t.Errorf("iterative deepening: %v, %d states; breadth-first %d", err, dfs.States, bfs.States)
	}
	ob := Bounds{TimerLimit: true, Timers: 1}
	one, err := Run(async(echo2Model(2)), Options{Bounds: ob, DFS: true})
	if err != nil || !one.Complete {
		t.Fatal(err)
	}
	three, err := Run(async(echo2Model(2)), Options{Bounds: ob, DFS: true, Workers: 3})
	if err != nil || three.States != one.States || three.Transitions != one.Transitions {
		t.Errorf("one pass, 3 workers: %v, %d states %d transitions; one: %d, %d", err, three.States, three.Transitions, one.States, one.Transitions)
	}
	t.Logf("breadth-first %d states, %d transitions; one pass %d states, %d transitions", bfs.States, bfs.Transitions, one.States, one.Transitions)

	qb := Bounds{Drops: 1, Depth: 6, QuietTimers: true}
	e := NewEngine(echoRoundsModel(2, true))
	fires := 0
	if _, err := Run(echoRoundsModel(2, true), Options{Bounds: qb, Check: func(w *World, _ []Record) (string, string) {
		n := 0
		for _, c := range e.Choices(nil, w, qb.Limit()) {
			if c.Kind == Fire {
				n++
			}
		}
		if want := len(w.Timers); len(w.Flight) > 0 && n > 0 || len(w.Flight) == 0 && n != want {
			t.Errorf("quiet timers: %d in flight, %d timers pending, %d Fire choices", len(w.Flight), want, n)
		}
		fires += n
		return "", ""
	}}); err != nil {
		t.Fatal(err)
	}
	if fires == 0 {
		t.Error("quiet timers: no state offers a Fire")
	}

	done := func(m *Model) *Model {
		m.Done = func(w *World) bool { return w.Nodes[0].(*echo.Pinger).Received() >= 2 }
		return m
	}
	res, err := Run(done(echoRoundsModel(2, true)), Options{LivenessSteps: 20})
	if err != nil || res.Found() || res.Liveness == 0 {
		t.Fatalf("fault-free: %v %q (%d checked)", err, res.Property, res.Liveness)
	}
	res, err = Run(done(echoRoundsModel(2, true)), Options{Bounds: Bounds{Drops: 1}, LivenessSteps: 20})
	if err != nil || res.Property != Liveness {
		t.Fatalf("with a drop: %v, found %q, want liveness", err, res.Property)
	}
}
