package explore

import (
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
