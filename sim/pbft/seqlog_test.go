package pbft

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSeqLog checks the ring log against a map under random puts, gets and
// deletes, with sequence numbers far outside one window so that slots
// collide and entries overflow.
func TestSeqLog(t *testing.T) {
	for _, window := range []int{1, 7, 32} {
		l := newSeqLog(window)
		ref := map[uint64]*entry{}
		rng := rand.New(rand.NewPCG(1, uint64(window)))
		for i := range 20000 {
			seq := rng.Uint64N(uint64(4 * (window + 1)))
			switch rng.IntN(3) {
			case 0:
				if ref[seq] == nil {
					e := &entry{seq: seq}
					ref[seq] = e
					l.put(e)
				}
			case 1:
				delete(ref, seq)
				l.del(seq)
			}
			if got, want := l.get(seq), ref[seq]; got != want {
				t.Fatalf("window %d step %d: get(%d) = %p, want %p", window, i, seq, got, want)
			}
			if l.len() != len(ref) {
				t.Fatalf("window %d step %d: len %d, want %d", window, i, l.len(), len(ref))
			}
		}
		var seen []uint64
		for s, e := range l.all() {
			if e.seq != s || ref[s] != e {
				t.Fatalf("window %d: all yielded %d -> %p, want %p", window, s, e, ref[s])
			}
			seen = append(seen, s)
		}
		slices.Sort(seen)
		if want := slices.Sorted(maps.Keys(ref)); !slices.Equal(seen, want) {
			t.Fatalf("window %d: all yielded %v, want %v", window, seen, want)
		}
		for s := range l.all() { // deleting the yielded entry is allowed
			l.del(s)
		}
		if l.len() != 0 {
			t.Fatalf("window %d: %d entries left after deleting all", window, l.len())
		}
	}
}
