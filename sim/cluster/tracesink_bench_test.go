package cluster_test

import (
	"runtime/debug"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// recorded keeps a copy of every trace record of a run (messages and events
// are immutable, so the copies stay valid).
type recorded struct{ recs []sim.Record }

func (r *recorded) Record(x *sim.Record) { r.recs = append(r.recs, *x) }

// byteCounter counts the bytes written to it.
type byteCounter struct{ n int64 }

func (w *byteCounter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkTraceSink measures the binary trace's own cost, apart from the
// run that makes it: the records of a fault-free 1,000-request n=4 run (as
// BenchmarkRunChecked/n=4-trace) are captured once, then written through
// sim.BinarySink, raw ("pbt") and zstd-compressed as `run --trace
// FILE.pbt.zst` writes them ("pbt.zst"). Metrics: ns/req and B/req per
// committed request, ns/rec per record, in CPU time (garbage collection
// off).
func BenchmarkTraceSink(b *testing.B) {
	var rec recorded
	cfg := cluster.Config{Seed: 1, N: 4, Clients: 4, Requests: 1000, Payments: 64,
		Network:     sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 5 * time.Millisecond}}},
		StallWindow: sim.Time(10 * time.Second),
		Sinks:       []sim.Sink{&rec}}
	res, err := cluster.Run(cfg)
	if err != nil {
		b.Fatal(err)
	}
	committed := res.Requests.Committed
	// Without collections: the captured run's messages are a large live
	// heap, whose marking would be charged to the sink.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for _, compressed := range []bool{false, true} {
		name := "pbt"
		if compressed {
			name = "pbt.zst"
		}
		b.Run(name, func(b *testing.B) {
			var total int64
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for range b.N {
				var cw byteCounter
				var zw *zstd.Encoder
				var s *sim.BinarySink
				if compressed {
					zw, err = zstd.NewWriter(&cw, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
						zstd.WithWindowSize(1<<19), zstd.WithLowerEncoderMem(true))
					if err != nil {
						b.Fatal(err)
					}
					s = sim.NewBinarySink(zw)
				} else {
					s = sim.NewBinarySink(&cw)
				}
				for i := range rec.recs {
					s.Record(&rec.recs[i])
				}
				if err := s.Flush(); err != nil {
					b.Fatal(err)
				}
				if zw != nil {
					if err := zw.Close(); err != nil {
						b.Fatal(err)
					}
				}
				total += cw.n
			}
			per := float64((cpuTime() - cpu0).Nanoseconds()) / float64(b.N) // CPU time
			b.ReportMetric(per/float64(committed), "ns/req")
			b.ReportMetric(per/float64(len(rec.recs)), "ns/rec")
			b.ReportMetric(float64(total)/float64(b.N)/float64(committed), "B/req")
		})
	}
}
