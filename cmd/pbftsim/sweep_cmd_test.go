package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSweepAndMergeCmd(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	out, errs, code := cli(t, "sweep", "--seeds", "1..6", "--workers", "2", "--out", whole)
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"sweep of scenario adversarial, seeds 1..6: 6 of 6 seeds ran", "verdicts: ok 6", "latency p50 per seed: min ", "messages per seed:", "records written to " + whole} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "6/6 seeds") || !strings.Contains(errs, "seeds/s, 0 failures") {
		t.Errorf("no progress bar on stderr: %q", errs)
	}
	var parts []string
	for _, sh := range []string{"0/2", "1/2"} {
		p := filepath.Join(dir, "part"+sh[:1])
		if _, errs, code := cli(t, "sweep", "--seeds", "1..6", "--shard", sh, "--out", p, "--quiet"); code != 0 {
			t.Fatalf("sweep --shard %s: exit %d: %s", sh, code, errs)
		}
		parts = append(parts, p)
	}
	merged := filepath.Join(dir, "merged.jsonl")
	out, errs, code = cli(t, append([]string{"merge", "--out", merged}, parts...)...)
	if code != 0 || !strings.Contains(out, "merged 2 shards") || !strings.Contains(out, "verdicts: ok 6") {
		t.Fatalf("merge: exit %d\n%s\n%s", code, out, errs)
	}
	a := mustRead(t, whole)
	b := mustRead(t, merged)
	if !bytes.Equal(a, b) {
		t.Errorf("merged file differs from the unsharded sweep")
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--seeds", "9..2", "--out", whole}, "--seeds"},
		{[]string{"sweep", "--seeds", "1..2", "--shard", "2/2", "--out", whole}, "--shard"},
		{[]string{"sweep", "--seeds", "1..2", "--workers", "-3", "--out", whole}, "--workers"},
		{[]string{"sweep", "--seeds", "1..2"}, "--out"},
		{[]string{"sweep", "--seeds", "1..2", "--scenario", "no-such", "--out", whole}, "unknown built-in scenario"},
		{[]string{"sweep", "--bogus"}, "bogus"},
		{[]string{"merge", "--out", merged, parts[0]}, "missing shards of 2 (numbered 0..1): 1"},
		{[]string{"merge", merged, parts[0]}, "missing shards of 2 (numbered 0..1): 1"},
		{[]string{"merge", merged}, "want --out OUT and the shard files"},
		{[]string{"merge", "--out", merged}, "requires at least 1 arg"},
	}
	for _, c := range bad {
		_, errs, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	if b2 := mustRead(t, merged); !bytes.Equal(b2, b) {
		t.Errorf("a refused merge changed the merged file")
	}
}

// TestSweepCmdFailingSeeds: sweep and run use one exit rule: violations
// outside the fault model are expected (exit 0, listed with their replay
// commands), violations within it exit 1.
func TestSweepCmdFailingSeeds(t *testing.T) {
	dir := t.TempDir()
	lie := filepath.Join(dir, "lie.yaml")
	if err := os.WriteFile(lie, []byte("name: lie\nn: 4\nprotocol: {variant: client-single-reply}\nworkload: {clients: 1, requests: 3}\n"+
		"byzantine:\n  - {replica: 0, strategy: lying-reply}\nnetwork: {delay: const:1ms}\nrun: {max_time: 5s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		scenario, want string
		code           int
	}{
		{"beyond-f", "outside the fault model, as expected there", 0},
		{lie, "failing;", 1},
	} {
		out, _, code := cli(t, "sweep", "--scenario", c.scenario, "--seeds", "1..4", "--out", filepath.Join(dir, "f.jsonl"), "--quiet")
		if code != c.code || !strings.Contains(out, "replay: pbftsim run --scenario "+c.scenario+" --seed ") || !strings.Contains(out, c.want) {
			t.Errorf("%s sweep: exit %d, want %d with replay commands and %q:\n%s", c.scenario, code, c.code, c.want, out)
		}
		_, _, rcode := cli(t, "run", "--scenario", c.scenario, "--seed", "1", "--out", "")
		if rcode != code {
			t.Errorf("%s: run exits %d, sweep %d: want one rule", c.scenario, rcode, code)
		}
	}
}

// mustRead returns the contents of path, failing the test if it cannot be
// read (two missing files must not compare equal).
func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSweepCmdResume: a partial file is never deleted; --resume finishes it
// into the file an uninterrupted sweep writes.
func TestSweepCmdResume(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	if _, errs, code := cli(t, "sweep", "--seeds", "1..6", "--out", whole, "--quiet"); code != 0 {
		t.Fatalf("sweep: %d %s", code, errs)
	}
	want := mustRead(t, whole)
	ls := strings.SplitAfter(string(want), "\n")
	out := filepath.Join(dir, "s.jsonl")
	partial := strings.Join(ls[:4], "") + `{"seed":4,"tra` // header, 3 records, a torn line
	if err := os.WriteFile(out+".partial", []byte(partial), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := cli(t, "sweep", "--seeds", "1..6", "--out", out, "--quiet")
	if code != 2 || !strings.Contains(errs, "--resume") {
		t.Fatalf("rerun over a partial file: exit %d %q, want 2 offering --resume", code, errs)
	}
	unchanged(t, out+".partial", []byte(partial))
	if _, errs, code := cli(t, "sweep", "--seeds", "1..6", "--out", out, "--quiet", "--resume"); code != 0 {
		t.Fatalf("--resume: exit %d %s", code, errs)
	}
	unchanged(t, out, want)
}
