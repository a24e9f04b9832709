package properties

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// longRun runs the fault-free scenario with n=4, 4 clients and requests
// requests to completion with every online checker, and returns the checker.
func longRun(t *testing.T, requests int, window int) (*Checker, *Outcome) {
	t.Helper()
	return longRunOf(t, "", requests, window)
}

// longRunOf is longRun under protocol ("": PBFT).
func longRunOf(t *testing.T, protocol string, requests int, window int) (*Checker, *Outcome) {
	t.Helper()
	return longRunPayments(t, protocol, requests, 64, window)
}

// longRunPayments is longRunOf with payments distinct payment ids.
func longRunPayments(t *testing.T, protocol string, requests, payments int, window int) (*Checker, *Outcome) {
	t.Helper()
	sc, err := scenarios.Load("fault-free")
	if err != nil {
		t.Fatal(err)
	}
	if protocol != "" {
		sc.Protocol.Name = protocol
		sc.Protocol.CheckpointInterval, sc.Protocol.Window = 0, 0
	}
	sc.Workload.Requests, sc.Workload.Payments, sc.Workload.Clients = requests, payments, 4
	sc.Run.MaxTime, sc.Run.Stall = 0, 10*time.Second
	cfg, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	chk := New(Options{})
	o, err := RunConfig(*sc, cfg, RunOptions{Liveness: true, Reuse: chk, foldWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	if o.Failed() || o.Result.Ended != cluster.EndCompleted || o.Result.Requests.Committed != requests {
		t.Fatalf("ended %s, committed %d, violations %v", o.Result.Ended, o.Result.Requests.Committed, o.Violations)
	}
	return chk, o
}

// TestCheckerStateBounded: after 100,000 requests the checker holds a number
// of slots, votes, evidence COMMITs, digests and log seqs below a constant
// tied to the window (L = 32 here), the rest folded into the summary; with
// folding off (a window larger than the run) the same state grows past it.
func TestCheckerStateBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	const window = 32 // the scenario's L = 2K, K = 16
	bound := 40 * window
	chk, _ := longRun(t, 100_000, 0)
	below, seqs, _ := chk.FoldedLog()
	t.Logf("retained %d entries (bound %d); folded %d seqs, everything <= %d", chk.Retained(), bound, seqs, below)
	if got := chk.Retained(); got > bound {
		t.Errorf("checker retains %d entries after 100,000 requests, want <= %d (40 windows)", got, bound)
	}
	if below < 99_000 || seqs < 99_000 {
		t.Errorf("folded up to seq %d (%d seqs), want nearly all of the 100,000", below, seqs)
	}

	off, _ := longRun(t, 5_000, 1<<40)
	if got := off.Retained(); got <= bound {
		t.Errorf("without folding the checker retains %d entries after 5,000 requests: the bound %d would not show folding", got, bound)
	}
}

// TestPaymentStateBounded: after 100,000 requests on 50,000 payments the
// linearizability check holds a number of open segments and operations
// below a constant tied to the window (the rest checked during the run and
// dropped), and no per-payment summary beyond that bound either: a
// payment's summary (24 bytes plus the id) is dropped when the reference
// ledger holds its state. Every payment's history is decided.
func TestPaymentStateBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	const requests, payments = 100_000, 50_000
	bound := 40 * defaultWindow
	chk, o := longRunPayments(t, "", requests, payments, 0)
	r := chk.RetainedPayments()
	t.Logf("%+v (%.1f summary bytes per payment); decided %d, skipped %d, undecided %d",
		r, float64(r.SummaryBytes)/payments, chk.linDecided, chk.linSkipped, chk.linUnknown)
	if r.PeakOpen+r.PeakOps > bound || r.Open+r.Ops > bound {
		t.Errorf("open payments and their operations peaked at %d + %d (%d + %d at the end) in %d requests, want <= %d in all",
			r.PeakOpen, r.PeakOps, r.Open, r.Ops, requests, bound)
	}
	if r.PeakOps == 0 {
		t.Errorf("no open segment seen during the run: the bound shows nothing")
	}
	if r.Slots > bound {
		t.Errorf("%d payment slots in use after %d requests on %d payments, want <= %d: a slot nothing refers to is freed", r.Slots, requests, payments, bound)
	}
	if r.Summaries > bound {
		t.Errorf("%d summaries of %d bytes for %d payments, want <= %d: a summary is dropped when the reference ledger holds its state", r.Summaries, r.SummaryBytes, payments, bound)
	}
	if chk.linDecided < payments*9/10 || chk.linSkipped+chk.linUnknown != 0 {
		t.Errorf("decided %d payment histories (skipped %d, undecided %d), want about %d, all decided", chk.linDecided, chk.linSkipped, chk.linUnknown, payments)
	}
	if j := chk.linJudgement(); !j.Judged || j.Reason != "" || o.Failed() {
		t.Errorf("linearizability judgement %+v (violations %v), want judged in full", j, o.Violations)
	}
}

