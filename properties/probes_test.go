package properties

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// probeCases is the CI budget of TestReachableProbesHit (make fuzz: 600).
const probeCases = 200

// rareProbes are reached by the swarm search, but not within probeCases
// cases of seed 1 (600 cases reach every probe: make fuzz checks those).
// A duplicate request at execution was hit in 1 of 200 cases before
// vote-replay joined the strategies drawn, 0 of 200 and 6 of 600 after.
var rareProbes = map[string]bool{pbft.ProbeStateRejected: true, pbft.ProbeDupExecution: true}

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

func TestTriageGroups(t *testing.T) {
	a := "agreement at 1.2s (view 0, seq 3, nodes [1 2]): replica 1 executed 3fa9c0 but replica 2 executed 77b1e2 at seq 3"
	b := "agreement at 9.7s (view 1, seq 8, nodes [0 3]): replica 0 executed 0c1d2e but replica 3 executed aa90ff at seq 8"
	if messageShape(a) != messageShape(b) {
		t.Fatalf("shapes differ:\n%s\n%s", messageShape(a), messageShape(b))
	}
	seeds := []FailingSeed{
		{Seed: 1, Verdict: "agreement", Detail: a, Knobs: map[string]string{"strategies": "equivocate", "crashes": "0"}},
		{Seed: 2, Verdict: "agreement", Detail: b, Knobs: map[string]string{"strategies": "equivocate", "crashes": "0"}},
		{Seed: 3, Verdict: "agreement", Detail: b, Knobs: map[string]string{"strategies": "mutate", "crashes": "0"}},
		{Seed: 4, Verdict: "liveness", Detail: b, Knobs: map[string]string{"strategies": "equivocate", "crashes": "0"}},
		{Seed: 5, Verdict: "agreement", Detail: b, Knobs: map[string]string{"strategies": "equivocate", "crashes": "2"}},
	}
	dir := t.TempDir()
	groups, err := Triage(context.Background(), seeds, func(seed uint64) (scenarios.Scenario, error) {
		sc := Targeted("client-single-reply")[0]
		sc.Seed, sc.Protocol.Variant = seed, "client-single-reply"
		return sc, nil
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 4 || !slices.Equal(groups[0].Seeds, []uint64{1, 2}) || groups[3].Faults != "crashes" {
		t.Fatalf("groups %+v", groups)
	}
	for _, g := range groups {
		if g.Replay == "" && g.Note == "" {
			t.Errorf("group %s: neither a replay file nor a note", g.Signature)
		}
	}
}
