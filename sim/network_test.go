package sim_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

const ms = sim.Time(time.Millisecond)

// within3Sigma checks an observed proportion k/n against probability p.
func within3Sigma(t *testing.T, what string, k, n uint64, p float64) {
	t.Helper()
	if n == 0 {
		t.Fatalf("%s: no trials", what)
	}
	rate := float64(k) / float64(n)
	sigma := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(rate-p) > 3*sigma {
		t.Errorf("%s: rate %.4f over %d, want %.4f ± %.4f (3 sigma)", what, rate, n, p, 3*sigma)
	}
}

func TestDrop(t *testing.T) {
	for _, p := range []float64{0, 0.05, 0.3, 1} {
		t.Run("", func(t *testing.T) {
			sink := &collect{}
			cfg := sim.Config{Seed: 7, Nodes: pingPong(1, time.Millisecond, 20000), Sinks: []sim.Sink{sink},
				Network: sim.NetworkConfig{Default: sim.LinkConfig{Drop: p, Delay: mustDelay(t, "const:1ms")}}}
			_, st := mustRun(t, cfg)
			if p > 0 && sink.count(sim.RecDrop, sim.DropRandom) == 0 {
				t.Fatal("no random drop happened")
			}
			if got := uint64(sink.count(sim.RecDrop, sim.DropRandom)); got != st.Dropped.Messages {
				t.Errorf("drop records %d, Dropped %d", got, st.Dropped.Messages)
			}
			if st.Sent.Messages < 20000 {
				t.Fatalf("sent %d, want >= 20000", st.Sent.Messages)
			}
			within3Sigma(t, "drop", st.Dropped.Messages, st.Sent.Messages, p)
			if st.Delivered.Messages+st.Dropped.Messages != st.Sent.Messages {
				t.Errorf("delivered %d + dropped %d != sent %d", st.Delivered.Messages, st.Dropped.Messages, st.Sent.Messages)
			}
			var byType, byLink uint64
			for _, c := range st.DroppedByType {
				byType += c.Messages
			}
			for _, c := range st.DroppedByLink {
				byLink += c.Messages
			}
			if byType != st.Dropped.Messages || byLink != st.Dropped.Messages {
				t.Errorf("dropped by type %d, by link %d, total %d", byType, byLink, st.Dropped.Messages)
			}
		})
	}
}

func TestDuplicate(t *testing.T) {
	for _, p := range []float64{0.02, 0.5} {
		t.Run("", func(t *testing.T) {
			sink := &collect{}
			cfg := sim.Config{Seed: 11, Nodes: pingPong(1, time.Millisecond, 20000), Sinks: []sim.Sink{sink},
				Network: sim.NetworkConfig{Default: sim.LinkConfig{Duplicate: p, Delay: mustDelay(t, "uniform:1ms:9ms")}}}
			k, st := mustRun(t, cfg)
			within3Sigma(t, "duplicate", st.Duplicated.Messages, st.Sent.Messages, p)
			if st.Delivered.Messages != st.Sent.Messages+st.Duplicated.Messages {
				t.Errorf("delivered %d, want sent %d + duplicated %d", st.Delivered.Messages, st.Sent.Messages, st.Duplicated.Messages)
			}
			twice, differentDelay := 0, 0
			for _, tr := range sink.transits(t) {
				if len(tr.delivered) == 2 {
					twice++
					if tr.delivered[0] != tr.delivered[1] {
						differentDelay++
					}
				}
			}
			if uint64(twice) != st.Duplicated.Messages || differentDelay == 0 {
				t.Errorf("messages delivered twice %d (with distinct delays %d), duplicated %d", twice, differentDelay, st.Duplicated.Messages)
			}
			if got := k.Node(1).(*echo.Ponger).Received(); uint64(got) != st.DeliveredByType[echo.TypePing].Messages {
				t.Errorf("ponger received %d pings, kernel delivered %d", got, st.DeliveredByType[echo.TypePing].Messages)
			}
		})
	}
}

