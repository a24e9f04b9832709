package explore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// pingsModel is a pinger pinging two pongers rounds times (its round timer
// re-arms), some of them crashable.
func pingsModel(rounds int, crashable ...sim.NodeID) *Model {
	done := 2 * rounds // every pong
	return &Model{
		New: func() ([]sim.Node, error) {
			return []sim.Node{echo.NewPinger(0, []sim.NodeID{1, 2}, time.Millisecond, rounds), echo.NewPonger(1), echo.NewPonger(2)}, nil
		},
		Crashable: crashable,
		Done:      func(w *World) bool { return w.Nodes[0].(*echo.Pinger).Received() >= done },
	}
}

// pdfsCounters are the counters of a one-pass depth-first search that do
// not depend on the order of the visits.
func pdfsCounters(r *Result) string {
	return fmt.Sprintf("complete %v, found %q, %d states, %d transitions, %d revisits, %d pruned, %d depth-limited, %d liveness, %d inert",
		r.Complete, r.Property, r.States, r.Transitions, r.Revisits, r.Pruned, r.DepthLimit, r.Liveness, r.Inert)
}

// leafSet records the hashes of the states Leaf sees, sorted.
func leafSet(o *Options) *[]uint64 {
	var l []uint64
	o.Leaf = func(w *World) { l = append(l, w.Hash()) }
	return &l
}

// TestPDFSSameAsOneWorker: the one-pass depth-first search (a bound on
// timer expirations, no depth bound) on 2 and 3 workers reaches the states
// of the one-worker search: the same order-independent counters and the
// same set of leaves, on echo spaces with drops, duplicates, crashes,
// several timer bounds and the liveness check.
func TestPDFSSameAsOneWorker(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    func() *Model
		o    Options
		min  int
	}{
		{"drops+dups", func() *Model { return pingsModel(2) }, Options{Bounds: Bounds{Drops: 1, Duplicates: 1, TimerLimit: true, Timers: 2}}, 500},
		{"crash+timers", func() *Model { return pingsModel(3, 1) }, Options{Bounds: Bounds{Crashes: 1, Drops: 1, TimerLimit: true, Timers: 1}}, 100},
		{"drops=2", func() *Model { return pingsModel(3) }, Options{Bounds: Bounds{Drops: 2, TimerLimit: true, Timers: 2}}, 500},
		{"liveness", func() *Model { return pingsModel(2) }, Options{Bounds: Bounds{Duplicates: 1, TimerLimit: true, Timers: 1}, LivenessSteps: 30}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.DFS = true
			ol := leafSet(&o)
			one, err := Run(tc.m(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !one.Complete || one.Found() || one.States < tc.min {
				t.Fatalf("one worker: %s; want complete, no violation, at least %d states", pdfsCounters(one), tc.min)
			}
			slices.Sort(*ol)
			for _, workers := range []int{2, 3} {
				for rep := 0; rep < 2; rep++ {
					o := tc.o
					o.DFS, o.Workers = true, workers
					pl := leafSet(&o)
					par, err := Run(tc.m(), o)
					if err != nil {
						t.Fatal(err)
					}
					if a, b := pdfsCounters(one), pdfsCounters(par); a != b {
						t.Errorf("%d workers: %s\none worker: %s", workers, b, a)
					}
					slices.Sort(*pl)
					if !slices.Equal(*ol, *pl) {
						t.Errorf("%d workers: %d leaves, one worker %d (or other ones)", workers, len(*pl), len(*ol))
					}
				}
			}
		})
	}
}

// TestPDFSBrokenVariantsDiffer: the comparison of TestPDFSSameAsOneWorker
// fails on a parallel search that loses the subtrees its workers steal.
func TestPDFSBrokenVariantsDiffer(t *testing.T) {
	o := Options{DFS: true, Bounds: Bounds{Drops: 2, TimerLimit: true, Timers: 2}}
	one, err := Run(pingsModel(3), o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { pdfsLoseSteals = false }()
	pdfsLoseSteals = true
	o.Workers = 2
	before := pdfsStealsCount.Load()
	par, err := Run(pingsModel(3), o)
	if err != nil {
		t.Fatal(err)
	}
	if pdfsStealsCount.Load() == before {
		t.Fatal("no worker stole: the broken variant was not exercised")
	}
	if pdfsCounters(one) == pdfsCounters(par) {
		t.Fatalf("losing the stolen subtrees gives the one-worker counters: %s", pdfsCounters(par))
	}
	t.Logf("lost steals: %s\none worker:  %s", pdfsCounters(par), pdfsCounters(one))
}

// TestPDFSViolationSameAsOneWorker: when the parallel search finds a
// violation, the result (counters, property, path) is the one-worker
// search's, whichever worker met a violation first.
func TestPDFSViolationSameAsOneWorker(t *testing.T) {
	newCheck := pongCheck("five-pongs", 5)
	o := Options{DFS: true, Bounds: Bounds{Drops: 1, Duplicates: 1, TimerLimit: true, Timers: 2}, Records: true, Check: newCheck(), NewCheck: newCheck}
	one, err := Run(pingsModel(3), o)
	if err != nil {
		t.Fatal(err)
	}
	if !one.Found() {
		t.Fatalf("one worker: %s", pdfsCounters(one))
	}
	for _, workers := range []int{2, 3} {
		o := o
		o.Workers, o.Check = workers, newCheck()
		before := pdfsReruns.Load()
		par, err := Run(pingsModel(3), o)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameResult(one, par); d != "" {
			t.Errorf("%d workers: the result differs:%s", workers, d)
		}
		if pdfsReruns.Load() == before {
			t.Errorf("%d workers: the parallel search's violation was not repeated on one worker", workers)
		}
	}
}