// TestHotStuffCheckerStateBounded: HotStuff reports no stable checkpoints;
// the checker folds a window below the lowest executed prefix of the
// correct replicas instead (Options.FoldOnExecuted), so after 20,000
// requests of Basic and of chained HotStuff it holds fewer entries than 40
// default windows of 32, and with folding off the same state grows past it.
func TestHotStuffCheckerStateBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 requests per protocol")
	}
	const bound = 40 * defaultWindow
	for _, protocol := range []string{cluster.ProtocolHotStuff, cluster.ProtocolChainedHotStuff} {
		t.Run(protocol, func(t *testing.T) {
			chk, _ := longRunOf(t, protocol, 20_000, 0)
			below, seqs, _ := chk.FoldedLog()
			t.Logf("retained %d entries (bound %d); folded %d seqs, everything <= %d", chk.Retained(), bound, seqs, below)
			if got := chk.Retained(); got > bound {
				t.Errorf("checker retains %d entries after 20,000 requests, want <= %d (40 windows)", got, bound)
			}
			if below < 4_000 || seqs < 4_000 {
				t.Errorf("folded up to seq %d (%d seqs), want most of the run", below, seqs)
			}
			off, _ := longRunOf(t, protocol, 2_000, 1<<40)
			if got := off.Retained(); got <= bound {
				t.Errorf("without folding the checker retains %d entries after 2,000 requests: the bound %d would not show folding", got, bound)
			}
		})
	}
}

// ordered records client 4 submitting op (timestamp seq) at seq ms and
// the 4 replicas executing it at seq on l's result, each reporting a
// stable checkpoint every 16 seqs; it returns the result (not accepted
// yet: the caller records the acceptance).
func (s *stream) ordered(l *ledger.Ledger, seq uint64, op string) string {
	s.at(time.Duration(seq) * time.Millisecond)
	res := l.Execute(op)
	s.submit(client, seq, op)
	for r := sim.NodeID(0); r < 4; r++ {
		s.exec(r, seq, d(byte(seq)), client, seq, op, res)
		if seq%16 == 0 {
			s.ev(r, &pbft.StableCheckpoint{Replica: r, Seq: seq})
		}
	}
	return res
}

// foldStream: client 4 submits 200 authorizations, each ordered at its own
// seq and executed by the 4 replicas, which report a stable checkpoint every
// 16 seqs; request lateTs is accepted after the liveness bound.
func foldStream(lateTs uint64) (*stream, *ledger.Ledger) {
	s := &stream{}
	l := ledger.New()
	for seq := uint64(1); seq <= 200; seq++ {
		op := ledger.Authorize(fmt.Sprintf("PAY%03d", seq), 100)
		res := s.ordered(l, seq, op)
		if seq == 120 || seq == 180 {
			// a late PREPARE for a long folded seq (a slot made after
			// its seq was folded must be folded and forgotten cleanly)
			s.send(2, 0, &pbft.Prepare{View: 0, Seq: 3, Digest: d(3), Replica: 2})
		}
		if seq == lateTs {
			s.at(time.Duration(seq)*time.Millisecond + 10*time.Second)
		}
		s.accept(client, seq, op, res)
		s.at(time.Duration(seq) * time.Millisecond)
	}
	return s, l
}

