package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// TestRunChecksOnce: Run refuses what Check refuses (one validation path)
// with an InputError, and a stopped run writes no trace.
func TestRunChecksOnce(t *testing.T) {
	sc, err := scenarios.Builtin("fault-free")
	if err != nil {
		t.Fatal(err)
	}
	bad := *sc
	bad.Workload.Requests, bad.Workload.Payments = 4, 9
	_, cerr := Check(&bad)
	_, rerr := Run(&bad, Options{Check: true})
	var ie *InputError
	if cerr == nil || !errors.As(rerr, &ie) || rerr.Error() != cerr.Error() {
		t.Fatalf("Check: %v; Run: %v; want the same input error", cerr, rerr)
	}
	trace := filepath.Join(t.TempDir(), "run.jsonl")
	r, err := Run(sc, Options{Check: true, Trace: trace, Stop: func() bool { return true }})
	if !errors.Is(err, ErrInterrupted) || !r.Interrupted {
		t.Fatalf("stopped run: %+v %v", r, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(trace))
	if len(entries) != 0 {
		t.Fatalf("a stopped run left %v", entries)
	}
	r, err = Run(sc, Options{Check: true, Trace: trace})
	if err != nil || r.Failed() || r.TraceHash() == "" {
		t.Fatalf("run: %+v %v", r, err)
	}
	if st, err := os.Stat(trace); err != nil || st.Size() == 0 {
		t.Fatalf("trace: %v", err)
	}
}

// TestWriteReplayAndCheck: a replay file records the version; an output
// that is an input is refused; CheckReplay compares hash and verdict.
func TestWriteReplayAndCheck(t *testing.T) {
	sc, _ := scenarios.Builtin("beyond-f")
	r, err := Run(sc, Options{Check: true})
	if err != nil || !r.Failed() {
		t.Fatalf("beyond-f: %v", err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	os.WriteFile(in, []byte("x"), 0o644)
	var ie *InputError
	if err := WriteReplay(r.Outcome, in, "v1", in); !errors.As(err, &ie) {
		t.Fatalf("replay file over its input: %v", err)
	}
	path := filepath.Join(dir, "out", "bf.replay.yaml")
	if err := WriteReplay(r.Outcome, path, "v1"); err != nil {
		t.Fatal(err)
	}
	rp, err := scenarios.LoadReplay(path)
	if err != nil || rp.Version != "v1" {
		t.Fatalf("replay file: %+v %v", rp, err)
	}
	o, c, err := Replay(rp, "v1")
	if err != nil || !c.Reproduced || len(c.Notes) != 0 || o.TraceHash() != rp.TraceHash {
		t.Fatalf("replay: %+v %v", c, err)
	}
	if c.Err(path) != nil {
		t.Fatalf("a reproduced run is no error: %v", c.Err(path))
	}
	rp.TraceHash = "0000000000000000"
	if c := CheckReplay(rp, o, "v2"); c.Reproduced || len(c.Problems) != 1 || !strings.Contains(c.Notes[0], "written by pbftsim v1, this is v2") {
		t.Fatalf("mismatch: %+v", c)
	} else if err := c.Err(path); err == nil || !strings.Contains(err.Error(), "does not reproduce") {
		t.Fatalf("mismatch error: %v", err)
	}
	ce, err := WriteCounterexample(r.Outcome, r.RunOptions(), path)
	if err != nil || ce == nil {
		t.Fatalf("counterexample: %v", err)
	}
	for _, f := range []string{ce.Trace, ce.SVG, ce.HTML} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
