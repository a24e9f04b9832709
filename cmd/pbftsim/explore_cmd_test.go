package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// TestExploreBadBounds: bounds out of range exit 2 and name the allowed values.
func TestExploreBadBounds(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "3"}, "want each n in [4, 256]"},
		{[]string{"--nodes", "8"}, "want 4..7"},
		{[]string{"--nodes", "4,5"}, "explore takes one n"},
		{[]string{"--requests", "0"}, "want 1..3"},
		{[]string{"--drops", "-1"}, "want 0..6"},
		{[]string{"--duplicates", "9"}, "want 0..6"},
		{[]string{"--crashes", "7"}, "want 0..6"},
		{[]string{"--views", "4"}, "want 0..3"},
		{[]string{"--depth", "1000"}, "1..200"},
		{[]string{"--budget", "-1s"}, "duration >= 0"},
		{[]string{"--byzantine", "9:silent"}, "want 0..3"},
		{[]string{"--byzantine", "1"}, "ID:STRATEGY"},
		{[]string{"--byzantine", "1:nonsense"}, "strategies:"},
		{[]string{"--variant", "nonsense"}, "allowed"},
		{[]string{"--dpor"}, "--dpor needs --depth"},
		{[]string{"--timers", "21"}, "want 0..20"},
		{[]string{"--timers", "-1"}, "want 0..20"},
		{[]string{"--timers", "1", "--dpor", "--depth", "3"}, "not with --dpor"},
		{[]string{"--inert", "--dpor", "--depth", "3"}, "--inert: not with --dpor"},
		{[]string{"--workers", "-1"}, "--workers -1: out of range"},
		{[]string{"--quiet-timers", "--dpor", "--depth", "3"}, "--quiet-timers: not with --dpor"},
	} {
		_, errs, code := cli(t, append([]string{"explore", "--quiet"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("explore %v: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestExploreAllVariantsSaysBounds: the --all-variants table says which bounds
// it covered, and under --quiet-timers every row without a finding, and the
// footer, say that not every schedule within them was explored.
func TestExploreAllVariantsSaysBounds(t *testing.T) {
	out, errs, code := cli(t, "explore", "--quiet", "--all-variants", "--quiet-timers", "--depth", "2", "--views", "0")
	if code != 0 {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "exploring every variant: n=4, 1 request(s)") || !strings.Contains(lines[0], "only with no message in flight") {
		t.Errorf("header %q: want the bounds, quiet timers included", lines[0])
	}
	if foot := lines[len(lines)-1]; !strings.Contains(foot, "broken variants found within these bounds") || !strings.Contains(foot, "--quiet-timers") {
		t.Errorf("footer %q: want the quiet-timers caveat", foot)
	}
	for _, l := range lines[2 : len(lines)-1] {
		if f := strings.Fields(l); len(f) > 1 && f[1] != "yes" && !strings.Contains(l, "(--quiet-timers)") {
			t.Errorf("row %q: no finding and no quiet-timers caveat", l)
		}
	}
}

// TestExploreNoViolation: the correct protocol within small bounds: exit 0
// and the verdict names what was explored.
func TestExploreNoViolation(t *testing.T) {
	out, errs, code := cli(t, "explore", "--quiet", "--depth", "5", "--drops", "1", "--views", "0")
	if code != 0 || !strings.Contains(out, "no violation within these bounds") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
}

// TestExploreWorkersSameOutput: the output (but for the rate and the
// elapsed time) and the replay file are the same on 1 and 2 workers, with
// and without a violation, breadth-first and one-pass depth-first.
func TestExploreWorkersSameOutput(t *testing.T) {
	clock := regexp.MustCompile(`(?m)\([0-9]+/s\)|, [0-9][0-9.hmsµ]*(,|$)`)
	for _, args := range [][]string{
		{"--depth", "5", "--drops", "1", "--views", "0"},
		{"--variant", "commit-quorum-2f", "--byzantine", "0:equivocate", "--views", "1", "--inert"},
		// the one-pass depth-first search: the one-worker search's
		// violation, counterexample and counters
		{"--dfs", "--timers", "0", "--views", "0", "--variant", "prepare-ignores-digest", "--byzantine", "0:equivocate"},
	} {
		var outs, files []string
		for _, w := range []string{"1", "2"} {
			file := filepath.Join(t.TempDir(), "cx.replay.yaml")
			out, errs, code := cli(t, append([]string{"explore", "--quiet", "--workers", w, "--out", file}, args...)...)
			if code == 2 {
				t.Fatalf("explore %v: exit 2: %s", args, errs)
			}
			outs = append(outs, clock.ReplaceAllString(strings.ReplaceAll(out, file, "FILE"), "$1"))
			b, _ := os.ReadFile(file)
			files = append(files, string(b))
		}
		if outs[0] != outs[1] || files[0] != files[1] {
			t.Errorf("explore %v: 1 and 2 workers differ:\n%s\n---\n%s", args, outs[0], outs[1])
		}
	}
}

// TestExploreCounterexampleReplays: a broken variant's shortest
// counterexample is written as a replay file that pbftsim replay reruns to
// the same trace hash and verdict.
// With --inert (inert messages discarded) too.
func TestExploreCounterexampleReplays(t *testing.T) {
	for _, extra := range [][]string{nil, {"--inert"}} {
		exploreCounterexampleReplays(t, extra)
	}
}

func exploreCounterexampleReplays(t *testing.T, extra []string) {
	file := filepath.Join(t.TempDir(), "cx.replay.yaml")
	out, errs, code := cli(t, append([]string{"explore", "--quiet", "--variant", "prepare-ignores-digest", "--byzantine", "0:equivocate",
		"--views", "0", "--out", file}, extra...)...)
	if code != 1 || !strings.Contains(out, "VIOLATION of local-quorum at depth 4") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	rp, err := scenarios.LoadReplay(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "trace hash "+rp.TraceHash) || rp.Property != "local-quorum" {
		t.Fatalf("replay file records %s / %s; output:\n%s", rp.TraceHash, rp.Property, out)
	}
	out, errs, code = cli(t, "replay", file)
	if code != 0 || !strings.Contains(out, "reproduced: same trace hash and verdict") {
		t.Fatalf("replay: exit %d:\n%s%s", code, out, errs)
	}
}

// TestExploreDPORCounterexampleReplays: with --dpor --dfs the same variant
// is found (at a causal depth no larger than the breadth-first depth), its
// shrunk counterexample is no longer than the breadth-first one, and the
// replay file reruns to the same trace hash; the correct protocol passes.
func TestExploreDPORCounterexampleReplays(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cx.replay.yaml")
	out, errs, code := cli(t, "explore", "--quiet", "--dpor", "--dfs", "--depth", "6", "--variant", "prepare-ignores-digest",
		"--byzantine", "0:equivocate", "--views", "0", "--out", file)
	if code != 1 || !strings.Contains(out, "VIOLATION of local-quorum at depth 4") || !strings.Contains(out, "DPOR:") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	out, errs, code = cli(t, "replay", file)
	if code != 0 || !strings.Contains(out, "reproduced: same trace hash and verdict") {
		t.Fatalf("replay: exit %d:\n%s%s", code, out, errs)
	}
	out, errs, code = cli(t, "explore", "--quiet", "--dpor", "--depth", "4", "--drops", "1", "--views", "0")
	if code != 0 || !strings.Contains(out, "no violation within these bounds") || !strings.Contains(out, "causal depth 4") {
		t.Fatalf("correct protocol: exit %d, output:\n%s%s", code, out, errs)
	}
}

// TestExploreQuietTimersVerdict: with --quiet-timers the verdict says that
// only schedules whose timers expired with nothing in flight were explored.
func TestExploreQuietTimersVerdict(t *testing.T) {
	out, errs, code := cli(t, "explore", "--quiet", "--depth", "4", "--views", "0", "--quiet-timers")
	if code != 0 || !strings.Contains(out, "no violation within these bounds") || !strings.Contains(out, "only schedules whose timers expired with no message in flight") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "(only with no message in flight)") {
		t.Errorf("the description does not name quiet timers:\n%s", errs)
	}
}

// TestExploreTimersMergedVerdict: a search whose timers can fire, with
// states merged by the order of their timers only, says so in its verdict
// and runs its one-pass depth-first search on one worker by default; with
// --exact-timers the caveat goes and the description says the deadlines
// are exact; with --timers 0 there is nothing to merge.
func TestExploreTimersMergedVerdict(t *testing.T) {
	const caveat = "states differing only in the time left before their timers' deadlines were merged"
	out, errs, code := cli(t, "explore", "--quiet", "--dfs", "--views", "0", "--timers", "1", "--max-states", "2000")
	if code != 0 || !strings.Contains(out, caveat) {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	if strings.Contains(errs, "workers") {
		t.Errorf("the merged one-pass search ran on several workers by default:\n%s", errs)
	}
	out, errs, code = cli(t, "explore", "--quiet", "--dfs", "--views", "0", "--timers", "1", "--max-states", "2000", "--exact-timers")
	if code != 0 || strings.Contains(out, caveat) || !strings.Contains(errs, "exact timer deadlines") {
		t.Fatalf("--exact-timers: exit %d, output:\n%s%s", code, out, errs)
	}
	out, errs, code = cli(t, "explore", "--quiet", "--dfs", "--views", "0", "--timers", "0", "--max-states", "2000")
	if code != 0 || strings.Contains(out, caveat) {
		t.Fatalf("--timers 0: exit %d, output:\n%s%s", code, out, errs)
	}
}

// TestExploreAsyncTimersVerdict: with --async-timers the description, the
// verdict, every --all-variants row without a finding and the footer say
// that timers fired at any moment, and no verdict carries the
// merged-timers caveat (the asynchronous hash merges exactly); with
// --exact-timers too it is bad input (exit 2). With --timers 0 (no timer
// expires) or --quiet-timers they do not say "at any moment".
func TestExploreAsyncTimersVerdict(t *testing.T) {
	const caveat = "were merged"
	const async = "timers may fire at any moment (asynchronous)"
	out, errs, code := cli(t, "explore", "--quiet", "--dfs", "--views", "0", "--timers", "1", "--max-states", "2000", "--async-timers", "--workers", "1")
	if code != 0 || strings.Contains(out, caveat) || !strings.Contains(out, async) || !strings.Contains(errs, async) {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	// No timer may expire, or only with no message in flight: not "at any moment".
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--timers", "0"}, "asynchronous timers (none expires)"},
		{[]string{"--timers", "1", "--quiet-timers"}, "asynchronous timers (in any order)"},
	} {
		args := append([]string{"explore", "--quiet", "--dfs", "--views", "0", "--depth", "4", "--async-timers"}, tc.flags...)
		out, errs, code = cli(t, args...)
		if code != 0 || strings.Contains(out+errs, async) || !strings.Contains(out+errs, tc.want) {
			t.Fatalf("%v: exit %d, want %q and not %q, output:\n%s%s", tc.flags, code, tc.want, async, out, errs)
		}
	}
	out, errs, code = cli(t, "explore", "--quiet", "--dfs", "--views", "0", "--timers", "1", "--async-timers", "--exact-timers")
	if code != 2 || !strings.Contains(errs, "--exact-timers") {
		t.Fatalf("--async-timers --exact-timers: exit %d, output:\n%s%s", code, out, errs)
	}
	out, errs, code = cli(t, "explore", "--quiet", "--all-variants", "--async-timers", "--depth", "2", "--views", "0")
	if code != 0 {
		t.Fatalf("--all-variants: exit %d, output:\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(lines[0], async) {
		t.Errorf("header %q: want the timer semantics", lines[0])
	}
	if foot := lines[len(lines)-1]; !strings.Contains(foot, async) || strings.Contains(foot, caveat) {
		t.Errorf("footer %q: want the timer semantics, no merged caveat", foot)
	}
	for _, l := range lines[2 : len(lines)-1] {
		if f := strings.Fields(l); len(f) > 1 && f[1] != "yes" && (!strings.Contains(l, async) || strings.Contains(l, caveat)) {
			t.Errorf("row %q: no finding and not the timer semantics (or the merged caveat)", l)
		}
	}
}

// TestExploreDropsSubsumedVerdict: with --async-timers and drops (or a
// Byzantine replica's withholding), the description and the verdict say
// that drops were subsumed and no Drop transition explored; not with
// --explicit-drops, --quiet-timers, --liveness-steps or timed timers, and
// --explicit-drops explores more states.
func TestExploreDropsSubsumedVerdict(t *testing.T) {
	const note = "drops 1: subsumed for safety (a lost message is one never delivered; asynchronous timers, no liveness check), so no Drop transitions were explored"
	base := []string{"explore", "--quiet", "--views", "0", "--depth", "4", "--drops", "1", "--workers", "1"}
	out, errs, code := cli(t, append(base, "--async-timers")...)
	if code != 0 || !strings.Contains(out, note) || !strings.Contains(errs, note) {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
	states := func(out string) string { return strings.Fields(out)[0] }
	sub := states(out)
	for i, flags := range [][]string{{"--async-timers", "--explicit-drops"}, {"--async-timers", "--quiet-timers"}, {"--async-timers", "--liveness-steps", "400"}, {}} {
		out, errs, code := cli(t, append(base, flags...)...)
		if code != 0 || strings.Contains(out+errs, "subsumed") {
			t.Fatalf("%v: exit %d, want no subsumption, output:\n%s%s", flags, code, out, errs)
		}
		if i == 0 && states(out) == sub {
			t.Errorf("--explicit-drops: %s states, as many as subsumed", sub)
		}
	}
	out, errs, code = cli(t, "explore", "--quiet", "--views", "0", "--depth", "3", "--byzantine", "0:equivocate", "--async-timers", "--workers", "1")
	if code != 0 || !strings.Contains(out, "withholding by Byzantine replicas: subsumed for safety") {
		t.Fatalf("byzantine: exit %d, output:\n%s%s", code, out, errs)
	}
}
