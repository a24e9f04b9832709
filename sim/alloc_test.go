package sim_test

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// ring forwards every message it receives to the next node, sending its
// preallocated messages at Start and re-arming a timer on every fire.
type ring struct {
	next sim.NodeID
	msgs []sim.Message
}

func (r *ring) Start(_ sim.Time, out *sim.Output) {
	for _, m := range r.msgs {
		out.Send(r.next, m)
	}
	out.SetTimer(1, time.Millisecond)
}

func (r *ring) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputMessage:
		out.Send(r.next, in.Msg)
	case sim.InputTimer:
		out.SetTimer(1, time.Millisecond)
		out.SetTimer(2, 3*time.Millisecond) // replaces a pending one
	}
}

// TestZeroAllocSteadyState checks that, once warmed up, Step allocates
// nothing, with every delay distribution and the fault model active.
func TestZeroAllocSteadyState(t *testing.T) {
	for _, spec := range []string{"const:1ms", "uniform:1ms:9ms", "exp:2ms:1ms", "lognormal:3ms:0.5", "pareto:1ms:1.5"} {
		t.Run(spec, func(t *testing.T) {
			const n = 8
			nodes := make([]sim.Node, n)
			for i := range nodes {
				r := &ring{next: sim.NodeID((i + 1) % n)}
				for j := range 50 {
					r.msgs = append(r.msgs, &note{label: string(rune('a' + j%26))})
				}
				nodes[i] = r
			}
			cfg := sim.Config{Seed: 1, Nodes: nodes, Network: sim.NetworkConfig{
				Default:    sim.LinkConfig{Delay: mustDelay(t, spec), Drop: 0.01, Duplicate: 0.01},
				Partitions: []sim.Partition{{Groups: [][]sim.NodeID{{0}}, From: 1, To: sim.Time(2 * time.Millisecond)}},
				Links:      map[sim.Link]sim.LinkConfig{{From: 3, To: 4}: {Delay: mustDelay(t, spec)}},
			}}
			k, err := sim.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for range 20000 {
				k.Step()
			}
			if k.Pending() == 0 {
				t.Fatal("ring ran dry")
			}
			before := k.Stats().Delivered.Messages
			if a := testing.AllocsPerRun(2000, func() { k.Step() }); a != 0 {
				t.Errorf("%.2f allocations per Step, want 0", a)
			}
			if d := k.Stats().Delivered.Messages - before; d < 1000 {
				t.Errorf("only %d deliveries while measuring", d)
			}
		})
	}
}
