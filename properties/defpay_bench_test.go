package properties

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// BenchmarkRunPayments measures what the number of payments costs on the
// default path: whole fault-free runs at n=4 of 20,000 requests, with the
// default number of payments (requests/2 = 10,000, as `pbftsim run` draws
// without --payments) and with 64, unchecked and with every online checker,
// in the same benchmark run for the ratios. GOGC=400 as in the command.
// Metrics: commits/cpu-s and cpu-us/req.
func BenchmarkRunPayments(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	requests := 20_000
	if s := os.Getenv("DEFPAY_REQUESTS"); s != "" {
		requests, _ = strconv.Atoi(s)
	}
	cases := []struct {
		name     string
		payments int
		check    bool
	}{
		{"default-unchecked", 0, false},
		{"p64-unchecked", 64, false},
		{"default-checked", 0, true},
		{"p64-checked", 64, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var committed int
			b.ResetTimer()
			cpu0 := cpuTime()
			for range b.N {
				cfg := scaleConfig(requests, tc.payments)
				var chk *Checker
				if tc.check {
					chk = Attach(&cfg, RunOptions{Liveness: true})
				}
				res, err := cluster.Run(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if chk != nil {
					chk.Finish(RunEnd(cfg, res, chk.Stopped()))
					if len(chk.Violations()) > 0 {
						b.Fatalf("violations: %v", chk.Violations())
					}
				}
				if !res.Completed {
					b.Fatalf("run did not complete")
				}
				committed += res.Requests.Committed
			}
			cpu := cpuTime() - cpu0
			if cpu > 0 && committed > 0 {
				b.ReportMetric(float64(committed)/cpu.Seconds(), "commits/cpu-s")
				b.ReportMetric(float64(cpu/time.Microsecond)/float64(committed), "cpu-us/req")
			}
		})
	}
}
