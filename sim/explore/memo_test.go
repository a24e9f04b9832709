package explore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// trail is what an exploration did, in order: the hash of every judged
// state and of every leaf, and its counters.
type trail struct {
	judged, leaves []uint64
	stats          Stats
	path           []Choice
	property       string
	hits           int
}

func explored(t *testing.T, m *Model, o Options, violate bool) trail {
	t.Helper()
	var tr trail
	o.Check = func(w *World, _ []Record) (string, string) {
		tr.judged = append(tr.judged, w.Hash())
		// A "violation" deep in the space, so that the path found is
		// compared too.
		if violate && w.Depth >= 7 && len(w.Flight) == 0 {
			return "quiet-at-7", ""
		}
		return "", ""
	}
	o.Leaf = func(w *World) { tr.leaves = append(tr.leaves, w.Hash()) }
	o.MaxStates = 4000 // a broken memo may not end
	res, err := Run(m, o)
	if err != nil {
		t.Fatal(err)
	}
	tr.stats, tr.path, tr.property = res.Stats, res.Path, res.Property
	tr.hits = res.MemoHits
	tr.stats.Elapsed, tr.stats.MemoHits = 0, 0
	return tr
}

func (a trail) diff(b trail) string {
	switch {
	case a.stats != b.stats:
		return fmt.Sprintf("stats %+v vs %+v", a.stats, b.stats)
	case fmt.Sprint(a.judged) != fmt.Sprint(b.judged):
		return fmt.Sprintf("judged states differ (%d vs %d)", len(a.judged), len(b.judged))
	case fmt.Sprint(a.leaves) != fmt.Sprint(b.leaves):
		return fmt.Sprintf("leaves differ (%d vs %d)", len(a.leaves), len(b.leaves))
	case fmt.Sprint(a.path) != fmt.Sprint(b.path) || a.property != b.property:
		return fmt.Sprintf("violation %q %v vs %q %v", a.property, a.path, b.property, b.path)
	}
	return ""
}

// TestStepMemoSameExploration: with the step memo (default size, and 4
// slots so that entries are evicted all the time) every search judges the
// same states in the same order, reaches the same leaves, counts the same
// and finds the same path as with the memo off, while taking steps from
// the memo; a memo whose key leaves out the sender and the message (the
// broken variant) is caught by the same comparison.
func TestStepMemoSameExploration(t *testing.T) {
	opts := map[string]Options{
		"bfs":       {Bounds: Bounds{Drops: 1, Duplicates: 1, Depth: 9}},
		"bfs/sleep": {Bounds: Bounds{Drops: 1, Crashes: 1, Depth: 8}, Sleep: true},
		"dfs":       {Bounds: Bounds{Drops: 1, Depth: 9}, DFS: true},
		"dfs/timers": {Bounds: Bounds{Drops: 2, TimerLimit: true, Timers: 2}, DFS: true,
			Records: true},
		"dpor": {Bounds: Bounds{Duplicates: 1, Depth: 6}, DPOR: true},
	}
	for name, o := range opts {
		for _, rounds := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/rounds=%d", name, rounds), func(t *testing.T) {
				model := func(slots int, broken bool) *Model {
					m := echo2Model(rounds, 3)
					m.StepMemo, m.brokenMemo = slots, broken
					return m
				}
				// A violation ends the one-pass searches at once.
				off := explored(t, model(-1, false), o, !o.DPOR && !o.TimerLimit)
				for _, slots := range []int{0, 4} {
					m := model(slots, false)
					on := explored(t, m, o, !o.DPOR && !o.TimerLimit)
					if d := on.diff(off); d != "" {
						t.Errorf("memo of %d slots: %s", slots, d)
					}
					if on.hits == 0 {
						t.Errorf("memo of %d slots: no step taken from it", slots)
					}
				}
				if rounds == 2 {
					if d := explored(t, model(0, true), o, !o.DPOR && !o.TimerLimit).diff(off); d == "" {
						t.Error("a memo keyed without sender and message explores the same: the comparison cannot fail")
					}
				}
			})
		}
	}
}

