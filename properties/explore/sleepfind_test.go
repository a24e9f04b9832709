package explore

import (
	"os"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

func stateSet(t *testing.T, c Config, sleep bool) (map[uint64]bool, *engine.Result) {
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	res, err := engine.Run(m, engine.Options{Bounds: engine.Bounds{Drops: c.Drops, Crashes: c.Crashes, Depth: c.Depth},
		Sleep: sleep, Check: func(w *engine.World, _ []engine.Record) (string, string) {
			seen[w.Hash()] = true
			return "", ""
		}})
	if err != nil || !res.Complete {
		t.Fatalf("%+v: %v", c, err)
	}
	return seen, res
}

func TestSleepFind(t *testing.T) {
	if os.Getenv("SLEEPFIND") == "" {
		t.Skip()
	}
	byz := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 8, Byzantine: byz},
	} {
		a, ra := stateSet(t, c, false)
		b, rb := stateSet(t, c, true)
		var miss []uint64
		for h := range a {
			if !b[h] {
				miss = append(miss, h)
			}
		}
		t.Logf("drops %d depth %d: plain %d states %d tr; sleep %d states %d tr; missing %d", c.Drops, c.Depth, ra.States, ra.Transitions, rb.States, rb.Transitions, len(miss))
		if true {
			continue
		}
		m, _, _ := c.model()
		res, _ := engine.Run(m, engine.Options{Bounds: engine.Bounds{Drops: c.Drops, Depth: c.Depth},
			Check: func(w *engine.World, _ []engine.Record) (string, string) {
				if w.Hash() == miss[0] {
					return "x", ""
				}
				return "", ""
			}})
		t.Logf("path %+v", res.Path)
		e := engine.NewEngine(m)
		w, _, _ := e.Initial()
		for _, ch := range res.Path {
			var eff engine.Effect
			t.Logf("  now %v timers %+v flight %d; choice %+v", w.Now, w.Timers, len(w.Flight), ch)
			w, eff = e.Apply(w, ch)
			t.Logf("     eff %+v", eff)
		}
		t.Logf("  now %v timers %+v", w.Now, w.Timers)
		pre := map[uint64]int{}
		w, _, _ = e.Initial()
		for i, ch := range res.Path {
			w, _ = e.Apply(w, ch)
			pre[w.Hash()] = i + 1
		}
		for _, sl := range []bool{false, true} {
			m, _, _ := c.model()
			engine.Run(m, engine.Options{Bounds: engine.Bounds{Drops: c.Drops, Depth: c.Depth}, Sleep: sl,
				Check: func(w *engine.World, _ []engine.Record) (string, string) {
					if i, ok := pre[w.Hash()]; ok {
						var sig []int64
						for _, tm := range w.Timers {
							sig = append(sig, int64(tm.At-w.Now)/997)
						}
						t.Logf("sleep=%v prefix %d: depth %d rel deadlines %v", sl, i, w.Depth, sig)
					}
					return "", ""
				}})
		}
	}
}
