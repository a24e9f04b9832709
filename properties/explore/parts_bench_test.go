package explore

import (
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// BenchmarkParts measures the pieces of one explored transition on a world
// a few deliveries deep: copying a replica, hashing it, a whole Apply, and
// judging a new state (the checkers over the path's trace).
func BenchmarkParts(b *testing.B) {
	c := Config{Nodes: 4, Requests: 1, Views: 0}
	m, cfg, err := c.model()
	if err != nil {
		b.Fatal(err)
	}
	e := engine.NewEngine(m)
	e.KeepRecords(true)
	w, recs, _ := e.Initial()
	for range 8 {
		w, _ = e.Apply(w, engine.Choice{Kind: engine.Deliver, Msg: 0})
		recs = append(recs, e.Records()...)
	}
	cp := e.Copier()
	b.Run("clone-replica", func(b *testing.B) {
		for b.Loop() {
			cp.Clone(w.Nodes[1])
		}
	})
	b.Run("hash-replica", func(b *testing.B) {
		for b.Loop() {
			cp.Hash(w.Nodes[1])
		}
	})
	b.Run("apply", func(b *testing.B) {
		for b.Loop() {
			e.Apply(w, engine.Choice{Kind: engine.Deliver, Msg: 0})
		}
	})
	b.Run("world-hash", func(b *testing.B) {
		for b.Loop() {
			w.Hash()
		}
	})
	opts := properties.CheckerOptions(cfg)
	chk := properties.New(opts)
	b.Run("check-path", func(b *testing.B) {
		for b.Loop() {
			chk.Reset(opts)
			for i := range recs {
				chk.Record(&recs[i])
			}
			chk.Finish(recs[len(recs)-1].Time)
		}
	})
	b.Logf("%d records on the path", len(recs))
}