// delays runs a ping-pong with delay d on every link and returns the
// observed network delays.
func delays(t *testing.T, d sim.Delay, rounds int) []float64 {
	t.Helper()
	sink := &collect{}
	cfg := sim.Config{Seed: 3, Nodes: pingPong(1, time.Millisecond, rounds), Sinks: []sim.Sink{sink},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: d}}}
	mustRun(t, cfg)
	var out []float64
	for _, tr := range sink.transits(t) {
		if len(tr.delivered) != 1 {
			t.Fatalf("message delivered %d times", len(tr.delivered))
		}
		out = append(out, float64(tr.delivered[0]-tr.sent))
	}
	return out
}

// ksStat returns the Kolmogorov-Smirnov distance between xs and cdf.
func ksStat(xs []float64, cdf func(float64) float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := float64(len(s))
	var d float64
	for i, x := range s {
		f := cdf(x)
		d = max(d, math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f))
	}
	return d
}

func TestDelayDistributions(t *testing.T) {
	msf := float64(time.Millisecond)
	tests := []struct {
		spec      string
		min, max  float64 // bounds of every delay (max 0: none)
		mean      float64 // expected mean (0: not checked, heavy tail)
		sd        float64 // population standard deviation for the mean check
		cdf       func(x float64) float64
		exactOnly bool
	}{
		{spec: "const:2ms", min: 2 * msf, max: 2 * msf, exactOnly: true},
		{spec: "uniform:1ms:20ms", min: msf, max: 20 * msf, mean: 10.5 * msf, sd: 19 * msf / math.Sqrt(12),
			cdf: func(x float64) float64 { return math.Min(1, math.Max(0, (x-msf)/(19*msf))) }},
		{spec: "exp:5ms", min: 0, mean: 5 * msf, sd: 5 * msf,
			cdf: distuv.Exponential{Rate: 1 / (5 * msf)}.CDF},
		{spec: "exp:5ms:1ms", min: msf, mean: 6 * msf, sd: 5 * msf,
			cdf: func(x float64) float64 { return distuv.Exponential{Rate: 1 / (5 * msf)}.CDF(x - msf) }},
		{spec: "lognormal:10ms:0.5", min: 0, mean: 10 * msf * math.Exp(0.125), sd: 10 * msf * math.Sqrt((math.Exp(0.25)-1)*math.Exp(0.25)),
			cdf: distuv.LogNormal{Mu: math.Log(10 * msf), Sigma: 0.5}.CDF},
		{spec: "lognormal:10ms:0.5:2ms", min: 2 * msf,
			cdf: func(x float64) float64 { return distuv.LogNormal{Mu: math.Log(10 * msf), Sigma: 0.5}.CDF(x - 2*msf) }},
		{spec: "pareto:2ms:1.5", min: 0,
			cdf: func(x float64) float64 { return distuv.Pareto{Xm: 2 * msf, Alpha: 1.5}.CDF(x + 2*msf) }},
		{spec: "pareto:2ms:3:1ms", min: msf, mean: msf + 2*msf*3/2 - 2*msf, sd: 2 * msf * math.Sqrt(3/(4.0*1)),
			cdf: func(x float64) float64 { return distuv.Pareto{Xm: 2 * msf, Alpha: 3}.CDF(x - msf + 2*msf) }},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			xs := delays(t, mustDelay(t, tc.spec), 10000)
			n := float64(len(xs))
			var sum float64
			for _, x := range xs {
				if x < tc.min || (tc.max > 0 && x > tc.max) {
					t.Fatalf("delay %v outside [%v, %v]", time.Duration(x), time.Duration(tc.min), time.Duration(tc.max))
				}
				sum += x
			}
			if tc.exactOnly {
				return
			}
			if tc.mean > 0 {
				se := tc.sd / math.Sqrt(n)
				if m := sum / n; math.Abs(m-tc.mean) > 4*se {
					t.Errorf("mean %v, want %v ± %v (4 standard errors)", time.Duration(m), time.Duration(tc.mean), time.Duration(4*se))
				}
			}
			// Kolmogorov-Smirnov at the 0.1% level: D < 1.95/sqrt(n).
			if d := ksStat(xs, tc.cdf); d > 1.95/math.Sqrt(n) {
				t.Errorf("KS distance %.4f over %d samples, want < %.4f", d, len(xs), 1.95/math.Sqrt(n))
			}
		})
	}
}

