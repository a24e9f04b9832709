package main

import (
	"bytes"
	"context"
	"errors"
	"github.com/spf13/cobra"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// fakeRun returns exact closed-form counts (no batching) for cfg.
func fakeRun(cfg cluster.Config) (*cluster.Result, error) {
	n, r := uint64(cfg.N), uint64(cfg.Requests)
	by := map[string]uint64{"REQUEST": r, "PRE-PREPARE": r * (n - 1), "PREPARE": r * (n - 1) * (n - 1),
		"COMMIT": r * n * (n - 1), "REPLY": r * n}
	res := &cluster.Result{N: cfg.N, Seed: cfg.Seed, Messages: cluster.Messages{ByType: by, BytesByType: map[string]uint64{}},
		Requests: cluster.Requests{Submitted: int(r), Committed: int(r)}, SimTimeNs: 1e9, Completed: true}
	for t, c := range by {
		res.Messages.Total += c
		res.Messages.BytesByType[t] = 100 * c
		res.Messages.Bytes += 100 * c
	}
	return res, nil
}

func runReportArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	old := reportRunner
	reportRunner = fakeRun
	defer func() { reportRunner = old }()
	cmd := newReportCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestReportCmdWritesReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my report")
	out, err := runReportArgs(t, "--quick", "--workers", "2", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "report written to "+dir) || !strings.Contains(out, "within O(n²) bound: true") {
		t.Errorf("output: %q", out)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "pbftsim report --nodes 4,7,10,13 --seeds 1..2 --quick --out '" + dir + "'"
	if !strings.Contains(string(md), want) || !strings.Contains(string(md), version) || !strings.Contains(string(md), "| scenario | fault-free |") {
		t.Errorf("report.md lacks the command %q, version or scenario", want)
	}
}

func TestReportCmdBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"--quick"}, "out"},
		{"n below 4", []string{"--nodes", "3,4,7", "--out", filepath.Join(dir, "a")}, "nodes"},
		{"empty list", []string{"--nodes", "", "--out", filepath.Join(dir, "a")}, "nodes"},
		{"not a number", []string{"--nodes", "4,x,7", "--out", filepath.Join(dir, "a")}, "nodes"},
		{"zero seeds", []string{"--seeds", "0", "--out", filepath.Join(dir, "a")}, "seeds"},
		{"zero requests", []string{"--requests", "0", "--out", filepath.Join(dir, "a")}, "requests"},
		{"unknown scenario", []string{"--scenario", "no-such-scenario", "--out", filepath.Join(dir, "a")}, "scenario"},
		{"unwritable out", []string{"--quick", "--out", filepath.Join(dir, "missing", "a")}, "out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runReportArgs(t, tc.args...)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("error %v, want exit status 2", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("report written despite bad input: %v", err)
	}
}

// TestReportCmdRealScenario runs real simulations of a built-in scenario.
func TestReportCmdRealScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "lossy")
	cmd := newReportCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"--scenario", "lossy-wan", "--quick", "--nodes", "4,7,10", "--out", dir})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| scenario | lossy-wan |", "pbftsim report --scenario lossy-wan --nodes 4,7,10 --seeds 1..2 --quick", "exceed the closed form"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if !strings.Contains(out.String(), "within O(n²) bound: false") {
		t.Errorf("output %q", out.String())
	}
}
