package sim_test

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestClockDrift: a timer set for 100ms of local time fires after
// 100ms/(1+ppm/1e6) of virtual time; perfect clocks are unaffected.
func TestClockDrift(t *testing.T) {
	for _, c := range []struct {
		ppm  float64
		want sim.Time
	}{{0, 100 * ms}, {250000, 80 * ms}, {-200000, 125 * ms}, {100, sim.Time(99990001)}} {
		fired := make([]sim.Time, 2)
		node := func(i int) *script {
			return &script{
				start: func(_ sim.Time, out *sim.Output) { out.SetTimer(1, 100*time.Millisecond) },
				step: func(now sim.Time, in sim.Input, _ *sim.Output) {
					if in.Kind == sim.InputTimer {
						fired[i] = now
					}
				},
			}
		}
		cfg := sim.Config{Nodes: []sim.Node{node(0), node(1)}, Clocks: []sim.Clock{{Node: 1, DriftPPM: c.ppm}}}
		mustRun(t, cfg)
		if fired[0] != 100*ms || fired[1] != c.want {
			t.Errorf("ppm %v: timers fired at %v, want [100ms %v]", c.ppm, fired, c.want)
		}
	}
}

func TestClockValidate(t *testing.T) {
	nodes := []sim.Node{&script{}, &script{}}
	for _, cs := range [][]sim.Clock{
		{{Node: 2, DriftPPM: 1}},
		{{Node: 0, DriftPPM: 600000}},
		{{Node: 0, DriftPPM: -600000}},
		{{Node: 0, DriftPPM: 1}, {Node: 0, DriftPPM: 2}},
	} {
		if _, err := sim.New(sim.Config{Nodes: nodes, Clocks: cs}); err == nil {
			t.Errorf("%+v accepted", cs)
		}
	}
}

// TestClockJumps: a timer fires when the local clock reaches its local
// deadline. A forward jump that skips the deadline fires it at the jump, a
// smaller one brings it forward by its size, a backward jump delays it by
// its size, and jumps at or before the time it was set or after it fired
// change nothing; drift scales the time between jumps. An offset alone
// changes nothing. The timer record carries the local time.
func TestClockJumps(t *testing.T) {
	j := func(at sim.Time, by time.Duration) sim.ClockJump { return sim.ClockJump{At: at, By: by} }
	for _, c := range []struct {
		name  string
		clock sim.Clock
		want  sim.Time // the timer is set at 0 for 100ms local
		local sim.Time // the local clock when it fires
	}{
		{"perfect", sim.Clock{}, 100 * ms, 100 * ms},
		{"offset only", sim.Clock{Offset: time.Hour}, 100 * ms, sim.Time(time.Hour) + 100*ms},
		{"negative offset", sim.Clock{Offset: -time.Minute}, 100 * ms, -sim.Time(time.Minute) + 100*ms},
		{"forward jump skips deadline", sim.Clock{Jumps: []sim.ClockJump{j(50*ms, time.Second)}}, 50 * ms, 1050 * ms},
		{"forward jump brings it forward", sim.Clock{Jumps: []sim.ClockJump{j(50*ms, 30*time.Millisecond)}}, 70 * ms, 100 * ms},
		{"backward jump delays it", sim.Clock{Jumps: []sim.ClockJump{j(50*ms, -40*time.Millisecond)}}, 140 * ms, 100 * ms},
		{"jump at the set time", sim.Clock{Jumps: []sim.ClockJump{j(0, time.Second)}}, 100 * ms, 1100 * ms},
		{"jump after it fired", sim.Clock{Jumps: []sim.ClockJump{j(200*ms, -time.Second)}}, 100 * ms, 100 * ms},
		{"two jumps cancel", sim.Clock{Jumps: []sim.ClockJump{j(20*ms, 50*time.Millisecond), j(30*ms, -50*time.Millisecond)}}, 100 * ms, 100 * ms},
		// 1.25x fast: 40ms virtual = 50ms local, then -30ms leaves 80ms
		// local = 64ms virtual.
		{"drift then backward jump", sim.Clock{DriftPPM: 250000, Jumps: []sim.ClockJump{j(40*ms, -30*time.Millisecond)}}, 104 * ms, 100 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			var fired sim.Time = -1
			n := &script{
				start: func(_ sim.Time, out *sim.Output) { out.SetTimer(1, 100*time.Millisecond) },
				step: func(now sim.Time, in sim.Input, _ *sim.Output) {
					if in.Kind == sim.InputTimer {
						fired = now
					}
				},
			}
			cl := c.clock
			cl.Node = 0
			rec := &timerLocal{}
			mustRun(t, sim.Config{Nodes: []sim.Node{n}, Clocks: []sim.Clock{cl}, Sinks: []sim.Sink{rec}})
			if fired != c.want {
				t.Errorf("fired at %v, want %v", fired, c.want)
			}
			perfect := c.clock.DriftPPM == 0 && c.clock.Offset == 0 && len(c.clock.Jumps) == 0
			if rec.has == perfect || (!perfect && rec.local != c.local) {
				t.Errorf("trace local time %v (set %v), want %v (set %v)", rec.local, rec.has, c.local, !perfect)
			}
		})
	}
}

// timerLocal keeps the local time of the last timer record.
type timerLocal struct {
	local sim.Time
	has   bool
}

func (s *timerLocal) Record(r *sim.Record) {
	if r.Kind == sim.RecTimer {
		s.local, s.has = r.Local, r.HasLocal
	}
}

func TestClockValidateJumps(t *testing.T) {
	nodes := []sim.Node{&script{}}
	for _, cl := range []sim.Clock{
		{Offset: 25 * time.Hour},
		{Offset: -25 * time.Hour},
		{Jumps: []sim.ClockJump{{At: -1, By: time.Second}}},
		{Jumps: []sim.ClockJump{{At: 1, By: 0}}},
		{Jumps: []sim.ClockJump{{At: 1, By: 25 * time.Hour}}},
		{Jumps: []sim.ClockJump{{At: 5, By: 1}, {At: 5, By: 1}}},
		{Jumps: []sim.ClockJump{{At: 5, By: 1}, {At: 4, By: 1}}},
	} {
		if _, err := sim.New(sim.Config{Nodes: nodes, Clocks: []sim.Clock{cl}}); err == nil {
			t.Errorf("%+v accepted", cl)
		}
	}
}
