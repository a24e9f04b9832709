package explore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// peekConfigs are the echo and vote configurations the Peek tests run on:
// timed and asynchronous timers, exact timers, quiet timers, symmetry,
// drops, duplicates, crashes and inert discards.
var peekConfigs = []struct {
	name string
	m    func() *Model
	b    Bounds
}{
	{"echo2/drops+dups+crash", func() *Model { return echo2Model(2, 3) }, Bounds{Drops: 1, Duplicates: 1, Crashes: 1}},
	{"pings/timers+crash", func() *Model { return pingsModel(3, 1) }, Bounds{Drops: 1, Crashes: 1, TimerLimit: true, Timers: 2}},
	{"pings/exact", func() *Model { m := pingsModel(2); m.ExactTimers = true; return m }, Bounds{Duplicates: 1, TimerLimit: true, Timers: 2}},
	{"pings/quiet", func() *Model { return pingsModel(2) }, Bounds{Drops: 1, TimerLimit: true, Timers: 2, QuietTimers: true}},
	{"pings/async", func() *Model { return async(pingsModel(3, 2)) }, Bounds{Drops: 1, Crashes: 1, TimerLimit: true, Timers: 3}},
	{"sym/drops", func() *Model { return echo2(true, newPinger) }, Bounds{Drops: 1, Duplicates: 1}},
	{"sym/async", func() *Model { return async(echo2(true, newPinger)) }, Bounds{Drops: 2}},
	{"vote/inert", func() *Model { return voteModel(true, true) }, Bounds{Drops: 1, Duplicates: 1}},
}

// peekWalk takes random paths (seeded) of up to depth transitions on m
// within b. At every world of a path, for every choice c, it peeks c, applies
// c, and peeks c again (the memo now holds c's steps), on one engine e, and
// applies c on an engine that never peeks. It returns an error when a Peek
// that tells differs from the hash of e's Apply, or when e's Apply (world,
// effect, records) or its discard count differs from the other engine's
// (a Peek must leave the engine as it was); and how many Peeks told, of
// how many.
func peekWalk(m *Model, b Bounds, paths, depth int, seed uint64) (told, total int, err error) {
	e, ref := NewEngine(m), NewEngine(m)
	for _, x := range []*Engine{e, ref} {
		x.KeepRecords(true)
		x.CountFires(b.TimerLimit)
		x.quiet = b.QuietTimers
	}
	w0, _, err := e.Initial()
	if err != nil {
		return 0, 0, err
	}
	if _, _, err := ref.Initial(); err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x9eec))
	for p := range paths {
		w := w0
		var path []Choice
		for range depth {
			cs := e.Choices(nil, w, b)
			if len(cs) == 0 {
				break
			}
			var next *World
			pick := rng.IntN(len(cs))
			for i, c := range cs {
				h1, ok1 := e.Peek(w, c)
				nw, eff := e.Apply(w, c)
				h2, ok2 := e.Peek(w, c)
				got := describe(nw, eff, e.Records())
				rw, reff := ref.Apply(w, c)
				if want := describe(rw, reff, ref.Records()); got != want {
					return told, total, fmt.Errorf("path %d after %v, %v: Apply after a Peek gives\n  %s\nwithout Peeks\n  %s", p, path, c, got, want)
				}
				if e.discarded != ref.discarded {
					return told, total, fmt.Errorf("path %d after %v, %v: %d inert discards, without Peeks %d", p, path, c, e.discarded, ref.discarded)
				}
				for _, r := range []struct {
					h  uint64
					ok bool
				}{{h1, ok1}, {h2, ok2}} {
					total++
					if !r.ok {
						continue
					}
					told++
					if r.h != nw.Hash() {
						return told, total, fmt.Errorf("path %d after %v, %v: Peek says %x, Apply gives %x", p, path, c, r.h, nw.Hash())
					}
				}
				if i == pick {
					next = nw
				}
			}
			path = append(path, cs[pick])
			w = next
		}
	}
	return told, total, nil
}

