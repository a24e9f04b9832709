package properties

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// censoredYAML is a small case of timer-restart-any-execution (the generic
// hunt's first finding of seed 1, shrunk): a censoring primary, two clients
// with one request each. The censored client's request reaches backup 1 at
// 4ms; the other client's request executes at 6ms, which under the variant
// restarts the backup's timer (120ms) for the censored request.
const censoredYAML = `name: censored
seed: 1000073
"n": 4
protocol:
  batch: 4
  checkpoint_interval: 1
  window: 1
  view_change_timeout: 120ms
  client_timeout: 3ms
workload:
  clients: 2
  requests: 2
  drawn_for: 5
network:
  delay: const:1ms
byzantine:
  - {replica: 0, strategy: censor}
run:
  max_time: 2s
`

func runCensored(t *testing.T, variant string) *Outcome {
	t.Helper()
	return runYAML(t, "censored.yaml", censoredYAML, variant, RunOptions{Liveness: true})
}

// runYAML runs the scenario in y (named file) with the protocol variant
// ("" for the correct protocol) and returns the outcome.
func runYAML(t *testing.T, file, y, variant string, opts RunOptions) *Outcome {
	t.Helper()
	sc, err := scenarios.Parse(file, []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	sc.Protocol.Variant = variant
	o, err := RunScenario(*sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestTimelinessCatchesTimerRestartWithTwoRequests: the request-timer rule
// fails timer-restart-any-execution with two requests, where the liveness
// bound (judged on the same run) does not, and the correct protocol passes
// both on the same scenario.
func TestTimelinessCatchesTimerRestartWithTwoRequests(t *testing.T) {
	o := runCensored(t, "")
	if o.Failed() {
		t.Fatalf("correct protocol: %s", o.Summary())
	}
	j := judgementOf(o, Timeliness)
	if j == nil || !j.Judged || strings.HasPrefix(j.Reason, "vacuous") {
		t.Fatalf("timeliness not judged on the correct protocol: %+v", j)
	}
	if !o.LivenessChecked {
		t.Fatalf("liveness not judged: %s", o.JudgedSummary())
	}
	bad := runCensored(t, "timer-restart-any-execution")
	var props []string
	for _, v := range bad.Violations {
		props = append(props, v.Property)
	}
	if !slices.Contains(props, Timeliness) {
		t.Fatalf("timer-restart-any-execution not caught by timeliness: %s", bad.Summary())
	}
	if slices.Contains(props, Liveness) || !bad.LivenessChecked {
		t.Fatalf("the case was meant to pass the liveness bound (judged %v): %v", bad.LivenessChecked, props)
	}
}

func judgementOf(o *Outcome, p string) *Judgement {
	for i := range o.Judgements {
		if o.Judgements[i].Property == p {
			return &o.Judgements[i]
		}
	}
	return nil
}

// TestTimelinessCountsEarlierRequests feeds a checker hand-made records of
// one backup (replica 3 of 4, base timeout 100ms) and checks the window
// arithmetic: a request executed meanwhile that reached the backup before
// the awaited one extends the bound by one timeout, a later one does not, a
// view change ends the wait, and each view change since the last execution
// doubles the timeout.
func TestTimelinessCountsEarlierRequests(t *testing.T) {
	const T = 100 * time.Millisecond
	ms := func(n int) sim.Time { return sim.Time(time.Duration(n) * time.Millisecond) }
	type step struct {
		at   int // ms
		kind string
		cl   sim.NodeID // client (5 or 6)
		ts   uint64
	}
	// "req": the client delivers its request to replica 3; "exec":
	// replica 3 executes it; "vc": replica 3 starts a view change to the
	// next view; "nv": it enters that view (a backup in views 0-2).
	for _, tc := range []struct {
		name  string
		steps []step
		fail  bool
	}{
		{"executed within the timeout", []step{{0, "req", 5, 1}, {90, "exec", 5, 1}}, false},
		{"waits beyond the timeout", []step{{0, "req", 5, 1}, {150, "exec", 5, 1}}, true},
		{"view change within the timeout", []step{{0, "req", 5, 1}, {100, "vc", 0, 0}}, false},
		{"view change late", []step{{0, "req", 5, 1}, {103, "vc", 0, 0}}, true},
		{"an earlier request restarts the timer", []step{{0, "req", 6, 1}, {10, "req", 5, 1}, {90, "exec", 6, 1}, {180, "exec", 5, 1}}, false},
		{"a later request does not", []step{{0, "req", 5, 1}, {10, "req", 6, 1}, {90, "exec", 6, 1}, {180, "exec", 5, 1}}, true},
		{"unfinished wait judged at the end", []step{{0, "req", 5, 1}, {10, "req", 6, 1}, {90, "exec", 6, 1}, {180, "exec", 6, 2}}, true},
		{"doubled after a view change", []step{{0, "vc", 0, 0}, {1, "nv", 0, 0}, {2, "req", 5, 1}, {190, "exec", 5, 1}}, false},
		{"doubled twice", []step{{0, "vc", 0, 0}, {1, "nv", 0, 0}, {2, "vc", 0, 0}, {3, "nv", 0, 0}, {4, "req", 5, 1}, {350, "exec", 5, 1}}, false},
		{"an execution in a view resets the doubling", []step{{0, "vc", 0, 0}, {1, "nv", 0, 0}, {2, "req", 6, 1}, {3, "exec", 6, 1}, {4, "vc", 0, 0}, {5, "nv", 0, 0}, {6, "req", 5, 1}, {250, "exec", 5, 1}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{N: 4, F: 1, Deliveries: true, ViewChangeTimeout: T})
			view := uint64(0)
			for _, s := range tc.steps {
				rec := &sim.Record{Time: ms(s.at), From: 3, To: 3}
				switch s.kind {
				case "req":
					rec.Kind, rec.From, rec.Msg = sim.RecDeliver, s.cl, &pbft.Request{Client: s.cl, Timestamp: s.ts}
				case "exec":
					rec.Kind, rec.Event = sim.RecEvent, &pbft.Executed{Replica: 3, View: view, Client: s.cl, Timestamp: s.ts, Op: "x"}
				case "vc":
					rec.Kind, rec.Event = sim.RecEvent, &pbft.ViewChangeStarted{Replica: 3, From: view, To: view + 1}
					view++
				case "nv":
					rec.Kind, rec.Event = sim.RecEvent, &pbft.NewViewEntered{Replica: 3, View: view, Primary: sim.NodeID(view % 4), OMatches: true}
				}
				c.Record(rec)
			}
			c.Finish(ms(tc.steps[len(tc.steps)-1].at))
			failed := false
			for _, v := range c.Violations() {
				if v.Property == Timeliness {
					failed = true
					t.Log(v)
				}
			}
			if failed != tc.fail {
				t.Fatalf("timeliness violated: %v, want %v (%v)", failed, tc.fail, c.Violations())
			}
		})
	}
}

// enteredStraightYAML are swarm cases of the correct protocol (check
// --seed 11..14, shrunk) where a first version of the rule alarmed: a
// replica (in one, the primary of the view before) entered a view straight
// from the view before, on a NEW-VIEW, without a view change of its own, and
// kept running the earlier view's request timer, set with that view's
// longer timeout (the timeout had gone back to its base only after).
var enteredStraightYAML = []string{
	`name: swarm
seed: 11000977
"n": 4
protocol:
  batch: 1
  checkpoint_interval: 1
  window: 2
  view_change_timeout: 10ms
  client_timeout: 20ms
workload:
  clients: 3
  requests: 33
  drawn_for: 396
  issued: [7, 13, 13]
  interval: 7ms
network:
  delay: uniform:1ms:20ms
  bandwidth: 1Gbit
run:
  max_time: 3.101551233s
  max_events: 120000
`,
	`name: swarm
seed: 12002301
"n": 4
protocol:
  batch: 1
  checkpoint_interval: 4
  window: 4
  view_change_timeout: 10ms
  client_timeout: 20ms
workload:
  clients: 2
  requests: 4
  interval: 100ms
network:
  delay: uniform:1ms:20ms
run:
  max_time: 2s
`,
	`name: swarm
seed: 13000619
"n": 4
protocol:
  batch: 2
  checkpoint_interval: 1
  window: 1
  view_change_timeout: 120ms
  client_timeout: 2.39s
workload:
  clients: 4
  requests: 39
  drawn_for: 200
  interval: 6ms
network:
  delay: uniform:1ms:5ms
  bandwidth: 1Gbit
  regions:
    replicas: [westus2, centralindia]
    jitter: 5ms
crashes:
  - {node: 0, at: 63.5ms, recover: 493.5ms}
  - {node: 0, at: 630.5ms, recover: 635.187411ms, kind: wipe}
run:
  max_time: 2m0s
  max_events: 120000
`,
	`name: swarm
seed: 14002220
"n": 4
protocol:
  batch: 1
  checkpoint_interval: 2
  window: 4
  view_change_timeout: 15ms
  client_timeout: 150ms
workload:
  clients: 2
  requests: 5
network:
  delay: lognormal:20ms:1:1ms
  bandwidth: 10Mbit
run:
  max_time: 44.732669584s
  max_events: 120000
`,
}

// TestTimelinessCorrectProtocolEnteredStraight: the correct protocol
// passes the request-timer rule on those cases (they fail if T_v does not
// carry the earlier view's timeout).
func TestTimelinessCorrectProtocolEnteredStraight(t *testing.T) {
	for i, y := range enteredStraightYAML {
		o := correctPasses(t, fmt.Sprintf("straight-%d.yaml", i), y)
		if j := judgementOf(o, Timeliness); j == nil || !j.Judged || strings.HasPrefix(j.Reason, "vacuous") {
			t.Errorf("case %d: timeliness not judged: %+v", i, j)
		}
	}
}

// correctPasses runs the scenario in y (named file) with the correct
// protocol, liveness judged, and fails the test when a property is
// violated; it returns the outcome.
func correctPasses(t *testing.T, file, y string) *Outcome {
	t.Helper()
	o := runYAML(t, file, y, "", RunOptions{Liveness: true, StopOnViolation: true})
	if o.Failed() {
		t.Errorf("%s (seed %d), correct protocol: %s", file, o.Scenario.Seed, o.Summary())
	}
	return o
}

// transferredYAML is a swarm case of the correct protocol (check --seed 12,
// shrunk) where a second version of the rule alarmed: a replica that had
// installed a state transfer no longer noted the requests it received of
// the clients whose requests the snapshot might hold, so one it did wait
// for (and executed later, restarting its timer) did not count as earlier.
const transferredYAML = `name: swarm
seed: 12004354
"n": 4
protocol:
  batch: 1
  checkpoint_interval: 4
  window: 4
  view_change_timeout: 30ms
  client_timeout: 6s
workload:
  clients: 4
  requests: 79
  drawn_for: 200
  interval: 60ms
network:
  delay: lognormal:20ms:1:1ms
  bandwidth: 10Mbit
  ingress_bandwidth: 100Mbit
crashes:
  - {node: 1, at: 7ms, recover: 1.088s}
  - {node: 1, at: 1.564s, recover: 1.604802682s, kind: lose-unsynced}
run:
  max_time: 1m0s
  max_events: 120000
`

// TestTimelinessCorrectProtocolAfterStateTransfer: the correct protocol
// passes on it.
func TestTimelinessCorrectProtocolAfterStateTransfer(t *testing.T) {
	correctPasses(t, "transferred.yaml", transferredYAML)
}

// clientOrderYAML is a small case of requests-by-client-id (the generic
// hunt's finding of seed 2, shrunk): three clients with one request each;
// a new primary orders a smaller client id first although the other
// request reached it first.
const clientOrderYAML = `name: swarm
seed: 2000014
"n": 4
protocol:
  batch: 1
  checkpoint_interval: 1
  window: 1
  view_change_timeout: 71ms
  client_timeout: 142ms
workload:
  clients: 3
  requests: 3
  drawn_for: 50
network:
  delay: const:1ms
  gst: 400ms
  delta: 30ms
  regions:
    replicas: [australiaeast, westeurope]
clocks:
  - node: 0
    drift_ppm: 9936.354
    offset: -11.875095482s
    jumps:
      - {at: 78.484205ms, by: -4.98s}
      - {at: 126.668038ms, by: 1.596s}
  - {node: 1, drift_ppm: -7972.05, offset: -52.681965063s}
  - node: 2
    drift_ppm: -4286.183
    offset: -10.312680102s
    jumps:
      - {at: 73.368516ms, by: 1.454s}
      - {at: 92.482968ms, by: -4.117s}
  - node: 3
    drift_ppm: 2297.279
    offset: -4.786287226s
    jumps:
      - {at: 38.244516ms, by: -2.868s}
  - node: 4
    drift_ppm: 3588.2
    offset: 11.226124905s
    jumps:
      - {at: 16.091121ms, by: 1.23s}
      - {at: 131.772445ms, by: 3.749s}
      - {at: 150.566807ms, by: 4.982s}
  - {node: 5, drift_ppm: -4697.375, offset: -58.59499544s}
  - node: 6
    drift_ppm: -5614.814
    offset: 24.003910755s
    jumps:
      - {at: 38.839883ms, by: 1.101s}
      - {at: 74.856162ms, by: 4.727s}
run:
  max_time: 2.4s
  max_events: 120000
`

// TestArrivalOrderCatchesClientIDOrder: the arrival-order rule fails
// requests-by-client-id with three requests, where the liveness bound does
// not, and the correct protocol passes the same scenario.
func TestArrivalOrderCatchesClientIDOrder(t *testing.T) {
	for _, variant := range []string{"", "requests-by-client-id"} {
		o := runYAML(t, "order.yaml", clientOrderYAML, variant, RunOptions{Liveness: true})
		var props []string
		for _, v := range o.Violations {
			props = append(props, v.Property)
		}
		if variant == "" {
			if o.Failed() {
				t.Fatalf("correct protocol: %s", o.Summary())
			}
			if j := judgementOf(o, ArrivalOrder); j == nil || !j.Judged || strings.HasPrefix(j.Reason, "vacuous") {
				t.Fatalf("arrival-order not judged: %+v", j)
			}
			continue
		}
		if !slices.Contains(props, ArrivalOrder) || slices.Contains(props, Liveness) {
			t.Fatalf("%s: want arrival-order and not liveness violated: %s", variant, o.Summary())
		}
	}
}

// TestArrivalOrderRecords feeds hand-made records of a primary (replica 0
// of 4 in view 0) and checks when ordering a request before another is a
// violation: only when the other reached the primary first from its own
// client and is neither executed nor ordered in the view.
func TestArrivalOrderRecords(t *testing.T) {
	req := func(cl sim.NodeID, ts uint64) *pbft.Request { return &pbft.Request{Client: cl, Timestamp: ts, Op: "x"} }
	pp := func(seq uint64, qs ...*pbft.Request) *pbft.PrePrepare {
		return &pbft.PrePrepare{View: 0, Seq: seq, Batch: qs, Replica: 0}
	}
	a, b := req(5, 1), req(6, 1)
	type rec struct {
		kind string // "client": the request's client delivers it; "relay": replica 2 relays it; "pp": the primary sends it
		m    sim.Message
	}
	for _, tc := range []struct {
		name string
		recs []rec
		fail bool
	}{
		{"in arrival order", []rec{{"client", a}, {"client", b}, {"pp", pp(1, a)}, {"pp", pp(2, b)}}, false},
		{"a later request first", []rec{{"client", a}, {"client", b}, {"pp", pp(1, b)}}, true},
		{"in one batch", []rec{{"client", a}, {"client", b}, {"pp", pp(1, b, a)}}, false},
		{"the earlier one ordered before", []rec{{"client", a}, {"client", b}, {"pp", pp(1, a)}, {"pp", pp(2, b)}, {"pp", pp(1, a)}}, false},
		{"only relayed first: not surely pending", []rec{{"relay", a}, {"client", b}, {"pp", pp(1, b)}}, false},
		{"reached it after the later one's first copy", []rec{{"relay", b}, {"client", a}, {"pp", pp(1, b)}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{N: 4, F: 1, Deliveries: true, ViewChangeTimeout: 100 * time.Millisecond})
			for i, r := range tc.recs {
				x := &sim.Record{Time: sim.Time(i+1) * sim.Time(time.Millisecond), Msg: r.m}
				switch r.kind {
				case "client":
					x.Kind, x.From, x.To = sim.RecDeliver, r.m.(*pbft.Request).Client, 0
				case "relay":
					x.Kind, x.From, x.To = sim.RecDeliver, 2, 0
				case "pp":
					x.Kind, x.From, x.To = sim.RecSend, 0, 1
				}
				c.Record(x)
			}
			c.Finish(sim.Time(time.Second))
			failed := false
			for _, v := range c.Violations() {
				failed = failed || v.Property == ArrivalOrder
			}
			if failed != tc.fail {
				t.Fatalf("arrival-order violated: %v, want %v (%v)", failed, tc.fail, c.Violations())
			}
		})
	}
}

// transferThenProposeYAML is a swarm case of the correct protocol (check
// --seed 22, shrunk) where a first version of the arrival-order rule
// alarmed: a primary installed a state transfer that executed a request it
// held and, in the same step, ordered a later one; the step's sends are
// recorded before its events, so the rule judges a PRE-PREPARE once the
// records of its step are in.
const transferThenProposeYAML = `name: swarm
seed: 22001901
"n": 4
protocol:
  batch: 1
  checkpoint_interval: 1
  window: 4
  view_change_timeout: 16ms
  client_timeout: 8ms
workload:
  clients: 4
  requests: 36
  drawn_for: 800
  interval: 8ms
network:
  delay: exp:3ms:1ms
  drop: 0.3
  gst: 2s
  delta: 5ms
  bandwidth: 1Gbit
byzantine:
  - {replica: 3, strategy: forge-state, params: {mode: snapshot}}
adversary:
  - {types: [PRE-PREPARE], from: [0], view: 0, delay: 8ms}
run:
  max_time: 4s
  max_events: 120000
`

func TestArrivalOrderCorrectProtocolTransferThenPropose(t *testing.T) {
	correctPasses(t, "tp.yaml", transferThenProposeYAML)
}

// TestViewChangeCause: the view-change-cause rule fails join-on-f-
// viewchanges as soon as a lone VIEW-CHANGE moves a correct replica, and
// the correct protocol passes both with that lone VIEW-CHANGE (nothing
// moves: vacuous) and, judged, with the view-0 primary crashed (every
// correct replica leaves view 0 by its timer or f+1 VIEW-CHANGEs).
func TestViewChangeCause(t *testing.T) {
	crashed := `
name: crashed-primary
n: 4
workload: {clients: 1, requests: 3}
network: {delay: "uniform:1ms:5ms"}
crashes:
  - {node: 0, at: 1ms}
run: {max_time: 20s}
`
	cases := []struct {
		name, yaml, variant string
		violated, vacuous   bool
	}{
		{"lone early VIEW-CHANGE, correct", earlyVCYAML, "", false, true},
		{"lone early VIEW-CHANGE, variant", earlyVCYAML, "join-on-f-viewchanges", true, false},
		{"crashed primary, correct", crashed, "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := runYAML(t, "cause.yaml", c.yaml, c.variant, RunOptions{Liveness: true})
			violated := false
			for _, v := range o.Violations {
				violated = violated || v.Property == ViewChangeCause
			}
			if violated != c.violated {
				t.Fatalf("view-change-cause violated = %v, want %v: %s", violated, c.violated, o.Summary())
			}
			if !c.violated && o.Failed() {
				t.Fatalf("correct protocol: %s", o.Summary())
			}
			j := judgementOf(o, ViewChangeCause)
			if j == nil || !j.Judged || strings.HasPrefix(j.Reason, "vacuous") != c.vacuous {
				t.Fatalf("judgement %+v, want vacuous %v", j, c.vacuous)
			}
		})
	}
}

