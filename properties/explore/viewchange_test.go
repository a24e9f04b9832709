package explore

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// inView1 reports whether a correct replica (1..3) of w is active in view 1:
// a view change to view 1 completed.
func inView1(w *engine.World) bool {
	for i := 1; i < 4; i++ {
		if r, ok := w.Nodes[i].(*pbft.Replica); ok && r.View() == 1 && !r.InViewChange() {
			return true
		}
	}
	return false
}

// TestViewChangeWithinThreeTimers: in the target configuration (n=4,
// 1 request, replica 0 equivocating, views <= 1) a view change to view 1
// completes within 3 timer expirations, with and without quiet timers:
// random walks through the explorer's own choices under those bounds (the
// client's retry, then the request timers of two backups, whose
// VIEW-CHANGEs make the third join) reach a state where a correct replica
// is active in view 1. So "--timers 3" does not make "up to one view change"
// vacuous, as "--timers 0" does (no timer expires, no view change: checked
// too). The walks' seed is fixed. (With 2 expirations 5,000 such walks
// found none.)
func TestViewChangeWithinThreeTimers(t *testing.T) {
	c := Config{Nodes: 4, Requests: 1, Views: 1, Inert: true,
		Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}}
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	walk := func(b engine.Bounds, walks int) (int, int) { return walkToView1(t, m, b, walks, true) }
	for _, quiet := range []bool{false, true} {
		n, depth := walk(engine.Bounds{TimerLimit: true, Timers: 3, QuietTimers: quiet}, 5000)
		if n == 0 {
			t.Errorf("quiet %v: no view change to view 1 within 3 timer expirations in 5000 walks", quiet)
		} else {
			t.Logf("quiet %v: view 1 reached by walk %d at depth %d", quiet, n, depth)
		}
	}
	if n, _ := walk(engine.Bounds{TimerLimit: true, Timers: 0}, 200); n != 0 {
		t.Errorf("a view change without a timer expiration (walk %d)", n)
	}
}

// TestViewChangeWithinThreeAsyncTimers: with asynchronous timers (any
// pending timer may fire at any transition) and drops subsumed (no Drop
// choice), a view change to view 1 completes in the target configuration
// within 3 timer expirations, as with timed timers: random walks reach a
// state where a correct replica is active in view 1. With 2 expirations
// 5,000 walks reach none (logged, not asserted: walks prove no absence),
// so "--async-timers --timers 2" may leave "up to one view change" out.
func TestViewChangeWithinThreeAsyncTimers(t *testing.T) {
	c := Config{Nodes: 4, Requests: 1, Views: 1, Inert: true, AsyncTimers: true,
		Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}}
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	walk := func(b engine.Bounds, walks int) (int, int) { return walkToView1(t, m, b, walks, false) }
	b := engine.Bounds{TimerLimit: true, Timers: 3, SubsumeDrops: true}
	if n, depth := walk(b, 5000); n == 0 {
		t.Error("no view change to view 1 within 3 asynchronous timer expirations in 5000 walks")
	} else {
		t.Logf("3 expirations: view 1 reached by walk %d at depth %d", n, depth)
	}
	b.Timers = 2
	n, _ := walk(b, 5000)
	t.Logf("2 expirations: view 1 reached by walk %d of 5000 (0: none)", n)
	b.Timers = 0
	if n, _ := walk(b, 200); n != 0 {
		t.Errorf("a view change without a timer expiration (walk %d)", n)
	}
}

// walkToView1 walks m's explorer choices under b at random (seed fixed), at
// most walks walks of up to 200 transitions each, until a correct replica
// is active in view 1; it returns the walk that got there (1-based, 0:
// none) and its depth. preferOthers takes a timer expiry only one time in
// 8 when other choices exist, so that timers race messages too.
func walkToView1(t *testing.T, m *engine.Model, b engine.Bounds, walks int, preferOthers bool) (int, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	e := engine.NewEngine(m)
	e.CountFires(true)
	for i := 0; i < walks; i++ {
		w, _, err := e.Initial()
		if err != nil {
			t.Fatal(err)
		}
		for w.Depth < 200 && !inView1(w) {
			ch := e.Choices(nil, w, b)
			if len(ch) == 0 {
				break
			}
			x := ch[rng.IntN(len(ch))]
			if preferOthers && x.Kind == engine.Fire && len(ch) > 1 && rng.IntN(8) > 0 {
				x = ch[rng.IntN(len(ch)-1)]
			}
			w, _ = e.Apply(w, x)
		}
		if inView1(w) {
			return i + 1, w.Depth
		}
	}
	return 0, 0
}

// TestNewViewWaitNotJudgedWithAsyncTimers: with asynchronous timers a
// NEW-VIEW timer may run out one transition after its view change started,
// far below PBFT's minimum wait, on the correct protocol: newview-wait is
// not judged there (a judged one reports a false violation at depth 8).
func TestNewViewWaitNotJudgedWithAsyncTimers(t *testing.T) {
	c := Config{Nodes: 4, Requests: 1, Views: 2, DFS: true, Depth: 8, Timers: 3, TimerLimit: true,
		AsyncTimers: true, Workers: 1}
	explore := func() *Result {
		res, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := explore(); res.Found() {
		t.Fatalf("correct protocol: %s at depth %d: %s", res.Property, res.Depth, res.Detail)
	}
	brokenAsyncWait = true
	defer func() { brokenAsyncWait = false }()
	res := explore()
	if res.Property != properties.NewViewWait {
		t.Fatalf("judged with asynchronous timers: want a false %s violation (the test's premise), got %q", properties.NewViewWait, res.Property)
	}
	// Its replay forces the timer early (timer_fires): the kernel run does
	// not judge newview-wait either, and says so.
	if res.Outcome == nil {
		t.Fatalf("no kernel run of the counterexample: %v", res.ReplayErr)
	}
	if len(res.Outcome.Violations) > 0 {
		t.Errorf("kernel run of the forced fires: %v", res.Outcome.Violations)
	}
	for _, j := range res.Outcome.Judgements {
		if j.Property == properties.NewViewWait && (j.Judged || !strings.Contains(j.Reason, "not judged")) {
			t.Errorf("kernel run of the forced fires: newview-wait %+v", j)
		}
	}
}