// TestStepMemoEventsNotReplayed: a step reporting an event is not taken
// from the memo when the engine keeps records (its events are reported
// again, with the time of the step), and is taken from it otherwise.
func TestStepMemoEventsNotReplayed(t *testing.T) {
	for _, keep := range []bool{true, false} {
		e := NewEngine(echoModel())
		e.KeepRecords(keep)
		w0, _, err := e.Initial()
		if err != nil {
			t.Fatal(err)
		}
		// Deliver the ping (the ponger reports "ping"?), then the pong
		// (the pinger reports "pong"), twice from the same world.
		w1, _ := e.Apply(w0, Choice{Kind: Deliver, Msg: 0})
		events := 0
		for range 2 {
			e.Apply(w1, Choice{Kind: Deliver, Msg: 0})
			for _, r := range e.Records() {
				if r.Kind == sim.RecEvent {
					events++
				}
			}
		}
		hits := e.memoHits
		if keep && (events != 2 || hits != 0) {
			t.Errorf("keeping records: %d events, %d memo hits over two pongs; want 2, 0", events, hits)
		}
		if !keep && hits != 1 {
			t.Errorf("without records: %d memo hits over two pongs; want 1", hits)
		}
	}
}

// TestReleasedWorldsReused: Apply on an engine whose released worlds hold
// other states (flight, timers, budgets, depth, records) makes the same
// worlds as a fresh engine, reusing their memory; every step of random
// walks over echo2 with drops, duplicates, crashes and timers is compared.
func TestReleasedWorldsReused(t *testing.T) {
	m := echo2Model(2, 3)
	b := Bounds{Drops: 2, Duplicates: 1, Crashes: 1}
	fresh, reuse := NewEngine(m), NewEngine(m)
	fresh.KeepRecords(true)
	reuse.KeepRecords(true)
	w0, _, err := fresh.Initial()
	if err != nil {
		t.Fatal(err)
	}
	reused := 0
	var junk []*World
	walkChoices(fresh, w0, b, 40, func(walk, step int, w *World, cs []Choice, c Choice, next *World, want string) {
		if _, r := applySame(t, reuse, w, c, want, fmt.Sprintf("walk %d step %d (%v): with released worlds", walk, step, c.Kind)); r {
			reused++
		}
		// Another world from w, released: the next Apply reuses it.
		x, _ := reuse.Apply(w, cs[0])
		x.trace = &recChain{}
		junk = append(junk, x)
		reuse.Release(junk[len(junk)-1])
	})
	if reused == 0 {
		t.Fatal("no released world was reused: the test shows nothing")
	}
}

// walkChoices takes walks paths of up to 12 steps from w0 on engine e
// within b, choosing transitions by a fixed pattern, and calls visit at each
// step with the world w, its choices cs, the choice c taken, and the world
// next that e's Apply of c gives, which the path then continues from, with
// its description (describe).
func walkChoices(e *Engine, w0 *World, b Bounds, walks int, visit func(walk, step int, w *World, cs []Choice, c Choice, next *World, want string)) {
	for walk := range walks {
		w := w0
		for step := 0; step < 12; step++ {
			cs := e.Choices(nil, w, b)
			if len(cs) == 0 {
				break
			}
			c := cs[(walk*7+step*3)%len(cs)]
			next, eff := e.Apply(w, c)
			visit(walk, step, w, cs, c, next, describe(next, eff, e.Records()))
			w = next
		}
	}
}

// applySame applies c to w on engine e, fails the test (saying where) if
// the result is not described as want, and returns it and whether e reused
// a released world for it.
func applySame(t *testing.T, e *Engine, w *World, c Choice, want, where string) (*World, bool) {
	t.Helper()
	spare := len(e.spare)
	got, eff := e.Apply(w, c)
	if g := describe(got, eff, e.Records()); g != want {
		t.Fatalf("%s\n  %s\nwant\n  %s", where, g, want)
	}
	return got, spare > len(e.spare)
}

// describe formats a world by content (not the addresses of its nodes and
// messages).
func describe(w *World, eff Effect, recs []Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "snh %v ", w.snh)
	fmt.Fprintf(&b, "hash %x nh %v down %v now %v seq %d sends %d budgets %d/%d/%d/%d depth %d trace %v ghosts %d eff %+v;",
		w.Hash(), w.nh, w.Down, w.Now, w.seq, w.sends, w.Drops, w.Dups, w.Crashes, w.Fires, w.Depth, w.trace, len(w.ghosts), eff)
	for _, f := range w.Flight {
		fmt.Fprintf(&b, " f%d>%d:%x@%v#%d,%v,%v", f.From, f.To, f.H, f.SentAt, f.Send, f.Copy, f.Duped)
	}
	fmt.Fprintf(&b, " timers %+v cap>=len %v;", w.Timers, cap(w.Flight) >= len(w.Flight))
	for _, r := range recs {
		fmt.Fprintf(&b, " %v@%v %d>%d %v", r.Kind, r.Time, r.From, r.To, r.Msg != nil)
	}
	return b.String()
}

