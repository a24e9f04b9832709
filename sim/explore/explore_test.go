package explore

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// echoModel is one pinger (node 0) pinging one ponger (node 1) once.
func echoModel(crashable ...sim.NodeID) *Model {
	return &Model{
		New: func() ([]sim.Node, error) {
			return []sim.Node{echo.NewPinger(0, []sim.NodeID{1}, time.Millisecond, 1), echo.NewPonger(1)}, nil
		},
		Crashable: crashable,
		Done:      func(w *World) bool { return w.Nodes[0].(*echo.Pinger).Received() >= 1 },
	}
}

// TestEchoHandCounted compares the explored state space of the echo
// protocol with state spaces counted by hand (see the comments).
func TestEchoHandCounted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		b         Bounds
		crashable []sim.NodeID
		states    int
		trans     int
	}{
		// {PING} -> {PONG} -> {}: 3 states, 2 transitions.
		{"fault-free", Bounds{}, nil, 3, 2},
		// plus: drop PING (from the first state), drop PONG (from the second).
		{"drops=1", Bounds{Drops: 1}, nil, 5, 4},
		// {P} dup {P,P}; {Q} dup {Q,Q}; {P,P} -> {P,Q} -> {Q,Q} | {P}(pinger 1);
		// {Q,Q} -> {Q}(ponger 2, pinger 1) -> {} (2, 2); {P}(pinger 1) -> the
		// same {Q}(2, 1) again; {Q,Q}(ponger 1) -> {Q} -> {}(pinger 2):
		// 12 states, 12 transitions (one reaches a known state).
		{"duplicates=1", Bounds{Duplicates: 1}, nil, 12, 12},
		// the ponger may crash once and recover (a recovery steps it, and it
		// counts recoveries). Down: {P}, {} (P lost), {Q}, {}(pinger 1) reached
		// both by a crash after the pong and by the pong after a crash. Up
		// again: {P}, {Q}, {}(pinger 1), {}(pinger 0, P lost). With the 3
		// fault-free states: 11 states; transitions 2+2+1 from those, 2+1+2+1
		// from the down ones, 1+1 from the recovered ones with a message in
		// flight: 13.
		{"crashes=1", Bounds{Crashes: 1}, []sim.NodeID{1}, 11, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []string{"bfs", "dfs"} {
				res, err := Run(echoModel(tc.crashable...), Options{Bounds: tc.b, DFS: mode == "dfs"})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Complete || res.Found() {
					t.Fatalf("%s: complete %v, found %q", mode, res.Complete, res.Property)
				}
				if res.States != tc.states || (mode == "bfs" && res.Transitions != tc.trans) {
					t.Errorf("%s: %d states, %d transitions; counted by hand %d, %d", mode, res.States, res.Transitions, tc.states, tc.trans)
				}
			}
		})
	}
}

// TestEchoViolationShortest: "the pinger never gets a pong" is violated
// after 2 transitions, and the check sees the path's records.
func TestEchoViolationShortest(t *testing.T) {
	for _, mode := range []string{"bfs", "dfs"} {
		res, err := Run(echoModel(), Options{Bounds: Bounds{Drops: 1, Duplicates: 1}, DFS: mode == "dfs", Records: true,
			Check: func(w *World, recs []Record) (string, string) {
				for _, r := range recs {
					if r.Kind == sim.RecEvent && r.Event.Name() == "pong" {
						return "no-pong", fmt.Sprintf("pong at record %d", r.Seq)
					}
				}
				return "", ""
			}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Property != "no-pong" || len(res.Path) != 2 || res.Path[0].Kind != Deliver || res.Path[1].Kind != Deliver {
			t.Fatalf("%s: found %q with path %v, want no-pong after two deliveries", mode, res.Property, res.Path)
		}
	}
}

// TestEchoLiveness: with a drop, no fair continuation can bring the pong
// back (the echo protocol does not retransmit): a liveness violation at
// depth 1; without drops none.
func TestEchoLiveness(t *testing.T) {
	res, err := Run(echoModel(), Options{LivenessSteps: 10})
	if err != nil || res.Found() {
		t.Fatalf("fault-free: %v %q", err, res.Property)
	}
	res, err = Run(echoModel(), Options{Bounds: Bounds{Drops: 1}, LivenessSteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Property != Liveness || len(res.Path) != 1 || res.Path[0].Kind != Drop {
		t.Fatalf("found %q path %v, want liveness after one drop", res.Property, res.Path)
	}
}

// TestTimerBound: a bound on timer expirations leaves out exactly the
// states after more expirations. The pinger pings twice (its round timer
// arms once): with no expiration allowed only round 0 is explored, {PING} ->
// {PONG} -> {} (3 states); with one or more allowed, the same states as
// without the bound.
func TestTimerBound(t *testing.T) {
	model := func() *Model {
		return &Model{New: func() ([]sim.Node, error) {
			return []sim.Node{echo.NewPinger(0, []sim.NodeID{1}, time.Millisecond, 2), echo.NewPonger(1)}, nil
		}}
	}
	free, err := Run(model(), Options{})
	if err != nil || !free.Complete {
		t.Fatalf("unbounded: %v", err)
	}
	for _, tc := range []struct {
		timers, states int
	}{{0, 3}, {1, free.States}, {5, free.States}} {
		for _, dfs := range []bool{false, true} {
			res, err := Run(model(), Options{Bounds: Bounds{TimerLimit: true, Timers: tc.timers}, DFS: dfs})
			if err != nil || !res.Complete {
				t.Fatalf("timers %d: %v", tc.timers, err)
			}
			if res.States != tc.states {
				t.Errorf("timers %d dfs %v: %d states, want %d", tc.timers, dfs, res.States, tc.states)
			}
		}
	}
	if free.States <= 3 {
		t.Fatalf("unbounded: %d states: the second round was not explored", free.States)
	}
}
