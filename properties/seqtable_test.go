package properties

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSeqTableMatchesMap runs random puts, gets, deletes, key listings and
// resets on a seqTable and a map, with the checker's patterns: a window of
// seqs sliding up (puts near the top, deletes near the bottom), stragglers
// left far below it (so the ring grows, then spills them to its map), puts
// below the ring's span, and far jumps up. It compares every lookup, the
// size, the sorted keys, the values each visits and what update changes.
func TestSeqTableMatchesMap(t *testing.T) {
	cases := []struct {
		name            string
		straggle, below int // 1 in N puts leave a never-deleted seq / land below the window
		jump            int // 1 in N steps jumps the window up
		reset           int // 1 in N steps resets
	}{
		{"window", 0, 0, 0, 0},
		{"stragglers", 50, 0, 0, 0},
		{"below", 0, 20, 0, 0},
		{"jumps", 0, 0, 5000, 0},
		{"all", 30, 20, 3000, 40000},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 16))
			var x seqTable[int]
			ref := map[uint64]int{}
			var top uint64 = 1
			maxRing, maxBig := 0, 0
			one := func(n int) bool { return n > 0 && rng.IntN(n) == 0 }
			for step := range 300_000 {
				if one(tc.jump) {
					top += uint64(rng.IntN(1 << 20))
				}
				if one(tc.reset) {
					x.reset()
					clear(ref)
					top = 1
				}
				switch op := rng.IntN(10); {
				case op < 3:
					s := top
					top++
					if one(tc.below) && top > 300 {
						s = top - 100 - uint64(rng.IntN(200))
					}
					v := rng.IntN(1000)
					x.put(s, v)
					ref[s] = v
					if old := top - 256; top > 256 && !one(tc.straggle) { // fold the bottom
						x.del(old)
						delete(ref, old)
					}
				case op < 5:
					if one(tc.straggle) {
						continue // leave the bottom seqs in place
					}
					lo := uint64(0)
					if top > 200 {
						lo = top - 200
					}
					s := lo + uint64(rng.IntN(150))
					x.del(s)
					delete(ref, s)
				default:
					s := top - uint64(rng.IntN(300))
					if rng.IntN(20) == 0 {
						s = rng.Uint64N(top + 10)
					}
					got, ok := x.get(s)
					want, wok := ref[s]
					if ok != wok || got != want || x.has(s) != wok {
						t.Fatalf("step %d: get(%d) = %d, %v; want %d, %v", step, s, got, ok, want, wok)
					}
				}
				if x.len() != len(ref) {
					t.Fatalf("step %d: %d seqs, want %d", step, x.len(), len(ref))
				}
				maxRing, maxBig = max(maxRing, len(x.vals)), max(maxBig, len(x.big))
				if step%10_000 == 0 {
					keys := x.appendKeys(nil)
					want := make([]uint64, 0, len(ref))
					sum, wantSum := 0, 0
					for s, v := range ref {
						want = append(want, s)
						wantSum += v
					}
					slices.Sort(want)
					if !slices.Equal(keys, want) {
						t.Fatalf("step %d: keys %v, want %v", step, keys, want)
					}
					x.each(func(v int) { sum += v })
					if sum != wantSum {
						t.Fatalf("step %d: values sum to %d, want %d", step, sum, wantSum)
					}
					// update: drop the odd seqs below a bound, renumber the rest
					bound := top - uint64(rng.IntN(400))
					x.update(func(s uint64, v int) (int, bool) {
						if s < bound && s%2 == 1 {
							return 0, false
						}
						return v + int(s%7), true
					})
					for s, v := range ref {
						if s < bound && s%2 == 1 {
							delete(ref, s)
						} else {
							ref[s] = v + int(s%7)
						}
					}
				}
			}
			t.Logf("ring up to %d, map up to %d", maxRing, maxBig)
			if tc.name == "window" && (maxRing > 1024 || maxBig > 0) {
				t.Errorf("a sliding window of 200 seqs took a ring of %d and a map of %d", maxRing, maxBig)
			}
			if tc.name == "stragglers" && maxBig == 0 {
				t.Errorf("stragglers never reached the map: the test does not cover spilling")
			}
		})
	}
}
