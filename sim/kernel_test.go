package sim_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// faultyRun is a run exercising every fault at once.
func faultyRun(t testing.TB, seed uint64) *sim.Stats {
	t.Helper()
	cfg := sim.Config{
		Seed:  seed,
		Nodes: pingPong(3, 5*time.Millisecond, 200),
		Network: sim.NetworkConfig{
			Default: sim.LinkConfig{Delay: mustDelay(t, "exp:5ms:1ms"), Drop: 0.1, Duplicate: 0.05},
			Links: map[sim.Link]sim.LinkConfig{
				{From: 0, To: 3}: {Delay: mustDelay(t, "lognormal:3ms:0.7")},
				{From: 3, To: 0}: {Delay: mustDelay(t, "pareto:1ms:1.5:1ms"), Drop: 0.2},
			},
			Partitions: []sim.Partition{{Groups: [][]sim.NodeID{{0, 1}}, From: sim.Time(100 * time.Millisecond), To: sim.Time(300 * time.Millisecond)}},
		},
		Crashes: []sim.Crash{{Node: 2, At: sim.Time(200 * time.Millisecond), Recover: sim.Time(400 * time.Millisecond)}},
	}
	_, st := mustRun(t, cfg)
	return st
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name string
		run  func() uint64
	}{
		{"same process twice", func() uint64 { return faultyRun(t, 42).TraceHash }},
		{"GOMAXPROCS=1", func() uint64 {
			old := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(old)
			return faultyRun(t, 42).TraceHash
		}},
		{"GOMAXPROCS=default", func() uint64 { return faultyRun(t, 42).TraceHash }},
	}
	want := faultyRun(t, 42)
	if want.Events == 0 || want.Dropped.Messages == 0 || want.Duplicated.Messages == 0 {
		t.Fatalf("scenario exercises too little: %+v", want)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run(); got != want.TraceHash {
				t.Errorf("hash %016x, want %016x", got, want.TraceHash)
			}
		})
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(0); seed < 20; seed++ {
		h := faultyRun(t, seed).TraceHash
		if prev, ok := seen[h]; ok {
			t.Fatalf("seeds %d and %d give the same hash %016x", prev, seed, h)
		}
		seen[h] = seed
	}
}

// TestHashCoversContent checks that the hash changes when only a message's
// content changes (same timing, same types).
func TestHashCoversContent(t *testing.T) {
	run := func(label string) uint64 {
		nodes := []sim.Node{
			&script{start: func(_ sim.Time, out *sim.Output) { out.Send(1, &note{label}) }},
			&script{},
		}
		_, st := mustRun(t, sim.Config{Nodes: nodes})
		return st.TraceHash
	}
	if run("a") == run("b") {
		t.Error("hash ignores message content")
	}
	if run("a") != run("a") {
		t.Error("hash not deterministic")
	}
}

