package explore

import (
	"fmt"
	"runtime"
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

// TestWorkerWorldsReused: the worlds of the parallel depth-first search's
// workers are reused as the one-worker search's are, and a steal hands a
// copy of the victim's world to the thief (World.copy), which the thief
// releases to its own engine. Along random walks (drops, duplicates,
// crashes, timers; with and without symmetry), every Apply of a victim
// engine over released worlds and of a thief engine from a copy, reusing
// released copies, equals a fresh engine's Apply from the original, and
// the original is unchanged after the thief reused its copy's memory
// (a copy sharing the flight, the timers or the renamed hashes fails).
func TestWorkerWorldsReused(t *testing.T) {
	for _, sym := range []bool{false, true} {
		m := echo2Model(2, 3)
		if sym {
			m.Symmetry = &Symmetry{Perms: [][]sim.NodeID{{1, 0, 2, 3}}}
		}
		b := Bounds{Drops: 2, Duplicates: 1, Crashes: 1}
		fresh, victim, thief := NewEngine(m), NewEngine(m), NewEngine(m)
		for _, e := range []*Engine{fresh, victim, thief} {
			e.KeepRecords(true)
		}
		thief.cp = fresh.cp.Worker()
		w0, _, err := fresh.Initial()
		if err != nil {
			t.Fatal(err)
		}
		if sym && w0.sg == nil {
			t.Fatal("the symmetric model has no group: the test shows nothing about it")
		}
		reusedV, reusedT := 0, 0
		walks := 40
		if testing.Short() {
			walks = 16
		}
		walkChoices(fresh, w0, b, walks, func(walk, step int, w *World, cs []Choice, c Choice, next *World, want string) {
			before := describe(w, Effect{}, nil)
			got, r := applySame(t, victim, w, c, want, fmt.Sprintf("sym %v walk %d step %d (%v): victim over released worlds", sym, walk, step, c.Kind))
			if r {
				reusedV++
			}
			victim.Release(got) // a finished level

			cp := w.copy()
			got, r = applySame(t, thief, cp, c, want, fmt.Sprintf("sym %v walk %d step %d (%v): thief from a copy", sym, walk, step, c.Kind))
			if r {
				reusedT++
			}
			// The stolen level done: the thief reuses the copy (and
			// got) for other worlds, which must not touch w.
			thief.Release(cp)
			thief.Release(got)
			y, _ := thief.Apply(w, cs[len(cs)-1])
			if cw := fresh.Choices(nil, next, b); len(cw) > 0 {
				x, _ := thief.Apply(next, cw[0])
				thief.Release(x)
			}
			if after := describe(w, Effect{}, nil); after != before {
				t.Fatalf("sym %v walk %d step %d: the original changed when the thief reused its copy\n  %s\nwas\n  %s", sym, walk, step, after, before)
			}
			thief.Release(y)
		})
		if reusedV == 0 || reusedT == 0 {
			t.Fatalf("sym %v: released worlds reused %d (victim) and %d (thief) times: the test shows nothing", sym, reusedV, reusedT)
		}
	}
}

// TestFPSetBytesPerState: the fingerprint set holds 2^18 fingerprints in
// at most 22 bytes each (8-byte slots at most 3/4 and at least 3/8 full),
// with (where the system maps memory) its large tables outside the Go heap:
// the heap grows by less than 2 bytes a fingerprint, so the collector's
// growth target does not multiply the table (a Go map, or tables on the
// heap, fail this). The shared set of the parallel search likewise.
func TestFPSetBytesPerState(t *testing.T) {
	const n = 1 << 18
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	mapped := fpMapped
	for _, shared := range []bool{false, true} {
		var s fpSet
		var f shardedFP
		add := s.add
		if shared {
			add = f.add
		}
		h0 := heap()
		x := uint64(0x9e3779b97f4a7c15)
		for i := range n {
			if !add(finalize(x * uint64(i+1))) {
				t.Fatalf("shared %v: fingerprint %d taken for a known one", shared, i)
			}
		}
		grown := int64(heap()) - int64(h0)
		size := s.bytes()
		if shared {
			size = f.bytes()
		}
		for i := range n {
			if add(finalize(x * uint64(i+1))) {
				t.Fatalf("shared %v: fingerprint %d not found again", shared, i)
			}
		}
		if !shared && s.len() != n {
			t.Fatalf("len %d, want %d", s.len(), n)
		}
		t.Logf("shared %v: %d fingerprints: tables %.1f bytes each, Go heap grew by %.2f bytes each (mapped: %v)",
			shared, n, float64(size)/n, float64(grown)/n, mapped)
		if size > 22*n || size < 8*n {
			t.Errorf("shared %v: tables of %d bytes for %d fingerprints (%.1f each): want 8 to 22", shared, size, n, float64(size)/n)
		}
		if mapped && grown > 2*n {
			t.Errorf("shared %v: the Go heap grew by %d bytes for %d fingerprints: want the tables outside it", shared, grown, n)
		}
		s.free()
		f.free()
		runtime.KeepAlive(&s)
		runtime.KeepAlive(&f)
	}
}
