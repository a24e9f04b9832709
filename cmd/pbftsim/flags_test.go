package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestSharedFlags checks that a shared flag name means one thing: in every
// command that has it, it has the same type, the same help text (up to a
// command's note after "; " or its default) and parses every sample the
// same way.
func TestSharedFlags(t *testing.T) {
	cases := []struct {
		name     string
		typ      string
		usage    string // the help text starts with it
		commands []string
		good     map[string]string // value -> String() after Set
		bad      []string
	}{
		{"seeds", "A..B|N", seedsUsage, []string{"sweep", "report"},
			map[string]string{"100": "1..100", "5..9": "5..9", "7..7": "7..7"}, []string{"0", "9..5", "x", "-1", ""}},
		{"nodes", "N[,N...]", nodesUsage, []string{"run", "report"},
			map[string]string{"4": "4", "4,7,10": "4,7,10", " 7 , 4 ": "7,4"}, []string{"0", "3", "257", "4,4", "x", ""}},
		{"out", "string", "primary output: ", []string{"run", "check", "hunt", "sweep", "report", "merge"},
			map[string]string{"a/b.yaml": "a/b.yaml"}, nil},
		{"list", "bool", "print ", []string{"hunt"}, map[string]string{"true": "true"}, []string{"3"}},
		{"seed", "uint64", "the seed everything random in the command derives from", []string{"run", "check", "hunt"},
			map[string]string{"7": "7"}, []string{"-1", "x"}},
		{"scenario", "string", "built-in scenario name (pbftsim scenarios) or scenario file", []string{"run", "sweep", "report"},
			map[string]string{"adversarial": "adversarial"}, nil},
		{"workers", "int", "simulations run at once (0: one per CPU)", []string{"sweep", "report"}, map[string]string{"2": "2"}, []string{"x"}},
		{"quiet", "bool", "no progress output on stderr", []string{"check", "sweep", "report"}, map[string]string{"true": "true"}, nil},
		{"failures", "int", "failing seeds listed in the summary", []string{"sweep", "merge"}, map[string]string{"3": "3"}, []string{"x"}},
		{"json", "bool", "print JSON on stdout instead of text", []string{"run", "replay", "hunt"}, map[string]string{"true": "true"}, nil},
	}
	for _, c := range cases {
		found := map[string]bool{}
		for _, cmd := range newRootCmd().Commands() {
			fl := cmd.Flags().Lookup(c.name)
			if fl == nil {
				continue
			}
			found[cmd.Name()] = true
			if fl.Value.Type() != c.typ {
				t.Errorf("%s --%s: type %s, want %s", cmd.Name(), c.name, fl.Value.Type(), c.typ)
			}
			if !strings.HasPrefix(fl.Usage, c.usage) {
				t.Errorf("%s --%s: help %q, want it to start with %q", cmd.Name(), c.name, fl.Usage, c.usage)
			}
			for in, want := range c.good {
				v := fresh(t, cmd, c.name)
				if err := v.Set(in); err != nil || v.String() != want {
					t.Errorf("%s --%s %q: %q, %v; want %q", cmd.Name(), c.name, in, v.String(), err, want)
				}
			}
			for _, in := range c.bad {
				if err := fresh(t, cmd, c.name).Set(in); err == nil {
					t.Errorf("%s --%s %q: accepted", cmd.Name(), c.name, in)
				}
			}
		}
		for _, name := range c.commands {
			if !found[name] {
				t.Errorf("%s has no --%s", name, c.name)
			}
		}
	}
}

// fresh returns the flag's value in a new instance of the command.
func fresh(t *testing.T, cmd *cobra.Command, name string) pflag.Value {
	t.Helper()
	for _, c := range newRootCmd().Commands() {
		if c.Name() == cmd.Name() {
			return c.Flags().Lookup(name).Value
		}
	}
	t.Fatalf("no command %s", cmd.Name())
	return nil
}