// TestPeekSameAsApply: on random paths of every configuration, Peek's
// hash is the hash of Apply's world whenever Peek tells (it tells for most
// choices), and Peeks change nothing Apply then does; a Peek that forgets
// to remove the delivered or dropped message, or (with symmetry) the
// renaming, is caught.
func TestPeekSameAsApply(t *testing.T) {
	for _, tc := range peekConfigs {
		t.Run(tc.name, func(t *testing.T) {
			told, total, err := peekWalk(tc.m(), tc.b, 30, 14, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d of %d Peeks told", told, total)
			if told < total/3 {
				t.Fatalf("only %d of %d Peeks told: the test shows little", told, total)
			}
		})
	}
	for _, tc := range []struct {
		broken int
		config string
	}{{peekKeepsFlight, "echo2/drops+dups+crash"}, {peekKeepsFlight, "vote/inert"}, {peekPlainHash, "sym/drops"}, {peekPlainHash, "sym/async"}} {
		t.Run(fmt.Sprintf("broken=%d/%s", tc.broken, tc.config), func(t *testing.T) {
			i := slices.IndexFunc(peekConfigs, func(c struct {
				name string
				m    func() *Model
				b    Bounds
			}) bool {
				return c.name == tc.config
			})
			defer func() { brokenPeek = 0 }()
			brokenPeek = tc.broken
			_, _, err := peekWalk(peekConfigs[i].m(), peekConfigs[i].b, 30, 14, 1)
			if err == nil {
				t.Fatal("the broken Peek gives Apply's hashes: the test cannot fail")
			}
			t.Logf("caught: %v", err)
		})
	}
}

// TestPeekSameExploration: with Peek on and off, the iterative and the
// one-pass depth-first searches (one worker: the same states judged in
// the same order, the same leaves, counters and path; two workers: the
// same order-independent counters and leaves) explore the same; with a
// broken Peek they do not (so the searches do use it).
func TestPeekSameExploration(t *testing.T) {
	searches := []struct {
		name string
		o    Options
	}{
		{"iddfs", Options{DFS: true, Bounds: Bounds{Depth: 9}}},
		{"one-pass", Options{DFS: true, Bounds: Bounds{TimerLimit: true, Timers: 2}}},
		{"one-pass/records", Options{DFS: true, Records: true, Bounds: Bounds{TimerLimit: true, Timers: 2}}},
	}
	defer func() { peekOff, brokenPeek = false, 0 }()
	for _, tc := range peekConfigs {
		for _, sc := range searches {
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				o := sc.o
				o.Drops, o.Duplicates, o.Crashes, o.QuietTimers = tc.b.Drops, tc.b.Duplicates, tc.b.Crashes, tc.b.QuietTimers
				if tc.b.TimerLimit && sc.o.TimerLimit {
					o.Timers = tc.b.Timers
				}
				peekOff = true
				off := explored(t, tc.m(), o, false)
				peekOff = false
				if d := explored(t, tc.m(), o, false).diff(off); d != "" {
					t.Errorf("with Peek: %s", d)
				}
				if tc.name == "echo2/drops+dups+crash" || tc.name == "pings/timers+crash" {
					brokenPeek = peekKeepsFlight
					if d := explored(t, tc.m(), o, false).diff(off); d == "" {
						t.Error("with a broken Peek the search explores the same: it does not use Peek")
					}
					brokenPeek = 0
				}
				if !o.TimerLimit || off.stats.States >= 4000 {
					return // no one-pass search, or too large a space
				}
				// Two workers.
				run := func() (string, []uint64) {
					o := o
					o.Workers = 2
					l := leafSet(&o)
					r, err := Run(tc.m(), o)
					if err != nil {
						t.Fatal(err)
					}
					slices.Sort(*l)
					return pdfsCounters(r), *l
				}
				peekOff = true
				c0, l0 := run()
				peekOff = false
				c1, l1 := run()
				if c0 != c1 || !slices.Equal(l0, l1) {
					t.Errorf("2 workers with Peek: %s, %d leaves; without: %s, %d leaves", c1, len(l1), c0, len(l0))
				}
			})
		}
	}
}

// TestPeekSameMemoHits: the step memo's hits counted with Peek are those
// without it, with records kept on a model whose steps report events that
// carry a time (which Apply steps again rather than replay). It fails
// when a Peek counts such a hit.
func TestPeekSameMemoHits(t *testing.T) {
	defer func() { peekOff = false }()
	o := Options{DFS: true, Records: true, Bounds: Bounds{Depth: 8}}
	on := explored(t, eventsMemoModel(0), o, false)
	peekOff = true
	off := explored(t, eventsMemoModel(0), o, false)
	peekOff = false
	t.Logf("memo hits: %d with Peek, %d without; %d transitions", on.hits, off.hits, on.stats.Transitions)
	if on.hits != off.hits || on.hits == 0 {
		t.Errorf("memo hits: %d with Peek, %d without", on.hits, off.hits)
	}
	if d := on.diff(off); d != "" {
		t.Error(d)
	}
}
