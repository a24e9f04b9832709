package explore

import (
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// successors explores c with one depth-first pass (states with more than
// maxFlight messages in flight not expanded) and compares, for every
// state reached again (engine.Options.Revisit), the hashes of its
// successors with those of the state first reached with its hash. It
// returns the states, the revisits compared and how many differed.
func successors(t *testing.T, c Config, maxFlight int) (states, revisits, differ int) {
	t.Helper()
	c.TimerLimit = true
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	prune := m.Prune
	m.Prune = func(w *engine.World) bool { return len(w.Flight) > maxFlight || prune(w) }
	b := engine.Bounds{Drops: c.Drops, TimerLimit: true, Timers: c.Timers}
	// The successors are computed by an engine of their own, with a
	// copier of its own (as a parallel search's worker): the replicas'
	// step writes run-wide caches that the search's copier shares.
	m2 := *m
	m2.Copier = m.Copier.Worker()
	e := engine.NewEngine(&m2)
	e.CountFires(true)
	succ := func(w *engine.World) []uint64 {
		var hs []uint64
		if !m.Prune(w) {
			for _, ch := range e.Choices(nil, w, b) {
				nw, _ := e.Apply(w, ch)
				hs = append(hs, nw.Hash())
			}
		}
		slices.Sort(hs)
		return slices.Compact(hs)
	}
	first := map[uint64][]uint64{}
	res, err := engine.Run(m, engine.Options{Bounds: b, DFS: true,
		Check: func(w *engine.World, _ []engine.Record) (string, string) {
			first[w.Hash()] = succ(w)
			return "", ""
		},
		Revisit: func(w *engine.World, _ []engine.Record) {
			revisits++
			if !slices.Equal(first[w.Hash()], succ(w)) {
				differ++
			}
		}})
	if err != nil || !res.Complete {
		t.Fatalf("%+v: %v", c, err)
	}
	return res.States, revisits, differ
}

// TestAsyncTimersExact: with asynchronous timers a state's hash holds
// every pending timer and no deadline, so two paths that reach one hash
// allow the same transitions below it: every state reached again has the
// successors of the first state with its hash, and the parallel one-pass
// depth-first search reaches exactly the one-worker states, transitions
// and revisits (the analogue of TestExactTimersSameForAnyWorkers). (The
// successor comparison fails with the timers left out of the hash:
// sim/explore's TestAsyncMergedStatesSameSuccessors. Timed timers merged
// by their order pass it here: their merged states differ in the slack
// before a deadline, which bears a few transitions later, not at once.)
// Under -short: at most 1 timer expiration and 2 workers (2 expirations,
// 2 and 3 workers otherwise); states with more than 4 messages in flight
// are not expanded.
func TestAsyncTimersExact(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	c := Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 1, Inert: true, AsyncTimers: true}
	maxFlight, workers := 4, []int{2}
	if !testing.Short() {
		c.Timers, workers = 2, []int{2, 3}
	}
	states, n, d := successors(t, c, maxFlight)
	t.Logf("asynchronous: %d states, %d revisits, %d with other successors", states, n, d)
	if n == 0 || d != 0 {
		t.Errorf("asynchronous timers: %d of %d revisits have other successors than the first state with their hash", d, n)
	}
	one, err := prunedOnePass(c, maxFlight, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		r, err := prunedOnePass(c, maxFlight, w)
		if err != nil {
			t.Fatal(err)
		}
		if r.States != one.States || r.Transitions != one.Transitions || r.Revisits != one.Revisits {
			t.Errorf("%d workers: %d states, %d transitions, %d revisits; one worker: %d, %d, %d", w, r.States, r.Transitions, r.Revisits, one.States, one.Transitions, one.Revisits)
		}
	}
}