// TestZeroValuesAreErrors: zero and nonsense values are refused with exit
// 2 and a message naming the flag or field, never replaced by a default.
func TestZeroValuesAreErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const delay = "network: {delay: const:1ms}\n"
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(50 << 20); err != nil { // 50 MB, sparse
		t.Fatal(err)
	}
	f.Close()
	files := map[string]struct{ path, want string }{
		"n: 0":           {write("n0.yaml", "n: 0\n"+delay), ":1:4: n: 0 is out of range"},
		"requests: 0":    {write("r0.yaml", "workload: {requests: 0}\n"+delay), "workload.requests: 0 is out of range"},
		"clients: 0":     {write("c0.yaml", "workload: {clients: 0}\n"+delay), "workload.clients: 0 is out of range"},
		"no delay":       {write("nodelay.yaml", "n: 4\n"), "network.delay: missing"},
		"payments > req": {write("pay.yaml", "workload: {requests: 4, payments: 9}\n"+delay), ":1:35: workload.payments: 9 is out of range: want at most workload.requests (4)"},
		"1ns vc timeout": {write("vc.yaml", "protocol: {view_change_timeout: 1ns}\n"+delay), "protocol.view_change_timeout: 1ns is out of range: want a duration in [1ms, 1h]"},
		"50 MB":          {big, "want at most 1048576"},
	}
	for name, c := range files {
		before := mustRead(t, c.path)
		for _, args := range [][]string{{"validate", c.path}, {"run", "--scenario", c.path}, {"sweep", "--scenario", c.path, "--seeds", "1", "--out", filepath.Join(dir, "s.jsonl")}} {
			_, errs, code := cli(t, args...)
			if code != 2 || !strings.Contains(errs, c.path) || !strings.Contains(errs, c.want) {
				t.Errorf("%s: %v: exit %d, %q; want 2 and %q", name, args[0], code, errs, c.want)
			}
		}
		if after := mustRead(t, c.path); string(after) != string(before) {
			t.Errorf("%s: the scenario file changed", name)
		}
	}
	for _, args := range [][]string{
		{"run", "--nodes", "0"}, {"run", "--nodes", "4,7"}, {"run", "--requests", "0"}, {"run", "--clients", "0"},
		{"run", "--batch", "0"}, {"run", "--checkpoint-interval", "0"}, {"run", "--max-time", "0s"},
		{"report", "--nodes", "0", "--out", dir}, {"report", "--seeds", "0", "--out", dir},
		{"sweep", "--seeds", "0", "--out", filepath.Join(dir, "x")}, {"check", "--runs", "0"}, {"check", "--budget", "0s"},
	} {
		if _, errs, code := cli(t, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want 2 and a message", args, code, errs)
		}
	}
}

// TestRunSeedFlag: an explicit --seed beats the scenario's seed; without
// it the scenario's seed is used; the help says so.
func TestRunSeedFlag(t *testing.T) {
	out, _, _ := cli(t, "run", "--scenario", "crashed-primary", "--out", "")
	if !strings.Contains(out, "seed 4\n") && !strings.Contains(out, ", seed 4,") {
		if m := hashLine.FindStringSubmatch(out); m == nil || m[1] != "4" {
			t.Errorf("without --seed: not the scenario's seed 4:\n%s", out)
		}
	}
	out, _, _ = cli(t, "run", "--scenario", "crashed-primary", "--seed", "9", "--out", "")
	if m := hashLine.FindStringSubmatch(out); m == nil || m[1] != "9" {
		t.Errorf("--seed 9 did not win over the scenario's seed:\n%s", out)
	}
	help, _, _ := cli(t, "run", "--help")
	if !strings.Contains(help, "an explicit --seed always beats the scenario's") || strings.Contains(help, "(default 1)") {
		t.Errorf("run --help does not say how --seed and the scenario's seed combine:\n%s", help)
	}
}

// unchanged fails the test if the file at path no longer holds before.
func unchanged(t *testing.T, path string, before []byte) {
	t.Helper()
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("%s changed (%v)", path, err)
	}
}

// TestCheckBudgetAndCtrlC: check never says all properties held after 0
// cases; Ctrl-C (a cancelled context) makes check and hunt print what they
// did so far and exit 130.
func TestCheckBudgetAndCtrlC(t *testing.T) {
	out, _, code := cli(t, "check", "--budget", "1ns", "--quiet")
	if code != 1 || strings.Contains(out, "all properties held") || !strings.Contains(out, "nothing was checked") {
		t.Errorf("check --budget 1ns: exit %d\n%s", code, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, errs, code := cliCtx(t, ctx, "check", "--runs", "50", "--quiet")
	if code != 130 || !strings.Contains(out, "cases in") || !strings.Contains(out, "interrupted") || strings.Contains(out, "all properties held") {
		t.Errorf("check interrupted: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = cliCtx(t, ctx, "hunt", "--variant", "commit-quorum-2f", "--budget", "10s")
	if code != 130 || !strings.Contains(out, "interrupted") {
		t.Errorf("hunt interrupted: exit %d\n%s%s", code, out, errs)
	}
}

// TestProgressInALog: off a terminal, progress is plain lines at most every
// logEvery (the final line always), never a carriage return.
func TestProgressInALog(t *testing.T) {
	var b bytes.Buffer
	p := newProgressLine(&b, false)
	if p.tty || p.every != logEvery {
		t.Fatalf("a buffer is not a terminal: %+v", p)
	}
	for i := range 1000 {
		p.show(fmt.Sprintf("step %d", i), false)
	}
	p.show("done", true)
	p.finish()
	if strings.Contains(b.String(), "\r") || b.String() != "done\n" {
		t.Errorf("log output %q, want only the final line within %v", b.String(), logEvery)
	}
	_, errs, _ := cli(t, "sweep", "--seeds", "1..3", "--out", filepath.Join(t.TempDir(), "s.jsonl"))
	if strings.Contains(errs, "\r") || !strings.Contains(errs, "3/3 seeds") {
		t.Errorf("sweep progress in a log: %q", errs)
	}
}
