package explore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// TestPeekSameAsApplyPBFT: on random paths of the real replicas (the
// target's configuration with timed and asynchronous timers, symmetry,
// exact timers, crashes, duplicates), whenever Engine.Peek tells a
// successor's hash it is the hash of the world Apply builds, and it tells
// for most choices once the memo has seen their steps. (The sim/explore
// tests show that a Peek forgetting the delivered message or the renaming
// fails this comparison.)
func TestPeekSameAsApplyPBFT(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 3, Inert: true, Byzantine: equivocate0},
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 3, Inert: true, Byzantine: equivocate0, AsyncTimers: true, Symmetry: true},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, TimerLimit: true, Timers: 2, Inert: true, Byzantine: equivocate0, Symmetry: true},
		{Nodes: 4, Requests: 1, Duplicates: 1, Crashes: 1, Views: 1, TimerLimit: true, Timers: 2, ExactTimers: true},
		{Nodes: 4, Requests: 2, Drops: 1, Crashes: 1, Views: 1, TimerLimit: true, Timers: 2, AsyncTimers: true, Inert: true},
	} {
		name := fmt.Sprintf("drops=%d/dups=%d/crashes=%d/async=%v/sym=%v/exact=%v", c.Drops, c.Duplicates, c.Crashes, c.AsyncTimers, c.Symmetry, c.ExactTimers)
		t.Run(name, func(t *testing.T) {
			b := engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, TimerLimit: c.TimerLimit, Timers: c.Timers}
			told, total := 0, 0
			walkPBFT(t, c, b, rand.New(rand.NewPCG(7, 0x9eec)), 60, func(e *engine.Engine, w *engine.World, ch engine.Choice, where func() string) *engine.World {
				h1, ok1 := e.Peek(w, ch)
				nw, _ := e.Apply(w, ch)
				h2, ok2 := e.Peek(w, ch)
				for _, r := range []struct {
					h  uint64
					ok bool
				}{{h1, ok1}, {h2, ok2}} {
					total++
					if r.ok {
						told++
						if r.h != nw.Hash() {
							t.Fatalf("%s, %v: Peek says %x, Apply gives %x", where(), ch, r.h, nw.Hash())
						}
					}
				}
				return nw
			})
			t.Logf("%d of %d Peeks told", told, total)
			if told < total/3 {
				t.Fatalf("only %d of %d Peeks told: the test shows little", told, total)
			}
		})
	}
}

// TestSelfLoopSameAsApplyPBFT: on random paths of the real replicas with a
// monotone network (the target's configuration with --keep-sent, with and
// without symmetry, and with a crash), whenever Engine.SelfLoop says a
// re-delivery reaches its world again, Apply's world has that world's hash,
// and it says so for many choices. (The sim/explore tests show that a
// SelfLoop taking a step that changes its node for one fails the
// searches' comparison.)
func TestSelfLoopSameAsApplyPBFT(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 2, Inert: true, Byzantine: equivocate0, AsyncTimers: true, Symmetry: true, KeepSent: true},
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 2, Inert: true, Byzantine: equivocate0, AsyncTimers: true, KeepSent: true},
		{Nodes: 4, Requests: 1, Drops: 1, Crashes: 1, Views: 1, TimerLimit: true, Timers: 2, AsyncTimers: true, KeepSent: true},
	} {
		name := fmt.Sprintf("crashes=%d/sym=%v/inert=%v", c.Crashes, c.Symmetry, c.Inert)
		t.Run(name, func(t *testing.T) {
			b := engine.Bounds{Drops: c.Drops, Crashes: c.Crashes, TimerLimit: c.TimerLimit, Timers: c.Timers, SubsumeDrops: true}
			told, total := 0, 0
			walkPBFT(t, c, b, rand.New(rand.NewPCG(11, 0x5e1f)), 80, func(e *engine.Engine, w *engine.World, ch engine.Choice, where func() string) *engine.World {
				loop := e.SelfLoop(w, ch)
				nw, _ := e.Apply(w, ch)
				total++
				if loop {
					told++
					if nw.Hash() != w.Hash() {
						t.Fatalf("%s, %v: SelfLoop says the world is reached again, Apply gives hash %x, not %x", where(), ch, nw.Hash(), w.Hash())
					}
				}
				return nw
			})
			t.Logf("%d of %d choices told self-loops", told, total)
			if told < total/10 {
				t.Fatalf("only %d of %d choices told self-loops: the test shows little", told, total)
			}
		})
	}
}

// walkPBFT walks 12 random paths of up to steps transitions through c's
// model under bounds b (drawn from rng), calling visit on every choice of
// every world on the way; visit applies the choice and returns the world it
// reached, and the walk goes on from one of them. where names the path.
func walkPBFT(t *testing.T, c Config, b engine.Bounds, rng *rand.Rand, steps int, visit func(e *engine.Engine, w *engine.World, ch engine.Choice, where func() string) *engine.World) {
	t.Helper()
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewEngine(m)
	e.KeepRecords(true)
	e.CountFires(true)
	w0, _, err := e.Initial()
	if err != nil {
		t.Fatal(err)
	}
	for p := range 12 {
		w := w0
		var path []engine.Choice
		where := func() string { return fmt.Sprintf("path %d after %v", p, path) }
		for range steps {
			if m.Prune != nil && m.Prune(w) {
				break
			}
			cs := e.Choices(nil, w, b)
			if len(cs) == 0 {
				break
			}
			pick := rng.IntN(len(cs))
			var next *engine.World
			for i, ch := range cs {
				if nw := visit(e, w, ch, where); i == pick {
					next = nw
				}
			}
			path = append(path, cs[pick])
			w = next
		}
	}
}
