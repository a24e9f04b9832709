package properties

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/pbftsim/pbftsim/internal/pipeline"
	"github.com/pbftsim/pbftsim/reports/spacetime"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// scaleConfig is the default path at scale: fault-free PBFT, n=4, 4
// closed-loop clients, batch 1, 1-5ms uniform delays (as BenchmarkPBFT/n=4),
// with a fixed number of payments so that the application state does not
// grow with the requests.
func scaleConfig(requests, payments int) cluster.Config {
	return cluster.Config{
		Seed: 1, N: 4, Clients: 4, Requests: requests, Payments: payments,
		Network:     sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 5 * time.Millisecond}}},
		StallWindow: sim.Time(10 * time.Second),
	}
}

// traceSink writes the binary trace, zstd-compressed, as `run --trace
// FILE.pbt.zst` does (the same encoder options), to w.
type traceSink struct {
	*sim.BinarySink
	zw *zstd.Encoder
	bg *pipeline.Writer // compression and writing in the background (nil: inline)
}

func newTraceSink(w io.Writer) *traceSink { return newTraceSinkBG(w, false) }

// newTraceSinkBG is newTraceSink, with the compression and writing on
// another goroutine when bg is set (run --pipeline).
func newTraceSinkBG(w io.Writer, bg bool) *traceSink {
	zw, err := zstd.NewWriter(w, spacetime.BinaryTraceZstd...)
	if err != nil {
		panic(err)
	}
	t := &traceSink{zw: zw}
	var dst io.Writer = zw
	if bg {
		t.bg = pipeline.NewWriter(zw, 0)
		dst = t.bg
	}
	t.BinarySink = sim.NewBinarySink(dst)
	return t
}

func (t *traceSink) Close() error {
	if err := t.Flush(); err != nil {
		return err
	}
	if t.bg != nil {
		if err := t.bg.Close(); err != nil {
			return err
		}
	}
	return t.zw.Close()
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkRunChecked measures the default path of `pbftsim run`: whole
// fault-free runs at n=4 (1,000 requests, as BenchmarkPBFT/n=4) with every
// online checker (safety, liveness, linearizability, accountability) and,
// in the trace case, a compressed binary trace (.pbt.zst) to a counting
// writer; "unchecked" is the same run without checkers, in the same
// benchmark run, for the ratio. GOGC=400 as in the command. Metrics:
// commits/s and commits/cpu-s (client-accepted requests per wall-clock and
// per CPU second of the process), commits/run-cpu-s (per CPU second of the
// run's own thread, Linux only: what a run takes on a machine with a core
// free for each pipeline goroutine, measurable on a busy host too),
// trace-B/req (compressed trace bytes per request).
func BenchmarkRunChecked(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	cases := []struct {
		name                     string
		check, trace, pipe, bgTr bool
	}{
		{"n=4-unchecked", false, false, false, false},
		{"n=4", true, false, false, false},
		{"n=4-trace", true, true, false, false},
		// run's default (--pipeline): the checker inline, the trace
		// encoded inline, compressed and written on another goroutine
		{"n=4-trace-bg", true, true, false, true},
		// run --pipeline-checker as well: the checker on its own
		// goroutine, the trace on another (internal/pipeline)
		{"n=4-pipeline", true, false, true, false},
		{"n=4-trace-pipeline", true, true, true, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var committed int
			var traced int64
			runtime.LockOSThread() // the run's thread: commits/run-cpu-s
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			start, cpu0, tcpu0 := time.Now(), cpuTime(), threadCPUTime()
			for range b.N {
				cfg := scaleConfig(1000, 64)
				var chk *Checker
				var pipe *pipeline.Sink
				switch {
				case tc.check && tc.pipe:
					cfg = cfg.WithDefaults()
					chk, pipe = attachPipelined(&cfg, RunOptions{Liveness: true})
				case tc.check:
					chk = Attach(&cfg, RunOptions{Liveness: true})
				}
				var ts *traceSink
				var cw countWriter
				if tc.trace {
					ts = newTraceSinkBG(&cw, tc.bgTr)
					cfg.Sinks = append(cfg.Sinks, ts)
				}
				res, err := cluster.Run(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if pipe != nil {
					pipe.Close()
				}
				if chk != nil {
					chk.Finish(RunEnd(cfg, res, chk.Stopped()))
					if len(chk.Violations()) > 0 {
						b.Fatalf("violations: %v", chk.Violations())
					}
				}
				if ts != nil {
					if err := ts.Close(); err != nil {
						b.Fatal(err)
					}
					traced += cw.n
				}
				if !res.Completed {
					b.Fatalf("run did not complete")
				}
				committed += res.Requests.Committed
			}
			wall, cpu, tcpu := time.Since(start), cpuTime()-cpu0, threadCPUTime()-tcpu0
			b.ReportMetric(float64(committed)/wall.Seconds(), "commits/s")
			if cpu > 0 {
				b.ReportMetric(float64(committed)/cpu.Seconds(), "commits/cpu-s")
			}
			if tcpu > 0 && tcpu0 > 0 {
				b.ReportMetric(float64(committed)/tcpu.Seconds(), "commits/run-cpu-s")
			}
			if tc.trace {
				b.ReportMetric(float64(traced)/float64(committed), "trace-B/req")
			}
		})
	}
}

// wantedRecorder keeps a copy of the records a checker wants.
type wantedRecorder struct {
	chk     *Checker
	records []sim.Record
}

func (w *wantedRecorder) Record(r *sim.Record) {
	if w.chk.Wants(r.Kind) {
		w.records = append(w.records, *r)
	}
}

// SkipsCopies makes the recorder a sim.CopySink as the checker is: it
// records what the kernel passes the checker.
func (w *wantedRecorder) SkipsCopies() bool { return w.chk.SkipsCopies() }

// BenchmarkCheckerRecords measures the online checker alone: the records
// it receives from a run of BenchmarkRunChecked's configuration (10,000
// requests, so that seqs pass the windows a fold keeps many times; no later
// copies of multicasts, which the kernel does not pass it either) are
// recorded once, and every iteration resets the checker and feeds it the
// records, then finishes it. Without the simulator's own work the figure
// is steadier than the whole run's. Metrics: ns/record and req/cpu-s
// (committed requests per CPU second of checking).
func BenchmarkCheckerRecords(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	cfg := scaleConfig(10_000, 64)
	chk := Attach(&cfg, RunOptions{Liveness: true})
	rec := &wantedRecorder{chk: chk}
	cfg.Sinks = append(cfg.Sinks, rec)
	res, err := cluster.Run(cfg)
	if err != nil {
		b.Fatal(err)
	}
	end := RunEnd(cfg, res, chk.Stopped())
	opts := chk.opts
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		chk.Reset(opts)
		for i := range rec.records {
			chk.Record(&rec.records[i])
		}
		chk.Finish(end)
		if len(chk.Violations()) > 0 {
			b.Fatalf("violations: %v", chk.Violations())
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rec.records)), "ns/record")
	if cpu > 0 {
		b.ReportMetric(float64(b.N*res.Requests.Committed)/cpu.Seconds(), "req/cpu-s")
	}
}