// reporter wraps a node and reports a time-free event (its step count and
// the input's kind) after each of its steps, and after its start.
type reporter struct {
	Inner sim.Node
	steps int
}

func (r *reporter) Start(now sim.Time, out *sim.Output) {
	r.Inner.Start(now, out)
	out.Report(&stepEvent{Steps: r.steps})
}

func (r *reporter) Step(now sim.Time, in sim.Input, out *sim.Output) {
	r.Inner.Step(now, in, out)
	r.steps++
	out.Report(&stepEvent{Steps: r.steps, Kind: in.Kind})
}

// stepEvent is reporter's event: no time in it.
type stepEvent struct {
	Steps int
	Kind  sim.InputKind
}

func (e *stepEvent) Name() string { return "step" }

func (e *stepEvent) AppendCanonical(b []byte) []byte {
	return fmt.Appendf(b, "%d/%d", e.Steps, e.Kind)
}

// eventsMemoModel is echo2 (2 rounds) with every node reporting a
// time-free event per step; the pingers also report echo's PongEvent,
// which carries a round-trip time.
func eventsMemoModel(slots int) *Model {
	m := echo2Model(2, 3)
	inner := m.New
	m.New = func() ([]sim.Node, error) {
		nodes, err := inner()
		for i, nd := range nodes {
			nodes[i] = &reporter{Inner: nd}
		}
		return nodes, err
	}
	m.StepMemo = slots
	return m
}

// eventRecords formats the records' events by content.
func eventRecords(recs []Record) (string, int) {
	var b strings.Builder
	n := 0
	for _, r := range recs {
		if r.Kind == sim.RecEvent {
			fmt.Fprintf(&b, " %v@%v %d:%s=%s", r.Kind, r.Time, r.From, r.Event.Name(), r.Event.AppendCanonical(nil))
			n++
		}
	}
	return b.String(), n
}

// memoEventsDiff walks random paths (with drops, duplicates, a crash and
// timer expirations) on an engine without
// the memo and on one with it, both keeping records, and returns the first
// step whose world or records (the events' contents included) differ, the
// steps taken from the memo that reported events, and the events compared.
func memoEventsDiff(t *testing.T) (diff string, replayed, events int) {
	t.Helper()
	off, on := NewEngine(eventsMemoModel(-1)), NewEngine(eventsMemoModel(0))
	off.KeepRecords(true)
	on.KeepRecords(true)
	w0, _, err := off.Initial()
	if err != nil {
		t.Fatal(err)
	}
	b := Bounds{Drops: 2, Duplicates: 1, Crashes: 1, TimerLimit: true, Timers: 3}
	walkChoices(off, w0, b, 60, func(walk, step int, w *World, _ []Choice, c Choice, next *World, want string) {
		if diff != "" {
			return
		}
		wantEv, n := eventRecords(off.Records())
		hits := on.memoHits
		got, eff := on.Apply(w, c)
		recs := on.Records()
		gotEv, _ := eventRecords(recs)
		if g := describe(got, eff, recs); g != want || gotEv != wantEv {
			diff = fmt.Sprintf("walk %d step %d (%v):\n  %s%s\nwant\n  %s%s", walk, step, c.Kind, g, gotEv, want, wantEv)
		}
		events += n
		if on.memoHits > hits && n > 0 {
			replayed++
		}
	})
	return diff, replayed, events
}

// TestStepMemoReplaysEvents: steps whose events carry no time are taken
// from the memo with their events while records are kept, and every world
// and record (each event's content and time) is the same as without the
// memo; a memo that replays such steps without their events (the broken
// variant) is caught by the comparison. (Timed timers only: echo's PING
// carries its send time, so with asynchronous timers echo breaks what the
// memo assumes; TestStepMemoSamePBFT covers them on the replicas.)
func TestStepMemoReplaysEvents(t *testing.T) {
	diff, replayed, events := memoEventsDiff(t)
	if diff != "" {
		t.Fatal(diff)
	}
	if replayed == 0 || events == 0 {
		t.Fatalf("%d steps with events taken from the memo, %d events compared: the test shows nothing", replayed, events)
	}
	t.Logf("%d steps with events taken from the memo, %d events compared", replayed, events)
	brokenMemoEvents = true
	defer func() { brokenMemoEvents = false }()
	if diff, _, _ := memoEventsDiff(t); diff == "" {
		t.Error("a memo replaying steps without their events walks the same: the comparison cannot fail")
	}
}
