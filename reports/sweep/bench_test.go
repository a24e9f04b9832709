package sweep

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
)

// BenchmarkSweep measures a sweep of the default adversarial scenario (n=4,
// 50 payment operations, loss before GST, a Byzantine replica) with every
// checker, with 1 and 2 workers. One op is one seed; the metric seeds/s is
// per wall-clock second. The scaling from 1 to 2 workers is the ratio of
// the two seeds/s figures. seeds/cpu-s is per second of process CPU time
// (GC included): it shows the cost of a seed whatever else the machine
// runs, and a drop from 1 to 2 workers is CPU lost to running in
// parallel (GC, contention) rather than to a busy machine. The GC runs at
// GOGC=1600 (GOGC in this package), as in `pbftsim sweep`.
func BenchmarkSweep(b *testing.B) {
	sc, err := scenarios.Builtin(DefaultScenario)
	if err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(GOGC))
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			o := Options{Scenario: sc, ScenarioArg: DefaultScenario, Seeds: Range{From: 1, To: uint64(b.N)}, Workers: w, Version: "bench"}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			agg, err := Run(context.Background(), o, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			if bad := agg.Verdicts[VerdictError] + agg.Verdicts[VerdictPanic]; bad > 0 || agg.Completed != agg.Done {
				b.Fatalf("%d runs could not run and %d of %d did not complete: %v", bad, agg.Done-agg.Completed, agg.Done, agg.Verdicts)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "seeds/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "seeds/cpu-s")
			}
		})
	}
}

// BenchmarkRunSeed is one seed of the default adversarial scenario with
// the checkers (one checker reused run after run, as in a sweep worker),
// for CPU profiles of a sweep (GC at GOGC=1600, as in a sweep):
// go test -run '^$' -bench RunSeed -cpuprofile cpu.out ./reports/sweep/
func BenchmarkRunSeed(b *testing.B) {
	sc, err := scenarios.Builtin(DefaultScenario)
	if err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(GOGC))
	chk := properties.New(properties.Options{}) // reused, as a sweep worker does
	b.ReportAllocs()
	for i := range b.N {
		if rec, _ := runSeed(sc, uint64(i+1), nil, chk); rec.Verdict != VerdictOK {
			b.Fatalf("seed %d: %s %s", i+1, rec.Verdict, rec.Detail)
		}
	}
}