// TestKSDetectsWrongDistribution shows the KS check can fail: exp:5ms
// samples are not exp:6ms.
func TestKSDetectsWrongDistribution(t *testing.T) {
	xs := delays(t, mustDelay(t, "exp:5ms"), 10000)
	if d := ksStat(xs, distuv.Exponential{Rate: 1 / (6 * float64(time.Millisecond))}.CDF); d < 1.95/math.Sqrt(float64(len(xs))) {
		t.Errorf("KS distance %.4f does not reject a wrong mean", d)
	}
}

func TestLinkOverride(t *testing.T) {
	sink := &collect{}
	cfg := sim.Config{Seed: 5, Nodes: pingPong(2, time.Millisecond, 2000), Sinks: []sim.Sink{sink},
		Network: sim.NetworkConfig{
			Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")},
			Links:   map[sim.Link]sim.LinkConfig{{From: 0, To: 2}: {Drop: 0.5, Delay: mustDelay(t, "const:3ms")}},
		}}
	_, st := mustRun(t, cfg)
	for _, tr := range sink.transits(t) {
		want := 1 * ms
		if tr.from == 0 && tr.to == 2 {
			want = 3 * ms
		} else if tr.dropped != sim.DropNone {
			t.Fatalf("drop on link %d->%d without drop probability", tr.from, tr.to)
		}
		for _, at := range tr.delivered {
			if at-tr.sent != want {
				t.Fatalf("link %d->%d delay %v, want %v", tr.from, tr.to, at-tr.sent, want)
			}
		}
	}
	n := 3
	within3Sigma(t, "drop 0->2", st.DroppedByLink[0*n+2].Messages, st.SentByLink[0*n+2].Messages, 0.5)
}

func TestPartition(t *testing.T) {
	from, to := 100*ms, 2000*ms
	tests := []struct {
		name  string
		parts []sim.Partition
		cut   func(a, b sim.NodeID) bool // separated during the window
	}{
		{"two groups", []sim.Partition{{Groups: [][]sim.NodeID{{0, 1}, {2, 3}}, From: from, To: to}},
			func(a, b sim.NodeID) bool { return (a < 2) != (b < 2) }},
		{"unnamed nodes form a group", []sim.Partition{{Groups: [][]sim.NodeID{{0, 2}}, From: from, To: to}},
			func(a, b sim.NodeID) bool { return (a%2 == 0) != (b%2 == 0) }},
		{"never heals", []sim.Partition{{Groups: [][]sim.NodeID{{3}, {0, 1}}, From: from}},
			func(a, b sim.NodeID) bool { return a != b && (a == 3 || b == 3 || (a < 2) != (b < 2)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every node pings every other every 10ms for 3s.
			var nodes []sim.Node
			for i := range 4 {
				var peers []sim.NodeID
				for j := range 4 {
					if j != i {
						peers = append(peers, sim.NodeID(j))
					}
				}
				nodes = append(nodes, echo.NewPinger(sim.NodeID(i), peers, 10*time.Millisecond, 300))
			}
			sink := &collect{}
			cfg := sim.Config{Nodes: nodes, Sinks: []sim.Sink{sink}, Network: sim.NetworkConfig{
				Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}, Partitions: tc.parts}}
			_, st := mustRun(t, cfg)
			end := tc.parts[0].To
			active := func(at sim.Time) bool { return at >= from && (end == 0 || at < end) }
			var crossedAfter, within, expectDrops int
			for _, tr := range sink.transits(t) {
				cut := tc.cut(tr.from, tr.to)
				for _, at := range tr.delivered {
					if cut && active(at) {
						t.Fatalf("message %d->%d crossed the partition at %v", tr.from, tr.to, at)
					}
					if cut && end != 0 && at >= end {
						crossedAfter++
					}
					if !cut && active(at) {
						within++
					}
				}
				if cut && (active(tr.sent) || active(tr.sent+ms)) {
					expectDrops++
					if tr.dropped != sim.DropPartition {
						t.Errorf("message %d->%d sent at %v not dropped by the partition", tr.from, tr.to, tr.sent)
					}
				}
				if !cut && tr.dropped != sim.DropNone {
					t.Errorf("message %d->%d in one group dropped (%v)", tr.from, tr.to, tr.dropped)
				}
			}
			if end != 0 && crossedAfter == 0 {
				t.Error("nothing crossed after the partition healed")
			}
			if within == 0 {
				t.Error("nothing delivered within a group during the partition")
			}
			if uint64(expectDrops) != st.Dropped.Messages || expectDrops == 0 {
				t.Errorf("dropped %d, want %d (every cut message in the window)", st.Dropped.Messages, expectDrops)
			}
		})
	}
}

