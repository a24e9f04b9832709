package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// recorder is a node that keeps what it receives and when.
type recorder struct {
	got []string
	at  []sim.Time
	rec int // recoveries
}

func (r *recorder) Start(sim.Time, *sim.Output) {}
func (r *recorder) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputMessage:
		r.got = append(r.got, in.Msg.(*note).label)
		r.at = append(r.at, now)
	case sim.InputRecover:
		r.rec++
	}
}

func TestDriveInjectGoesThroughTheNetwork(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	c := &collect{}
	k, err := sim.New(sim.Config{Nodes: []sim.Node{a, b}, Sinks: []sim.Sink{c},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: 5 * time.Millisecond}},
			Filters: []sim.Filter{dropLabel("lost")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"x", "lost", "y"} {
		if err := k.Inject(0, 1, &note{l}); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.Inject(1, 1, &note{"self"}); err != nil {
		t.Fatal(err)
	}
	k.Run()
	if got := strings.Join(b.got, ","); got != "self,x,y" {
		t.Fatalf("node 1 got %s, want self,x,y (the filter drops \"lost\", a self-send is local)", got)
	}
	if b.at[1] != sim.Time(5*time.Millisecond) {
		t.Fatalf("injected message arrived at %v, want the link's 5ms", b.at[1])
	}
	if n := c.count(sim.RecSend, sim.DropNone); n != 3 {
		t.Fatalf("%d send records, want 3 (injected messages are traced as sends)", n)
	}
	if n := c.count(sim.RecDrop, sim.DropFilter); n != 1 {
		t.Fatalf("%d filter drops, want 1", n)
	}
}

func TestDriveCrashRecoverAdvance(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	k, err := sim.New(sim.Config{Nodes: []sim.Node{a, b},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: time.Millisecond}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Crash(1); err != nil {
		t.Fatal(err)
	}
	if !k.AdvanceTo(sim.Time(10 * time.Millisecond)) {
		t.Fatal("AdvanceTo stopped early")
	}
	if k.Now() != sim.Time(10*time.Millisecond) || !k.Down(1) {
		t.Fatalf("now %v down %v, want 10ms and node 1 down", k.Now(), k.Down(1))
	}
	_ = k.Inject(0, 1, &note{"while-down"})
	k.AdvanceTo(sim.Time(20 * time.Millisecond))
	_ = k.Recover(1)
	_ = k.Inject(0, 1, &note{"after"})
	k.Run()
	if got := strings.Join(b.got, ","); got != "after" || b.rec != 1 {
		t.Fatalf("node 1 got %q with %d recoveries, want \"after\" and 1", got, b.rec)
	}
	if b.at[0] != sim.Time(21*time.Millisecond) {
		t.Fatalf("delivered at %v, want 21ms (injected at the advanced time)", b.at[0])
	}
}

func TestDriveRejectsBadNodes(t *testing.T) {
	k, err := sim.New(sim.Config{Nodes: []sim.Node{&recorder{}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"inject to":   k.Inject(0, 3, &note{"x"}),
		"inject from": k.Inject(-1, 0, &note{"x"}),
		"inject nil":  k.Inject(0, 0, nil),
		"crash":       k.Crash(2),
		"recover":     k.Recover(-4),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// dropLabel is a filter dropping notes with one label.
type dropLabel string

func (d dropLabel) Filter(_ sim.Time, _, _ sim.NodeID, m sim.Message) sim.Verdict {
	n, ok := m.(*note)
	return sim.Verdict{Drop: ok && n.label == string(d)}
}