// TestSimultaneousOrder checks that events at the same virtual time run in
// the order they were scheduled.
func TestSimultaneousOrder(t *testing.T) {
	var got []string
	rec := func(name string) func(sim.Time, sim.Input, *sim.Output) {
		return func(now sim.Time, in sim.Input, out *sim.Output) {
			switch in.Kind {
			case sim.InputMessage:
				got = append(got, fmt.Sprintf("%s@%v:msg(%s from %d)", name, now, in.Msg.(*note).label, in.From))
			case sim.InputTimer:
				got = append(got, fmt.Sprintf("%s@%v:timer(%d)", name, now, in.Timer))
			}
		}
	}
	nodes := []sim.Node{
		&script{start: func(_ sim.Time, out *sim.Output) {
			out.Send(2, &note{"a"})
			out.SetTimer(7, time.Millisecond)
			out.Send(0, &note{"self1"})
			out.SetTimer(3, time.Millisecond)
			out.Send(0, &note{"self2"})
		}, step: rec("n0")},
		&script{start: func(_ sim.Time, out *sim.Output) {
			out.Send(2, &note{"b"})
			out.Send(2, &note{"c"})
		}},
		&script{step: rec("n2")},
	}
	cfg := sim.Config{Nodes: nodes, Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}}}
	mustRun(t, cfg)
	want := []string{
		"n0@0s:msg(self1 from 0)",
		"n0@0s:msg(self2 from 0)",
		"n2@1ms:msg(a from 0)",
		"n0@1ms:timer(7)",
		"n0@1ms:timer(3)",
		"n2@1ms:msg(b from 1)",
		"n2@1ms:msg(c from 1)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTimers(t *testing.T) {
	ms := func(n int) sim.Time { return sim.Time(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name string
		ops  map[sim.Time][]sim.TimerOp // ops at times (0: Start; others via a helper timer 99)
		want []string
	}{
		{"fires once", map[sim.Time][]sim.TimerOp{0: {{ID: 1, After: 10 * time.Millisecond}}}, []string{"1@10ms"}},
		{"set replaces", map[sim.Time][]sim.TimerOp{
			0:     {{ID: 1, After: 10 * time.Millisecond}},
			ms(5): {{ID: 1, After: 15 * time.Millisecond}},
		}, []string{"1@20ms"}},
		{"replace earlier", map[sim.Time][]sim.TimerOp{
			0:     {{ID: 1, After: 10 * time.Millisecond}},
			ms(5): {{ID: 1, After: time.Millisecond}},
		}, []string{"1@6ms"}},
		{"cancel", map[sim.Time][]sim.TimerOp{
			0:     {{ID: 1, After: 10 * time.Millisecond}, {ID: 2, After: 10 * time.Millisecond}},
			ms(5): {{ID: 1, Cancel: true}},
		}, []string{"2@10ms"}},
		{"cancel then set", map[sim.Time][]sim.TimerOp{
			0: {{ID: 1, After: 10 * time.Millisecond}, {ID: 1, Cancel: true}, {ID: 1, After: 3 * time.Millisecond}},
		}, []string{"1@3ms"}},
		{"negative after fires now", map[sim.Time][]sim.TimerOp{0: {{ID: 4, After: -time.Second}}}, []string{"4@0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			const helper = 99
			nd := &script{
				start: func(_ sim.Time, out *sim.Output) {
					out.Timers = append(out.Timers, tc.ops[0]...)
					for at := range tc.ops {
						if at != 0 {
							out.SetTimer(helper, at.Duration())
						}
					}
				},
				step: func(now sim.Time, in sim.Input, out *sim.Output) {
					if in.Kind != sim.InputTimer {
						return
					}
					if in.Timer == helper {
						out.Timers = append(out.Timers, tc.ops[now]...)
						return
					}
					got = append(got, fmt.Sprintf("%d@%v", in.Timer, now))
				},
			}
			mustRun(t, sim.Config{Nodes: []sim.Node{nd}})
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("fired %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLocalDelivery(t *testing.T) {
	var got int
	nodes := []sim.Node{
		&script{
			start: func(_ sim.Time, out *sim.Output) {
				for range 100 {
					out.Send(0, &note{"me"})
				}
				out.Send(1, &note{"you"})
			},
			step: func(now sim.Time, in sim.Input, _ *sim.Output) {
				if in.Kind == sim.InputMessage && in.From == 0 && now == 0 {
					got++
				}
			},
		},
		&script{},
	}
	sink := &collect{}
	cfg := sim.Config{Nodes: nodes, Sinks: []sim.Sink{sink}, Network: sim.NetworkConfig{
		Default: sim.LinkConfig{Drop: 1, Delay: mustDelay(t, "const:5ms")},
	}}
	_, st := mustRun(t, cfg)
	if got != 100 {
		t.Errorf("self-deliveries at time 0: %d, want 100 (never dropped, no delay)", got)
	}
	if st.Local.Messages != 100 || st.LocalByType[typeNote].Messages != 100 || st.Local.Bytes != 200 {
		t.Errorf("Local = %+v, by type %+v; want 100 messages, 200 bytes", st.Local, st.LocalByType[typeNote])
	}
	if st.Sent.Messages != 1 || st.Dropped.Messages != 1 {
		t.Errorf("Sent %d Dropped %d, want 1 and 1 (self-sends are not network messages)", st.Sent.Messages, st.Dropped.Messages)
	}
	if n := sink.count(sim.RecLocal, 0); n != 100 {
		t.Errorf("RecLocal records: %d, want 100", n)
	}
}

func TestLimitsAndStop(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(*sim.Config)
		stop  uint64 // call Stop after this many steps (0: never)
		check func(t *testing.T, k *sim.Kernel, st *sim.Stats)
	}{
		{"runs to completion", func(*sim.Config) {}, 0, func(t *testing.T, k *sim.Kernel, st *sim.Stats) {
			if p := k.Node(0).(*echo.Pinger); p.Received() != 100 {
				t.Errorf("pongs %d, want 100", p.Received())
			}
		}},
		{"MaxEvents", func(c *sim.Config) { c.MaxEvents = 37 }, 0, func(t *testing.T, k *sim.Kernel, st *sim.Stats) {
			if st.Events != 37 {
				t.Errorf("events %d, want 37", st.Events)
			}
		}},
		{"MaxTime", func(c *sim.Config) { c.MaxTime = sim.Time(250 * time.Millisecond) }, 0, func(t *testing.T, k *sim.Kernel, st *sim.Stats) {
			if st.SimTime > sim.Time(250*time.Millisecond) || st.SimTime < sim.Time(240*time.Millisecond) {
				t.Errorf("SimTime %v, want in [240ms, 250ms]", st.SimTime)
			}
			if k.Pending() == 0 {
				t.Error("nothing pending after MaxTime stop")
			}
		}},
		{"Stop", func(*sim.Config) {}, 10, func(t *testing.T, k *sim.Kernel, st *sim.Stats) {
			if st.Events != 10 {
				t.Errorf("events %d, want 10", st.Events)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sim.Config{Nodes: pingPong(1, 10*time.Millisecond, 100), Network: sim.NetworkConfig{
				Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}}}
			tc.cfg(&cfg)
			k, err := sim.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for k.Step() {
				if tc.stop > 0 && k.Stats().Events == tc.stop {
					k.Stop()
				}
			}
			if k.Step() {
				t.Error("Step true after the run ended")
			}
			tc.check(t, k, k.Stats())
		})
	}
}

func TestProtocolErrorStops(t *testing.T) {
	nodes := []sim.Node{&script{start: func(_ sim.Time, out *sim.Output) { out.Send(5, &note{"x"}) }}}
	k, err := sim.New(sim.Config{Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	k.Run()
	if k.Err() == nil || !strings.Contains(k.Err().Error(), "unknown node 5") {
		t.Errorf("Err() = %v, want a send to unknown node 5 error", k.Err())
	}
}

func TestNodeAndDownAccessors(t *testing.T) {
	nodes := pingPong(1, time.Millisecond, 1)
	k, err := sim.New(sim.Config{Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	if k.Node(1) != nodes[1] || k.Node(2) != nil || k.Node(-1) != nil {
		t.Error("Node accessor wrong")
	}
	if k.Down(0) || k.Down(9) {
		t.Error("Down true for a live or unknown node")
	}
}
