package properties

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
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

// TestLinSearchMatchesPorcupine checks the search that replaces porcupine
// for small histories with concurrency against porcupine itself, on random
// one-payment histories with overlapping, pending and wrong operations,
// and that it declines what it must leave to porcupine.
func TestLinSearchMatchesPorcupine(t *testing.T) {
	ops := []string{ledger.Authorize("P1", 500), ledger.Confirm("P1"), ledger.Refund("P1", 200),
		ledger.Cancel("P1"), ledger.Get("P1"), ledger.Refund("P1", 300), ledger.Authorize("P1", 70), "bogus op"}
	m := PaymentsModel
	m.Partition = nil
	rng := rand.New(rand.NewPCG(9, 9))
	var s linSearch
	var legal, illegal, pending int
	for range 4000 {
		n := 1 + rng.IntN(9)
		l := ledger.New()
		hist := make([]porcupine.Operation, 0, n)
		lops := make([]linOp, 0, n)
		var now int64
		for i := range n {
			op := ops[rng.IntN(len(ops))]
			out := l.Execute(op)
			if rng.IntN(6) == 0 { // a wrong (or merely reordered) result
				out = ledger.New().Execute(ops[rng.IntN(len(ops))])
			}
			call := now + int64(rng.IntN(3))
			ret := call + int64(rng.IntN(6))
			now = call + int64(rng.IntN(4)) - 1 // often overlaps
			lop := linOp{client: i % 3, input: op, output: out, call: call, ret: ret}
			if rng.IntN(8) == 0 {
				lop.output, lop.pending, lop.ret = "", true, math.MaxInt64
				pending++
			}
			lops = append(lops, lop)
		}
		rng.Shuffle(len(lops), func(i, j int) { lops[i], lops[j] = lops[j], lops[i] })
		for i := range lops {
			hist = append(hist, lops[i].operation())
		}
		want := porcupine.CheckOperationsTimeout(m, hist, 0)
		got, ok := s.search(lops)
		if !ok {
			t.Fatalf("search gave up on %v", describeOps(hist))
		}
		if got != want {
			t.Fatalf("search = %v, porcupine = %v for %v", got, want, describeOps(hist))
		}
		if got == porcupine.Illegal {
			illegal++
		} else {
			legal++
		}
	}
	if legal < 500 || illegal < 500 || pending < 200 {
		t.Fatalf("the random histories do not cover the cases: %d legal, %d illegal, %d pending operations", legal, illegal, pending)
	}
	long := make([]linOp, maxSearchOps+1)
	for i := range long {
		long[i] = linOp{input: ledger.Get("P1"), pending: true, ret: math.MaxInt64}
	}
	if res, ok := s.search(long); ok {
		t.Fatalf("decided %v for %d operations, want it left to porcupine", res, len(long))
	}
	if res, ok := s.search([]linOp{{input: ledger.Get("P1"), output: "x", call: 5, ret: 4}}); ok {
		t.Fatalf("decided %v for an operation that returns before its call, want it left to porcupine", res)
	}
	// Many concurrent pending operations exhaust the step budget (the
	// authorization never matches, so every subset of refunds is a state).
	wide := make([]linOp, 20)
	for i := range wide {
		wide[i] = linOp{input: ledger.Refund("P1", int64(1+i)), pending: true, ret: math.MaxInt64}
	}
	wide[0] = linOp{input: ledger.Authorize("P1", 1000), output: "never", call: 0, ret: math.MaxInt64 - 1}
	if res, ok := s.search(wide); ok {
		t.Fatalf("decided %v for 2^19 reachable states, want it left to porcupine", res)
	}
}

