package explore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// line formats the records the explorer and the kernel must agree on.
func line(r *sim.Record) string {
	switch r.Kind {
	case sim.RecDeliver, sim.RecLocal:
		return fmt.Sprintf("%v %v %d>%d %v %x", r.Time, r.Kind, r.From, r.To, r.Msg.Type(), r.Msg.AppendCanonical(nil))
	case sim.RecTimer:
		return fmt.Sprintf("%v timer %d #%d", r.Time, r.To, r.Timer)
	case sim.RecEvent:
		return fmt.Sprintf("%v event %d %s %x", r.Time, r.From, r.Event.Name(), r.Event.AppendCanonical(nil))
	case sim.RecCrash, sim.RecRecover:
		return fmt.Sprintf("%v %v %d", r.Time, r.Kind, r.From)
	case sim.RecDrop:
		if r.Reason == sim.DropCrashed {
			return fmt.Sprintf("%v lost %d>%d %v", r.Time, r.From, r.To, r.Msg.Type())
		}
	}
	return ""
}

// TestScheduleReplaysInKernel: random paths of the explorer (deliveries,
// drops, timers, crashes and recoveries, a Byzantine replica) turned into
// scenarios make the ordinary kernel deliver the same messages, fire the
// same timers and report the same events at the same times; the replay file
// of the run reproduces its trace hash.
func TestScheduleReplaysInKernel(t *testing.T) {
	kinds := map[engine.Kind]int{}
	asyncFires := 0
	defer func() {
		if asyncFires == 0 {
			t.Errorf("no asynchronous path fires a timer early")
		}
		for k := engine.Deliver; k <= engine.Recover; k++ {
			if kinds[k] == 0 {
				t.Errorf("no random path has a %v transition", k)
			}
		}
	}()
	for seed := uint64(1); seed <= 12; seed++ {
		c := Config{Nodes: 4, Requests: 2, Drops: 2, Duplicates: 2, Crashes: 1, Views: 1}
		// Every third path with asynchronous timers: any pending timer
		// may fire, and the scenario fires it then (timer_fires).
		c.AsyncTimers = seed%3 == 0
		if seed%2 == 0 {
			c.Byzantine = []cluster.ByzantineSpec{{Replica: 3, Strategy: "equivocate"}}
			c.Variant = "commit-quorum-2f"
		}
		m, _, err := c.model()
		if err != nil {
			t.Fatal(err)
		}
		e := engine.NewEngine(m)
		e.KeepRecords(true)
		w, recs, err := e.Initial()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		var path []engine.Choice
		b := engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes}
		for len(path) < 60 {
			ch := e.Choices(nil, w, b)
			if len(ch) == 0 {
				break
			}
			x := ch[rng.IntN(len(ch))]
			path = append(path, x)
			kinds[x.Kind]++
			w, _ = e.Apply(w, x)
			recs = append(recs, e.Records()...)
		}
		sc, err := c.scheduleScenario(m, path)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var rec properties.Recorder
		o, err := properties.RunScenario(sc, properties.RunOptions{Sinks: []sim.Sink{&rec}})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var want, got []string
		for i := range recs {
			if l := line(&recs[i]); l != "" {
				want = append(want, l)
			}
		}
		for i := range rec.Records {
			if rec.Records[i].Time > w.Now {
				break
			}
			if l := line(&rec.Records[i]); l != "" {
				got = append(got, l)
			}
		}
		t.Logf("seed %d: path %d (async timers %v, %d early fires), %d records compared, kernel hash %s, verdict %s", seed, len(path), c.AsyncTimers, len(sc.TimerFires), len(want), o.TraceHash(), o.Verdict())
		if c.AsyncTimers {
			asyncFires += len(sc.TimerFires)
		}
		if len(got) != len(want) {
			t.Errorf("seed %d: kernel traced %d records, explorer %d", seed, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("seed %d (path of %d): record %d differs:\nkernel   %s\nexplorer %s", seed, len(path), i, got[i], want[i])
			}
		}
		// The replay file reproduces the run's trace hash.
		file := filepath.Join(t.TempDir(), "x.replay.yaml")
		if err := o.WriteReplay(file); err != nil {
			t.Fatal(err)
		}
		rp, err := scenarios.LoadReplay(file)
		if err != nil {
			t.Fatal(err)
		}
		back, err := properties.RunScenario(func() scenarios.Scenario { s := rp.Scenario; s.Seed = rp.Seed; return s }(), properties.RunOptions{})
		if err != nil || back.TraceHash() != o.TraceHash() {
			t.Fatalf("seed %d: replay of the file gives %v %s, want %s", seed, err, back.TraceHash(), o.TraceHash())
		}
	}
	_ = os.Remove
}