// dropFilter drops all PONGs and delays PINGs by 7ms.
type dropFilter struct{ calls int }

func (f *dropFilter) Filter(now sim.Time, from, to sim.NodeID, m sim.Message) sim.Verdict {
	f.calls++
	if m.Type() == echo.TypePong {
		return sim.Verdict{Drop: true}
	}
	return sim.Verdict{ExtraDelay: 7 * time.Millisecond}
}

func TestFilter(t *testing.T) {
	f := &dropFilter{}
	sink := &collect{}
	cfg := sim.Config{Nodes: pingPong(1, 10*time.Millisecond, 100), Sinks: []sim.Sink{sink}, Network: sim.NetworkConfig{
		Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}, Filters: []sim.Filter{f}}}
	_, st := mustRun(t, cfg)
	if f.calls != 200 {
		t.Errorf("filter called %d times, want 200", f.calls)
	}
	if got := st.DroppedByType[echo.TypePong].Messages; got != 100 || sink.count(sim.RecDrop, sim.DropFilter) != 100 {
		t.Errorf("pongs dropped by filter %d, want 100", got)
	}
	for _, tr := range sink.transits(t) {
		for _, at := range tr.delivered {
			if at-tr.sent != 8*ms {
				t.Fatalf("ping delay %v, want 8ms (1ms + 7ms extra)", at-tr.sent)
			}
		}
	}
}

func TestGST(t *testing.T) {
	gst, delta := 1000*ms, 10*time.Millisecond
	f := &dropFilter{}
	sink := &collect{}
	cfg := sim.Config{Seed: 9, Nodes: pingPong(3, 2*time.Millisecond, 1500), Sinks: []sim.Sink{sink},
		Network: sim.NetworkConfig{
			Default:    sim.LinkConfig{Drop: 0.4, Delay: mustDelay(t, "exp:30ms")},
			GST:        gst,
			Delta:      delta,
			Faulty:     []sim.NodeID{3},
			Filters:    []sim.Filter{f},
			Partitions: []sim.Partition{{Groups: [][]sim.NodeID{{0}, {1, 2, 3}}, From: 500 * ms}},
		}}
	mustRun(t, cfg)
	var before, beforeDrop, faultyAfter, faultyAfterDrop, longBefore, afterOK uint64
	for _, tr := range sink.transits(t) {
		correct := tr.from != 3 && tr.to != 3
		switch {
		case correct && tr.sent >= gst:
			if tr.dropped != sim.DropNone {
				t.Fatalf("correct %d->%d sent at %v after GST dropped (%v)", tr.from, tr.to, tr.sent, tr.dropped)
			}
			if len(tr.delivered) != 1 || tr.delivered[0]-tr.sent > sim.Time(delta) {
				t.Fatalf("correct %d->%d sent at %v delivered at %v, want within %v", tr.from, tr.to, tr.sent, tr.delivered, delta)
			}
			afterOK++
		case correct:
			if tr.dropped == sim.DropNone {
				if tr.delivered[0] > gst+sim.Time(delta) {
					t.Fatalf("correct message sent at %v before GST delivered at %v, after GST+Delta", tr.sent, tr.delivered[0])
				}
				if tr.delivered[0]-tr.sent > sim.Time(delta) {
					longBefore++
				}
			}
			if tr.to == 1 || tr.to == 2 { // ping from 0 before the partition starts: only random drops
				if tr.sent < 500*ms {
					before++
					if tr.dropped == sim.DropRandom {
						beforeDrop++
					}
				}
			}
		case tr.sent >= gst && tr.to == 3:
			faultyAfter++
			if tr.dropped != sim.DropNone {
				faultyAfterDrop++
			}
		}
	}
	if afterOK == 0 || longBefore == 0 {
		t.Fatalf("scenario too weak: %d after GST, %d slow before GST", afterOK, longBefore)
	}
	within3Sigma(t, "drop before GST", beforeDrop, before, 0.4)
	// Faulty links after GST: the partition (0 | 3) and random loss still apply.
	if faultyAfterDrop != faultyAfter || faultyAfter == 0 {
		t.Errorf("pings to faulty node 3 after GST: %d of %d dropped, want all (partition still applies)", faultyAfterDrop, faultyAfter)
	}
}

