package explore

import (
	"runtime"
	"testing"

	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// BenchmarkMemory reports the peak live heap per distinct state of the
// breadth-first search (which keeps a frontier of worlds and the records of
// their paths) and of DPOR (which keeps the current path and a table of
// 64-bit fingerprints), on the correct protocol, n=4, one request. The heap
// is sampled (after a collection) every 1024 new states; both runs stop at
// 40,000 states, so the copier's bounded caches weigh the same.
func BenchmarkMemory(b *testing.B) {
	for _, bc := range []struct {
		name string
		c    Config
	}{
		{"bfs/depth=7/40k-states", Config{Nodes: 4, Requests: 1, Views: 0, Depth: 7, MaxStates: 40000}},
		{"bfs/unbounded/40k-states", Config{Nodes: 4, Requests: 1, Views: 0, MaxStates: 40000}},
		{"dpor/depth=6/40k-states", Config{Nodes: 4, Requests: 1, Views: 0, Depth: 6, DPOR: true, MaxStates: 40000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var perState float64
			for b.Loop() {
				m, _, err := bc.c.model()
				if err != nil {
					b.Fatal(err)
				}
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				base, peak, n := ms.HeapAlloc, uint64(0), 0
				res, err := engine.Run(m, engine.Options{
					Bounds: engine.Bounds{Depth: bc.c.Depth}, Sleep: true, DPOR: bc.c.DPOR, Records: true, MaxStates: bc.c.MaxStates,
					Check: func(*engine.World, []engine.Record) (string, string) {
						if n++; n%1024 == 0 {
							runtime.GC()
							runtime.ReadMemStats(&ms)
							peak = max(peak, ms.HeapAlloc)
						}
						return "", ""
					}})
				if err != nil {
					b.Fatal(err)
				}
				perState = float64(peak-min(base, peak)) / float64(res.States)
			}
			b.ReportMetric(perState, "peak-live-B/state")
		})
	}
}
