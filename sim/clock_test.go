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