// TestNewViewWait: the newview-wait rule fails newview-timer-no-growth on
// its targeted scenario (a view change slower than the base timeout: the
// NEW-VIEW timers run out view after view, each after the same timeout),
// the correct protocol passes it judged (its timers run out too, each
// after twice the last), also when a clock jumps forward while its NEW-VIEW
// timer runs (the jump fires it early: the minimum wait is lowered by it).
func TestNewViewWait(t *testing.T) {
	slow := targetYAML[pbft.VariantNVTimerNoGrowth][0]
	jump := strings.Replace(slow, "run: {max_time: 2s}", "clocks:\n  - {node: 1, jumps: [{at: 9ms, by: 1ms}]}\nrun: {max_time: 2s}", 1)
	if jump == slow {
		t.Fatal("the targeted scenario changed: no run line to put a clock before")
	}
	// A jump longer than every wait leaves nothing to judge.
	far := strings.Replace(jump, "by: 1ms", "by: 500ms", 1)
	cases := []struct {
		name, yaml, variant string
		violated, vacuous   bool
	}{
		{"correct", slow, "", false, false},
		{"variant", slow, string(pbft.VariantNVTimerNoGrowth), true, false},
		{"correct, clock jumps forward", jump, "", false, false},
		{"correct, clock jumps past every wait", far, "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := runYAML(t, "wait.yaml", c.yaml, c.variant, RunOptions{})
			violated := false
			for _, v := range o.Violations {
				violated = violated || v.Property == NewViewWait
			}
			if violated != c.violated {
				t.Fatalf("newview-wait violated = %v, want %v: %s", violated, c.violated, o.Summary())
			}
			j := judgementOf(o, NewViewWait)
			if j == nil || !j.Judged || strings.HasPrefix(j.Reason, "vacuous") != c.vacuous {
				t.Fatalf("judgement %+v, want judged, vacuous %v", j, c.vacuous)
			}
		})
	}
}
