package sim

import (
	"fmt"
	"testing"
)

// BenchmarkEventQueue is BenchmarkBareHeap for the kernel's event queue (the
// radix heap radixQueue): the same pops and pushes, one pop and one push of
// a message event with a uniformly drawn delay per event, with nothing else.
// Compare its events/s with BenchmarkBareHeap's.
func BenchmarkEventQueue(b *testing.B) {
	for _, pending := range pendings {
		b.Run(fmt.Sprintf("pending=%dk", pending/1000), func(b *testing.B) {
			r := Streams{Seed: 1}.Stream("bench")
			var q radixQueue
			var seq uint64
			m := &benchMsg{}
			for range pending {
				seq++
				q.push(event{at: Time(benchDelay.Sample(r)), key: seq<<8 | uint64(evDeliver), msg: m})
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				e := q.pop()
				seq++
				e.key = seq<<8 | uint64(evDeliver)
				e.at += Time(benchDelay.Sample(r))
				q.push(e)
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
