package properties

import (
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/workload"
)

// TestShrinkKeepsWorkloadPrefix: a failure that needs the first three
// operations of client 1 in one drawn workload shrinks to exactly those
// (client 1 issuing 3, the others none), because the shrinker cuts
// requests as prefixes of the same workload, per client too. A shrinker
// that redraws the workload for fewer requests cannot keep them.
func TestShrinkKeepsWorkloadPrefix(t *testing.T) {
	sc := scenarios.Scenario{Name: "prefix", Seed: 3, N: 4}
	sc.Workload.Clients, sc.Workload.Requests = 3, 30
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	fails := func(c scenarios.Scenario) bool {
		cfg, err := c.Config()
		if err != nil || max(cfg.DrawnFor, cfg.Requests) != 30 || cfg.Clients != 3 {
			return false // another workload
		}
		counts := workload.Config{Clients: cfg.Clients, Requests: cfg.Requests, DrawnFor: cfg.DrawnFor, Issued: cfg.Issued}.IssuedCounts()
		return counts != nil && counts[1] >= 3
	}
	got, _ := Shrink(sc, fails, 100, 400)
	if got.Workload.Requests != 3 || got.Workload.DrawnFor != 30 || len(got.Workload.Issued) != 3 || got.Workload.Issued[1] != 3 {
		t.Fatalf("shrunk to requests %d drawn_for %d issued %v, want 3 requests, all of client 1's, in the workload of 30",
			got.Workload.Requests, got.Workload.DrawnFor, got.Workload.Issued)
	}
}
