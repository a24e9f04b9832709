package properties

import (
	"context"
	"testing"
	"time"
)

// huntBudget is the per-variant wall-clock budget of the hunt tests.
const huntBudget = 8 * time.Second

// TestHuntCatchesEveryVariant proves that some property fails on every
// deliberately broken variant within the CI budget, and that the finding
// replays: rerunning the shrunk scenario fails the same property with the
// same trace hash.
func TestHuntCatchesEveryVariant(t *testing.T) {
	for _, v := range VariantNames() {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			f, err := Hunt(context.Background(), v, huntBudget, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Found {
				t.Fatalf("variant %s not caught in %d cases (%v)", v, f.Cases, f.Elapsed)
			}
			if !f.Outcome.Failed() || f.Outcome.Property() != f.Property {
				t.Fatalf("finding without a failing run: %+v", f)
			}
			again, err := Rerun(f.Outcome.Replay())
			if err != nil {
				t.Fatal(err)
			}
			if again.TraceHash() != f.Outcome.TraceHash() || again.Property() != f.Property {
				t.Fatalf("replay differs: hash %s vs %s, property %s vs %s", again.TraceHash(), f.Outcome.TraceHash(), again.Property(), f.Property)
			}
			t.Logf("%s: %s after %d cases, shrunk %d steps to n=%d: %s", v, f.Property, f.Cases, f.ShrinkSteps, f.Scenario.N, f.Violation)
		})
	}
}

// TestHuntCorrectProtocolPasses runs the same search (every variant's
// targeted scenarios over 4 seeds, then generated ones) on the correct
// protocol, with a fixed number of cases so that it is the same search on
// every machine.
func TestHuntCorrectProtocolPasses(t *testing.T) {
	cases := len(Targeted(""))*4 + 200
	f, err := HuntCases(context.Background(), "", 10*huntBudget, cases, 1)
	if err != nil {
		t.Fatal(err)
	}
	if f.Found {
		y, _ := f.Scenario.Marshal()
		t.Fatalf("correct protocol violates %s: %s\n%s", f.Property, f.Outcome.Summary(), y)
	}
	if f.Cases < cases {
		t.Fatalf("only %d of %d cases ran in the budget", f.Cases, cases)
	}
	t.Logf("correct protocol: %d cases passed in %v", f.Cases, f.Elapsed)
}

// TestCorrectProtocolPassesEveryVariantSearch runs, for every variant, the
// search that catches it (its targeted scenarios over 4 seeds and 30 of
// its biased generated scenarios) on the correct protocol.
func TestCorrectProtocolPassesEveryVariantSearch(t *testing.T) {
	for _, v := range VariantNames() {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			cases := len(Targeted(v))*4 + 30
			f, err := HuntWith(context.Background(), HuntSpec{Variant: "", Search: v, MaxCases: cases, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if f.Found {
				y, _ := f.Scenario.Marshal()
				t.Fatalf("correct protocol violates %s in the %s search: %s\n%s", f.Property, v, f.Outcome.Summary(), y)
			}
			if f.Cases != cases {
				t.Fatalf("ran %d of %d cases", f.Cases, cases)
			}
		})
	}
}

func TestHuntRejectsUnknownVariant(t *testing.T) {
	if _, err := Hunt(context.Background(), "no-such-variant", time.Second, 1); err == nil {
		t.Fatal("want an error for an unknown variant")
	}
}