// TestFoldKeepsVerdicts: folded requests still count. A correct replica that
// executes a folded request again is caught (Integrity), a folded request
// accepted too late is a liveness violation at Finish, folded operations
// are checked for linearizability, and what is retained stays small.
func TestFoldKeepsVerdicts(t *testing.T) {
	o := opts()
	o.Window, o.LivenessBound = 16, time.Second
	s, _ := foldStream(5)
	c := Check(o, s.recs)
	below, seqs, _ := c.FoldedLog()
	if below < 150 || seqs < 150 || c.fold.req.requests < 150 {
		t.Fatalf("folded up to %d (%d seqs, %d requests), want most of 200", below, seqs, c.fold.req.requests)
	}
	if got := c.Retained(); got > 40*16 {
		t.Errorf("retained %d entries, want <= %d", got, 40*16)
	}
	var live, other []Violation
	for _, v := range c.Violations() {
		if v.Property == Liveness {
			live = append(live, v)
		} else {
			other = append(other, v)
		}
	}
	if len(live) != 1 || !strings.Contains(live[0].Detail, "request 5 ") || len(other) != 0 {
		t.Errorf("violations %v, want exactly the late acceptance of request 5", c.Violations())
	}
	if j := c.linJudgement(); !j.Judged {
		t.Errorf("linearizability not judged over folded operations: %+v", j)
	}

	// Replica 1 executes request 3 (folded long ago) again at seq 201.
	s, l := foldStream(0)
	op := ledger.Authorize("PAY003", 100)
	s.at(time.Second).exec(1, 201, d(201), client, 3, op, l.Execute(op))
	c = Check(o, s.recs)
	found := false
	for _, v := range c.Violations() {
		found = found || v.Property == Integrity && strings.Contains(v.Detail, "folded")
	}
	if !found {
		t.Errorf("re-execution of a folded request not reported: %v", c.Violations())
	}
}

// TestHotStuffFoldKeepsVerdicts: folding HotStuff's checker state below the
// executed prefix (with a window of 2, so that even short runs fold) gives
// the verdicts of the same runs without folding, for the correct protocols
// and every broken variant: on generated cases (the generic search's) and
// the variants' targeted scenarios. Some runs must fold for it to mean
// anything.
func TestHotStuffFoldKeepsVerdicts(t *testing.T) {
	cases := 12
	if testing.Short() {
		cases = 4
	}
	verdict := func(o *Outcome) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s liveness=%v", o.Verdict(), o.LivenessChecked)
		for _, v := range o.Violations {
			b.WriteString("\n" + v.String())
		}
		for _, a := range o.Accused {
			b.WriteString("\n" + a.String())
		}
		return b.String()
	}
	folded, failed := 0, 0
	for _, protocol := range []string{cluster.ProtocolHotStuff, cluster.ProtocolChainedHotStuff} {
		for _, variant := range append([]string{""}, HotStuffVariantNames(protocol)...) {
			var scs []scenarios.Scenario
			for i := range cases {
				scs = append(scs, CaseScenario(7, i, GenConfig{Protocol: protocol, Variant: variant, MaxRequests: 24}))
			}
			if variant != "" {
				for _, sc := range HotStuffTargeted(variant, protocol) {
					sc.Protocol.Variant = variant
					scs = append(scs, sc)
				}
			}
			for i, sc := range scs {
				run := func(window int) (*Outcome, *Checker) {
					cfg, err := sc.Config()
					if err != nil {
						t.Fatal(err)
					}
					chk := New(Options{})
					o, err := RunConfig(sc, cfg, RunOptions{Liveness: true, Reuse: chk, foldWindow: window})
					if err != nil {
						t.Fatal(err)
					}
					return o, chk
				}
				on, chk := run(2)
				off, _ := run(1 << 40)
				if _, seqs, _ := chk.FoldedLog(); seqs > 0 {
					folded++
				}
				if on.Failed() {
					failed++
				}
				if a, b := verdict(on), verdict(off); a != b {
					t.Errorf("%s %q case %d: folded verdict\n%s\nwithout folding\n%s", protocol, variant, i, a, b)
				}
			}
		}
	}
	t.Logf("%d runs folded, %d failed", folded, failed)
	if folded == 0 || failed == 0 {
		t.Errorf("%d runs folded and %d failed: the comparison would not show folding keeps verdicts", folded, failed)
	}
}

