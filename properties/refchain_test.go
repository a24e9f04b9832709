package properties

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// TestRefChainSameVerdicts checks that deciding sequential segments from
// the reference replay's records (refChain) changes no verdict: every
// variant's targeted scenarios, the built-in scenarios and generated ones,
// run with a fold window of 2 so that their segments are cut during the
// run, give the same outcome (violations in order with times and details,
// accusations, judgements, trace hash) with the shortcut and without it.
// Some segments must be decided by the shortcut and some runs must fail
// for the comparison to mean anything.
func TestRefChainSameVerdicts(t *testing.T) {
	var scs []scenarios.Scenario
	for _, v := range VariantNames() {
		for i, sc := range Targeted(v) {
			if sc.Protocol.Variant == "" {
				sc.Protocol.Variant = v
			}
			if i >= len(targetYAML[pbft.Variant(v)]) && testing.Short() {
				break
			}
			scs = append(scs, sc)
		}
	}
	for _, info := range scenarios.List() {
		sc, err := scenarios.Builtin(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		scs = append(scs, *sc)
	}
	gens := 40
	if testing.Short() {
		gens = 10
	}
	for i := range gens {
		scs = append(scs, Generate(rand.New(rand.NewPCG(11, uint64(i))), uint64(i+1), GenConfig{MaxN: 7, MaxRequests: 24, ByzantineBias: 0.5}))
	}
	chained, ordered, violated, failed := 0, 0, 0, 0
	for i, sc := range scs {
		run := func(off bool) (*Outcome, *Checker) {
			cfg, err := sc.Config()
			if err != nil {
				t.Fatal(err)
			}
			chk := New(Options{})
			chk.noRefChain = off
			o, err := RunConfig(sc, cfg, RunOptions{Liveness: true, Reuse: chk, foldWindow: 2})
			if err != nil {
				t.Fatal(err)
			}
			return o, chk
		}
		on, chk := run(false)
		off, chkOff := run(true)
		if chkOff.refChained != 0 || chkOff.refOrdered != 0 {
			t.Fatalf("the shortcuts decided %d and %d segments with noRefChain", chkOff.refChained, chkOff.refOrdered)
		}
		chained, ordered = chained+chk.refChained, ordered+chk.refOrdered
		for _, v := range on.Violations {
			if v.Property == Linearizability {
				violated++
				break
			}
		}
		if a, b := verdict(on), verdict(off); a != b {
			t.Errorf("%d %s/%s: verdict with refChain\n%s\nwithout\n%s", i, sc.Name, sc.Protocol.Variant, a, b)
			if failed++; failed > 3 {
				t.FailNow()
			}
		}
	}
	t.Logf("%d scenarios, %d with linearizability violations, %d segments decided by refChain, %d by refOrders", len(scs), violated, chained, ordered)
	if chained == 0 || ordered == 0 || violated == 0 {
		t.Errorf("%d segments decided by refChain, %d by refOrders, %d runs violating linearizability: the comparison shows nothing", chained, ordered, violated)
	}
}

// refChainStream: client 4 and client 5 work on payment PX while client 4
// authorizes 200 other payments (one per seq, a stable checkpoint every 16
// seqs, so PX's operations are folded and cut during the run). The PX
// operations are ordered at seqs 1 and 2 by ops (client, timestamp, op
// submitted, op executed), each accepted with the result the committed log
// gives (or, when set, the op's accepted result). first says which of the
// two the clients call and accept first, in real time.
func refChainStream(ops [2]refChainOp, first int) (*stream, []Request) {
	s := &stream{}
	l := ledger.New()
	var reqs []Request
	res := [2]string{}
	s.at(100 * time.Microsecond)
	s.submit(ops[first].client, ops[first].ts, ops[first].submitted)
	for i, o := range ops {
		s.at(time.Duration(i+1) * time.Millisecond)
		res[i] = l.Execute(o.executed)
		for r := sim.NodeID(0); r < 4; r++ {
			s.exec(r, uint64(i+1), d(byte(i+1)), o.client, o.ts, o.executed, res[i])
		}
		reqs = append(reqs, Request{Client: o.client, Timestamp: o.ts, Op: o.submitted})
	}
	s.at(2100 * time.Microsecond)
	s.accept(ops[first].client, ops[first].ts, ops[first].submitted, cmp.Or(ops[first].accepted, res[first]))
	second := 1 - first
	s.at(2200 * time.Microsecond)
	s.submit(ops[second].client, ops[second].ts, ops[second].submitted)
	s.at(2300 * time.Microsecond)
	s.accept(ops[second].client, ops[second].ts, ops[second].submitted, cmp.Or(ops[second].accepted, res[second]))
	for seq := uint64(3); seq <= 200; seq++ {
		op := ledger.Authorize(fmt.Sprintf("PAY%03d", seq), 100)
		reqs = append(reqs, Request{Client: client, Timestamp: seq, Op: op})
		s.accept(client, seq, op, s.ordered(l, seq, op))
	}
	return s, reqs
}

type refChainOp struct {
	client              sim.NodeID
	ts                  uint64
	submitted, executed string
	accepted            string // when not empty: the result the client accepts instead of the log's
}

// TestRefChainKeepsViolations: the shortcut decides a segment only when the
// reference replay's records prove the replay's outcome; where they do
// not, the segment is replayed and its violation reported. Each case is a
// linearizability violation of a segment cut during the run whose accepted
// results all equal the committed log's (so client-view alone does not
// see it, and the shortcut must not hide it): the committed log orders two
// operations against real time (the first one's record before it is not
// the state the replay starts from: removing refChain's state comparison
// loses it), and a request executed as another operation than its client
// submitted (removing foldSubmission's operation comparison loses it).
func TestRefChainKeepsViolations(t *testing.T) {
	auth, conf, get := ledger.Authorize("PX", 100), ledger.Confirm("PX"), ledger.Get("PX")
	unknown := ledger.New().Execute(get) // what a read of PX returns before its authorization
	cases := []struct {
		name   string
		ops    [2]refChainOp
		first  int
		forged bool // the client accepts a result that is not the log's
	}{
		// confirm ordered before the authorization it follows in real time
		{"order", [2]refChainOp{{5, 1, conf, conf, ""}, {client, 1, auth, auth, ""}}, 1, false},
		// client 5 submitted a confirm; the log executes a read in its name
		{"op", [2]refChainOp{{client, 1, auth, auth, ""}, {5, 1, conf, get, ""}}, 0, false},
		// client 5 reads PX after its authorization and accepts "unknown":
		// not the result the reference gave (removing foldSubmission's
		// result comparison loses it)
		{"result", [2]refChainOp{{client, 1, auth, auth, ""}, {5, 1, get, get, unknown}}, 0, true},
	}
	for _, tc := range cases {
		for _, off := range []bool{false, true} {
			s, reqs := refChainStream(tc.ops, tc.first)
			o := opts()
			o.Window, o.Requests = 16, reqs
			c := New(o)
			c.noRefChain = off
			for i := range s.recs {
				c.Record(&s.recs[i])
			}
			var lin []Violation
			for _, v := range c.Violations() { // before Finish: found during the run
				if v.Property == Linearizability {
					lin = append(lin, v)
				}
			}
			if len(lin) != 1 || !strings.Contains(lin[0].Detail, `payment "PX" are not linearizable`) {
				t.Errorf("%s (noRefChain %v): linearizability violations during the run %v, want PX's", tc.name, off, lin)
			}
			for _, v := range c.Violations() {
				if v.Property == ClientView && !tc.forged {
					t.Errorf("%s: %v: the accepted results should be the committed log's", tc.name, v)
				}
			}
			if below, _, _ := c.FoldedLog(); below < 64 {
				t.Fatalf("%s: folded up to seq %d only", tc.name, below)
			}
		}
	}

	// The same streams in real-time order are linearizable, and the
	// shortcut decides PX's segment.
	s, reqs := refChainStream([2]refChainOp{{client, 1, auth, auth, ""}, {5, 1, conf, conf, ""}}, 0)
	o := opts()
	o.Window, o.Requests = 16, reqs
	c := Check(o, s.recs)
	if vs := c.Violations(); len(vs) != 0 {
		t.Fatalf("in order: violations %v", vs)
	}
	if c.refChained == 0 {
		t.Errorf("in order: no segment decided by refChain")
	}
	if j := c.linJudgement(); !j.Judged || j.Reason != "" {
		t.Errorf("in order: linearizability judgement %+v, want judged in full", j)
	}
}

// TestRefRecsExact: after runs with many operations per payment (and
// payments beyond refRecs' slots), every record refRecs holds is the
// reference ledger's record of its payment. It fails when the replay does
// not update an entry after an operation (a stale record would start a
// chain, and captureStart's summary, from the wrong state).
func TestRefRecsExact(t *testing.T) {
	for _, payments := range []int{64, 3000} {
		cfg := scaleConfig(3000, payments)
		chk := Attach(&cfg, RunOptions{Liveness: true})
		res, err := cluster.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		chk.Finish(RunEnd(cfg, res, chk.Stopped()))
		if vs := chk.Violations(); len(vs) > 0 {
			t.Fatalf("violations %v", vs)
		}
		rc := chk.fold.req.refRecs
		held := 0
		for i, id := range rc.ids {
			if id == "" {
				continue
			}
			held++
			p, found := chk.ref.Lookup(id)
			want, ok := sumOfRecord(p, found, paySum{})
			if !ok || !sameState(want, rc.recs[i]) {
				t.Errorf("%d payments: refRecs holds %+v for %q, the reference ledger %+v (ok %v)", payments, rc.recs[i], id, want, ok)
			}
		}
		if held == 0 {
			t.Errorf("%d payments: refRecs holds nothing", payments)
		}
		t.Logf("%d payments: %d records held, all the reference ledger's", payments, held)
	}
}
