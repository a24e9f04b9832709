package properties

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/internal/cputime"
)

// huntBudget is the per-variant wall-clock budget of the hunt tests.
const huntBudget = 8 * time.Second

// TestHuntCatchesEveryVariant proves that some property fails on every
// deliberately broken variant within the CI budget, and that the finding
// replays: rerunning the shrunk scenario fails the same property with the
// same trace hash.
func TestHuntCatchesEveryVariant(t *testing.T) {
	skipSearchUnderShort(t)
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
// protocol, with a fixed number of cases and no time budget, so that it is
// the same search on every machine and a slow or loaded one cannot fail it.
func TestHuntCorrectProtocolPasses(t *testing.T) {
	cases := len(Targeted(""))*4 + 200
	f, err := HuntCases(context.Background(), "", 0, cases, 1)
	if err != nil {
		t.Fatal(err)
	}
	if f.Found {
		y, _ := f.Scenario.Marshal()
		t.Fatalf("correct protocol violates %s: %s\n%s", f.Property, f.Outcome.Summary(), y)
	}
	if f.Cases < cases {
		t.Fatalf("only %d of %d cases ran", f.Cases, cases)
	}
	t.Logf("correct protocol: %d cases passed in %v", f.Cases, f.Elapsed)
}

// TestCorrectProtocolPassesEveryVariantSearch runs, for every variant, the
// search that catches it (its targeted scenarios over 4 seeds and 30 of
// its biased generated scenarios) on the correct protocol.
func TestCorrectProtocolPassesEveryVariantSearch(t *testing.T) {
	skipSearchUnderShort(t)
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

// genericCases is the CI budget of the generic hunt test, per variant (a
// number of cases, so that it is the same search on every machine); the
// README's table is the CPU-time one (pbftsim hunt --all --generic --cpu).
// Seed 1 needs up to 340 cases (state-transfer-unverified; checkpoint-
// ignores-digest 334).
const genericCases = 400

// genericSlow are the variants the generic search does not find within
// genericCases cases (seed 1): the README's hunt table gives how long they
// take. make fuzz (PBFTSIM_PROPERTY_RUNS set) hunts them with
// genericSlowCases cases.
var genericSlow = map[string]bool{
	// The two starvation variants left this list when the timeliness and
	// arrival-order rules caught them with a few requests
	// (timer-restart-any-execution seed 1 after 70 cases, was 6,109;
	// requests-by-client-id after 14, was 2,870).
	//
	// state-proof-f-signers needs f = 1 (n of 4 to 6), a forge-state
	// replica whose mode sends the self-proof forgery (self-proof or all)
	// and a replica that fetches the state from it first: check found
	// none in 2,000 cases on seeds 1 and 2.
	"state-proof-f-signers": true,
	// batch-digest-unordered needs a pp-batch-mismatch primary whose
	// batch kind is reorder (or mix at a sequence number n = 1 mod 4)
	// with batches of two or more requests: found after 817 / 69 / 1,121
	// cases on seeds 1-3. state-digest-omits-replies needs a forge-state
	// replica sending forged replies (mode replies or mix) and a replica
	// that fetches the state from it first: 1,955 / 981 / 1,447 cases.
	"batch-digest-unordered":     true,
	"state-digest-omits-replies": true,
	// newview-timer-no-growth left this list when the newview-wait rule
	// caught it after 8 / 2 / 20 cases (seeds 1-3; before: liveness on
	// seed 2 after 1,430, none in 2,000 on seed 1).
	//
	// batch-digest-first-only needs a pp-batch-mismatch primary whose
	// batch kind is repeat-first (or mix at n = 4 mod 5) with batches of
	// two or more requests: found after 1,928 / 5,472 / 2,723 cases.
	"batch-digest-first-only": true,
	// primary-unverified-requests needs a request-relay replica in mode
	// tamper whose relay reaches the primary before the client's own
	// request: found after 436 / 6,223 / 1,304 cases (validity).
	"primary-unverified-requests": true,
}

// genericSlowCases is make fuzz's budget for the genericSlow variants.
const genericSlowCases = 60000

// TestGenericHuntCatchesEveryVariant: the generator of check, with no
// scenario written for the variant, finds every broken variant within
// genericCases cases, and the row it reports describes the shrunk run.
func TestGenericHuntCatchesEveryVariant(t *testing.T) {
	skipSearchUnderShort(t)
	for _, v := range VariantNames() {
		t.Run(v, func(t *testing.T) {
			cases := genericCases
			if genericSlow[v] {
				if os.Getenv("PBFTSIM_PROPERTY_RUNS") == "" {
					t.Skipf("%s: the generic search needs more than %d cases (see the README's hunt table); make fuzz hunts it", v, genericCases)
				}
				cases = genericSlowCases
			}
			t.Parallel()
			f, err := HuntWith(context.Background(), HuntSpec{Variant: v, MaxCases: cases, Seed: 1, Generic: true})
			if err != nil {
				t.Fatal(err)
			}
			if !f.Found {
				t.Fatalf("variant %s not caught by the generic search in %d cases (%v)", v, f.Cases, f.Elapsed)
			}
			row := f.Row()
			if row.Variant != v || !row.Found || row.Property != f.Property || row.N != max(f.Scenario.N, 4) ||
				row.Requests != f.Scenario.Workload.Requests || row.TraceRecords == 0 || row.Cases != f.Cases {
				t.Fatalf("row %+v does not describe the finding (n=%d, requests=%d)", row, f.Scenario.N, f.Scenario.Workload.Requests)
			}
			t.Logf("%s: %s after %d cases, shrunk to n=%d faulty=%d requests=%d records=%d", v, row.Property, row.Cases, row.N, row.Faulty, row.Requests, row.TraceRecords)
		})
	}
}

func TestHuntAllRows(t *testing.T) {
	vs := []string{"execute-out-of-order", "newview-ignores-prepared"}
	var seen []string
	rows, err := HuntAll(context.Background(), HuntAllSpec{MaxCases: 2000, Seed: 1, Generic: true, Variants: vs,
		Progress: func(r HuntRow) { seen = append(seen, r.Variant) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Variant != vs[0] || rows[1].Variant != vs[1] || len(seen) != 2 {
		t.Fatalf("rows %+v, progress %v", rows, seen)
	}
	for _, r := range rows {
		if !r.Found || r.Seconds <= 0 {
			t.Errorf("row %+v: want found with a time", r)
		}
		if _, ok := cputime.Process(); ok && r.CPUSeconds <= 0 {
			t.Errorf("row %+v: want the CPU time to the first violation", r)
		}
	}
	// A CPU-time budget ends the search too.
	f, err := HuntWith(context.Background(), HuntSpec{Variant: "timer-restart-any-execution", Budget: 200 * time.Millisecond, BudgetCPU: true, Seed: 1, Generic: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cputime.Process(); ok && (f.Found || f.CPU < 200*time.Millisecond) {
		t.Fatalf("a 200ms CPU budget: found %v after %v of CPU time", f.Found, f.CPU)
	}
	// A search that runs out of cases gives a row that is not found.
	f, err = HuntWith(context.Background(), HuntSpec{Variant: "accept-second-preprepare", MaxCases: 3, Seed: 1, Generic: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Row(); r.Found || r.Cases != 3 || r.Property != "" || r.N != 0 {
		t.Fatalf("row of a search that ran out %+v", r)
	}
}

// skipSearchUnderShort skips a long search test under -short: make test runs
// every package with -race -short (the race detector slows these searches
// about tenfold), then runs this package again in full without -race.
func skipSearchUnderShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a long search: run in full by make test's second step (go test ./properties/ without -race)")
	}
}