// cpuTime is the CPU time of the process (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPUTime is the CPU time of the calling thread (Linux's
// RUSAGE_THREAD; 0 where getrusage does not know it).
func threadCPUTime() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD on Linux
	if runtime.GOOS != "linux" {
		return 0
	}
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestSoakChecked runs PBFTSIM_SOAK_REQUESTS (default 1,000,000) requests
// at n=4 with every online checker and a compressed binary trace (to
// PBFTSIM_SOAK_TRACE, or counted and discarded), 64 payments, GOGC=400 as in
// the command, and reports the peak resident memory (VmHWM), the heap at
// every tenth of the run and the speed. It fails when the peak resident
// memory is 100 MB or more. Only with PBFTSIM_SOAK=1: `make soak` runs it
// for 1M and 10M requests.
func TestSoakChecked(t *testing.T) {
	if os.Getenv("PBFTSIM_SOAK") != "1" {
		t.Skip("memory soak: set PBFTSIM_SOAK=1 (make soak)")
	}
	requests := 1_000_000
	if s := os.Getenv("PBFTSIM_SOAK_REQUESTS"); s != "" {
		if _, err := fmt.Sscan(s, &requests); err != nil || requests < 1000 {
			t.Fatalf("PBFTSIM_SOAK_REQUESTS=%q: want a number >= 1000", s)
		}
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	var w io.Writer
	cw := &countWriter{}
	w = cw
	if p := os.Getenv("PBFTSIM_SOAK_TRACE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w = io.MultiWriter(f, cw)
	}
	ts := newTraceSink(w)
	cfg := scaleConfig(requests, 64)
	chk := Attach(&cfg, RunOptions{Liveness: true})
	cfg.Sinks = append(cfg.Sinks, ts)
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	start, cpu0 := time.Now(), cpuTime()
	next := 1
	for cl.Step() {
		if cl.Ended() != "" {
			break
		}
		if executed := cl.Replica(0).LastExecuted(); executed*10 >= uint64(next*requests) && next < 10 {
			runtime.ReadMemStats(&ms)
			t.Logf("%3d%%: heap in use %.1f MB, checker retains %d entries, resident %s, %v", next*10, float64(ms.HeapInuse)/(1<<20),
				chk.Retained(), procStatus("VmRSS"), time.Since(start).Round(time.Second))
			next++
		}
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	res := clusterResult(cl)
	chk.Finish(RunEnd(cfg, res, chk.Stopped()))
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if !res.Completed || len(chk.Violations()) > 0 {
		t.Fatalf("ended %s, committed %d, violations %v", res.Ended, res.Requests.Committed, chk.Violations())
	}
	t.Logf("%d requests with checkers and a .pbt.zst trace: %.0f committed/s (%.0f per CPU-second), peak resident (VmHWM) %s, trace %.1f MB (%.0f B/request), checker retains %d entries",
		requests, float64(requests)/wall.Seconds(), float64(requests)/cpu.Seconds(), procStatus("VmHWM"), float64(cw.n)/(1<<20), float64(cw.n)/float64(requests), chk.Retained())
	var hwm int
	fmt.Sscan(strings.TrimSuffix(procStatus("VmHWM"), " kB"), &hwm)
	if hwm >= 100<<10 {
		t.Errorf("peak resident memory %d kB, want < 100 MB", hwm)
	}
}

// clusterResult is the summary of a cluster stepped by hand.
func clusterResult(cl *cluster.Cluster) *cluster.Result { return cl.Result() }

// procStatus returns a field of /proc/self/status such as "VmHWM", or "n/a".
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
