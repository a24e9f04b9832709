package properties

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/ledger"
)

// TestSequentialCheckMatchesPorcupine checks the fast path for histories
// without concurrency against porcupine on random histories of one payment
// (legal ones and ones with a wrong result), and that histories with
// overlapping or pending operations are left to porcupine.
func TestSequentialCheckMatchesPorcupine(t *testing.T) {
	ops := []string{ledger.Authorize("P1", 500), ledger.Confirm("P1"), ledger.Refund("P1", 200),
		ledger.Cancel("P1"), ledger.Get("P1"), ledger.Refund("P1", 900), ledger.Refund("P1", 300), ledger.Authorize("P1", 70)}
	m := PaymentsModel
	m.Partition = nil
	rng := rand.New(rand.NewPCG(8, 8))
	var decided, illegal, concurrent int
	for range 5000 {
		n := 1 + rng.IntN(8)
		l := ledger.New()
		hist := make([]porcupine.Operation, 0, n)
		var now int64
		for i := range n {
			op := ops[rng.IntN(len(ops))]
			out := l.Execute(op)
			if rng.IntN(8) == 0 { // a wrong result
				out = ledger.New().Execute(ops[rng.IntN(len(ops))])
			}
			call := now + int64(rng.IntN(3))
			ret := call + int64(rng.IntN(4))
			now = ret + int64(rng.IntN(3)) - 1 // sometimes overlaps the next call
			hist = append(hist, porcupine.Operation{ClientId: i % 2, Input: op, Output: out, Call: call, Return: ret})
		}
		if rng.IntN(10) == 0 {
			hist[rng.IntN(n)].Output = pendingOutput{}
		}
		rng.Shuffle(len(hist), func(i, j int) { hist[i], hist[j] = hist[j], hist[i] })
		want := porcupine.CheckOperationsTimeout(m, hist, 0)
		got, ok := sequentialCheck(hist)
		if !ok {
			concurrent++
			continue
		}
		decided++
		if got == porcupine.Illegal {
			illegal++
		}
		if got != want {
			t.Fatalf("sequentialCheck = %v, porcupine = %v for %v", got, want, describeOps(hist))
		}
	}
	if decided < 200 || illegal < 20 || concurrent < 200 {
		t.Fatalf("the random histories do not cover the cases: %d decided (%d illegal), %d concurrent", decided, illegal, concurrent)
	}
}

// TestSequentialCheckDeclines lists histories the fast path must leave to
// porcupine.
func TestSequentialCheckDeclines(t *testing.T) {
	a, g := ledger.Authorize("P1", 500), ledger.Get("P1")
	tests := []struct {
		name string
		ops  []porcupine.Operation
	}{
		{"overlap", []porcupine.Operation{{Input: a, Output: "x", Call: 0, Return: 5}, {Input: g, Output: "y", Call: 3, Return: 8}}},
		{"return at the next call", []porcupine.Operation{{Input: a, Output: "x", Call: 0, Return: 5}, {Input: g, Output: "y", Call: 5, Return: 8}}},
		{"pending", []porcupine.Operation{{Input: a, Output: pendingOutput{}, Call: 0, Return: 1 << 62}}},
		{"returns before its call", []porcupine.Operation{{Input: a, Output: "x", Call: 5, Return: 4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if res, ok := sequentialCheck(tc.ops); ok {
				t.Fatalf("decided %v, want it left to porcupine", res)
			}
		})
	}
}

// TestReuseMatchesNew: a checker reused run after run (RunOptions.Reuse,
// as a sweep worker does) gives the verdicts, violations and accusations
// of a new checker, on runs that fail (broken variants, Byzantine
// replicas) followed by runs that pass.
func TestReuseMatchesNew(t *testing.T) {
	var runs []scenarios.Scenario
	for _, v := range VariantNames() {
		for i, sc := range Targeted(v) {
			if i == 2 {
				break
			}
			sc.Protocol.Variant = v
			runs = append(runs, sc)
		}
	}
	for _, info := range scenarios.List() {
		if sc, err := scenarios.Builtin(info.Name); err == nil {
			runs = append(runs, *sc)
		}
	}
	reused := New(Options{})
	failed, accused := 0, 0
	for i, sc := range runs {
		for seed := uint64(1); seed <= 2; seed++ {
			sc.Seed = seed
			stop := (i+int(seed))%2 == 0 // both with and without stopping at the first violation
			fresh, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: stop})
			if err != nil {
				t.Fatalf("%s seed %d: %v", sc.Name, seed, err)
			}
			again, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: stop, Reuse: reused})
			if err != nil {
				t.Fatalf("%s seed %d: %v", sc.Name, seed, err)
			}
			if fresh.TraceHash() != again.TraceHash() || fresh.LivenessChecked != again.LivenessChecked ||
				!reflect.DeepEqual(fresh.Violations, again.Violations) || !reflect.DeepEqual(fresh.Accused, again.Accused) {
				t.Fatalf("%s (variant %q) seed %d: reused checker gives\n%s\nnew checker gives\n%s", sc.Name, sc.Protocol.Variant, seed, again.Summary(), fresh.Summary())
			}
			if fresh.Failed() {
				failed++
			}
			if len(fresh.Accused) > 0 {
				accused++
			}
		}
	}
	if failed == 0 || accused == 0 || failed == 2*len(runs) {
		t.Fatalf("%d of %d runs failed and %d accused someone: the runs do not cover failing and passing checkers", failed, 2*len(runs), accused)
	}
	t.Logf("%d runs, %d failed, %d with accusations", 2*len(runs), failed, accused)
}
