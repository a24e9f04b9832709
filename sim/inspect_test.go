package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// verdictFilter gives one verdict to the message labelled label.
type verdictFilter struct {
	label string
	v     sim.Verdict
}

func (f verdictFilter) Filter(_ sim.Time, _, _ sim.NodeID, m sim.Message) sim.Verdict {
	if n, ok := m.(*note); ok && n.label == f.label {
		return f.v
	}
	return sim.Verdict{}
}

// TestDrivenSchedule: Verdict.At moves one delivery, Lose loses it on
// arrival, DuplicateAt adds a copy, and none of them moves any other
// message (the link's draws are made as usual).
func TestDrivenSchedule(t *testing.T) {
	ms := func(n int) sim.Time { return sim.Time(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name string
		v    sim.Verdict
		want string // what node 1 saw of b, and when c arrived
	}{
		{"none", sim.Verdict{}, "[a b c]"},
		{"at", sim.Verdict{At: ms(1)}, "[b a c]"},
		{"at before the send is the send", sim.Verdict{At: 1}, "[b a c]"},
		{"lose", sim.Verdict{At: ms(1), Lose: true}, "[a c] lost b@1ms"},
		{"duplicate", sim.Verdict{DuplicateAt: ms(2)}, "[b a b c]"},
	}
	var base []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			sender := &script{start: func(_ sim.Time, out *sim.Output) {
				for _, l := range []string{"a", "b", "c"} {
					out.Send(1, &note{label: l})
				}
			}}
			recv := &script{step: func(now sim.Time, in sim.Input, _ *sim.Output) {
				got = append(got, in.Msg.(*note).label)
			}}
			c := &collect{}
			cfg := sim.Config{Seed: 3, Nodes: []sim.Node{sender, recv}, Sinks: []sim.Sink{c}}
			cfg.Network.Default.Delay = mustDelay(t, "uniform:5ms:10ms")
			cfg.Network.Filters = []sim.Filter{verdictFilter{"b", tc.v}}
			mustRun(t, cfg)
			s := fmt.Sprint(got)
			var at []string
			for _, r := range c.recs {
				if r.Kind == sim.RecDrop {
					s += fmt.Sprintf(" lost %s@%v", r.Msg.(*note).label, r.Time)
				}
				if r.Kind == sim.RecDeliver && r.Msg.(*note).label != "b" {
					at = append(at, r.Time.String())
				}
			}
			if s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
			if base == nil {
				base = at
			} else if fmt.Sprint(at) != fmt.Sprint(base) {
				t.Errorf("a and c arrived at %v, without the verdict at %v", at, base)
			}
		})
	}
}

// TestFires: a fire runs a pending timer early, once; a fire of a timer not
// pending, or of a crashed node, does nothing.
func TestFires(t *testing.T) {
	ms := func(n int) sim.Time { return sim.Time(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name    string
		fires   []sim.Fire
		crashes []sim.Crash
		want    string
	}{
		{"no fire", nil, nil, "[1@10ms]"},
		{"early", []sim.Fire{{Node: 0, Timer: 1, At: ms(3)}}, nil, "[1@3ms]"},
		{"not pending", []sim.Fire{{Node: 0, Timer: 2, At: ms(3)}}, nil, "[1@10ms]"},
		{"after it fired", []sim.Fire{{Node: 0, Timer: 1, At: ms(12)}}, nil, "[1@10ms]"},
		{"node down", []sim.Fire{{Node: 0, Timer: 1, At: ms(3)}}, []sim.Crash{{Node: 0, At: ms(2)}}, "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			nd := &script{
				start: func(_ sim.Time, out *sim.Output) { out.SetTimer(1, 10*time.Millisecond) },
				step: func(now sim.Time, in sim.Input, _ *sim.Output) {
					if in.Kind == sim.InputTimer {
						got = append(got, fmt.Sprintf("%d@%v", in.Timer, now))
					}
				},
			}
			k, _ := mustRun(t, sim.Config{Nodes: []sim.Node{nd}, Fires: tc.fires, Crashes: tc.crashes})
			if fmt.Sprint(got) != tc.want {
				t.Errorf("fired %v, want %s", got, tc.want)
			}
			if len(k.Timers(0)) != 0 {
				t.Errorf("timers left: %v", k.Timers(0))
			}
		})
	}
	bad := sim.Config{Nodes: []sim.Node{&script{}}, Fires: []sim.Fire{{Node: 3}}}
	if err := bad.Validate(); err == nil {
		t.Error("a fire of node 3 in a run of 1 node validated")
	}
}

// TestTimersAccessor lists a node's live timers, earliest first.
func TestTimersAccessor(t *testing.T) {
	nd := &script{start: func(_ sim.Time, out *sim.Output) {
		out.SetTimer(7, 30*time.Millisecond)
		out.SetTimer(5, 10*time.Millisecond)
		out.SetTimer(6, 20*time.Millisecond)
		out.CancelTimer(6)
	}}
	k, err := sim.New(sim.Config{Nodes: []sim.Node{nd}})
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Timers(0)) != 0 {
		t.Fatalf("before the start: %v", k.Timers(0))
	}
	k.Step() // starts the node, fires timer 5
	got := fmt.Sprint(k.Timers(0))
	if got != "[{0 7 30ms}]" {
		t.Fatalf("timers after one step: %s", got)
	}
	if k.Timers(1) != nil || k.Timers(-1) != nil {
		t.Fatal("timers of a node that does not exist")
	}
}
