package properties

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// undoScratch are the Checker fields that FinishUndo leaves as Finish
// left them: scratch buffers (reset by every user) and caches (their
// contents change speed only). Every other field must be restored.
var undoScratch = map[string]bool{
	"linOps": true, "linIdx": true, "linSorted": true, "linOrder": true, "seqScratch": true, "linSeg": true, "lin": true,
	"nvSenders": true, "distinct": true, "sigCache": true, "fold.req.ledgers": true, "fold.req.refRecs": true,
	"fold.req.free": true, "fold.req.ids": true, "fold.req.busyMark": true, "fold.req.busyBuilt": true,
}

// diffFields returns the paths of the fields of two checkers that differ
// (recursing into structs and pointers to structs, skipping undoScratch).
func diffFields(a, b *Checker) []string {
	var out []string
	var walk func(path string, x, y reflect.Value, depth int)
	walk = func(path string, x, y reflect.Value, depth int) {
		if undoScratch[path] {
			return
		}
		switch {
		case x.Kind() == reflect.Struct:
			for i := 0; i < x.NumField(); i++ {
				name := x.Type().Field(i).Name
				if path != "" {
					name = path + "." + name
				}
				walk(name, x.Field(i), y.Field(i), depth)
			}
			return
		case x.Kind() == reflect.Pointer && x.Type().Elem().Kind() == reflect.Struct && depth < 3:
			if x.IsNil() != y.IsNil() {
				out = append(out, path)
			} else if !x.IsNil() {
				walk(path, x.Elem(), y.Elem(), depth+1)
			}
			return
		}
		xi := reflect.NewAt(x.Type(), unsafe.Pointer(x.UnsafeAddr())).Elem().Interface()
		yi := reflect.NewAt(y.Type(), unsafe.Pointer(y.UnsafeAddr())).Elem().Interface()
		if !reflect.DeepEqual(xi, yi) {
			out = append(out, path)
		}
	}
	walk("", reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), 0)
	return out
}

// TestFinishUndoRestores feeds the records of runs (correct and broken
// protocols, crashes, view changes, a lossy network) to two checkers, one
// of which is finished and undone after every record, and compares them
// field by field every few records and at the end; their final verdicts
// must agree too. When Finish finds a violation (Undo refuses), the
// undone checker is rebuilt from the records so far, as the explorer's
// judge does. A field Finish changes and Undo does not restore fails it.
func TestFinishUndoRestores(t *testing.T) {
	type run struct {
		name    string
		variant string
	}
	var runs []run
	for _, name := range []string{"fault-free", "adversarial", "crashed-primary", "equivocating-primary", "lossy-wan", "beyond-f", "partition-heal"} {
		runs = append(runs, run{name, ""})
	}
	for _, v := range pbft.Variants() {
		runs = append(runs, run{"adversarial", string(v.Name)})
	}
	maxRecs := 3000
	if testing.Short() {
		maxRecs = 800
	}
	undone, refused, compared := 0, 0, 0
	for ri, r := range runs {
		sc, err := scenarios.Builtin(r.name)
		if err != nil {
			t.Fatal(err)
		}
		sc.Seed = 1
		sc.Protocol.Variant = r.variant
		rec := &Recorder{}
		if _, err := RunScenario(*sc, RunOptions{Liveness: true, Sinks: []sim.Sink{rec}}); err != nil {
			t.Fatal(err)
		}
		cfg, err := sc.Config()
		if err != nil {
			t.Fatal(err)
		}
		opts := CheckerOptions(cfg)
		opts.LivenessBound = DefaultLivenessBound(cfg)
		if ri%2 == 1 {
			// A bound most requests miss: Finish finds violations.
			opts.LivenessBound = time.Millisecond
		}
		recs := rec.Records[:min(len(rec.Records), maxRecs)]
		plain, peeked := New(opts), New(opts)
		var u FinishUndo
		for i := range recs {
			plain.Record(&recs[i])
			peeked.Record(&recs[i])
			u.Finish(peeked, recs[i].Time)
			if u.Undo() {
				undone++
			} else {
				refused++
				peeked = New(opts) // (a reset one has empty slices where a new one has nil)
				for k := 0; k <= i; k++ {
					peeked.Record(&recs[k])
				}
			}
			if i%97 == 0 || i == len(recs)-1 {
				compared++
				if d := diffFields(plain, peeked); len(d) > 0 {
					t.Fatalf("%s %q: after record %d, finished and undone, the checker differs from one never finished in %v", r.name, r.variant, i, d)
				}
			}
		}
		end := recs[len(recs)-1].Time
		plain.Finish(end)
		peeked.Finish(end)
		if !reflect.DeepEqual(plain.Violations(), peeked.Violations()) || !reflect.DeepEqual(plain.Accused(), peeked.Accused()) {
			t.Fatalf("%s %q: verdicts differ:\n%v\n%v", r.name, r.variant, plain.Violations(), peeked.Violations())
		}
	}
	t.Logf("%d runs, %d undone, %d refused (a violation), %d comparisons", len(runs), undone, refused, compared)
	if undone == 0 || refused == 0 {
		t.Fatalf("undone %d, refused %d: want both exercised", undone, refused)
	}
}
