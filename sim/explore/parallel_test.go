package explore

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// sameResult reports how two results differ ("" when they do not), leaving
// out the wall-clock time.
func sameResult(a, b *Result) string {
	x, y := *a, *b
	x.Elapsed, y.Elapsed = 0, 0
	x.MemoHits, y.MemoHits = 0, 0 // per engine: the workers have their own memos
	if !reflect.DeepEqual(x, y) {
		return fmt.Sprintf("\n  %+v\nvs\n  %+v", x, y)
	}
	return ""
}

// TestParallelSameAsSequential: the parallel breadth-first search gives the
// sequential one's result (every counter, the verdict, the counterexample)
// and calls Leaf on the same states, for 2 and 3 workers and rounds of 1, 3
// and 512 states, on echo spaces with drops, duplicates, crashes, timers, a
// depth bound, a state limit, a violation and a liveness check.
func TestParallelSameAsSequential(t *testing.T) {
	pings := pingsModel
	// The check fails once the pinger got pongs from two different rounds.
	newCheck := pongCheck("three-pongs", 3)
	for _, tc := range []struct {
		name  string
		m     func() *Model
		o     Options
		found bool
		min   int // states the sequential search reaches at least
	}{
		{"drops+dups", func() *Model { return pings(2) }, Options{Bounds: Bounds{Drops: 1, Duplicates: 1}}, false, 100},
		{"crash+timers", func() *Model { return pings(3, 1) }, Options{Bounds: Bounds{Crashes: 1, Drops: 1, TimerLimit: true, Timers: 1}}, false, 100},
		{"depth", func() *Model { return pings(3) }, Options{Bounds: Bounds{Drops: 1, Duplicates: 1, Depth: 5}}, false, 100},
		{"max-states", func() *Model { return pings(3) }, Options{Bounds: Bounds{Drops: 2}, MaxStates: 77}, false, 77},
		{"violation", func() *Model { return pings(3) }, Options{Bounds: Bounds{Drops: 1, Duplicates: 1}, Records: true, Check: newCheck(), NewCheck: newCheck}, true, 100},
		{"liveness", func() *Model { return pings(2) }, Options{Bounds: Bounds{Duplicates: 1}, LivenessSteps: 30}, false, 50},
		{"liveness-violation", func() *Model { return pings(2) }, Options{Bounds: Bounds{Drops: 1}, LivenessSteps: 30}, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaves := func(o *Options) *[]uint64 {
				var l []uint64
				o.Leaf = func(w *World) { l = append(l, w.Hash()) }
				return &l
			}
			o := tc.o
			seqLeaves := leaves(&o)
			seq, err := Run(tc.m(), o)
			if err != nil {
				t.Fatal(err)
			}
			if seq.Found() != tc.found || seq.States < tc.min {
				t.Fatalf("sequential: found %q in %d states; want found %v in at least %d", seq.Property, seq.States, tc.found, tc.min)
			}
			defer func(c int) { parallelChunk = c }(parallelChunk)
			for _, chunk := range []int{1, 3, 512} {
				for _, workers := range []int{2, 3} {
					parallelChunk = chunk
					o := tc.o
					o.Workers = workers
					parLeaves := leaves(&o)
					par, err := Run(tc.m(), o)
					if err != nil {
						t.Fatal(err)
					}
					if d := sameResult(seq, par); d != "" {
						t.Errorf("chunk %d, %d workers: the parallel result differs:%s", chunk, workers, d)
					}
					if !tc.found && !slices.Equal(*seqLeaves, *parLeaves) {
						t.Errorf("chunk %d, %d workers: %d leaves, sequential %d (or another order)", chunk, workers, len(*parLeaves), len(*seqLeaves))
					}
				}
			}
		})
	}
}

// TestParallelNeedsNewCheck: a parallel search with a Check but no
// NewCheck is refused (one checker cannot serve several workers).
func TestParallelNeedsNewCheck(t *testing.T) {
	_, err := Run(echoModel(), Options{Workers: 2, Check: func(*World, []Record) (string, string) { return "", "" }})
	if err == nil {
		t.Fatal("no error")
	}
}

// pongCheck returns a NewCheck whose checks report property when a path's
// records hold at least at pong events.
func pongCheck(property string, at int) func() func(*World, []Record) (string, string) {
	return func() func(*World, []Record) (string, string) {
		return func(w *World, recs []Record) (string, string) {
			n := 0
			for _, r := range recs {
				if r.Kind == sim.RecEvent && r.Event.Name() == "pong" {
					n++
				}
			}
			if n >= at {
				return property, fmt.Sprintf("%d pongs in %d records", n, len(recs))
			}
			return "", ""
		}
	}
}
