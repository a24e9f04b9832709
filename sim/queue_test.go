package sim

import (
	"testing"
	"time"
)

// floodMsg is a message of the flood test node.
type floodMsg struct{ hop int }

var typeFlood = NewProtocol("sim-test").MsgType("FLOOD-TEST")

func (*floodMsg) Type() MsgType                     { return typeFlood }
func (*floodMsg) Size() int                         { return 8 }
func (m *floodMsg) AppendCanonical(b []byte) []byte { return append(b, byte(m.hop)) }

// flooder multicasts a message to every node at start and forwards each
// message it receives to every node until hops run out, so that about n²
// messages are in flight; it also sets a timer per receipt.
type flooder struct {
	id    NodeID
	n     int
	hops  int
	timer TimerID
}

func (f *flooder) Start(now Time, out *Output) { f.multicast(&floodMsg{}, out) }

func (f *flooder) Step(now Time, in Input, out *Output) {
	if in.Kind != InputMessage {
		return
	}
	m := in.Msg.(*floodMsg)
	if m.hop < f.hops && int(in.From) == (int(f.id)+m.hop)%f.n {
		f.multicast(&floodMsg{hop: m.hop + 1}, out)
	}
	f.timer++
	out.SetTimer(f.timer%4, time.Duration(m.hop)*time.Microsecond)
}

func (f *flooder) multicast(m *floodMsg, out *Output) {
	for i := range f.n {
		out.Send(NodeID(i), m)
	}
}

// TestQueueKindsAgree runs the same flooding simulations with the kernel's
// events in a binary heap throughout, in a radix queue from the first
// event, and moved from one to the other in the middle of the run, with
// every delay distribution (ties at equal times included): the trace hashes
// and event counts must be equal.
func TestQueueKindsAgree(t *testing.T) {
	defer func(old int) { radixMinLen = old }(radixMinLen)
	for _, delay := range []Delay{
		{Kind: DelayConst, Min: time.Millisecond},
		{Kind: DelayUniform, Min: time.Microsecond, Max: 3 * time.Microsecond},
		{Kind: DelayExponential, Mean: time.Millisecond},
		{Kind: DelayPareto, Mean: time.Millisecond, Alpha: 1.2},
	} {
		for _, n := range []int{4, 9} {
			var hashes, events [3]uint64
			for i, threshold := range []int{1 << 30, 1, 3 * n} { // heap, radix, heap then radix
				radixMinLen = threshold
				nodes := make([]Node, n)
				for id := range nodes {
					nodes[id] = &flooder{id: NodeID(id), n: n, hops: 6}
				}
				k, err := New(Config{Seed: 5, Nodes: nodes, Network: NetworkConfig{Default: LinkConfig{Delay: delay, Duplicate: 0.1}},
					Crashes: []Crash{{Node: 1, At: Time(2 * time.Microsecond), Recover: Time(4 * time.Millisecond)}}})
				if err != nil {
					t.Fatal(err)
				}
				if i == 2 && k.q.r != nil {
					t.Fatalf("threshold %d: radix queue before the run", threshold)
				}
				st := k.Run()
				if got := k.q.r != nil; got != (i > 0) {
					t.Fatalf("threshold %d: radix queue in use %v", threshold, got)
				}
				hashes[i], events[i] = st.TraceHash, st.Events
			}
			if hashes[0] != hashes[1] || hashes[0] != hashes[2] || events[0] != events[1] || events[0] != events[2] || events[0] < 100 {
				t.Errorf("delay %v, n=%d: hashes %x, events %v (heap, radix, switched): want equal, >= 100 events",
					delay.Kind, n, hashes, events)
			}
		}
	}
}
