package properties

import (
	"math/rand/v2"
	"testing"
)

// TestStampIndexMatchesMap runs random puts, lookups and rebuilds (as
// foldRequests does) on a stampIndex and a map, with keys drawn from a few
// clients' nearby timestamps (the checker's keys) and from anywhere, through
// several growths, and compares every lookup and the size.
func TestStampIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	var x stampIndex
	ref := map[clientStamp]int32{}
	key := func() clientStamp {
		if rng.IntN(4) == 0 {
			return clientStamp{int64(rng.Uint64()), rng.Uint64()}
		}
		return clientStamp{int64(4 + rng.IntN(6)), uint64(rng.IntN(600))}
	}
	hits := 0
	for step := range 200_000 {
		k := key()
		switch op := rng.IntN(10); {
		case op < 4:
			v := int32(rng.IntN(1 << 20))
			x.put(k, v)
			ref[k] = v
		case op < 9:
			got, ok := x.get(k)
			want, wok := ref[k]
			if ok != wok || got != want {
				t.Fatalf("step %d: get(%v) = %d, %v; want %d, %v", step, k, got, ok, want, wok)
			}
			if ok {
				hits++
			}
		default:
			if rng.IntN(500) != 0 {
				continue
			}
			// rebuild with about half the keys, renumbered
			keep := map[clientStamp]int32{}
			for k, v := range ref {
				if v%2 == 0 {
					keep[k] = v / 2
				}
			}
			x.reset()
			for k, v := range keep {
				x.put(k, v)
			}
			ref = keep
		}
		if x.len() != len(ref) {
			t.Fatalf("step %d: %d keys, want %d", step, x.len(), len(ref))
		}
	}
	if hits < 20_000 || len(x.e) < 1024 {
		t.Fatalf("%d hits, %d places: the operations do not cover lookups and growth", hits, len(x.e))
	}
	for k, v := range ref {
		if got, ok := x.get(k); !ok || got != v {
			t.Fatalf("get(%v) = %d, %v at the end; want %d", k, got, ok, v)
		}
	}
	var empty stampIndex
	if _, ok := empty.get(clientStamp{1, 1}); ok {
		t.Fatal("an empty index holds a key")
	}
}