// TestCallOrderMatchesPorcupine checks the call-order fast path against
// porcupine on random one-payment histories with overlapping, pending and
// wrong operations, with other payments in the ledger it replays on, and
// that it decides most of them.
func TestCallOrderMatchesPorcupine(t *testing.T) {
	ops := []string{ledger.Authorize("P1", 500), ledger.Confirm("P1"), ledger.Refund("P1", 200),
		ledger.Cancel("P1"), ledger.Get("P1"), ledger.Refund("P1", 300), ledger.Authorize("P1", 70), "bogus op"}
	m := PaymentsModel
	m.Partition = nil
	rng := rand.New(rand.NewPCG(10, 10))
	var scratch []linOp
	var ok, illegal, undecided int
	for range 5000 {
		n := 1 + rng.IntN(8)
		l := ledger.New()
		var lops []linOp
		var now int64
		for i := range n {
			op := ops[rng.IntN(len(ops))]
			out := l.Execute(op)
			if rng.IntN(8) == 0 { // a wrong (or merely reordered) result
				out = ledger.New().Execute(ops[rng.IntN(len(ops))])
			}
			call := now + int64(rng.IntN(3))
			ret := call + int64(rng.IntN(5))
			now = ret + int64(rng.IntN(4)) - 2 // sometimes overlaps or ties
			lop := linOp{client: i % 2, input: op, output: out, call: call, ret: ret}
			if rng.IntN(10) == 0 {
				lop.output, lop.pending, lop.ret = "", true, math.MaxInt64
			}
			lops = append(lops, lop)
		}
		rng.Shuffle(len(lops), func(i, j int) { lops[i], lops[j] = lops[j], lops[i] })
		hist := operations(lops)
		want := porcupine.CheckOperationsTimeout(m, hist, 0)
		shared := ledger.New() // holds another payment
		shared.Execute(ledger.Authorize("P0", 900))
		got, decided := callOrderOps(lops, shared, &scratch)
		if !decided {
			undecided++
			continue
		}
		if got != want {
			t.Fatalf("callOrderOps = %v, porcupine = %v for %v", got, want, describeOps(hist))
		}
		if got == porcupine.Illegal {
			illegal++
		} else {
			ok++
		}
	}
	if ok < 1000 || illegal < 100 || undecided < 200 {
		t.Fatalf("the random histories do not cover the cases: %d ok, %d illegal, %d undecided", ok, illegal, undecided)
	}
	t.Logf("%d ok, %d illegal, %d left to the search", ok, illegal, undecided)
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

// TestWantedKindsSuffice: a checker given only the record kinds it Wants
// (as the kernel does) and finished at the run's end reaches the
// violations and accusations of one given every record, on failing and
// passing runs.
func TestWantedKindsSuffice(t *testing.T) {
	var runs []scenarios.Scenario
	for _, v := range VariantNames() {
		sc := Targeted(v)[0]
		sc.Protocol.Variant = v
		runs = append(runs, sc)
	}
	for _, name := range []string{"adversarial", "crashed-primary", "beyond-f"} {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, *sc)
	}
	failed, skipped := 0, 0
	for _, sc := range runs {
		sc.Seed = 1
		rec := &Recorder{}
		o, err := RunScenario(sc, RunOptions{Liveness: true, Sinks: []sim.Sink{rec}})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := sc.Config()
		if err != nil {
			t.Fatal(err)
		}
		opts := CheckerOptions(cfg)
		if o.LivenessChecked {
			opts.LivenessBound = DefaultLivenessBound(cfg)
		}
		all := Check(opts, rec.Records)
		some := New(opts)
		var end sim.Time
		for i := range rec.Records {
			r := &rec.Records[i]
			end = max(end, r.Time)
			if some.Wants(r.Kind) {
				some.Record(r)
			} else {
				skipped++
			}
		}
		some.Finish(end)
		if !reflect.DeepEqual(all.Violations(), some.Violations()) || !reflect.DeepEqual(all.Accused(), some.Accused()) {
			t.Fatalf("%s (variant %q): with the wanted kinds only\n%v\n%v\nwith every record\n%v\n%v", sc.Name, sc.Protocol.Variant,
				some.Violations(), some.Accused(), all.Violations(), all.Accused())
		}
		if len(all.Violations()) > 0 {
			failed++
		}
	}
	if failed == 0 || failed == len(runs) || skipped == 0 {
		t.Fatalf("%d of %d runs failed, %d records skipped: the runs do not cover the cases", failed, len(runs), skipped)
	}
}

// BenchmarkCheckRecords measures the checkers alone, as a sweep worker
// runs them (one checker reset run after run), over the recorded traces
// of seeds 1..20 of the default adversarial sweep scenario. One op is one
// seed's trace.
func BenchmarkCheckRecords(b *testing.B) {
	sc, err := scenarios.Builtin("adversarial")
	if err != nil {
		b.Fatal(err)
	}
	type trace struct {
		opts Options
		recs []sim.Record
	}
	var traces []trace
	for seed := uint64(1); seed <= 20; seed++ {
		s := *sc
		s.Seed = seed
		cfg, err := s.Config()
		if err != nil {
			b.Fatal(err)
		}
		rec := &Recorder{}
		cfg.Sinks = []sim.Sink{rec}
		if _, err := cluster.Run(cfg); err != nil {
			b.Fatal(err)
		}
		opts := CheckerOptions(cfg)
		opts.LivenessBound = DefaultLivenessBound(cfg)
		traces = append(traces, trace{opts, rec.Records})
	}
	// local-quorum=off: the same checkers without the local-quorum audit
	// and the timeliness rule, which both read deliveries (the ratio of the
	// two is their cost); timeliness=off: without the timeliness rule only.
	for _, tc := range []struct {
		name              string
		audit, timeliness bool
	}{{"local-quorum=on", true, true}, {"local-quorum=off", false, false}, {"timeliness=off", true, false}} {
		b.Run(tc.name, func(b *testing.B) {
			c := New(Options{})
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
			for i := range b.N {
				t := &traces[i%len(traces)]
				opts := t.opts
				opts.Deliveries = tc.audit
				if !tc.timeliness {
					opts.ViewChangeTimeout = 0
				}
				c.Reset(opts)
				for j := range t.recs {
					c.Record(&t.recs[j])
				}
				c.Finish(c.end)
				if len(c.violations) > 0 {
					b.Fatalf("seed %d: %v", i%len(traces)+1, c.violations[0])
				}
			}
		})
	}
}
