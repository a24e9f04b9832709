package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHotStuffFromTheCLI: --protocol hotstuff on run, sweep, check and hunt
// runs HotStuff (not PBFT), and a bad protocol name is bad input.
func TestHotStuffFromTheCLI(t *testing.T) {
	out := cliOK(t, "run", "--protocol", "hotstuff")
	for _, want := range []string{"protocol hotstuff", "PREPARE-VOTE", "Consensus on PAY001: ", "properties: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --protocol hotstuff: no %q in\n%s", want, out)
		}
	}
	if pb := cliOK(t, "run"); strings.Contains(pb, "PREPARE-VOTE") || strings.Contains(pb, "protocol hotstuff") {
		t.Errorf("run without --protocol is not PBFT:\n%s", pb)
	}
	dir := t.TempDir()
	hs, pb := filepath.Join(dir, "hs.jsonl"), filepath.Join(dir, "pb.jsonl")
	cliOK(t, "sweep", "--scenario", "fault-free", "--protocol", "hotstuff", "--seeds", "1..3", "--out", hs)
	cliOK(t, "sweep", "--scenario", "fault-free", "--seeds", "1..3", "--out", pb)
	a, _ := os.ReadFile(hs)
	b, _ := os.ReadFile(pb)
	if len(a) == 0 || string(a) == string(b) {
		t.Errorf("sweep --protocol hotstuff wrote the same records as PBFT (or none)")
	}
	if out := cliOK(t, "check", "--protocol", "hotstuff", "--runs", "20"); !strings.Contains(out, "20 cases") {
		t.Errorf("check --protocol hotstuff: %s", out)
	}
	if out := cliOK(t, "hunt", "--protocol", "hotstuff", "--list"); !strings.Contains(out, "small-qc") || strings.Contains(out, "prepare-2f-minus-1") {
		t.Errorf("hunt --protocol hotstuff --list: %s", out)
	}
	// chained HotStuff: PREPARE and PREPARE-VOTE only, no Basic phases
	ch := cliOK(t, "run", "--protocol", "chained-hotstuff")
	for _, want := range []string{"protocol chained-hotstuff", "PREPARE-VOTE", "Consensus on PAY001: ", "properties: ok"} {
		if !strings.Contains(ch, want) {
			t.Errorf("run --protocol chained-hotstuff: no %q in\n%s", want, ch)
		}
	}
	if strings.Contains(ch, "PRE-COMMIT") || strings.Contains(ch, "DECIDE") {
		t.Errorf("run --protocol chained-hotstuff sent Basic HotStuff's phases:\n%s", ch)
	}
	if out := cliOK(t, "hunt", "--protocol", "chained-hotstuff", "--list"); !strings.Contains(out, "gap-commit") || !strings.Contains(out, "small-qc") {
		t.Errorf("hunt --protocol chained-hotstuff --list: %s", out)
	}
	if out := cliOK(t, "hunt", "--protocol", "hotstuff", "--list"); strings.Contains(out, "gap-commit") {
		t.Errorf("hunt --protocol hotstuff --list names a chained-only variant: %s", out)
	}
	if _, stderr, code := cli(t, "run", "--protocol", "hotstuff", "--variant", "gap-commit"); code != 2 || !strings.Contains(stderr, "gap-commit") {
		t.Errorf("run --protocol hotstuff --variant gap-commit: exit %d, %q; want 2 naming the variant", code, stderr)
	}
	// hunt --all over the HotStuff variants (targeted: each found on its
	// written scenario), one row each
	all := cliOK(t, "hunt", "--all", "--protocol", "hotstuff", "--budget", "30s")
	for _, v := range []string{"fixed-timeout", "no-safenode", "small-qc", "unlock-lower"} {
		if !strings.Contains(all, v+" ") || strings.Contains(all, "gap-commit") {
			t.Errorf("hunt --all --protocol hotstuff: no row for %s (or a chained-only row):\n%s", v, all)
		}
	}
	if strings.Contains(all, " no ") {
		t.Errorf("hunt --all --protocol hotstuff missed a variant:\n%s", all)
	}
	for _, args := range [][]string{{"run", "--protocol", "raft"}, {"check", "--protocol", "raft", "--runs", "1"},
		{"hunt", "--protocol", "raft", "--list"}, {"sweep", "--protocol", "raft", "--seeds", "1..2", "--out", filepath.Join(dir, "x.jsonl")},
		{"report", "--protocols", "pbft,raft", "--quick", "--out", filepath.Join(dir, "r")}} {
		if _, stderr, code := cli(t, args...); code != 2 || !strings.Contains(stderr, "raft") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the protocol", args, code, stderr)
		}
	}
	// A HotStuff scenario's report is its own protocol's (closed form
	// 10n−8, exact), not PBFT's closed forms.
	r2 := filepath.Join(dir, "r2")
	if out := cliOK(t, "report", "--scenario", "hotstuff-fault-free", "--quick", "--out", r2); !strings.Contains(out, "hotstuff report written") || !strings.Contains(out, "closed form 10n−8, exact: true") {
		t.Errorf("report of a HotStuff scenario: %s", out)
	}
	md, err := os.ReadFile(filepath.Join(r2, "report.md"))
	if err != nil || !strings.Contains(string(md), "# Protocol report: hotstuff") || strings.Contains(string(md), "2n²") {
		t.Errorf("report.md of a HotStuff scenario (err %v):\n%s", err, md)
	}
}
