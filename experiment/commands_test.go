package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestCommandsBadOptions: every experiment refuses bad options before it
// runs anything, with an input error naming the option.
func TestCommandsBadOptions(t *testing.T) {
	dir := t.TempDir()
	zero, none := sweep.Range{}, 0
	cases := []struct {
		name  string
		run   func() error
		field string
	}{
		{"sweep without out", func() error {
			_, err := Sweep(context.Background(), SweepOptions{Seeds: sweep.Range{From: 1, To: 2}})
			return err
		}, "out"},
		{"sweep swarm and scenario", func() error {
			_, err := Sweep(context.Background(), SweepOptions{Swarm: true, Scenario: "fault-free", Out: filepath.Join(dir, "s.jsonl")})
			return err
		}, "scenario"},
		{"sweep bad shard", func() error {
			_, err := Sweep(context.Background(), SweepOptions{Shard: "3/2", Out: filepath.Join(dir, "s.jsonl")})
			return err
		}, "shard"},
		{"sweep bad protocol", func() error {
			_, err := Sweep(context.Background(), SweepOptions{Protocol: "raft", Out: filepath.Join(dir, "s.jsonl")})
			return err
		}, "protocol"},
		{"report without out", func() error { _, err := Report(context.Background(), ReportOptions{}); return err }, "out"},
		{"report seeds from 0", func() error {
			_, err := Report(context.Background(), ReportOptions{Seeds: &zero, Out: filepath.Join(dir, "r")})
			return err
		}, "seeds"},
		{"report zero requests", func() error {
			_, err := Report(context.Background(), ReportOptions{Requests: &none, Out: filepath.Join(dir, "r")})
			return err
		}, "requests"},
		{"report bad bandwidth", func() error {
			_, err := Report(context.Background(), ReportOptions{Bandwidth: "fast", Out: filepath.Join(dir, "r")})
			return err
		}, "bandwidth"},
		{"report unknown scenario", func() error {
			_, err := Report(context.Background(), ReportOptions{Scenario: "no-such", Out: filepath.Join(dir, "r")})
			return err
		}, "scenario"},
		{"merge without out", func() error { _, err := Merge("", []string{"a.jsonl"}); return err }, "out"},
		{"merge a missing part", func() error {
			_, err := Merge(filepath.Join(dir, "m.jsonl"), []string{filepath.Join(dir, "none.jsonl")})
			return err
		}, ""},
		{"triage without out", func() error { _, err := NewTriage(filepath.Join(dir, "s.jsonl"), ""); return err }, "out"},
	}
	for _, c := range cases {
		err := c.run()
		if f, ok := inputField(err); !ok || f != c.field {
			t.Errorf("%s: %v (field %q), want an input error of %q", c.name, err, f, c.field)
		}
	}
}

// TestReportRunFails: a run that fails is a failure of the report (not bad
// input), and names the run; a cancelled report is interrupted.
func TestReportRunFails(t *testing.T) {
	boom := errors.New("boom")
	o := ReportOptions{Quick: true, Nodes: []int{4, 7, 10}, Out: filepath.Join(t.TempDir(), "r"),
		Runner: func(cluster.Config) (*cluster.Result, error) { return nil, boom }}
	r, err := Report(context.Background(), o)
	if _, isInput := inputField(err); r != nil || !errors.Is(err, boom) || isInput || errors.Is(err, ErrInterrupted) {
		t.Fatalf("failing run: %+v %v", r, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o.Runner = nil
	if _, err := Report(ctx, o); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled report: %v", err)
	}
}

// TestSweepResult: a sweep writes its file and aggregates every seed; a
// failing seed within the fault model is the sweep's error.
func TestSweepResult(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.jsonl")
	r, err := Sweep(context.Background(), SweepOptions{Scenario: "fault-free", Seeds: sweep.Range{From: 1, To: 3}, Workers: 1, Out: out})
	if err != nil || !r.Written || r.Done != 3 || r.Workers != 1 {
		t.Fatalf("sweep: %+v %v", r, err)
	}
	out = filepath.Join(t.TempDir(), "v.jsonl")
	r, err = Sweep(context.Background(), SweepOptions{Scenario: "beyond-f", Seeds: sweep.Range{From: 1, To: 2}, Workers: 1, Out: out})
	if err != nil || r.Failures == 0 || r.Unexpected() != 0 {
		t.Fatalf("beyond-f fails outside the fault model only: %+v %v", r, err)
	}
	lie := writeLie(t, t.TempDir())
	r, err = Sweep(context.Background(), SweepOptions{Scenario: lie, Seeds: sweep.Range{From: 1, To: 2}, Workers: 1, Out: out})
	if err == nil || !strings.Contains(err.Error(), "failed within the fault model") || !r.Written || r.Unexpected() == 0 {
		t.Fatalf("a broken variant's sweep: %+v %v", r, err)
	}
}

// TestRunSavesViolation: a run that violates a property within the fault
// model writes its replay file and counterexample and returns the
// violation as its error; a run outside the fault model writes them too
// but is no error; an output that is an input is refused before running.
func TestRunSavesViolation(t *testing.T) {
	dir := t.TempDir()
	lie := writeLie(t, dir)
	sc, err := scenarios.Load(lie)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(sc, Options{Check: true, Out: lie, Inputs: []string{lie}}); !isField(err, "out") {
		t.Fatalf("--out over the scenario: %v", err)
	}
	out := filepath.Join(dir, "lie.replay.yaml")
	r, err := Run(sc, Options{Check: true, Out: out, Inputs: []string{lie}})
	if r == nil || err == nil || !strings.Contains(err.Error(), "violated within the fault model") || r.Saved == nil || r.Saved.Counterexample == nil {
		t.Fatalf("violation: %+v %v", r, err)
	}
	if rp, err := scenarios.LoadReplay(r.Saved.Replay); err != nil || rp.TraceHash != r.TraceHash() {
		t.Fatalf("replay file: %v", err)
	}
	bf, _ := scenarios.Builtin("beyond-f")
	r, err = Run(bf, Options{Check: true, Out: filepath.Join(dir, "bf.replay.yaml")})
	if err != nil || !r.Failed() || r.Saved == nil {
		t.Fatalf("beyond-f (outside the fault model): %+v %v", r, err)
	}
	r, err = Run(bf, Options{Check: false, Out: filepath.Join(dir, "unchecked.replay.yaml")})
	if err != nil || r.Failed() || r.Saved != nil {
		t.Fatalf("unchecked run: %+v %v", r, err)
	}
}

func isField(err error, field string) bool {
	f, ok := inputField(err)
	return ok && f == field
}

// writeLie writes into dir a scenario that violates a property within the
// fault model (a broken client variant that trusts a lying replica's
// reply) and returns its path.
func writeLie(t *testing.T, dir string) string {
	t.Helper()
	lie := filepath.Join(dir, "lie.yaml")
	if err := os.WriteFile(lie, []byte("name: lie\nn: 4\nprotocol: {variant: client-single-reply}\nworkload: {clients: 1, requests: 3}\n"+
		"byzantine:\n  - {replica: 0, strategy: lying-reply}\nnetwork: {delay: const:1ms}\nrun: {max_time: 5s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return lie
}
