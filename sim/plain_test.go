package sim

import (
	"testing"
	"time"
)

// passFilter lets every message through unchanged: a run with it takes the
// network's general path (filters, faults, rates) with nothing to apply.
type passFilter struct{}

func (passFilter) Filter(Time, NodeID, NodeID, Message) Verdict { return Verdict{} }

// TestPlainNetworkSameRun checks the kernel's fast path for a network with
// nothing but a default delay (network.plain) against the general path: the
// same flooding runs, once plain and once with a filter that changes
// nothing, must give the same trace hash and counters, with every delay
// distribution and with self-sends among the multicasts.
func TestPlainNetworkSameRun(t *testing.T) {
	for _, delay := range []Delay{
		{Kind: DelayConst, Min: time.Millisecond},
		{Kind: DelayUniform, Min: time.Microsecond, Max: 3 * time.Microsecond},
		{Kind: DelayExponential, Mean: time.Millisecond},
		{Kind: DelayPareto, Mean: time.Millisecond, Alpha: 1.2},
	} {
		for _, n := range []int{4, 7} {
			var stats [2]*Stats
			for i, filters := range [][]Filter{nil, {passFilter{}}} {
				nodes := make([]Node, n)
				for id := range nodes {
					nodes[id] = &flooder{id: NodeID(id), n: n, hops: 5}
				}
				k, err := New(Config{Seed: 9, Nodes: nodes, Network: NetworkConfig{Default: LinkConfig{Delay: delay}, Filters: filters}})
				if err != nil {
					t.Fatal(err)
				}
				if k.net.plain != (filters == nil) {
					t.Fatalf("filters %v: plain %v", filters, k.net.plain)
				}
				stats[i] = k.Run()
			}
			p, g := stats[0], stats[1]
			if p.TraceHash != g.TraceHash || p.Events != g.Events || p.Sent != g.Sent || p.Delivered != g.Delivered ||
				p.Local != g.Local || p.SimTime != g.SimTime || p.Events < 100 {
				t.Errorf("delay %v, n=%d: plain %x (%d events, sent %v, local %v, end %v), general %x (%d events, sent %v, local %v, end %v)",
					delay.Kind, n, p.TraceHash, p.Events, p.Sent, p.Local, p.SimTime, g.TraceHash, g.Events, g.Sent, g.Local, g.SimTime)
			}
		}
	}
}