func TestCrash(t *testing.T) {
	pinger := echo.NewPinger(0, []sim.NodeID{1}, 10*time.Millisecond, 100)
	ponger := echo.NewPonger(1)
	sink := &collect{}
	cfg := sim.Config{Nodes: []sim.Node{pinger, ponger}, Sinks: []sim.Sink{sink},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}},
		Crashes: []sim.Crash{
			{Node: 1, At: 300 * ms, Recover: 600 * ms},
			{Node: 0, At: 205 * ms, Recover: 505 * ms},
		}}
	k, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sawDown bool
	for k.Step() {
		if now := k.Now(); now >= 300*ms && now < 505*ms && k.Down(0) && k.Down(1) {
			sawDown = true
		}
	}
	st := k.Stats()
	if !sawDown {
		t.Error("Down never reported both nodes down")
	}
	if sink.count(sim.RecCrash, 0) != 2 || sink.count(sim.RecRecover, 0) != 2 {
		t.Errorf("crash/recover records %d/%d, want 2/2", sink.count(sim.RecCrash, 0), sink.count(sim.RecRecover, 0))
	}
	downs := map[sim.NodeID][2]sim.Time{0: {205 * ms, 505 * ms}, 1: {300 * ms, 600 * ms}}
	firstAfter := -1
	for _, r := range sink.recs {
		w, ok := downs[r.To]
		if (r.Kind == sim.RecDeliver || r.Kind == sim.RecTimer) && ok && r.Time >= w[0] && r.Time < w[1] {
			t.Fatalf("%v to node %d at %v while down", r.Kind, r.To, r.Time)
		}
		if r.Kind == sim.RecSend && r.From == 0 && r.Time >= 505*ms && firstAfter < 0 {
			firstAfter = r.Msg.(*echo.Ping).Round
		}
	}
	// Pinger's rounds 0..20 were sent at 0..200ms; it kept its state while down.
	if firstAfter != 21 {
		t.Errorf("first round after recovery %d, want 21 (state kept)", firstAfter)
	}
	if pinger.Recovers() != 1 || ponger.Recovers() != 1 {
		t.Errorf("InputRecover: pinger %d, ponger %d, want 1 each", pinger.Recovers(), ponger.Recovers())
	}
	if pinger.Rounds() != 100 {
		t.Errorf("pinger rounds %d, want 100", pinger.Rounds())
	}
	// Pings delivered to the ponger while down: rounds sent at 505..599ms
	// (the pinger was down 205..505ms): 9 rounds, at 515, 525, ..., 595.
	// Pongs to the pinger while down: the pong for round 20 (sent 200ms,
	// ponged at 201ms, arriving 202ms) arrives before the crash, so none.
	if got := st.Dropped.Messages; got != 9 || uint64(sink.count(sim.RecDrop, sim.DropCrashed)) != got {
		t.Errorf("dropped to crashed nodes %d, want 9", got)
	}
}