// TestSleepSetsLoseNothing: on small bounds the sleep-set reduction reaches
// exactly the states the unreduced exploration reaches (it only skips
// reorderings of independent transitions), so it can lose no violation of a
// state property. (Counterexample depths with and without it are compared
// in TestVariantsReducedUnreduced.)
func TestSleepSetsLoseNothing(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 5},
		{Nodes: 4, Requests: 1, Crashes: 1, Views: 1, Depth: 4},
		{Nodes: 4, Requests: 1, Views: 0, Depth: 6, Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}},
	} {
		var states [2]int
		var slept [2]int
		for i, noSleep := range []bool{false, true} {
			cc := c
			cc.NoSleep = noSleep
			res, err := Explore(cc)
			if err != nil {
				t.Fatal(err)
			}
			if res.Found() || !res.Complete {
				t.Fatalf("%+v: found %q complete %v", cc, res.Property, res.Complete)
			}
			states[i], slept[i] = res.States, res.Slept
		}
		t.Logf("%+v: %d states, %d transitions slept", c, states[0], slept[0])
		if states[0] != states[1] || slept[0] == 0 {
			t.Errorf("%+v: %d states with sleep sets (%d transitions slept), %d without", c, states[0], slept[0], states[1])
		}
	}
}

// TestDFSReachesTheBFSStates: the compact depth-first search (iterative
// deepening over a table of fingerprints and depths, no worlds kept off the
// current path) judges exactly the states the breadth-first search judges
// within the same depth bound, so it loses no violation of a state property.
func TestDFSReachesTheBFSStates(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 5},
		{Nodes: 4, Requests: 1, Crashes: 1, Views: 1, Depth: 4},
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, Depth: 5, Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}},
	} {
		var sets [2]map[uint64]bool
		var res [2]*engine.Result
		for i, dfs := range []bool{false, true} {
			m, _, err := c.model()
			if err != nil {
				t.Fatal(err)
			}
			seen := map[uint64]bool{}
			res[i], err = engine.Run(m, engine.Options{Bounds: engine.Bounds{Drops: c.Drops, Crashes: c.Crashes, Depth: c.Depth},
				Sleep: true, DFS: dfs, Check: func(w *engine.World, _ []engine.Record) (string, string) {
					seen[w.Hash()] = true
					return "", ""
				}})
			if err != nil || !res[i].Complete {
				t.Fatalf("%+v dfs=%v: %v, complete %v", c, dfs, err, res[i] != nil && res[i].Complete)
			}
			sets[i] = seen
		}
		missing := 0
		for h := range sets[0] {
			if !sets[1][h] {
				missing++
			}
		}
		t.Logf("%+v: BFS %d states, %d transitions; DFS %d states (last limit), %d transitions, table %d bytes",
			c, res[0].States, res[0].Transitions, res[1].States, res[1].Transitions, res[1].FPBytes)
		if missing > 0 || len(sets[0]) != len(sets[1]) || res[1].States != res[0].States {
			t.Errorf("%+v: DFS judged %d states, BFS %d, %d of BFS's missing; states %d vs %d", c, len(sets[1]), len(sets[0]), missing, res[1].States, res[0].States)
		}
	}
}

