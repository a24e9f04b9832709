package sim

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"
	"unsafe"
)

var typeBench = NewProtocol("sim-test").MsgType("BENCH")

// benchMsg is a preallocated message that bounces around a ring forever.
type benchMsg struct{ id uint64 }

func (*benchMsg) Type() MsgType                     { return typeBench }
func (*benchMsg) Size() int                         { return 8 }
func (m *benchMsg) AppendCanonical(b []byte) []byte { return binary.LittleEndian.AppendUint64(b, m.id) }

// ringNode forwards every message it receives to the next node; at Start it
// launches per messages: distinct ones, or one shared value sent per times
// (as a multicast shares one immutable message among its receivers).
type ringNode struct {
	id, next NodeID
	per      int
	shared   bool
}

func (r *ringNode) Start(_ Time, out *Output) {
	m := &benchMsg{id: uint64(r.id)}
	for i := range r.per {
		if !r.shared {
			m = &benchMsg{id: uint64(int(r.id)*r.per + i)}
		}
		out.Send(r.next, m)
	}
}

func (r *ringNode) Step(_ Time, in Input, out *Output) {
	if in.Kind == InputMessage {
		out.Send(r.next, in.Msg)
	}
}

const benchNodes = 16

var benchDelay = Delay{Kind: DelayUniform, Min: time.Millisecond, Max: 10 * time.Millisecond}

var pendings = []int{1_000, 100_000}

// BenchmarkKernel measures processed events per second with a constant
// number of messages in flight: every delivery triggers one network send
// (trace hashing on, no sinks, uniform delays, 16 nodes in a ring).
// pending=N: N distinct messages in flight, so every event touches a cold
// message (memory-bound at 100k; Step prefetches the next event's message,
// see Kernel.touch). pending=N-shared: each node's messages are
// one shared value (multicast-like), which isolates the kernel's own cost.
func BenchmarkKernel(b *testing.B) {
	for _, pending := range pendings {
		for _, shared := range []bool{false, true} {
			name := fmt.Sprintf("pending=%dk", pending/1000)
			if shared {
				name += "-shared"
			}
			b.Run(name, func(b *testing.B) { benchKernel(b, pending, shared) })
		}
	}
}

func benchKernel(b *testing.B, pending int, shared bool) {
	nodes := make([]Node, benchNodes)
	for i := range nodes {
		nodes[i] = &ringNode{id: NodeID(i), next: NodeID((i + 1) % benchNodes), per: pending / benchNodes, shared: shared}
	}
	k, err := New(Config{Seed: 1, Nodes: nodes, Network: NetworkConfig{Default: LinkConfig{Delay: benchDelay}}})
	if err != nil {
		b.Fatal(err)
	}
	for range pending { // warm up: reach the steady state
		k.Step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		if !k.Step() {
			b.Fatal("kernel ran dry")
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBareHeap is the baseline: the kernel's event heap alone doing the
// same pops and pushes (one pop and one push of a message event with a
// uniformly drawn delay per event), with nothing else.
func BenchmarkBareHeap(b *testing.B) {
	for _, pending := range pendings {
		b.Run(fmt.Sprintf("pending=%dk", pending/1000), func(b *testing.B) {
			r := Streams{Seed: 1}.Stream("bench")
			var h eventHeap
			var seq uint64
			m := &benchMsg{}
			for range pending {
				seq++
				h.push(event{at: Time(benchDelay.Sample(r)), key: seq<<8 | uint64(evDeliver), msg: m})
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				e := h.pop()
				seq++
				e.key = seq<<8 | uint64(evDeliver)
				e.at += Time(benchDelay.Sample(r))
				h.push(e)
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// reportCPU reports CPU nanoseconds per event since start (a cpuTime value).
func reportCPU(b *testing.B, start int64) {
	if end := cpuTime(); start >= 0 && end >= 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/event")
	}
}

// TestEventSize guards the queue's memory footprint.
func TestEventSize(t *testing.T) {
	if s := unsafe.Sizeof(event{}); s != 48 {
		t.Errorf("event is %d bytes, want 48", s)
	}
}
