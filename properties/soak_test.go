package properties

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// soakBytesPerRequest bounds the live heap growth per request with checkers on.
const soakBytesPerRequest = 3 << 10

// TestShortSoakCheckers runs a fault-free run of PBFTSIM_SHORT_SOAK_REQUESTS
// requests (default 40,000) at n=4 with every checker attached, stepping
// the kernel and sampling the live heap (after a GC) at each tenth of the
// run. The replicas keep bounded state (see sim/cluster's TestSoakMemory),
// but the checkers remember every request and slot they judged: about 1.9
// KB per request today, so the growth between 20% and the last tenth may not
// exceed 3 KB per request executed in between (a leak per message, or a
// quadratic structure, breaks it). It runs only with PBFTSIM_SHORT_SOAK=1 (CI sets it; seconds of CPU, too
// slow under -race).
func TestShortSoakCheckers(t *testing.T) {
	if os.Getenv("PBFTSIM_SHORT_SOAK") != "1" {
		t.Skip("short soak with checkers: set PBFTSIM_SHORT_SOAK=1 to run it")
	}
	requests := envInt(t, "PBFTSIM_SHORT_SOAK_REQUESTS", 40_000)
	if requests < 1000 {
		t.Fatalf("PBFTSIM_SHORT_SOAK_REQUESTS=%d: want at least 1000", requests)
	}
	cfg := cluster.Config{Seed: 1, N: 4, Clients: 4, Requests: requests, Payments: 64,
		MaxTime: sim.Time(24 * time.Hour),
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 5 * time.Millisecond}}}}
	chk := Attach(&cfg, RunOptions{Liveness: true})
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k := cl.Kernel()
	var samples []uint64 // live heap at each tenth of the run
	var ms runtime.MemStats
	var events uint64
	for k.Step() {
		events++
		if events%(1<<14) != 0 {
			continue
		}
		executed := cl.Replica(0).LastExecuted()
		if tenth := int(executed * 10 / uint64(requests)); tenth > len(samples) && tenth < 10 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			for len(samples) < tenth {
				samples = append(samples, ms.HeapAlloc)
			}
		}
	}
	chk.Finish(k.Now())
	if v := chk.Violations(); len(v) > 0 {
		t.Fatalf("violations in a fault-free run: %v", v)
	}
	if got := cl.Replica(0).LastExecuted(); got < uint64(requests) {
		t.Fatalf("executed %d of %d requests in %d events", got, requests, events)
	}
	if len(samples) < 5 {
		t.Fatalf("only %d heap samples", len(samples))
	}
	mbs := make([]string, len(samples))
	for i, s := range samples {
		mbs[i] = fmt.Sprintf("%.1f", float64(s)/(1<<20))
	}
	t.Logf("%d requests, %d events, live heap (MB) at each tenth: %v", requests, events, mbs)
	early, late := samples[1], samples[len(samples)-1]
	between := requests * (len(samples) - 2) / 10
	perReq := (float64(late) - float64(early)) / float64(between)
	t.Logf("heap growth %.0f bytes per request (bound %d)", perReq, soakBytesPerRequest)
	if perReq > soakBytesPerRequest {
		t.Errorf("live heap grows by %.0f bytes per request (%.1f MB at 20%%, %.1f MB at %d%%): want at most %d",
			perReq, float64(early)/(1<<20), float64(late)/(1<<20), 10*len(samples), soakBytesPerRequest)
	}
}
