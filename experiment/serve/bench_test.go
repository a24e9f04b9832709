package serve

import (
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// BenchmarkStepBack measures going back one step at the end of a run:
// the prefix is replayed from the start (b.ReportMetric gives the steps
// replayed per op, so ns/step is ns/op divided by it).
func BenchmarkStepBack(b *testing.B) {
	for _, name := range []string{"fault-free", "lossy-wan"} {
		b.Run(name, func(b *testing.B) {
			sc, err := scenarios.Builtin(name)
			if err != nil {
				b.Fatal(err)
			}
			s, err := newRunSession("b", name, replayOf(sc), 100000)
			if err != nil {
				b.Fatal(err)
			}
			end := s.tl.steps()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.seek(end); err != nil {
					b.Fatal(err)
				}
				if err := s.seek(end - 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(end-1), "steps/op")
		})
	}
}

// BenchmarkOpen measures opening a run: recording its whole timeline.
func BenchmarkOpen(b *testing.B) {
	sc, err := scenarios.Builtin("lossy-wan")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := newRunSession("b", "lossy-wan", replayOf(sc), 100000); err != nil {
			b.Fatal(err)
		}
	}
}
