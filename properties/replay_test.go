package properties

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// TestFindingsReplay reruns the replay files of the bugs of the correct
// protocol that this package's checkers found (testdata/findings), all since
// fixed in sim/pbft or sim/hotstuff: each rerun must be deterministic and must now pass every
// property, judged in full, so a fix that is undone (or a change that makes
// the run stall instead of fail) fails here.
func TestFindingsReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/findings/*.replay.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replay files in testdata/findings (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rp, err := scenarios.ParseReplay(file, data)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Rerun(rp)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Rerun(rp)
			if err != nil {
				t.Fatal(err)
			}
			if a.TraceHash() != b.TraceHash() || a.Verdict() != b.Verdict() || a.Property() != b.Property() {
				t.Fatalf("rerun not deterministic: %s/%s/%s vs %s/%s/%s", a.TraceHash(), a.Verdict(), a.Property(), b.TraceHash(), b.Verdict(), b.Property())
			}
			// Each file recorded a bug of the correct protocol that the checkers
			// found and that was then fixed (sim/pbft, sim/hotstuff): it must stay fixed.
			if a.Failed() {
				t.Fatalf("regression: %s recorded a %s bug of the correct protocol, and it is back: %s", file, rp.Property, a.Summary())
			}
			// A fix must make the run pass, not stall: a recorded finding
			// passes only if every property was judged in full (a liveness
			// finding whose requests are still pending at the end of the
			// run would otherwise pass with liveness not judged).
			if !a.FullyJudged() {
				t.Fatalf("%s: not every property judged in full, so the fix is not shown: %s", file, a.JudgedSummary())
			}
			t.Logf("fixed (recorded %s %s): now %s", rp.Verdict, rp.Property, a.Summary())
		})
	}
}

// TestReplayRoundTrip writes a finding's replay file, parses it back and
// reruns it to the same hash and verdict.
func TestReplayRoundTrip(t *testing.T) {
	sc := Targeted("client-single-reply")[0]
	sc.Seed = 3
	sc.Protocol.Variant = "client-single-reply"
	o, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Failed() {
		t.Fatalf("client-single-reply with a fast liar should fail: %s", o.Summary())
	}
	path := filepath.Join(t.TempDir(), "x.replay.yaml")
	if err := o.WriteReplay(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := scenarios.ParseReplay(path, data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Rerun(rp)
	if err != nil {
		t.Fatal(err)
	}
	if again.TraceHash() != o.TraceHash() || again.Property() != o.Property() || rp.Verdict != "violation" {
		t.Fatalf("replay: hash %s vs %s, property %s vs %s, verdict %q", again.TraceHash(), o.TraceHash(), again.Property(), o.Property(), rp.Verdict)
	}
}