// TestVariantsReducedUnreduced: the broken variants found within small
// bounds are found at the same (shortest) depth, with the same property,
// with and without sleep sets, breadth-first and with (compact, stateful)
// iterative deepening.
func TestVariantsReducedUnreduced(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-ignores-digest", Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}},
		{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-2f-minus-1"},
	} {
		var depth []int
		for _, mode := range []struct{ noSleep, dfs bool }{{false, false}, {true, false}, {false, true}} {
			cc := c
			cc.NoSleep, cc.DFS, cc.MaxStates = mode.noSleep, mode.dfs, 200000
			res, err := Explore(cc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Found() || res.ReplayErr != nil {
				t.Fatalf("%s %+v: found %q (%v), states %d", c.Variant, mode, res.Property, res.ReplayErr, res.States)
			}
			if res.Outcome.Property() != res.Property {
				t.Fatalf("%s: kernel run finds %q, explorer %q", c.Variant, res.Outcome.Property(), res.Property)
			}
			depth = append(depth, len(res.Path))
		}
		if depth[0] != depth[1] || depth[0] != depth[2] {
			t.Errorf("%s: depths %v (sleep BFS, plain BFS, compact IDDFS) differ", c.Variant, depth)
		}
		// DPOR with a deepening causal bound finds the same property at a
		// causal depth no larger than the shortest path's length (a path
		// of d transitions has causal depth at most d), and its shrunk
		// counterexample replays in the kernel.
		cc := c
		cc.DPOR, cc.DFS, cc.Depth = true, true, depth[0]
		res, err := Explore(cc)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Found() || res.ReplayErr != nil || res.Outcome.Property() != res.Property {
			t.Fatalf("%s DPOR: found %q (%v)", c.Variant, res.Property, res.ReplayErr)
		}
		t.Logf("%s: BFS depth %d; DPOR found at causal depth %d, shrunk path %d, %d transitions", c.Variant, depth[0], res.Checked+1, len(res.Path), res.Transitions)
		if res.Checked+1 > depth[0] {
			t.Errorf("%s: DPOR finds it at causal depth %d, the shortest path has %d transitions", c.Variant, res.Checked+1, depth[0])
		}
	}
}

// TestLivenessContinuation: with a silent primary, the fair continuation
// from every reached state completes the request through a view change
// within 400 transitions, but not within 20 (a view change takes more), so
// the check can fail.
func TestLivenessContinuation(t *testing.T) {
	silent := []cluster.ByzantineSpec{{Replica: 0, Strategy: "silent"}}
	res, err := Explore(Config{Nodes: 4, Requests: 1, Views: 1, Depth: 2, Byzantine: silent, LivenessSteps: 400})
	if err != nil || res.Found() || res.Liveness == 0 {
		t.Fatalf("bound 400: %v, found %q (%s), %d continuations", err, res.Property, res.Detail, res.Liveness)
	}
	res, err = Explore(Config{Nodes: 4, Requests: 1, Views: 1, Depth: 2, Byzantine: silent, LivenessSteps: 20})
	if err != nil || res.Property != engine.Liveness || len(res.Path) != 0 {
		t.Fatalf("bound 20: %v, found %q at depth %d, want liveness in the initial state", err, res.Property, len(res.Path))
	}
}

// TestUnboundedSpaceIsInfinite: the reachable state space of even the
// fault-free configuration is infinite, so no exploration without a depth
// bound (or a bound on timer expirations, --timers) can complete: while every
// copy of the request is in flight no replica holds a timer, and the
// client's retry timer can expire again and again, each time multicasting
// the request once more (the schedule is legal: the network may delay
// messages without bound). The test follows that path for 30 expirations
// and checks that every state on it is new and can fire again.
func TestUnboundedSpaceIsInfinite(t *testing.T) {
	m, _, err := Config{Nodes: 4, Requests: 1, Views: 0}.model()
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewEngine(m)
	w, _, err := e.Initial()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{w.Hash(): true}
	for i := 1; i <= 30; i++ {
		fire := slices.IndexFunc(e.Choices(nil, w, engine.Bounds{}), func(c engine.Choice) bool { return c.Kind == engine.Fire })
		if fire < 0 {
			t.Fatalf("expiration %d: no timer can fire (flight %d)", i, len(w.Flight))
		}
		w, _ = e.Apply(w, engine.Choice{Kind: engine.Fire})
		if seen[w.Hash()] {
			t.Fatalf("expiration %d reaches a known state: the space is finite along this path", i)
		}
		seen[w.Hash()] = true
		if len(w.Flight) != 1+4*i {
			t.Fatalf("expiration %d: %d messages in flight, want %d", i, len(w.Flight), 1+4*i)
		}
	}
}

// TestForgedPrePrepareCounterexampleReplays: a forging primary sends two
// PRE-PREPAREs for one (view, seq) on one link at one moment with different
// fates; the counterexample tells them apart by the rules' nth and replays
// to the explored violation and its own trace hash. Without nth the same
// rules do not reproduce the run.
func TestForgedPrePrepareCounterexampleReplays(t *testing.T) {
	for _, variant := range []string{"accept-second-preprepare", "preprepare-digest-unchecked"} {
		c := Config{Nodes: 4, Requests: 1, Views: 0, TimerLimit: true, Timers: 0, DFS: true, Variant: variant,
			Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "preprepare-forge"}}, MaxStates: 200_000}
		res, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Found() || res.ReplayErr != nil || res.Outcome.Property() != res.Property {
			t.Fatalf("%s: found %q (replay: %v)", variant, res.Property, res.ReplayErr)
		}
		nth := 0
		for _, r := range res.Replay.Scenario.Adversary {
			if r.Nth > 0 {
				nth++
			}
		}
		if nth < 2 {
			t.Errorf("%s: %d rules with nth, want the two forged PRE-PREPAREs told apart", variant, nth)
		}
		file := filepath.Join(t.TempDir(), "x.replay.yaml")
		if err := res.Outcome.WriteReplay(file); err != nil {
			t.Fatal(err)
		}
		rp, err := scenarios.LoadReplay(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := rp.Scenario
		sc.Seed = rp.Seed
		back, err := properties.RunScenario(sc, properties.RunOptions{Liveness: true, StopOnViolation: true})
		if err != nil || back.TraceHash() != rp.TraceHash || back.Property() != res.Property {
			t.Fatalf("%s: replay gives %v %s %q, want %s %q", variant, err, back.TraceHash(), back.Property(), rp.TraceHash, res.Property)
		}
		sc.Adversary = slices.Clone(sc.Adversary)
		for i := range sc.Adversary {
			sc.Adversary[i].Nth = 0
		}
		blind, err := properties.RunScenario(sc, properties.RunOptions{Liveness: true, StopOnViolation: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: depth %d, %d nth rules, hash %s; without nth: %s %q, hash %s", variant, len(res.Path), nth, rp.TraceHash, blind.Verdict(), blind.Property(), blind.TraceHash())
		if blind.TraceHash() == rp.TraceHash {
			t.Errorf("%s: the rules without nth give the same run", variant)
		}
	}
}
