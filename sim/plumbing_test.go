package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// mutator: node 0 sends one note to nodes 1 and 2 at the start and, on a
// timer that fires before the deliveries, changes it (before or after
// sending it again, by resend).
func mutatorNodes(resend bool) []sim.Node {
	m := &note{label: "first"}
	sender := &script{
		start: func(now sim.Time, out *sim.Output) {
			out.Send(1, m)
			out.SetTimer(1, time.Microsecond)
		},
		step: func(now sim.Time, in sim.Input, out *sim.Output) {
			if in.Kind == sim.InputTimer {
				m.label = "changed"
				if resend {
					out.Send(2, m)
				}
			}
		},
	}
	return []sim.Node{sender, &script{}, &script{}}
}

// TestSealsCatchMutation: with the immutability checks on (as in builds
// with -tags invariants), a message changed after it was sent fails the run,
// whether the change is seen at its delivery or when it is sent again; an
// unchanged run passes, and with the checks off nothing is reported.
func TestSealsCatchMutation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resend bool
		want   string
	}{
		{"seen at delivery", false, "changed between its send and its delivery"},
		{"sent again", true, "changed after it was sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, on := range []bool{true, false} {
				cfg := sim.Config{Seed: 1, Nodes: mutatorNodes(tc.resend),
					Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: time.Millisecond}}}}
				k, err := sim.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				sim.SetSealChecks(k, on)
				k.Run()
				err = k.Err()
				if on && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "NOTE")) {
					t.Errorf("checks on: err %v, want one saying %q", err, tc.want)
				}
				if !on && err != nil {
					t.Errorf("checks off: err %v", err)
				}
			}
		})
	}
	// A correct run (ping-pong, each message new) passes with the checks on.
	k, err := sim.New(sim.Config{Seed: 1, Nodes: pingPong(3, time.Millisecond, 20)})
	if err != nil {
		t.Fatal(err)
	}
	sim.SetSealChecks(k, true)
	if k.Run(); k.Err() != nil {
		t.Fatalf("correct run: %v", k.Err())
	}
}

// TestPrefetchInvisible: the kernel's prefetch changes nothing a run does:
// the trace hash and every counter are the same with it on and off, on a
// run with many messages in flight.
func TestPrefetchInvisible(t *testing.T) {
	run := func(on bool) sim.Stats {
		cfg := sim.Config{Seed: 3, Nodes: pingPong(8, 10*time.Microsecond, 300),
			Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "uniform:1ms:5ms"), Duplicate: 0.1, Drop: 0.1}}}
		k, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sim.SetPrefetch(k, on)
		st := k.Run()
		if k.Err() != nil {
			t.Fatal(k.Err())
		}
		return *st
	}
	on, off := run(true), run(false)
	if on.Events < 1000 {
		t.Fatalf("only %d events", on.Events)
	}
	if on.TraceHash != off.TraceHash || on.Events != off.Events || on.Delivered != off.Delivered || on.Sent != off.Sent {
		t.Fatalf("prefetch on: %d events, hash %x; off: %d events, hash %x", on.Events, on.TraceHash, off.Events, off.TraceHash)
	}
}
