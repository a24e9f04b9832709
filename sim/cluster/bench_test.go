package cluster_test

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// benchConfig is a fault-free PBFT run: n replicas, batch 1, clients
// closed-loop clients, requests in total, 1-5ms uniform link delays.
func benchConfig(n, clients, requests int) cluster.Config {
	return cluster.Config{
		Seed: 1, N: n, Clients: clients, Requests: requests, Payments: min(requests, 64),
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 5 * time.Millisecond}}},
	}
}

// BenchmarkPBFT measures whole fault-free PBFT runs (batch 1, and for n=4
// also 32 clients with batches of up to 16 requests per PRE-PREPARE) (kernel, network,
// replicas, clients, ledger, trace hashing; no sinks) on one goroutine.
// One op is one run. Metrics: commits/s (client-accepted requests per
// wall-clock second), msgs/s (network deliveries per wall-clock second),
// allocs/msg (heap allocations per delivered message) and sim/wall (the
// ratio of simulated to wall-clock time); commits/cpu-s and msgs/cpu-s
// divide by the CPU time of the process instead (GC included), which a
// busy machine disturbs less than the wall clock. The GC runs at GOGC=400,
// as in the pbftsim command, unless GOGC is set.
func BenchmarkPBFT(b *testing.B) {
	defer cliGOGC()()
	cases := []struct {
		n, clients, requests, batch int
	}{
		{4, 4, 1000, 1},
		{4, 32, 4000, 16},
		{16, 4, 100, 1},
		{64, 2, 20, 1},
		{100, 2, 10, 1},
	}
	for _, c := range cases {
		name := fmt.Sprintf("n=%d", c.n)
		if c.batch > 1 {
			name += fmt.Sprintf("-batch=%d", c.batch)
		}
		b.Run(name, func(b *testing.B) {
			cfg := benchConfig(c.n, c.clients, c.requests)
			cfg.Batch = c.batch
			var committed, delivered uint64
			var simTime int64
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for range b.N {
				res, err := cluster.Run(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if !res.Completed {
					b.Fatalf("run did not complete: %d of %d requests", res.Requests.Committed, c.requests)
				}
				committed += uint64(res.Requests.Committed)
				delivered += res.Stats.Delivered.Messages
				simTime += res.SimTimeNs
			}
			wall, cpu := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(committed)/wall.Seconds(), "commits/s")
			b.ReportMetric(float64(delivered)/wall.Seconds(), "msgs/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(max(delivered, 1)), "allocs/msg")
			b.ReportMetric(float64(simTime)/float64(wall.Nanoseconds()), "sim/wall")
			if cpu > 0 {
				b.ReportMetric(float64(committed)/cpu.Seconds(), "commits/cpu-s")
				b.ReportMetric(float64(delivered)/cpu.Seconds(), "msgs/cpu-s")
			}
		})
	}
}

// cliGOGC sets the GC percentage the pbftsim command uses (400) unless
// GOGC is set, and returns a function that restores the previous one.
func cliGOGC() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(400)
	return func() { debug.SetGCPercent(old) }
}

// TestSoakMemory runs 1,000,000 requests at n=4 with a JSON Lines trace to
// a discarding writer (or to the file PBFTSIM_SOAK_TRACE), stepping the
// kernel and sampling the heap, and checks that the peak stays under 100 MB
// and that the heap does not grow with the number of requests, with the GC
// at GOGC=400 as in the pbftsim command. It runs only
// with PBFTSIM_SOAK=1 (minutes of CPU): `PBFTSIM_SOAK=1 go test -run
// TestSoakMemory -v -timeout 60m ./sim/cluster/`. PBFTSIM_SOAK_REQUESTS
// changes the number of requests; PBFTSIM_SOAK_HEAPPROFILE=FILE writes a
// heap profile of what is live at the end.
func TestSoakMemory(t *testing.T) {
	if os.Getenv("PBFTSIM_SOAK") != "1" {
		t.Skip("memory soak test: set PBFTSIM_SOAK=1 to run it")
	}
	requests := 1_000_000
	if s := os.Getenv("PBFTSIM_SOAK_REQUESTS"); s != "" {
		if _, err := fmt.Sscan(s, &requests); err != nil || requests < 1000 {
			t.Fatalf("PBFTSIM_SOAK_REQUESTS=%q: want a number >= 1000", s)
		}
	}
	var w io.Writer = io.Discard
	if p := os.Getenv("PBFTSIM_SOAK_TRACE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	defer cliGOGC()()
	sink := sim.NewJSONLSink(w)
	cfg := benchConfig(4, 4, requests)
	cfg.Payments = 1000 // bounded application state: memory must not depend on the request count
	cfg.MaxTime = sim.Time(24 * time.Hour)
	cfg.Sinks = []sim.Sink{sink}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("live heap after building the cluster for %d requests: %.1f MB (the compact workload plan, 8 bytes per request)", requests, mb(ms.HeapAlloc))
	k := cl.Kernel()
	const every = 1 << 16 // events between samples
	var peak, peakSys uint64
	var samples []uint64 // heap in use at each tenth of the run
	var events uint64
	start := time.Now()
	for k.Step() {
		events++
		if events%every != 0 {
			continue
		}
		runtime.ReadMemStats(&ms)
		peak, peakSys = max(peak, ms.HeapInuse), max(peakSys, ms.Sys-ms.HeapReleased)
		executed := cl.Replica(0).LastExecuted()
		if tenth := int(executed * 10 / uint64(requests)); tenth > len(samples) && tenth < 10 {
			for len(samples) < tenth {
				samples = append(samples, ms.HeapInuse)
			}
			t.Logf("%3d%% (%d executed, %d events, %v): heap in use %.1f MB, process memory %.1f MB, resident %s",
				tenth*10, executed, events, time.Since(start).Round(time.Second), mb(ms.HeapInuse), mb(ms.Sys-ms.HeapReleased), procStatus("VmRSS"))
		}
		if executed >= uint64(requests) {
			break
		}
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("PBFTSIM_SOAK_HEAPPROFILE"); p != "" {
		// What is live at the end of the run (go tool pprof -sample_index=inuse_space).
		runtime.GC()
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		runtime.KeepAlive(cl)
	}
	if got := cl.Replica(0).LastExecuted(); got < uint64(requests) {
		t.Fatalf("executed %d of %d requests", got, requests)
	}
	t.Logf("peak heap in use %.1f MB (%.1f MB before building the cluster), peak process memory from the Go runtime %.1f MB, peak resident (VmHWM) %s, %d events in %v",
		mb(peak), mb(base), mb(peakSys), procStatus("VmHWM"), events, time.Since(start).Round(time.Second))
	if peak > 100<<20 || peakSys > 100<<20 {
		t.Errorf("peak heap in use %.1f MB, process memory %.1f MB: want under 100 MB", mb(peak), mb(peakSys))
	}
	if len(samples) >= 4 {
		early, late := samples[1], samples[len(samples)-1]
		if late > early+early/2+8<<20 {
			t.Errorf("heap grows with the requests: %.1f MB at 20%%, %.1f MB at %d%%", mb(early), mb(late), 10*len(samples))
		}
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// procStatus returns a field of /proc/self/status such as "VmHWM" (peak
// resident set size), or "n/a" where there is none.
func procStatus(field string) string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}
