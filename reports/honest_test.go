package reports

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestSummarizeInterval: the 95% interval uses Student's t, never goes
// below zero for non-negative samples, and is flagged not meaningful with
// fewer than MinCISamples samples.
func TestSummarizeInterval(t *testing.T) {
	s := Summarize([]float64{1, 9})
	if s.Meaningful || s.CI[0] != 0 || s.CI[1] < 40 {
		// mean 5, std 5.66: t(0.975, 1) = 12.7 gives a half-width of 50.8
		t.Errorf("two samples: %+v, want CI [0, ~55.8], not meaningful", s)
	}
	s = Summarize([]float64{10, 11, 12})
	if !s.Meaningful || s.CI[0] < 8.51 || s.CI[0] > 8.52 {
		// half-width t(0.975, 2) = 4.303 * 1/sqrt(3) = 2.484
		t.Errorf("three samples: %+v, want CI [8.516, 13.484]", s)
	}
	if s := Summarize([]float64{-5, 1, 2}); s.CI[0] >= 0 {
		t.Errorf("a negative sample may give a negative bound: %+v", s)
	}
	if got := ci(Summarize([]float64{3, 4})); !strings.Contains(got, "CI n/a: 2 seeds < 3") {
		t.Errorf("ci() with 2 seeds = %q", got)
	}
}

// TestLogTicksReadable: a log axis over n = 4..100 gets plain labels at 1,
// 2 and 5 times the powers of ten.
func TestLogTicksReadable(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(4, 100) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, ","); got != "5,10,20,50,100" {
		t.Errorf("labels %q, want 5,10,20,50,100", got)
	}
	for _, tk := range (logTicks{}).Ticks(20000, 3e6) {
		if strings.Contains(tk.Label, "e+") {
			t.Errorf("label %q in exponent notation", tk.Label)
		}
	}
	if n := len((logTicks{}).Ticks(31, 38)); n < 2 {
		t.Errorf("a narrow range has %d ticks, want its ends labelled", n)
	}
}

// TestReportSaysDiverged: a report over beyond-f (more faulty replicas than
// f at n=4) says that safety was lost, where and why.
func TestReportSaysDiverged(t *testing.T) {
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	sc, err := scenarios.Builtin("beyond-f")
	if err != nil {
		t.Fatal(err)
	}
	base, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rep")
	opt := Options{Base: base, Scenario: "beyond-f", Nodes: []int{4, 7, 10}, Seeds: 2, Workers: 2, Out: out}
	s, err := Generate(context.Background(), opt, cluster.Run)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Diverged) == 0 || s.Diverged[0] != 4 || !s.OutsideFaultModel {
		t.Fatalf("diverged %v, outside %v: want n=4, outside the fault model", s.Diverged, s.OutsideFaultModel)
	}
	md := readFile(t, filepath.Join(out, FileMarkdown))
	if !strings.Contains(md, "SAFETY LOST: honest replicas diverged") || !strings.Contains(s.Verdict, "outside the fault model") {
		t.Errorf("the report does not say the runs diverged:\n%s", s.Verdict)
	}
}

// TestReportResume: Ctrl-C keeps the finished runs in the journal; --resume
// runs only the rest and gives the report an uninterrupted sweep gives.
func TestReportResume(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Scenario: "synthetic", Nodes: []int{4, 7, 10, 13}, Seeds: 3, Workers: 1, Out: filepath.Join(dir, "whole")}
	whole, err := Generate(context.Background(), opt, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	opt.Out = filepath.Join(dir, "rep")
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err = Generate(ctx, opt, func(c cluster.Config) (*cluster.Result, error) {
		if calls++; calls == 5 {
			cancel()
		}
		return synthetic(c)
	})
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "rerun with --resume") {
		t.Fatalf("interrupted: %v", err)
	}
	if _, err := Generate(context.Background(), opt, synthetic); !errors.Is(err, ErrJournalExists) {
		t.Fatalf("rerun without --resume: %v", err)
	}
	jdata, _ := os.ReadFile(JournalPath(opt.Out))
	kept := strings.Count(string(jdata), "\n") - 1
	if kept < 4 {
		t.Fatalf("%d runs kept, want at least the 4 that finished before Ctrl-C", kept)
	}
	opt.Resume = true
	calls = 0
	s, err := Generate(context.Background(), opt, func(c cluster.Config) (*cluster.Result, error) {
		calls++
		return synthetic(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 12-kept {
		t.Errorf("resume ran %d runs, want the %d unfinished", calls, 12-kept)
	}
	if s.Fit != whole.Fit || len(s.Runs) != len(whole.Runs) {
		t.Errorf("resumed fit %+v, uninterrupted %+v", s.Fit, whole.Fit)
	}
	for i := range s.Runs {
		if s.Runs[i].TraceHash != whole.Runs[i].TraceHash || s.Runs[i].Messages != whole.Runs[i].Messages {
			t.Errorf("run %d differs after resume", i)
		}
	}
	if _, err := os.Stat(JournalPath(opt.Out)); !os.IsNotExist(err) {
		t.Errorf("journal left after the report was written: %v", err)
	}
}
