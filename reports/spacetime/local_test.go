package spacetime

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// timerNode sets timer 1 for 100ms of local time at start and again each
// time it fires, five times.
type timerNode struct{ fired int }

func (n *timerNode) Start(_ sim.Time, out *sim.Output) { out.SetTimer(1, 100*time.Millisecond) }
func (n *timerNode) Step(_ sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind == sim.InputTimer && n.fired < 4 {
		n.fired++
		out.SetTimer(1, 100*time.Millisecond)
	}
}

// TestLocalTimeRoundTrip: timer records carry the node's local clock time
// in both trace formats when clocks are configured (offset, drift, a jump),
// the reader returns the same value from each, and runs without clocks
// carry none.
func TestLocalTimeRoundTrip(t *testing.T) {
	for _, clocks := range [][]sim.Clock{nil, {{Node: 1, DriftPPM: 250000, Offset: time.Hour, Jumps: []sim.ClockJump{{At: sim.Time(250 * time.Millisecond), By: -time.Second}}}}} {
		var jl, bin bytes.Buffer
		js, bs := sim.NewJSONLSink(&jl), sim.NewBinarySink(&bin)
		k, err := sim.New(sim.Config{Nodes: []sim.Node{&timerNode{}, &timerNode{}}, Clocks: clocks, Sinks: []sim.Sink{js, bs}})
		if err != nil {
			t.Fatal(err)
		}
		k.Run()
		if err := js.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := bs.Flush(); err != nil {
			t.Fatal(err)
		}
		read := func(rd *Reader) map[sim.NodeID][][2]int64 {
			out := map[sim.NodeID][][2]int64{}
			for {
				r, err := rd.Next()
				if errors.Is(err, io.EOF) {
					return out
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind == KindTimer {
					l := int64(-1)
					if r.Local != nil {
						l = int64(*r.Local)
					}
					out[r.To] = append(out[r.To], [2]int64{int64(r.T), l})
				}
			}
		}
		a, b := read(NewReader(&jl, "t.jsonl")), read(NewBinaryReader(&bin, "t.pbt"))
		if len(a[0]) != 5 || len(a[1]) != 5 {
			t.Fatalf("timer records %v", a)
		}
		for id, recs := range a {
			for i, x := range recs {
				if b[id][i] != x {
					t.Errorf("node %d timer %d: JSONL %v, binary %v", id, i, x, b[id][i])
				}
				switch {
				case clocks == nil && x[1] != -1:
					t.Errorf("no clocks, but local time %v", x[1])
				case clocks != nil && id == 0 && x[1] != x[0]:
					t.Errorf("node 0 has a perfect clock: local %v at %v", x[1], x[0])
				case clocks != nil && id == 1 && i == 0 && x[1] != int64(time.Hour+100*time.Millisecond):
					t.Errorf("node 1's first timer: local %v, want 1h0m0.1s", time.Duration(x[1]))
				}
			}
		}
	}
}
