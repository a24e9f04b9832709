package reports

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestGenerateWithoutCommits: points where nothing commits are excluded from
// the fits and named; with too few points left there is no verdict, but the
// report is still written.
func TestGenerateWithoutCommits(t *testing.T) {
	t.Parallel()
	stall := func(below int) Runner {
		return func(c cluster.Config) (*cluster.Result, error) {
			res, err := synthetic(c)
			if err == nil && c.N >= below {
				res.Requests.Committed = 0
				res.Completed = false
			}
			return res, err
		}
	}
	tests := []struct {
		name      string
		below     int
		excluded  []int
		verdict   string
		withinFit bool
	}{
		{"one n stalls", 16, []int{16}, "No request committed at n=[16]", true},
		{"all stall", 4, []int{4, 7, 10, 13, 16}, "NO VERDICT", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rep")
			opt := quickOpts(t, out)
			opt.Nodes = []int{4, 7, 10, 13, 16}
			s, err := Generate(context.Background(), opt, stall(tc.below))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Excluded, tc.excluded) || !strings.Contains(s.Verdict, tc.verdict) {
				t.Errorf("excluded %v verdict %q", s.Excluded, s.Verdict)
			}
			if s.WithinBound != tc.withinFit || s.Exact {
				t.Errorf("within=%v exact=%v", s.WithinBound, s.Exact)
			}
			if (s.Fit.Points > 0) != tc.withinFit {
				t.Errorf("fit %+v", s.Fit)
			}
			if !strings.Contains(readFile(t, filepath.Join(out, FileMarkdown)), tc.verdict) {
				t.Error("report.md lacks the verdict")
			}
		})
	}
}

func TestPhaseOf(t *testing.T) {
	tests := map[string]string{
		TypeRequest: PhaseNormal, TypePrePrepare: PhaseNormal, TypePrepare: PhaseNormal, TypeCommit: PhaseNormal,
		TypeReply: PhaseNormal, TypeCheckpoint: PhaseCheckpoint, TypeViewChange: PhaseViewChange,
		TypeNewView: PhaseViewChange, TypeFetchState: PhaseViewChange, TypeState: PhaseViewChange, "PING": PhaseOther,
	}
	for typ, want := range tests {
		if got := PhaseOf(typ); got != want {
			t.Errorf("PhaseOf(%s) = %s, want %s", typ, got, want)
		}
	}
}

func BenchmarkGenerateQuickSynthetic(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		opt := Options{Seeds: 2, Workers: 1, Out: filepath.Join(dir, "rep"), Quick: true}
		if _, err := Generate(context.Background(), opt, synthetic); err != nil {
			b.Fatal(err)
		}
	}
}

// busy is a CPU-bound synthetic runner (about 1ms of work per run), to
// measure the worker pool's speed-up.
func busy(c cluster.Config) (*cluster.Result, error) {
	x := c.Seed
	for range 400_000 {
		x = x*6364136223846793005 + 1442695040888963407
	}
	res, err := synthetic(c)
	if err == nil {
		res.Events += x & 1
	}
	return res, err
}

func benchmarkSweep(b *testing.B, workers int) {
	p, err := newPlan(Options{Seeds: 8, Workers: workers, Out: "unused"}, 1)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := sweep(context.Background(), p, busy, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSweepWorkers1(b *testing.B) { benchmarkSweep(b, 1) }
func BenchmarkSweepWorkers4(b *testing.B) { benchmarkSweep(b, 4) }

// TestGenerateWithoutBytes: a runner that models no message sizes still
// gives a report (no byte fit, a "no data" bytes plot).
func TestGenerateWithoutBytes(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "rep")
	opt := quickOpts(t, out)
	opt.Nodes = QuickNodes
	s, err := Generate(context.Background(), opt, func(c cluster.Config) (*cluster.Result, error) {
		res, err := synthetic(c)
		if err == nil {
			res.Messages.Bytes, res.Messages.BytesByType = 0, nil
		}
		return res, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.BytesFit != nil || !s.Exact || !s.WithinBound {
		t.Errorf("bytes fit %+v exact %v within %v", s.BytesFit, s.Exact, s.WithinBound)
	}
	checkReportFiles(t, out, s)
}
