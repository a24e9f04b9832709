package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

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
		{"negative bandwidth", []string{"--quick", "--bandwidth", "-5Mbit", "--out", filepath.Join(dir, "a")}, "--bandwidth: bandwidth: \"-5Mbit\" is out of range: want a rate > 0 such as 8000bit, 500Kbit, 100Mbit"},
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
	out, md, _ := reportFolder(t, "lossy", "--scenario", "lossy-wan", "--quick", "--nodes", "4,7,10")
	for _, want := range []string{"| scenario | lossy-wan |", "pbftsim report --scenario lossy-wan --nodes 4,7,10 --seeds 1..2 --quick", "exceed the closed form"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// One rule decides the summary line, the headline and the table: the
	// lossy WAN grows as O(n²) with constants above the closed form.
	if !strings.Contains(out.String(), "within O(n²) bound: true; constants within tolerance: false") ||
		!strings.Contains(out.String(), "WITHIN the O(n²) bound, with constants above") || strings.Contains(string(md), "NOT within") {
		t.Errorf("output %q", out.String())
	}
}

// cliCtx is cli with a context (cancel it to simulate Ctrl-C).
func cliCtx(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := 0
	if err != nil {
		errb.WriteString(err.Error())
		code = 2
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), errb.String(), code
}

// TestReportCmdInterruptResume: Ctrl-C keeps the finished runs (exit 130),
// a rerun without --resume refuses to drop them, --resume finishes.
func TestReportCmdInterruptResume(t *testing.T) {
	old := reportRunner
	defer func() { reportRunner = old }()
	out := filepath.Join(t.TempDir(), "rep")
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	reportRunner = func(c cluster.Config) (*cluster.Result, error) {
		if calls++; calls == 3 {
			cancel()
		}
		return fakeRun(c)
	}
	args := []string{"report", "--quick", "--workers", "1", "--quiet", "--out", out}
	_, errs, code := cliCtx(t, ctx, args...)
	if code != 130 || !strings.Contains(errs, "kept in "+out+".runs.partial") {
		t.Fatalf("interrupted report: exit %d %q, want 130 keeping the finished runs", code, errs)
	}
	reportRunner = fakeRun
	if _, errs, code := cli(t, args...); code != 2 || !strings.Contains(errs, "--resume") {
		t.Fatalf("rerun without --resume: exit %d %q", code, errs)
	}
	if o, errs, code := cli(t, append(args, "--resume")...); code != 0 || !strings.Contains(o, "report written to") {
		t.Fatalf("--resume: exit %d %s %s", code, o, errs)
	}
}

// TestReportProtocolsInterrupted: Ctrl-C during report --protocols exits
// 130, not 2.
func TestReportProtocolsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errs, code := cliCtx(t, ctx, "report", "--quick", "--protocols", "pbft,hotstuff", "--quiet", "--out", filepath.Join(t.TempDir(), "cmp"))
	if code != 130 {
		t.Errorf("report --protocols interrupted: exit %d %q, want 130", code, errs)
	}
}

// TestReportCmdBandwidth: --bandwidth limits the sweep's links; the report
// says from which n the view change's bytes are the bottleneck and records
// the flag in its command line.
func TestReportCmdBandwidth(t *testing.T) {
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	out, md, _ := reportFolder(t, "bw", "--scenario", "crashed-primary", "--nodes", "4,10,16", "--seeds", "1..3", "--bandwidth", "10Mbit")
	for _, want := range []string{"--bandwidth 10Mbit --out", "## Bandwidth", "rate-limited (egress 10Mbit)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if !strings.Contains(out.String(), "bandwidth 10Mbit: the view change's bytes outlast two message delays from n = ") {
		t.Errorf("output %q", out.String())
	}
}

// reportFolder runs the report command with args into a new folder named
// name and returns its output, report.md and the folder.
func reportFolder(t *testing.T, name string, args ...string) (out bytes.Buffer, md []byte, dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), name)
	cmd := newReportCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(append(args, "--out", dir))
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	return out, md, dir
}

// TestReportCmdRegions: a sweep over a scenario with regions places every
// n's replicas in the regions (replica i in Replicas[i mod len]), not only
// the scenario's own n: every n's median latency stays above the round
// trips of the five-region WAN.
func TestReportCmdRegions(t *testing.T) {
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	out, md, dir := reportFolder(t, "wan", "--scenario", "wan-5-regions", "--nodes", "4,7,10", "--seeds", "1..2", "--bandwidth", "10Mbit")
	if !strings.Contains(out.String(), "no run changed view") || !strings.Contains(string(md), "ms one way) starts") {
		t.Errorf("output %q", out.String())
	}
	var sum struct {
		Points []struct {
			N       int `json:"n"`
			Latency struct {
				Mean float64 `json:"mean"`
			} `json:"latency_p50_ms"`
		} `json:"points"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	for _, p := range sum.Points {
		if p.Latency.Mean < 150 {
			t.Errorf("n=%d: median latency %.1f ms: the WAN's replicas are not all in their regions", p.N, p.Latency.Mean)
		}
	}
}
