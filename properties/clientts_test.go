package properties

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// TestClientTS checks clientTS against a map on random ids, dense and not
// (negative, past maxDenseClient), and after a reset.
func TestClientTS(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ids := []int64{0, 1, 5, 6, 7, maxDenseClient - 1, maxDenseClient, 1 << 40, -1, -1 << 40}
	var m clientTS
	for round := range 3 {
		want := map[int64]uint64{}
		for range 500 {
			id := ids[r.IntN(len(ids))]
			ts := r.Uint64N(20)
			switch r.IntN(3) {
			case 0:
				m.put(id, ts)
				want[id] = ts
			case 1:
				m.raise(id, ts)
				if old, ok := want[id]; !ok || old < ts {
					want[id] = ts
				}
			}
			got, ok := m.get(id)
			w, wok := want[id]
			if got != w || ok != wok {
				t.Fatalf("round %d: get(%d) = %d, %v; want %d, %v", round, id, got, ok, w, wok)
			}
		}
		if m.len() != len(want) {
			t.Fatalf("round %d: len %d, want %d", round, m.len(), len(want))
		}
		seen := map[int64]uint64{}
		m.each(func(id int64, ts uint64) { seen[id] = ts })
		if !maps.Equal(seen, want) {
			t.Fatalf("round %d: each gives %v, want %v", round, seen, want)
		}
		m.reset()
		if m.len() != 0 {
			t.Fatalf("reset leaves %d ids", m.len())
		}
		for _, id := range ids {
			if _, ok := m.get(id); ok {
				t.Fatalf("reset leaves id %d", id)
			}
		}
	}
}
