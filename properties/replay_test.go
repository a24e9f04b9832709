package properties

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// TestFindingsReplay reruns the replay files of the protocol bugs this
// package found (testdata/findings): each rerun must be deterministic, and
// while the protocol code is unchanged (same trace hash) the checkers must
// reach the recorded verdict. A finding that no longer fails means the
// bug was fixed (it is logged).
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
			if a.TraceHash() == rp.TraceHash {
				if a.Verdict() != rp.Verdict || a.Property() != rp.Property {
					t.Fatalf("same trace, different verdict: %s %s, recorded %s %s", a.Verdict(), a.Property(), rp.Verdict, rp.Property)
				}
				t.Logf("still reproduces: %s", a.Summary())
			} else {
				t.Logf("the protocol changed since %s was recorded; now: %s", file, a.Summary())
			}
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
