package properties

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/sim/pbft"
)

// probeCases is the CI budget of TestReachableProbesHit (make fuzz: 600).
const probeCases = 200

// rareProbes are reached by the swarm search, but not within probeCases
// cases of seed 1 (600 cases reach every probe: make fuzz checks those).
var rareProbes = map[string]bool{pbft.ProbeStateRejected: true}

// TestReachableProbesHit: every probe marked reachable is hit within the
// CI search budget; a probe that stops being reached (a generator change
// that no longer drives the protocol there, or a path removed) fails here.
func TestReachableProbesHit(t *testing.T) {
	cases := probeCases
	if os.Getenv("PBFTSIM_PROPERTY_RUNS") != "" {
		cases = 600
	}
	rep, err := Search(context.Background(), SearchOptions{Runs: cases, Seed: 1, Gen: SearchConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failure != nil {
		t.Fatalf("correct protocol failed: %s", rep.Failure.Violation)
	}
	if len(rep.Probes) != len(pbft.ProbeNames()) {
		t.Fatalf("%d probe stats, want %d", len(rep.Probes), len(pbft.ProbeNames()))
	}
	for _, p := range rep.Probes {
		if !slices.Contains(ReachableProbes, p.Probe) {
			continue
		}
		if p.Hits == 0 && (!rareProbes[p.Probe] || cases > probeCases) {
			t.Errorf("probe %s never hit in %d cases", p.Probe, cases)
		}
		t.Logf("%-40s %8d reports in %4d cases", p.Probe, p.Hits, p.Cases)
	}
}

// TestProbeCounter: a probe counter counts probes by name and by (probe,
// view), and a guided search grows a corpus from them.
func TestGuidedSearch(t *testing.T) {
	rep, err := Search(context.Background(), SearchOptions{Runs: 60, Seed: 2, Gen: SearchConfig(), Guided: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Corpus == 0 || rep.Coverage < rep.Corpus {
		t.Fatalf("guided search: corpus %d, coverage %d", rep.Corpus, rep.Coverage)
	}
	again, err := Search(context.Background(), SearchOptions{Runs: 60, Seed: 2, Gen: SearchConfig(), Guided: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Corpus != rep.Corpus || again.Coverage != rep.Coverage || !slices.Equal(again.Probes, rep.Probes) {
		t.Fatalf("guided search not deterministic: %d/%d vs %d/%d", rep.Corpus, rep.Coverage, again.Corpus, again.Coverage)
	}
}
