package properties

import (
	"fmt"
	"testing"
	"time"

	"math/rand/v2"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// runFast runs sc with a checker attached as Attach attaches it, with its
// fast path for the frequent records (Record's fast path) or, with slow, every
// record down the general path, and returns the outcome.
func runFast(t *testing.T, sc scenarios.Scenario, slow bool) *Outcome {
	t.Helper()
	cfg, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.WithDefaults()
	ro := RunOptions{Liveness: true}
	chk := attach(&cfg, ro)
	chk.noFast = slow
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl.Run()
	return Judge(sc, cl, chk, ro, chk.Stopped())
}

// verdict is everything an outcome reports: trace hash, violations in
// detection order, accusations and judgements.
func verdict(o *Outcome) string {
	return fmt.Sprintf("hash %s\nviolations %v\naccused %v\njudgements %+v", o.TraceHash(), o.Violations, o.Accused, o.Judgements)
}

// TestFastRecordSameVerdicts checks that the checker's fast path for the
// frequent records (Record's fast path) changes no verdict: every variant's targeted
// scenarios, the built-in scenarios (PBFT and HotStuff) and generated ones
// give the same violations (in detection order, with their times and
// details), accusations and judgements with it and without it. It fails
// when the fast path skips something a property needs (a fast path that
// drops PREPARE deliveries, say: local-quorum then fails on every run).
func TestFastRecordSameVerdicts(t *testing.T) {
	cases := differentialCases(t, 7, 40, 10)
	failed, violated := 0, 0
	for _, c := range cases {
		o := runFast(t, c.sc, false)
		if len(o.Violations) > 0 {
			violated++
		}
		fast, general := verdict(o), verdict(runFast(t, c.sc, true))
		if fast != general {
			t.Errorf("%s: verdict with the checker's fast path differs from the general path's:\nfast:    %s\ngeneral: %s", c.name, fast, general)
			if failed++; failed > 3 {
				t.FailNow()
			}
		}
	}
	if violated == 0 {
		t.Fatalf("no violation in %d scenarios: the comparison judges nothing that fails", len(cases))
	}
	t.Logf("%d scenarios (%d with violations), same verdicts with and without the fast path", len(cases), violated)
}

// verdictCase is a named scenario of a differential verdict test.
type verdictCase struct {
	name string
	sc   scenarios.Scenario
}

// differentialCases returns the scenarios the checker's differential
// verdict tests run: every variant's targeted scenarios (with -short only
// the YAML ones; the built-in ones come once, below), every built-in
// scenario (PBFT and HotStuff), and gens generated ones (gensShort with
// -short, Byzantine replicas among them) drawn from PCG stream seed.
func differentialCases(t *testing.T, seed uint64, gens, gensShort int) []verdictCase {
	t.Helper()
	var cases []verdictCase
	for _, v := range VariantNames() {
		for i, sc := range Targeted(v) {
			if sc.Protocol.Variant == "" {
				sc.Protocol.Variant = v
			}
			if i >= len(targetYAML[pbft.Variant(v)]) && testing.Short() {
				break // the built-in ones once, below
			}
			cases = append(cases, verdictCase{fmt.Sprintf("%s/%s", v, sc.Name), sc})
		}
	}
	for _, info := range scenarios.List() {
		sc, err := scenarios.Builtin(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, verdictCase{"builtin/" + info.Name, *sc})
	}
	if testing.Short() {
		gens = gensShort
	}
	for i := range gens {
		sc := Generate(rand.New(rand.NewPCG(seed, uint64(i))), uint64(i+1), GenConfig{MaxN: 7, MaxRequests: 6, ByzantineBias: 0.5})
		cases = append(cases, verdictCase{fmt.Sprintf("generated/%d", i), sc})
	}
	return cases
}

// TestFastRecordStepInput: a correct replica whose timer expired and who
// then starts a view change in the step of a COMMIT's delivery, with no
// VIEW-CHANGE of a higher view from anyone, breaks view-change-cause; the
// fast path must see the COMMIT as that step's input, as the general path
// does. It fails when the fast path leaves the timer as the last input
// (brokenFastInput).
func TestFastRecordStepInput(t *testing.T) {
	for _, broken := range []bool{false, true} {
		counts := map[bool]int{}
		for _, slow := range []bool{false, true} {
			brokenFastInput = broken
			c := New(Options{N: 4, F: 1, ViewChangeTimeout: 100 * time.Millisecond, Deliveries: true})
			c.noFast = slow
			cm := &pbft.Commit{View: 0, Seq: 1, Replica: 2}
			for i, r := range []sim.Record{
				{Time: 1, Kind: sim.RecTimer, To: 1, Timer: 1},
				{Time: 2, Kind: sim.RecSend, From: 2, To: 1, Msg: cm},
				{Time: 3, Kind: sim.RecDeliver, From: 2, To: 1, Msg: cm, Ref: 2},
				{Time: 3, Kind: sim.RecEvent, From: 1, To: 1, Event: &pbft.ViewChangeStarted{Replica: 1, From: 0, To: 1}},
			} {
				r.Seq = uint64(i)
				c.Record(&r)
			}
			for _, v := range c.Violations() {
				if v.Property == ViewChangeCause {
					counts[slow]++
				}
			}
		}
		brokenFastInput = false
		if same := counts[false] == counts[true] && counts[true] == 1; same == broken {
			t.Errorf("broken %v: view-change-cause violations fast %d, general %d (want 1 each unless broken)", broken, counts[false], counts[true])
		}
	}
}
