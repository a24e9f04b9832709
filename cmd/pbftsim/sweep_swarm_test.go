package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSweepSwarm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.jsonl")
	out, errs, code := cli(t, "sweep", "--swarm", "--seeds", "1..40", "--out", path, "--quiet")
	if code != 0 && code != 1 {
		t.Fatalf("sweep --swarm: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "sweep of scenario swarm, seeds 1..40: 40 of 40 seeds ran") {
		t.Errorf("summary:\n%s", out)
	}
	if code == 1 && !strings.Contains(out, "failures per knob value") {
		t.Errorf("failing swarm sweep without the knob table:\n%s", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 42 || !strings.Contains(lines[0], `"swarm":true`) {
		t.Fatalf("want a header, 40 records and a trailer; header %s", lines[0])
	}
	for _, l := range lines[1:41] {
		if !strings.Contains(l, `"knobs":{`) || !strings.Contains(l, `"vc_timeout":`) {
			t.Fatalf("record without knobs: %s", l)
		}
	}
	// The same seeds again: the same file.
	again := filepath.Join(dir, "again.jsonl")
	cli(t, "sweep", "--swarm", "--seeds", "1..40", "--out", again, "--quiet", "--workers", "1")
	if b := mustRead(t, again); string(b) != string(data) {
		t.Errorf("swarm sweep differs between runs / worker counts")
	}
	if _, errs, code := cli(t, "sweep", "--swarm", "--scenario", "adversarial", "--seeds", "1..2", "--out", path); code != 2 || !strings.Contains(errs, "--swarm and --scenario") {
		t.Errorf("--swarm --scenario: exit %d, %q", code, errs)
	}
}