// asyncVariantConfigs are the configurations of TestAsyncVariantsFound:
// under -short three variants found within them, otherwise the correct
// protocol and every variant, with up to one drop and one view change,
// to depth 6 (timers fire on these paths, but no variant found there
// needs one: the view-change variants need about 25 transitions;
// TestScheduleReplaysInKernel replays paths that fire timers early).
func asyncVariantConfigs() []Config {
	vs := append([]string{""}, properties.VariantNames()...)
	if testing.Short() {
		vs = []string{"prepare-2f-minus-1", "execute-on-prepared", "commit-quorum-2f"}
	}
	var cs []Config
	for _, v := range vs {
		cs = append(cs, Config{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, Variant: v})
	}
	if !testing.Short() {
		equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
		cs = append(cs, Config{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-ignores-digest", Byzantine: equiv, MaxStates: 200_000})
	}
	return cs
}

// TestAsyncVariantsFound: every timed path is an asynchronous one (the
// timer that fires at its deadline may fire at any moment), so every
// violation the timed breadth-first search finds within the bounds is
// found with asynchronous timers too, of the same property, at a depth no
// larger. With asynchronous timers the reductions lose nothing: sleep
// sets and symmetry (against the unreduced search of the same protocol,
// full certificates) find the same property at the same shortest depth,
// discarding inert messages at a depth no larger, and every
// counterexample replays in the kernel (early timers fired by the replay
// file's timer_fires) to the explored property.
func TestAsyncVariantsFound(t *testing.T) {
	found := 0
	for _, c := range asyncVariantConfigs() {
		run := func(mod func(*Config)) *Result {
			cc := c
			cc.NoSleep, cc.AsyncTimers = true, true
			mod(&cc)
			res, err := Explore(cc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete && !res.Found() && cc.MaxStates == 0 {
				t.Fatalf("%s: not complete", cc.Describe())
			}
			if res.Found() {
				if res.ReplayErr != nil || res.Outcome.Property() != res.Property {
					t.Errorf("%s: the counterexample does not replay: %v", cc.Describe(), res.ReplayErr)
				}
			}
			return res
		}
		timed := run(func(cc *Config) { cc.AsyncTimers, cc.NoSleep = false, false })
		plain := run(func(*Config) {})
		sleep := run(func(cc *Config) { cc.NoSleep = false })
		inert := run(func(cc *Config) { cc.Inert = true })
		full := run(func(cc *Config) { cc.FullCertificates = true })
		sym := run(func(cc *Config) { cc.Symmetry = true })
		depth := func(r *Result) int { return len(r.Path) }
		name := c.VariantName()
		t.Logf("%-28s timed %-22q %d (%d states) | async %-22q %d (%d states), sleep %d, inert %d, full certificates %q %d, symmetry %q %d (%d -> %d states)",
			name, timed.Property, depth(timed), timed.States, plain.Property, depth(plain), plain.States, depth(sleep), depth(inert), full.Property, depth(full), sym.Property, depth(sym), full.States, sym.States)
		if timed.Found() && (plain.Property != timed.Property || depth(plain) > depth(timed)) {
			t.Errorf("%s: timed found %q at depth %d, asynchronous %q at depth %d", name, timed.Property, depth(timed), plain.Property, depth(plain))
		}
		if sleep.Property != plain.Property || depth(sleep) != depth(plain) {
			t.Errorf("%s: asynchronous, with sleep sets %q at depth %d, without %q at %d", name, sleep.Property, depth(sleep), plain.Property, depth(plain))
		}
		if inert.Property != plain.Property || depth(inert) > depth(plain) {
			t.Errorf("%s: asynchronous, inert discarded %q at depth %d, not %q at %d", name, inert.Property, depth(inert), plain.Property, depth(plain))
		}
		if sym.Property != full.Property || depth(sym) != depth(full) || !sym.Found() && sym.States > full.States {
			t.Errorf("%s: asynchronous, symmetry %q at depth %d (%d states), unreduced %q at %d (%d states)", name, sym.Property, depth(sym), sym.States, full.Property, depth(full), full.States)
		}
		if plain.Found() {
			found++
		}
	}
	if found == 0 {
		t.Error("no violation found: want some")
	}
}

// BenchmarkTimerSemantics explores one configuration whose timers fire
// while others are pending (an equivocating primary, a view change, 2
// timer expirations; states with more than 4 messages in flight not
// expanded) with timed timers merged by their order, timed timers with
// their time left hashed (--exact-timers) and asynchronous timers, one
// worker each: the states, the transitions, the CPU time per transition
// and per state, and the step memo's hits per transition.
func BenchmarkTimerSemantics(b *testing.B) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, mode := range []string{"timed-merged", "timed-exact", "async"} {
		c := Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 2, Inert: true,
			ExactTimers: mode == "timed-exact", AsyncTimers: mode == "async"}
		b.Run(mode, func(b *testing.B) {
			trans, states, hits, depth := 0, 0, 0, 0
			cpu0 := cpuTime()
			for b.Loop() {
				res, err := prunedOnePass(c, 4, 1)
				if err != nil || res.Found() || !res.Complete {
					b.Fatal(err, res.Property)
				}
				trans += res.Transitions
				states += res.States
				hits += res.MemoHits
				depth = res.Depth
			}
			b.ReportMetric(float64(states)/float64(b.N), "states")
			b.ReportMetric(float64(trans)/float64(b.N), "transitions")
			b.ReportMetric(float64(hits)/float64(trans), "memo-hits/transition")
			b.ReportMetric(float64(depth), "longest-path")
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(cpu*1e6/float64(trans), "cpu-µs/transition")
				b.ReportMetric(cpu*1e6/float64(states), "cpu-µs/state")
			}
		})
	}
}
