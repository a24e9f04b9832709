package properties

import "slices"

// seqTable maps sequence numbers to values like a map[uint64]V. The seqs
// of a window that slides up with the run, [lo, lo+len(vals)), live in a
// ring indexed by seq (no hashing): the checker looks a seq up on every
// commit and execution, and folding (compact.go) keeps the seqs it holds
// within a few protocol windows, so the ring stays small and the map
// empty in a long run. A seq outside the ring's span when it is put goes
// to the map big. Its memory is kept by reset for the next run.
//
// Invariant: every seq set in [lo, lo+len(vals)) is in the ring, every
// other one in big, and every seq in big is below lo (lo only rises, and a
// put at or above lo makes the ring span the seq).
type seqTable[V any] struct {
	vals []V    // ring: seq s at s & (len-1); len is 0 or a power of 2
	set  []bool // set[i]: vals[i] holds a value
	lo   uint64 // the lowest seq the ring spans
	n    int    // entries, ring and big
	big  map[uint64]V
}

// seqRingMin and seqRingMax bound the ring's length: it doubles, up to
// seqRingMax, instead of sliding past a seq it still holds.
const (
	seqRingMin = 64
	seqRingMax = 1 << 16
)

// inRing reports whether seq lies in the ring's span.
func (t *seqTable[V]) inRing(seq uint64) bool { return seq-t.lo < uint64(len(t.vals)) } // (below lo wraps)

// get returns the value of seq and whether it is set.
func (t *seqTable[V]) get(seq uint64) (V, bool) {
	if t.inRing(seq) {
		i := seq & uint64(len(t.vals)-1)
		return t.vals[i], t.set[i]
	}
	if len(t.big) > 0 && seq < t.lo {
		v, ok := t.big[seq]
		return v, ok
	}
	var zero V
	return zero, false
}

// has reports whether seq is set.
func (t *seqTable[V]) has(seq uint64) bool {
	if t.inRing(seq) {
		return t.set[seq&uint64(len(t.vals)-1)]
	}
	if len(t.big) > 0 && seq < t.lo {
		_, ok := t.big[seq]
		return ok
	}
	return false
}

// put sets the value of seq.
func (t *seqTable[V]) put(seq uint64, v V) {
	if !t.inRing(seq) && seq >= t.lo {
		t.reach(seq)
	}
	if !t.inRing(seq) {
		if t.big == nil {
			t.big = map[uint64]V{}
		}
		if _, ok := t.big[seq]; !ok {
			t.n++
		}
		t.big[seq] = v
		return
	}
	i := seq & uint64(len(t.vals)-1)
	if !t.set[i] {
		t.n++
		t.set[i] = true
	}
	t.vals[i] = v
}

// reach makes the ring span seq (>= lo): it grows the ring while the seqs
// it would slide past are set and it is below seqRingMax, else it slides
// up, moving the seqs it leaves to big.
func (t *seqTable[V]) reach(seq uint64) {
	for len(t.vals) < seqRingMax {
		if len(t.vals) == 0 {
			t.resize(seqRingMin)
			continue
		}
		if t.ringLen() == 0 {
			break // nothing to keep: slide
		}
		// Set seqs below the new low end: grow instead.
		newLo := seq - uint64(len(t.vals)) + 1
		if seq < t.lo+uint64(len(t.vals)) {
			return
		}
		kept := false
		for s := t.lo; s < newLo && s < t.lo+uint64(len(t.vals)); s++ {
			if t.set[s&uint64(len(t.vals)-1)] {
				kept = true
				break
			}
		}
		if !kept {
			break
		}
		t.resize(2 * len(t.vals))
		if t.inRing(seq) {
			return
		}
	}
	if t.inRing(seq) {
		return
	}
	// Slide so that seq is in the ring, and on past the free slots above
	// that, up to half a ring below seq: the next seqs up then fit
	// without sliding again (a run puts seqs one by one upwards, and
	// slid one seq at a time before).
	newLo, far := seq-uint64(len(t.vals))+1, seq-uint64(len(t.vals))/2+1
	t.slide(newLo)
	mask := uint64(len(t.vals) - 1)
	for t.lo < far && !t.set[t.lo&mask] {
		t.lo++
	}
}

// ringLen counts the ring's entries.
func (t *seqTable[V]) ringLen() int {
	return t.n - len(t.big)
}

// resize rebuilds the ring with length size (a power of 2, at least the
// current span's entries), same lo.
func (t *seqTable[V]) resize(size int) {
	vals, set := make([]V, size), make([]bool, size)
	for k, ok := range t.set {
		if ok {
			s := t.seqAt(k)
			vals[s&uint64(size-1)], set[s&uint64(size-1)] = t.vals[k], true
		}
	}
	t.vals, t.set = vals, set
}

// seqAt returns the seq held at ring index k.
func (t *seqTable[V]) seqAt(k int) uint64 {
	mask := uint64(len(t.vals) - 1)
	return t.lo + (uint64(k)-t.lo)&mask
}

// slide moves the ring's low end up to newLo, moving the set seqs below it
// to big.
func (t *seqTable[V]) slide(newLo uint64) {
	size := uint64(len(t.vals))
	mask := size - 1
	for s := t.lo; s < newLo && s < t.lo+size; s++ {
		i := s & mask
		if t.set[i] {
			if t.big == nil {
				t.big = map[uint64]V{}
			}
			t.big[s] = t.vals[i]
			var zero V
			t.vals[i], t.set[i] = zero, false
		}
	}
	t.lo = newLo
}

// del unsets seq.
func (t *seqTable[V]) del(seq uint64) {
	if t.inRing(seq) {
		i := seq & uint64(len(t.vals)-1)
		if t.set[i] {
			var zero V
			t.set[i], t.vals[i] = false, zero
			t.n--
		}
		return
	}
	if _, ok := t.big[seq]; ok {
		delete(t.big, seq)
		t.n--
	}
}

// len returns the number of seqs set.
func (t *seqTable[V]) len() int { return t.n }

// appendKeys appends the seqs set, in increasing order, to buf.
func (t *seqTable[V]) appendKeys(buf []uint64) []uint64 {
	n := len(buf)
	for k, ok := range t.set {
		if ok {
			buf = append(buf, t.seqAt(k))
		}
	}
	for s := range t.big {
		buf = append(buf, s)
	}
	slices.Sort(buf[n:])
	return buf
}

// each calls f with every value set, in no particular order.
func (t *seqTable[V]) each(f func(V)) {
	for k, ok := range t.set {
		if ok {
			f(t.vals[k])
		}
	}
	for _, v := range t.big {
		f(v)
	}
}

// update calls f with every seq set and its value, in no particular
// order, and sets the value f returns, or unsets the seq when f returns
// keep false.
func (t *seqTable[V]) update(f func(seq uint64, v V) (nv V, keep bool)) {
	for k, ok := range t.set {
		if !ok {
			continue
		}
		if v, keep := f(t.seqAt(k), t.vals[k]); keep {
			t.vals[k] = v
		} else {
			var zero V
			t.vals[k], t.set[k] = zero, false
			t.n--
		}
	}
	for s, v := range t.big {
		if nv, keep := f(s, v); keep {
			t.big[s] = nv
		} else {
			delete(t.big, s)
			t.n--
		}
	}
}

// reset empties t, keeping its memory.
func (t *seqTable[V]) reset() {
	clear(t.vals)
	clear(t.set)
	t.lo, t.n = 0, 0
	clear(t.big)
}