// cutStream: client 4 authorizes PAY001 (seq 1), then 200 other payments
// (one per seq), and at seq 150 reads PAY001 and accepts read; the
// replicas report a stable checkpoint every 16 seqs, so PAY001's first
// segment is checked and dropped long before the read.
func cutStream(read func(l *ledger.Ledger) string) *stream {
	return cutStreamReads(map[uint64]string{150: "PAY001"}, func(l *ledger.Ledger, _ string) string { return read(l) })
}

// cutStreamReads is cutStream with a read of payment reads[seq] at each
// seq of reads instead of an authorization, accepting read.
func cutStreamReads(reads map[uint64]string, read func(l *ledger.Ledger, id string) string) *stream {
	s := &stream{}
	l := ledger.New()
	for seq := uint64(1); seq <= 200; seq++ {
		op := ledger.Authorize(fmt.Sprintf("PAY%03d", seq), 100)
		id, isRead := reads[seq]
		if isRead {
			op = ledger.Get(id)
		}
		res := s.ordered(l, seq, op)
		if isRead {
			res = read(l, id)
		}
		s.accept(client, seq, op, res)
	}
	return s
}

// TestCutViolationsInPaymentOrder: two stale reads (of PAY009, then of
// PAY005, both authorized long before) found by the same cut are reported
// in payment order, whatever order the payments were cut in: violate keeps
// the first of two violations with the same key (one client, no view or
// seq), PAY005's. It fails with brokenCutOrder (the cut's order: PAY009's
// segment opened first).
func TestCutViolationsInPaymentOrder(t *testing.T) {
	for _, broken := range []bool{false, true} {
		brokenCutOrder = broken
		stale := ledger.New().Execute(ledger.Get("PAY000"))
		s := cutStreamReads(map[uint64]string{150: "PAY009", 151: "PAY005"}, func(_ *ledger.Ledger, id string) string {
			return strings.Replace(stale, "PAY000", id, 1)
		})
		o := opts()
		o.Window = 16
		c := Check(o, s.recs)
		var lin []string
		for _, v := range c.Violations() {
			if v.Property == Linearizability {
				lin = append(lin, v.Detail)
			}
		}
		ok := len(lin) == 1 && strings.Contains(lin[0], `on payment "PAY005"`)
		if ok == broken {
			t.Errorf("brokenCutOrder %v: linearizability violations %q, want one, on PAY005 (unless broken)", broken, lin)
		}
	}
	brokenCutOrder = false
}

// TestLinearizabilityAcrossCut: the read of a payment whose authorization
// was checked and dropped long before (its segment summarised by the one
// state it ends in) is judged against that state: the correct read passes,
// a stale read (the payment unknown) is a linearizability violation whose
// segment is the read alone, after the earlier operation.
func TestLinearizabilityAcrossCut(t *testing.T) {
	o := opts()
	o.Window = 16
	good := cutStream(func(l *ledger.Ledger) string { return l.Execute(ledger.Get("PAY001")) })
	c := New(o)
	for i := range good.recs {
		c.Record(&good.recs[i])
		if e, ok := good.recs[i].Event.(*pbft.Submitted); ok && e.Timestamp == 150 {
			// PAY001's authorization was checked and dropped by now,
			// and so was its summary: the reference ledger holds it.
			if i, ok := c.fold.req.pays.find("PAY001"); ok && (c.fold.req.pays.slots[i].hasSum || c.fold.req.pays.slots[i].pl != nil) {
				sl := c.fold.req.pays.slots[i]
				t.Fatalf("before the read, PAY001's summary is %+v (held: %v), open %v; want none", sl.sum, sl.hasSum, sl.pl)
			}
			if r := c.RetainedPayments(); r.Summaries > 40 || r.Open+r.Ops > 40 {
				t.Fatalf("before the read, %+v: want at most a window's worth", r)
			}
		}
	}
	c.Finish(good.now)
	if vs := c.Violations(); len(vs) != 0 {
		t.Fatalf("correct history: violations %v", vs)
	}
	if j := c.linJudgement(); !j.Judged || j.Reason != "" {
		t.Fatalf("correct history: linearizability judgement %+v, want judged in full", j)
	}

	stale := ledger.New().Execute(ledger.Get("PAY001"))
	bad := cutStream(func(*ledger.Ledger) string { return stale })
	c = Check(o, bad.recs)
	var lin []Violation
	for _, v := range c.Violations() {
		if v.Property == Linearizability {
			lin = append(lin, v)
		}
	}
	if len(lin) != 1 || !strings.Contains(lin[0].Detail, `the 1 client operations on payment "PAY001" are not linearizable`) ||
		!strings.Contains(lin[0].Detail, "after the earlier operations") || !strings.Contains(lin[0].Detail, "authorized authorized=100") {
		t.Fatalf("stale read across a cut: linearizability violations %v", lin)
	}
}

