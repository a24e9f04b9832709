package properties

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// longRun runs the fault-free scenario with n=4, 4 clients and requests
// requests to completion with every online checker, and returns the checker.
func longRun(t *testing.T, requests int, window int) (*Checker, *Outcome) {
	t.Helper()
	sc, err := scenarios.Load("fault-free")
	if err != nil {
		t.Fatal(err)
	}
	sc.Workload.Requests, sc.Workload.Payments, sc.Workload.Clients = requests, 64, 4
	sc.Run.MaxTime, sc.Run.Stall = 0, 10*time.Second
	cfg, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	chk := New(Options{})
	o, err := RunConfig(*sc, cfg, RunOptions{Liveness: true, Reuse: chk, foldWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	if o.Failed() || o.Result.Ended != cluster.EndCompleted || o.Result.Requests.Committed != requests {
		t.Fatalf("ended %s, committed %d, violations %v", o.Result.Ended, o.Result.Requests.Committed, o.Violations)
	}
	return chk, o
}

// TestCheckerStateBounded: after 100,000 requests the checker holds a number
// of slots, votes, evidence COMMITs, digests and log seqs below a constant
// tied to the window (L = 32 here), the rest folded into the summary; with
// folding off (a window larger than the run) the same state grows past it.
func TestCheckerStateBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	const window = 32 // the scenario's L = 2K, K = 16
	bound := 40 * window
	chk, _ := longRun(t, 100_000, 0)
	below, seqs, _ := chk.FoldedLog()
	t.Logf("retained %d entries (bound %d); folded %d seqs, everything <= %d", chk.Retained(), bound, seqs, below)
	if got := chk.Retained(); got > bound {
		t.Errorf("checker retains %d entries after 100,000 requests, want <= %d (40 windows)", got, bound)
	}
	if below < 99_000 || seqs < 99_000 {
		t.Errorf("folded up to seq %d (%d seqs), want nearly all of the 100,000", below, seqs)
	}

	off, _ := longRun(t, 5_000, 1<<40)
	if got := off.Retained(); got <= bound {
		t.Errorf("without folding the checker retains %d entries after 5,000 requests: the bound %d would not show folding", got, bound)
	}
}
