package sim

import (
	"math/rand/v2"
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

// TestEventQueueForms drives the kernel's event queue (eventQueue) through
// every queue scenario against the sorted reference, with thresholds that
// make it move between its sorted form, its heap and the radix queue, and
// checks every pop and peek, that every form was used, and that the sorted
// form keeps no message reference outside its queued events.
func TestEventQueueForms(t *testing.T) {
	defer func(mx, mn, rx int) { sortedMax, sortedMin, radixMinLen = mx, mn, rx }(sortedMax, sortedMin, radixMinLen)
	for _, th := range []struct{ max, min, radix int }{{64, 16, 4096}, {8, 2, 1 << 30}, {3, 0, 1 << 30}, {64, 16, 100}} {
		sortedMax, sortedMin, radixMinLen = th.max, th.min, th.radix
		var sortedPops, heapPops, radixPops int
		for si, sc := range queueScenarios {
			r := rand.New(rand.NewPCG(uint64(si), 7))
			var q eventQueue
			q.init(0)
			var ref sortedRef
			var seq uint64
			last := sc.start
			pops, ops := 0, sc.ops
			if testing.Short() {
				ops = min(ops, 5000)
			}
			for op := 0; op < ops; {
				for range 1 + r.IntN(sc.pushBurst) {
					seq++
					at := sc.start
					if pops > 0 {
						at = sc.next(r, last)
					}
					e := event{at: at, key: seq<<8 | uint64(evDeliver), msg: &qMsg{id: seq}, arg: seq}
					q.push(e)
					ref.push(e)
					op++
				}
				for range 1 + r.IntN(sc.popBurst) {
					if ref.Len() == 0 {
						break
					}
					want := ref.pop()
					if p := q.peek(); *p != want {
						t.Fatalf("%+v %s op %d: peek gave (%d, %d), want (%d, %d)", th, sc.name, op, p.at, p.key, want.at, want.key)
					}
					switch {
					case q.r != nil:
						radixPops++
					case q.sorted:
						sortedPops++
					default:
						heapPops++
					}
					var got event
					q.popTo(&got)
					if got != want {
						t.Fatalf("%+v %s op %d: pop gave (%d, %d), want (%d, %d)", th, sc.name, op, got.at, got.key, want.at, want.key)
					}
					last = got.at
					pops++
					op++
					if q.sorted && op%sc.check == 0 {
						a := q.h.a
						for i, e := range a[:cap(a)] {
							if (i < q.lo || i >= len(a)) && e.msg != nil {
								t.Fatalf("%+v %s op %d: the sorted form keeps a message at %d outside [%d, %d)", th, sc.name, op, i, q.lo, len(a))
							}
						}
					}
				}
				if q.Len() != ref.Len() {
					t.Fatalf("%+v %s op %d: Len is %d, want %d", th, sc.name, op, q.Len(), ref.Len())
				}
			}
		}
		if sortedPops == 0 || heapPops == 0 || (radixPops == 0) != (th.radix == 1<<30) {
			t.Errorf("%+v: pops from the sorted form %d, the heap %d, the radix queue %d: want every form used (the radix queue unless its threshold is out of reach)",
				th, sortedPops, heapPops, radixPops)
		}
	}
}
