package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
)

// TestRunPipelineInterrupted: a checked, traced run with the pipeline on
// that is interrupted (Ctrl-C) returns ErrInterrupted, leaves no trace file
// and no temporary file, and leaves no goroutine of the pipeline behind;
// the same run to its end writes the trace.
func TestRunPipelineInterrupted(t *testing.T) {
	if n := runtime.GOMAXPROCS(0); n < 2 {
		runtime.GOMAXPROCS(2)
		defer runtime.GOMAXPROCS(n)
	}
	for _, ext := range []string{".pbt.zst", ".jsonl"} {
		dir := t.TempDir()
		sc, err := scenarios.Builtin("fault-free")
		if err != nil {
			t.Fatal(err)
		}
		sc.Workload.Requests, sc.Workload.Payments = 2000, 64
		before := runtime.NumGoroutine()
		polls := 0
		trace := filepath.Join(dir, "t"+ext)
		r, err := Run(sc, Options{Check: true, Trace: trace, Pipeline: true,
			Stop: func() bool { polls++; return polls > 100 }})
		if !errors.Is(err, ErrInterrupted) || r == nil || !r.Interrupted {
			t.Fatalf("%s: interrupted run: %v", ext, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: the interrupted run left %d files (%s)", ext, len(ents), ents[0].Name())
		}
		// the pipeline's goroutines have ended (give the runtime a moment
		// to retire them)
		for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
			time.Sleep(time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%s: %d goroutines after the interrupted run, %d before", ext, n, before)
		}
		if _, err := Run(sc, Options{Check: true, Trace: trace, Pipeline: true}); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(trace); err != nil || st.Size() == 0 {
			t.Errorf("%s: the complete run wrote no trace: %v", ext, err)
		}
	}
}
