package reports

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestRealRunsMatchClosedForm sweeps real simulations (cluster.Run) on a
// fault-free network and checks the exact closed-form counts and exponent.
func TestRealRunsMatchClosedForm(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "rep")
	opt := Options{Scenario: "fault-free", Nodes: []int{4, 7, 10}, Seeds: 2, Workers: 2, Out: out, Quick: true}
	s, err := Generate(context.Background(), opt, cluster.Run)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Runs {
		if r.Committed != QuickRequests || !r.Completed {
			t.Errorf("n=%d seed=%d: committed %d of %d, completed %v", r.N, r.Seed, r.Committed, QuickRequests, r.Completed)
		}
		cf := ClosedFormCounts(r.N, 1, defaultCheckpointInterval)
		if r.NormalPerRequest != cf.NormalPerRequest {
			t.Errorf("n=%d seed=%d: %v normal-case messages per request, closed form %v (by type %v)", r.N, r.Seed, r.NormalPerRequest, cf.NormalPerRequest, r.ByType)
		}
		if r.CheckpointRounds != 1 || r.CheckpointPerRound != cf.CheckpointPerRound {
			t.Errorf("n=%d seed=%d: %d checkpoint rounds of %v messages, want 1 of %v", r.N, r.Seed, r.CheckpointRounds, r.CheckpointPerRound, cf.CheckpointPerRound)
		}
		if r.ViewChanges != 0 || r.Dropped != 0 {
			t.Errorf("n=%d seed=%d: %d view changes, %d dropped", r.N, r.Seed, r.ViewChanges, r.Dropped)
		}
	}
	if !s.Exact || !s.WithinBound {
		t.Errorf("exact=%v within=%v: %s", s.Exact, s.WithinBound, s.Verdict)
	}
	// Exact counts: the fitted exponent is the closed form's own slope over
	// 4, 7, 10 (2.06: the −n+1 terms matter at small n), within 2 ± 0.1.
	if math.Abs(s.Fit.Exponent-s.ClosedForm.Exponent) > 1e-9 || math.Abs(s.Fit.Exponent-2) > 0.1 {
		t.Errorf("exponent %v, closed form's %v", s.Fit.Exponent, s.ClosedForm.Exponent)
	}
	if !strings.Contains(readFile(t, filepath.Join(out, FileMarkdown)), "WITHIN the O(n²) bound") {
		t.Error("report.md lacks the verdict")
	}
}

// TestRealRunsLossyExceedClosedForm sweeps real simulations on a lossy
// network: retransmissions push the counts above the closed form, and the
// report says so.
func TestRealRunsLossyExceedClosedForm(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "rep")
	var base cluster.Config
	base.Network.Default.Drop = 0.05
	opt := Options{Base: base, Scenario: "lossy", Nodes: []int{4, 7, 10}, Seeds: 2, Workers: 2, Out: out, Quick: true}
	s, err := Generate(context.Background(), opt, cluster.Run)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Points {
		if p.CommittedRuns == 0 || !(p.NormalPerRequest.Mean > p.ClosedForm.NormalPerRequest) || p.Dropped.Mean == 0 {
			t.Errorf("n=%d: %v messages per request (closed form %v), %v dropped", p.N, p.NormalPerRequest.Mean, p.ClosedForm.NormalPerRequest, p.Dropped.Mean)
		}
	}
	if s.Exact || s.ConstantsWithin || !s.WithinBound || len(s.Deviations) == 0 {
		t.Errorf("exact=%v constants=%v within=%v deviations=%d", s.Exact, s.ConstantsWithin, s.WithinBound, len(s.Deviations))
	}
	md := readFile(t, filepath.Join(out, FileMarkdown))
	for _, want := range []string{"WITHIN the O(n²) bound, with constants above the closed form", "exceed the closed form", "dropped"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestRealRunsDeterministicAcrossWorkers: real lossy runs give the same
// results (trace hashes included) for 1 and 3 workers.
func TestRealRunsDeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	var base cluster.Config
	base.Network.Default.Drop = 0.05
	var got [][2][]byte
	for _, workers := range []int{1, 3} {
		opt := Options{Base: base, Nodes: []int{4, 7, 10}, Seeds: 2, Workers: workers, Out: filepath.Join(t.TempDir(), "rep"), Quick: true}
		s, err := Generate(context.Background(), opt, cluster.Run)
		if err != nil {
			t.Fatal(err)
		}
		a, b := stripWall(s)
		got = append(got, [2][]byte{a, b})
	}
	if string(got[0][0]) != string(got[1][0]) || string(got[0][1]) != string(got[1][1]) {
		t.Error("results differ between 1 and 3 workers")
	}
}