// TestDecidedOncePerPayment: a payment that never exists (only reads of
// it, at seq 1 and 150, its first segment checked and dropped in between)
// counts once among the payment histories decided (found by review: its
// dropped summary was recreated as new and counted again).
func TestDecidedOncePerPayment(t *testing.T) {
	o := opts()
	o.Window = 16
	s := &stream{}
	l := ledger.New()
	ids := map[string]bool{}
	for seq := uint64(1); seq <= 200; seq++ {
		op := ledger.Authorize(fmt.Sprintf("PAY%03d", seq), 100)
		if seq == 1 || seq == 150 {
			op = ledger.Get("ZZZ")
		}
		ids[paymentOf(op)] = true
		res := s.ordered(l, seq, op)
		s.accept(client, seq, op, res)
	}
	c := Check(o, s.recs)
	if vs := c.Violations(); len(vs) != 0 {
		t.Fatalf("violations %v", vs)
	}
	if c.linDecided != len(ids) {
		t.Errorf("%d payment histories decided, want %d (one per payment)", c.linDecided, len(ids))
	}
}

// TestLinSearchEnds: a faulty node's cancel, carried along, gives a segment
// two end states (the cancel not yet applied, or applied before the
// authorization as a no-op: applied after it is the same as applied at the
// start of the next segment); the next segment keeps the ones its results
// allow, and a result no state allows is no linearization.
func TestLinSearchEnds(t *testing.T) {
	var s linSearch
	auth := linOp{client: 4, input: opA, output: res[0], call: 0, ret: 10}
	cancel := linOp{client: 3, input: ledger.Cancel("PAY001"), pending: true, ret: math.MaxInt64, carried: true}
	start := []linState{{snap: string(ledger.New().Snapshot())}}
	ends, ok := s.ends([]linOp{auth, cancel}, 1, start)
	if !ok || len(ends) != 2 {
		t.Fatalf("ends = %v, %v; want 2 states (the cancel applied or not)", ends, ok)
	}
	applied := 0
	for _, e := range ends {
		if e.applied == 1 {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("ends %v: want exactly one with the cancel applied", ends)
	}
	next := func(op, out string) (bool, bool) {
		return s.exists([]linOp{{client: 4, input: op, output: out, call: 20, ret: 30}, cancel}, 1, ends)
	}
	l := ledger.New()
	l.Execute(opA)
	lc := ledger.New()
	lc.Execute(opA)
	lc.Execute(ledger.Cancel("PAY001"))
	for _, tc := range []struct {
		op, out string
		want    bool
	}{
		{opC, l.Execute(opC), true},                 // not cancelled (or cancelled after)
		{opC, lc.Execute(opC), true},                // cancelled before
		{ledger.Get("PAY001"), res[0], true},        // authorized
		{ledger.Get("PAY001"), res[1], false},       // confirmed: no state allows it
		{opA, results(opA, opA)[1], true},           // duplicate
		{ledger.Refund("PAY001", 5), res[0], false}, // a refund never returns authorized
	} {
		if found, ok := next(tc.op, tc.out); !ok || found != tc.want {
			t.Errorf("%s -> %s: found %v (ok %v), want %v", tc.op, tc.out, found, ok, tc.want)
		}
	}
	// A carried operation applied once is not applied again: from the
	// state where the cancel took effect before the authorization (as a
	// no-op), a confirm cannot find the payment cancelled.
	var consumed []linState
	for _, e := range ends {
		if e.applied == 1 {
			consumed = append(consumed, e)
		}
	}
	cancelled := linOp{client: 4, input: opC, output: lc.Execute(opC), call: 20, ret: 30}
	if found, ok := s.exists([]linOp{cancelled, cancel}, 1, ends); !found || !ok {
		t.Errorf("from every end state, %s -> %s not found", cancelled.input, cancelled.output)
	}
	if found, ok := s.exists([]linOp{cancelled, cancel}, 1, consumed); found || !ok {
		t.Errorf("from the state with the cancel consumed, %s -> %s found linearizable", cancelled.input, cancelled.output)
	}
}

// TestPaySumRoundTrip: every state a payment reaches is rebuilt exactly
// from its compact summary.
func TestPaySumRoundTrip(t *testing.T) {
	id := "PAY7"
	seqs := [][]string{{}, {ledger.Authorize(id, 100)}, {ledger.Authorize(id, 100), ledger.Cancel(id)},
		{ledger.Authorize(id, 100), ledger.Confirm(id)}, {ledger.Authorize(id, 100), ledger.Confirm(id), ledger.Refund(id, 30)},
		{ledger.Authorize(id, 100), ledger.Confirm(id), ledger.Refund(id, 30), ledger.Refund(id, 70)},
		{ledger.Authorize(id, ledger.MaxAmount), ledger.Confirm(id), ledger.Refund(id, 1)}}
	for _, ops := range seqs {
		l := ledger.New()
		for _, op := range ops {
			l.Execute(op)
		}
		s, ok := sumOf(l, id, paySum{})
		if !ok {
			t.Fatalf("%v: no summary", ops)
		}
		if got, want := string(s.ledgerOf(id).Snapshot()), string(l.Snapshot()); got != want {
			t.Errorf("%v: summary %+v rebuilds %x, want %x", ops, s, got, want)
		}
	}
	l := ledger.New()
	l.Execute(ledger.Authorize("OTHER", 1))
	if _, ok := sumOf(l, id, paySum{}); ok {
		t.Errorf("a ledger holding another payment was summarised")
	}
}

// TestConfirmTable: the compact confirm records answer as one map per
// replica and one for the log would: a replica's first confirm seq (also
// when replicas confirmed at different seqs, or ids of 64 and more), the
// log's, and a wiped replica's confirms forgotten while the others' stay;
// for short (packed) and long ids. confirmReplica and confirmLog report a
// second confirm with the first's seq. It fails with brokenConfirmWord.
func TestConfirmTable(t *testing.T) {
	if err := confirmTableDiff(); err != nil {
		t.Fatal(err)
	}
	brokenConfirmWord = true
	defer func() { brokenConfirmWord = false }()
	err := confirmTableDiff()
	if err == nil {
		t.Fatal("brokenConfirmWord: no difference found")
	}
	t.Logf("brokenConfirmWord: %v", err)
}

// confirmTableDiff runs TestConfirmTable's comparison: the first
// difference found.
func confirmTableDiff() error {
	var ct confirmTable
	ct.reset()
	want, wantLog := map[confirmKey]uint64{}, map[string]uint64{}
	var diff error
	note := func(what string, got uint64, twice bool, w uint64, ok bool) {
		if diff == nil && (twice != ok || twice && got != w) {
			diff = fmt.Errorf("%s: first %d %v, want %d %v", what, got, twice, w, ok)
		}
	}
	set := func(r int, id string, seq uint64) {
		w, ok := want[confirmKey{id, r}]
		s0, twice := ct.confirmReplica(r, id, seq)
		note(fmt.Sprintf("replica %d confirms %s at %d", r, id, seq), s0, twice, w, ok)
		if !ok {
			want[confirmKey{id, r}] = seq
		}
	}
	setLog := func(id string, seq uint64) {
		w, ok := wantLog[id]
		s0, twice := ct.confirmLog(id, seq)
		note(fmt.Sprintf("the log confirms %s at %d", id, seq), s0, twice, w, ok)
		if !ok {
			wantLog[id] = seq
		}
	}
	// Ids of 15 bytes and less are packed keys, longer ones strings: idOf
	// makes both, and two that differ only past the padding ("P" and
	// "P\x00").
	idOf := func(i int) string {
		switch {
		case i%3 == 1:
			return fmt.Sprintf("PAYMENT-WITH-A-LONG-ID-%d", i)
		case i == 36:
			return "P"
		case i == 33:
			return "P\x00"
		}
		return fmt.Sprintf("PAY%d", i)
	}
	for i := 0; i < 200; i++ {
		id := idOf(i % 37)
		set(i%5, id, uint64(i/3))
		set(22+i%2, id, uint64(i/3)) // the last packed replica id and the first not packed
		set(70+i%3, id, uint64(i))
		if i%4 == 0 {
			setLog(id, uint64(i))
		}
	}
	check := func() {
		for i := 0; i < 37; i++ {
			id := idOf(i)
			for _, r := range []int{0, 1, 2, 3, 4, 5, 22, 23, 70, 71, 72} {
				s, ok := ct.replicaAt(r, id, ct.find(id))
				ws, wok := want[confirmKey{id, r}]
				note(fmt.Sprintf("replica %d, %s", r, id), s, ok, ws, wok)
			}
		}
	}
	// seqs too large to pack, for the log and a replica
	huge := uint64(1)<<40 + 5 // wraps to 5 if packed
	set(1, "HUGE", huge)
	setLog("HUGE", huge+1)
	s, ok := ct.replicaAt(1, "HUGE", ct.find("HUGE"))
	note("replica 1, HUGE", s, ok, huge, true)
	check()
	for i := 0; i < 40; i++ {
		id := idOf(i)
		s, ok := ct.logAt(id, ct.find(id))
		ws, wok := wantLog[id]
		note("log "+id, s, ok, ws, wok)
	}
	s, ok = ct.logAt("HUGE", ct.find("HUGE"))
	note("log HUGE", s, ok, huge+1, true)
	ct.clearReplica(2)
	ct.clearReplica(71)
	ct.clearReplica(22)
	for k := range want {
		if k.r == 2 || k.r == 71 || k.r == 22 {
			delete(want, k)
		}
	}
	check()
	return diff
}

// TestSummaryKeptWhileReplayedOpUnfolded: a payment's summary is dropped
// only when the reference ledger executed nothing of it that is still
// unfolded. Client 4 authorizes PAY001 at seq 1; faulty node 3 reads it in
// its own name at seq 20 (replayed, not yet folded when the authorization's
// segment is checked at the fold below seq 16); client 4 confirms it at seq
// 60, after the read was folded. Dropping the summary then would start the
// read's (carried) segment from no payment and make the confirm look
// unlinearizable.
func TestSummaryKeptWhileReplayedOpUnfolded(t *testing.T) {
	o := opts()
	o.Window, o.Faulty = 16, []sim.NodeID{3}
	s := &stream{}
	l := ledger.New()
	for seq := uint64(1); seq <= 100; seq++ {
		s.at(time.Duration(seq) * time.Millisecond)
		op, from := ledger.Authorize(fmt.Sprintf("PAY%03d", seq), 100), client
		switch seq {
		case 1:
			op = opA
		case 20:
			op, from = ledger.Get("PAY001"), 3
		case 60:
			op = opC
		}
		res := l.Execute(op)
		if from == client {
			s.submit(client, seq, op)
		}
		for r := sim.NodeID(0); r < 4; r++ {
			s.exec(r, seq, d(byte(seq)), from, seq, op, res)
			if seq%16 == 0 {
				s.ev(r, &pbft.StableCheckpoint{Replica: r, Seq: seq})
			}
		}
		if from == client {
			s.accept(client, seq, op, res)
		}
	}
	c := Check(o, s.recs)
	if vs := c.Violations(); len(vs) != 0 {
		t.Fatalf("violations %v, want none", vs)
	}
	if j := c.linJudgement(); !j.Judged || j.Reason != "" {
		t.Fatalf("linearizability judgement %+v, want judged in full", j)
	}
	if below, _, _ := c.FoldedLog(); below < 64 {
		t.Fatalf("folded up to seq %d only: the confirm's segment was not checked during the run", below)
	}
}
