package properties

import (
	"math/rand/v2"
	"testing"
)

// TestQuorumAuditMatchesMap drives quorumAudit (rows per seq found by a
// ring or a map, cells per receiver and vote type, fallbacks for odd
// receivers and authors >= 128) and a plain map reference with the same random adds, queries and folds:
// every count and membership must agree, and entries must count the sets.
func TestQuorumAuditMatchesMap(t *testing.T) {
	type refKey struct {
		k      quorumKey
		author int32
	}
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var a quorumAudit
		a.reset(4) // receivers 0-3 in the ring, 4 and 5 in the rows
		ref := map[refKey]bool{}
		keys := map[quorumKey]bool{}
		var low uint64
		randKey := func() quorumKey {
			to := int32(rng.IntN(6))
			switch rng.IntN(20) {
			case 0:
				to = -1 - int32(rng.IntN(3))
			case 1:
				to = maxQuorumTo + int32(rng.IntN(3))
			}
			n := max(1, low+uint64(rng.IntN(50))-9) // some folded already
			if rng.IntN(4) == 0 {
				n += quorumRing * uint64(1+rng.IntN(3)) // shares a ring slot
			}
			return quorumKey{v: uint64(rng.IntN(3)), n: n, d: uint64(rng.IntN(3)), to: to, typ: uint8(rng.IntN(2))}
		}
		for step := 0; step < 5000; step++ {
			k := randKey()
			author := int32(rng.IntN(8))
			if rng.IntN(10) == 0 {
				author = 126 + int32(rng.IntN(6)) // across the bit set's end
			}
			switch rng.IntN(10) {
			case 0:
				low += uint64(rng.IntN(10))
				a.foldBelow(low)
				for rk := range ref {
					if rk.k.n <= low {
						delete(ref, rk)
					}
				}
				for qk := range keys {
					if qk.n <= low {
						delete(keys, qk)
					}
				}
			case 1, 2, 3, 4:
				a.add(k, author)
				ref[refKey{k, author}] = true
				keys[k] = true
			default:
				if got, want := a.has(k, author), ref[refKey{k, author}]; got != want {
					t.Fatalf("seed %d step %d: has(%+v, %d) = %v, want %v", seed, step, k, author, got, want)
				}
				var want int32
				for a := int32(0); a < 128; a++ {
					if ref[refKey{k, a}] {
						want++
					}
				}
				for a := int32(128); a < 140; a++ {
					if ref[refKey{k, a}] {
						want++
					}
				}
				if got := a.count(k); got != want {
					t.Fatalf("seed %d step %d: count(%+v) = %d, want %d", seed, step, k, got, want)
				}
			}
			if a.entries != len(keys) {
				t.Fatalf("seed %d step %d: %d entries, want %d keys", seed, step, a.entries, len(keys))
			}
		}
	}
}
