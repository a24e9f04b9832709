package properties

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestReferenceLedgerSharesReplicas: in a checked run the checker's
// reference ledger shares its states with the replicas' ledgers (one trie
// in memory, not two) and judges the run as an unshared one does: the
// same verdict and trace hash. It fails if attach stops passing the run's
// SnapshotCache to both.
func TestReferenceLedgerSharesReplicas(t *testing.T) {
	sc, err := scenarios.Load("fault-free")
	if err != nil {
		t.Fatal(err)
	}
	sc.Workload.Requests, sc.Workload.Clients, sc.Workload.Payments = 2000, 4, 1000
	sc.Run.MaxTime, sc.Run.Stall = 0, 10*time.Second
	run := func(share bool) (*Checker, *cluster.Cluster, *Outcome) {
		cfg, err := sc.Config()
		if err != nil {
			t.Fatal(err)
		}
		cfg = cfg.WithDefaults()
		chk := attach(&cfg, RunOptions{Liveness: true})
		if !share {
			cfg.Ledgers = nil // the replicas get their own cache
		}
		cl, err := cluster.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cl.Run()
		o := Judge(*sc, cl, chk, RunOptions{Liveness: true}, chk.Stopped())
		if o.Failed() || o.Result.Requests.Committed != 2000 {
			t.Fatalf("share=%v: committed %d, violations %v", share, o.Result.Requests.Committed, o.Violations)
		}
		return chk, cl, o
	}
	chk, cl, shared := run(true)
	if !chk.ref.Shares(cl.Ledger(0)) {
		t.Error("the reference ledger does not share the replicas' trie")
	}
	chk2, cl2, apart := run(false)
	if chk2.ref.Shares(cl2.Ledger(0)) {
		t.Error("Shares reports sharing between ledgers of different caches")
	}
	if shared.Result.TraceHash != apart.Result.TraceHash || shared.Verdict() != apart.Verdict() {
		t.Errorf("sharing changed the run: %s %q vs %s %q", shared.Result.TraceHash, shared.Verdict(), apart.Result.TraceHash, apart.Verdict())
	}
}