func TestCrashForever(t *testing.T) {
	pinger := echo.NewPinger(0, []sim.NodeID{1}, 10*time.Millisecond, 50)
	cfg := sim.Config{Nodes: []sim.Node{pinger, echo.NewPonger(1)},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}},
		Crashes: []sim.Crash{{Node: 1, At: 0}}}
	_, st := mustRun(t, cfg)
	if st.Delivered.Messages != 0 || st.Dropped.Messages != 50 || pinger.Received() != 0 {
		t.Errorf("delivered %d dropped %d pongs %d, want 0, 50, 0", st.Delivered.Messages, st.Dropped.Messages, pinger.Received())
	}
}

// TestStreamsIndependent checks that turning a fault on for one link, or
// turning on duplication, leaves the delays of another link unchanged.
func TestStreamsIndependent(t *testing.T) {
	run := func(links map[sim.Link]sim.LinkConfig) [][]sim.Time {
		sink := &collect{}
		cfg := sim.Config{Seed: 1, Nodes: pingPong(2, time.Millisecond, 500), Sinks: []sim.Sink{sink},
			Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "exp:3ms")}, Links: links}}
		mustRun(t, cfg)
		var out [][]sim.Time
		for _, tr := range sink.transits(t) {
			if tr.from == 0 && tr.to == 1 {
				var ds []sim.Time
				for _, at := range tr.delivered {
					ds = append(ds, at-tr.sent)
				}
				out = append(out, ds)
			}
		}
		return out
	}
	// same reports whether every message of base has its delay among got's
	// deliveries of the same message (a duplicate adds one delivery).
	same := func(got, base [][]sim.Time) bool {
		if len(got) != len(base) {
			return false
		}
		for i := range base {
			if !slices.Contains(got[i], base[i][0]) {
				return false
			}
		}
		return true
	}
	base := run(nil)
	exp := mustDelay(t, "exp:3ms")
	for name, links := range map[string]map[sim.Link]sim.LinkConfig{
		"drop on 0->2":      {{From: 0, To: 2}: {Delay: exp, Drop: 0.5}},
		"duplicate on 0->1": {{From: 0, To: 1}: {Delay: exp, Duplicate: 0.5}},
	} {
		if !same(run(links), base) {
			t.Errorf("%s changed the delays of link 0->1", name)
		}
	}
	if same(run(map[sim.Link]sim.LinkConfig{{From: 0, To: 1}: {Delay: mustDelay(t, "exp:4ms")}}), base) {
		t.Error("changing link 0->1's own delay did not change its delays")
	}
}

// kindSink collects only the records of the kinds it names.
type kindSink struct {
	collect
	kinds map[sim.RecordKind]bool
}

func (s *kindSink) Wants(k sim.RecordKind) bool { return s.kinds[k] }

// TestKindSink checks that a KindSink receives exactly the records of the
// kinds it wants, in trace order, and that filtering does not change the
// trace hash.
func TestKindSink(t *testing.T) {
	all := &collect{}
	some := &kindSink{kinds: map[sim.RecordKind]bool{sim.RecDeliver: true, sim.RecTimer: true}}
	cfg := sim.Config{Seed: 9, Nodes: pingPong(2, time.Millisecond, 50), Sinks: []sim.Sink{all, some},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "uniform:1ms:3ms"), Drop: 0.1}}}
	_, st := mustRun(t, cfg)
	var want []sim.Record
	for _, r := range all.recs {
		if some.kinds[r.Kind] {
			want = append(want, r)
		}
	}
	if len(want) == 0 || len(want) == len(all.recs) {
		t.Fatalf("test run has %d of %d records of the wanted kinds; want some but not all", len(want), len(all.recs))
	}
	if len(some.recs) != len(want) {
		t.Fatalf("KindSink got %d records, want %d", len(some.recs), len(want))
	}
	for i := range want {
		if some.recs[i] != want[i] {
			t.Fatalf("record %d: KindSink got %+v, want %+v", i, some.recs[i], want[i])
		}
	}
	cfg.Nodes = pingPong(2, time.Millisecond, 50)
	cfg.Sinks = nil
	if _, bare := mustRun(t, cfg); bare.TraceHash != st.TraceHash {
		t.Fatalf("trace hash %x without sinks, %x with them", bare.TraceHash, st.TraceHash)
	}
}

