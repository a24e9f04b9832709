package explore

import (
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// keepSent returns m with a monotone network (Model.KeepSent).
func keepSent(m *Model) *Model {
	m.KeepSent = true
	return m
}

// subsetMissing returns how many vectors of a are not in b.
func subsetMissing(a, b map[string]bool) int {
	n, _ := diffVectors(a, b)
	return n
}

// TestKeepSentNodeVectors: on echo spaces with asynchronous timers and
// drops subsumed (the echo nodes count the messages they receive, so a
// re-delivery is never a no-op for them), the node vectors reached with a
// monotone network (Model.KeepSent) within a depth bound contain those of
// the consuming network within it, without duplicates and with as many
// duplicates as the depth (a path with Duplicate transitions, once they
// are left out, is a shorter monotone path delivering the same messages),
// and some more (a message delivered a third time: the kernel, and the
// consuming network, duplicate a send once). It fails when a delivery
// removes its message (brokenKeepSent): the vectors of the duplicates are
// then missed.
func TestKeepSentNodeVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    func() *Model
		o    Options
	}{
		{"echo2/depth=5", func() *Model { return async(echo2Model(2)) }, Options{Bounds: Bounds{Drops: 2, Depth: 5}}},
		{"echo2/faulty/depth=6", func() *Model { return faulty(async(echo2Model(1)), 2) }, Options{Bounds: Bounds{Depth: 6}}},
		{"echo2/crash/depth=5", func() *Model { return async(echo2Model(2, 0, 3)) }, Options{Bounds: Bounds{Drops: 1, Crashes: 1, Depth: 5}}},
		{"pings/timers=2/depth=7", func() *Model { return async(pingsModel(2)) }, Options{DFS: true, Bounds: Bounds{Drops: 1, TimerLimit: true, Timers: 2, Depth: 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.SubsumeDrops = true
			consuming, rc := nodeVectors(t, tc.m(), o)
			od := o
			od.Duplicates = o.Depth
			dups, rd := nodeVectors(t, tc.m(), od)
			mono, rm := nodeVectors(t, keepSent(tc.m()), o)
			brokenKeepSent = true
			broken, _ := nodeVectors(t, keepSent(tc.m()), o)
			brokenKeepSent = false
			t.Logf("consuming: %d states, %d node vectors; with %d duplicates: %d states, %d node vectors; monotone: %d states, %d transitions, %d node vectors",
				rc.States, len(consuming), od.Duplicates, rd.States, len(dups), rm.States, rm.Transitions, len(mono))
			if n := subsetMissing(consuming, mono); n != 0 {
				t.Errorf("%d node vectors of the consuming network not reached by the monotone one", n)
			}
			if n := subsetMissing(dups, mono); n != 0 {
				t.Errorf("%d node vectors of the consuming network with duplicates not reached by the monotone one", n)
			}
			if n := subsetMissing(mono, consuming); n == 0 {
				t.Errorf("the monotone network reaches no node vector the consuming one misses: these echo spaces re-deliver nothing?")
			}
			if n := subsetMissing(dups, broken); n == 0 {
				t.Errorf("a monotone network whose deliveries consume misses no node vector: the test cannot fail")
			}
		})
	}
}

// TestKeepSentSet: identical sends are one in-flight message, a delivery
// leaves its message in flight, and a re-delivery that changes nothing
// reaches the same state (a self-loop: a revisit). A pinger whose pings
// and pongs are all in flight: delivering a PONG twice counts it twice (the
// echo pinger is not idempotent), so the states differ.
func TestKeepSentSet(t *testing.T) {
	m := keepSent(async(pingsModel(1)))
	e := NewEngine(m)
	w, _, err := e.Initial()
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Flight) != 2 {
		t.Fatalf("initial flight %d messages, want the 2 pings", len(w.Flight))
	}
	b := Bounds{SubsumeDrops: true}
	cs := e.Choices(nil, w, b)
	for _, c := range cs {
		if c.Kind == Duplicate || c.Kind == Drop {
			t.Errorf("choice %v offered by a monotone network with drops subsumed", c.Kind)
		}
	}
	// Deliver the first ping: it stays, and the pong joins it.
	w1, _ := e.Apply(w, Choice{Kind: Deliver, Msg: 0})
	if len(w1.Flight) != 3 {
		t.Fatalf("after a delivery: %d in flight, want 3 (2 pings, 1 pong)", len(w1.Flight))
	}
	// Deliver it again: the ponger counts it again (a new state), but its
	// pong is identical to the one in flight: still 3 messages.
	w2, _ := e.Apply(w1, Choice{Kind: Deliver, Msg: 0})
	if len(w2.Flight) != 3 {
		t.Errorf("after a re-delivery: %d in flight, want 3 (the pong sent again is the one in flight)", len(w2.Flight))
	}
	if w2.Hash() == w1.Hash() {
		t.Errorf("a re-delivery to a counting ponger reached the same state")
	}
	// A consuming network removes it.
	m.KeepSent = false
	w3, _ := e.Apply(w, Choice{Kind: Deliver, Msg: 0})
	if len(w3.Flight) != 2 {
		t.Errorf("consuming network: %d in flight after a delivery, want 2", len(w3.Flight))
	}
	m.KeepSent = true
	// Run refuses it where it is not sound.
	for _, o := range []Options{
		{Bounds: Bounds{Depth: 2}},
		{Bounds: Bounds{Depth: 2, SubsumeDrops: true, QuietTimers: true}},
		{Bounds: Bounds{Depth: 2, SubsumeDrops: true}, Sleep: true},
	} {
		if _, err := Run(keepSent(async(pingsModel(1))), o); err == nil {
			t.Errorf("%+v: Run took a monotone network", o)
		}
	}
	if _, err := Run(keepSent(pingsModel(1)), Options{Bounds: Bounds{Depth: 2, SubsumeDrops: true}}); err == nil {
		t.Error("Run took a monotone network with timed timers")
	}
}

// TestSpreadDeliveries: a monotone path's deliveries of one message are
// shared out among its identical sends in time order, at most two each
// (the original and a duplicate) and never before a send; what does not
// fit stays on the last send made before it (three deliveries of one send
// here), and other messages are not touched.
func TestSpreadDeliveries(t *testing.T) {
	cp := &Copier{}
	a, b := &echo.Ping{Round: 1}, &echo.Ping{Round: 2}
	sends := []SendFate{
		{From: 0, To: 1, Msg: a, SentAt: 10, Delivered: []sim.Time{11, 12, 13, 40}},
		{From: 0, To: 2, Msg: a, SentAt: 10, Delivered: []sim.Time{15}},
		{From: 0, To: 1, Msg: b, SentAt: 12, Delivered: []sim.Time{14}},
		{From: 0, To: 1, Msg: a, SentAt: 30},
	}
	spreadDeliveries(sends, cp)
	want := [][]sim.Time{{11, 12, 13}, {15}, {14}, {40}}
	for i, s := range sends {
		if !slices.Equal(s.Delivered, want[i]) {
			t.Errorf("send %d: delivered at %v, want %v", i, s.Delivered, want[i])
		}
	}
}
