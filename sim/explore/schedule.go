package explore

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// SendFate is what a path did with one network send.
type SendFate struct {
	From, To sim.NodeID
	Msg      sim.Message
	SentAt   sim.Time
	// Delivered holds the times the message (and its duplicates) were
	// delivered (to a crashed receiver: lost at that time).
	Delivered []sim.Time
	Dropped   int // copies dropped
	Copies    int // duplicates made (each adds a copy)
}

// CrashSpan is a crash of Node at At, recovered at Recover (0: never).
type CrashSpan struct {
	Node        sim.NodeID
	At, Recover sim.Time
}

// TimerFire is a timer that an asynchronous path (Model.AsyncTimers)
// fired before its deadline, at At: the kernel fires it then with
// sim.Config.Fires.
type TimerFire struct {
	Node  sim.NodeID
	Timer sim.TimerID
	At    sim.Time
}

// Schedule is the concrete timing of a path: everything the kernel needs to
// run the same schedule.
type Schedule struct {
	Sends   []SendFate // in send order
	Crashes []CrashSpan
	// Fires are the timers fired early (asynchronous timers only: timed
	// ones fire at their deadlines in the kernel too).
	Fires []TimerFire
	End   sim.Time // time of the last transition
	Final *World
}

// Replay re-executes path from m's initial world and returns its schedule.
// With asynchronous timers it fails if a pending timer's deadline is
// reached along the path (the kernel would fire it there): paths are far
// shorter than the protocols' timeouts (a transition is one Unit, about a
// microsecond).
func Replay(m *Model, path []Choice) (*Schedule, error) {
	e := NewEngine(m)
	sc := &Schedule{}
	e.sendHook = func(f *Flight) {
		sc.Sends = append(sc.Sends, SendFate{From: f.From, To: f.To, Msg: f.Msg, SentAt: f.SentAt})
	}
	w, _, err := e.Initial()
	if err != nil {
		return nil, err
	}
	var buf []Choice
	for i, c := range path {
		buf = e.Choices(buf[:0], w, Bounds{Drops: 1 << 30, Duplicates: 1 << 30, Crashes: 1 << 30})
		ok := false
		for _, d := range buf {
			if d.Kind == c.Kind && (d.Kind == Fire && (!w.async || d.Node == c.Node && d.Timer == c.Timer) || d.Kind != Fire && d.Msg == c.Msg && d.Node == c.Node) {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("explore: step %d (%v) of the path is not enabled on replay", i, c.Kind)
		}
		var f *Flight
		if c.Kind == Deliver || c.Kind == Drop || c.Kind == Duplicate {
			f = &w.Flight[c.Msg]
		}
		send := -1
		if f != nil {
			send = f.Send
		}
		if c.Kind == Fire && w.async {
			t := w.Timers[timerIndex(w, c.Node, c.Timer)]
			sc.Fires = append(sc.Fires, TimerFire{Node: t.Node, Timer: t.ID, At: w.Now + Unit})
		}
		w, _ = e.Apply(w, c)
		if w.async {
			for _, t := range w.Timers {
				if t.At <= w.Now {
					return nil, fmt.Errorf("explore: step %d of the path passes the deadline of node %d's timer %d (armed for %v, now %v): the kernel would fire it there, so the asynchronous path does not replay", i, t.Node, t.ID, t.At, w.Now)
				}
			}
		}
		switch c.Kind {
		case Deliver:
			sc.Sends[send].Delivered = append(sc.Sends[send].Delivered, w.Now)
		case Drop:
			sc.Sends[send].Dropped++
		case Duplicate:
			sc.Sends[send].Copies++
		case Crash:
			sc.Crashes = append(sc.Crashes, CrashSpan{Node: c.Node, At: w.Now})
		case Recover:
			for j := len(sc.Crashes) - 1; j >= 0; j-- {
				if sc.Crashes[j].Node == c.Node && sc.Crashes[j].Recover == 0 {
					sc.Crashes[j].Recover = w.Now
					break
				}
			}
		}
	}
	if m.KeepSent {
		spreadDeliveries(sc.Sends, e.cp)
	}
	sc.End, sc.Final = w.Now, w
	return sc, nil
}

// spreadDeliveries shares out the deliveries of a monotone network's path
// (Model.KeepSent) among identical sends (same sender, receiver and
// content), as the kernel needs them: there a send is delivered once, and
// once more when duplicated. Taken in time order, each delivery goes to the
// earliest identical send made before it that has fewer than two; when
// none has (one send delivered three times, say), the rest stay on the
// last send made before them, with more deliveries than the kernel can
// make (the caller reports that).
func spreadDeliveries(sends []SendFate, cp *Copier) {
	type link struct {
		from, to sim.NodeID
		h        uint64
	}
	groups := map[link][]int{}
	var order []link
	for i := range sends {
		s := &sends[i]
		k := link{s.From, s.To, cp.MessageHash(s.Msg)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		var at []sim.Time
		for _, i := range idx {
			at = append(at, sends[i].Delivered...)
			sends[i].Delivered = nil
		}
		slices.Sort(at)
		for _, t := range at {
			last := -1
			for _, i := range idx {
				if sends[i].SentAt >= t {
					break
				}
				last = i
				if len(sends[i].Delivered) < 2 {
					break
				}
			}
			if last >= 0 {
				sends[last].Delivered = append(sends[last].Delivered, t)
			}
		}
	}
}