// copySkipSink collects records as a CopySink that skips copies.
type copySkipSink struct{ collect }

func (s *copySkipSink) SkipsCopies() bool { return true }

// TestCopySink checks that a CopySink that skips copies receives every
// record but the later copies of multicasts (a send whose time, sender and
// message are those of the record just before it, a send), in trace
// order, that sinks that are no CopySink still receive every record, and
// that skipping does not change the trace hash. The run has multicasts
// (copies), a node sending two different messages in one step, a message
// sent again after another one, a multicast that includes the sender
// itself (the local copy is no record at send time), random drops and
// duplicates recorded between copies, and messages sent again later.
func TestCopySink(t *testing.T) {
	const n = 4
	others := func(id sim.NodeID) []sim.NodeID {
		var to []sim.NodeID
		for i := range sim.NodeID(n) {
			if i != id {
				to = append(to, i)
			}
		}
		return to
	}
	nodes := func() []sim.Node {
		nodes := make([]sim.Node, n)
		for i := range nodes {
			id := sim.NodeID(i)
			var last sim.Message
			replies := 0
			nodes[i] = &script{
				start: func(now sim.Time, out *sim.Output) {
					if id != 0 {
						return
					}
					a, b := &note{"a"}, &note{"b"}
					for _, to := range []sim.NodeID{1, 0, 2, 3} { // 0: local
						out.Send(to, a)
					}
					out.Send(1, b)
					out.Send(2, b)
					out.Send(3, a) // a again, after b: no copy
				},
				step: func(now sim.Time, in sim.Input, out *sim.Output) {
					switch {
					case in.Kind == sim.InputTimer && last != nil:
						for _, to := range others(id) {
							out.Send(to, last) // the same message again, later
						}
					case in.Kind == sim.InputMessage && replies < 6:
						replies++
						last = &note{fmt.Sprintf("r%d.%d", id, replies)}
						for _, to := range others(id) {
							out.Send(to, last)
						}
						out.SetTimer(1, time.Millisecond)
					}
				},
			}
		}
		return nodes
	}
	all, skip := &collect{}, &copySkipSink{}
	cfg := sim.Config{Seed: 5, Nodes: nodes(), Sinks: []sim.Sink{all, skip},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "uniform:1ms:3ms"), Drop: 0.2, Duplicate: 0.2}}}
	_, st := mustRun(t, cfg)
	var want []sim.Record
	copies, resent := 0, 0
	for i, r := range all.recs {
		if i > 0 && r.Kind == sim.RecSend {
			p := all.recs[i-1]
			if p.Kind == sim.RecSend && p.From == r.From && p.Time == r.Time && p.Msg == r.Msg {
				copies++
				continue
			}
			for _, q := range all.recs[:i] {
				if q.Kind == sim.RecSend && q.From == r.From && q.Msg == r.Msg {
					resent++ // sent before, but no copy
					break
				}
			}
		}
		want = append(want, r)
	}
	if copies == 0 || resent == 0 {
		t.Fatalf("test run has %d copies and %d messages sent again that are no copies; want some of each", copies, resent)
	}
	if len(skip.recs) != len(want) {
		t.Fatalf("CopySink got %d records, want %d (%d of %d records are copies)", len(skip.recs), len(want), copies, len(all.recs))
	}
	for i := range want {
		if skip.recs[i] != want[i] {
			t.Fatalf("record %d: CopySink got %+v, want %+v", i, skip.recs[i], want[i])
		}
	}
	cfg.Nodes = nodes()
	cfg.Sinks = []sim.Sink{all}
	all.recs = nil
	if _, st2 := mustRun(t, cfg); st2.TraceHash != st.TraceHash || len(all.recs) != len(want)+copies {
		t.Fatalf("without the CopySink: trace hash %x (with it %x), %d records (with it %d)", st2.TraceHash, st.TraceHash, len(all.recs), len(want)+copies)
	}
}
