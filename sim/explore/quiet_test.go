package explore

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// TestQuietTimers: with QuietTimers a timer expires only with nothing in
// flight. One pinger pinging one ponger in two rounds, fault-free, is then
// a chain, counted by hand: {PING} -> {PONG} -> {} (round timer pending) ->
// fire -> {PING} -> {PONG} -> {}: 6 states, 5 transitions. Without it the
// timer may also expire while the PING or the PONG is in flight (more
// states). With a drop and a duplicate the quiet states are a strict
// subset of the others.
func TestQuietTimers(t *testing.T) {
	model := func() *Model {
		return &Model{New: func() ([]sim.Node, error) {
			return []sim.Node{echo.NewPinger(0, []sim.NodeID{1}, time.Millisecond, 2), echo.NewPonger(1)}, nil
		}}
	}
	set := func(b Bounds) (map[uint64]bool, *Result) {
		got := map[uint64]bool{}
		res, err := Run(model(), Options{Bounds: b, Check: func(w *World, _ []Record) (string, string) {
			got[w.Hash()] = true
			return "", ""
		}})
		if err != nil || !res.Complete {
			t.Fatalf("%+v: %v", b, err)
		}
		return got, res
	}
	_, quiet := set(Bounds{QuietTimers: true})
	if quiet.States != 6 || quiet.Transitions != 5 {
		t.Errorf("quiet, fault-free: %d states, %d transitions; counted by hand 6, 5", quiet.States, quiet.Transitions)
	}
	_, all := set(Bounds{})
	if all.States <= quiet.States {
		t.Errorf("fault-free: %d states without quiet timers, %d with: the timer never raced a message", all.States, quiet.States)
	}
	b := Bounds{Drops: 1, Duplicates: 1}
	qs, _ := set(Bounds{Drops: 1, Duplicates: 1, QuietTimers: true})
	as, _ := set(b)
	for h := range qs {
		if !as[h] {
			t.Fatal("a quiet state is not reached without quiet timers")
		}
	}
	if len(qs) >= len(as) {
		t.Errorf("drop+duplicate: %d quiet states, %d without: want fewer", len(qs), len(as))
	}
}
