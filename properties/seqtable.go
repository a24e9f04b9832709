package properties

import "slices"

// seqTable maps sequence numbers to values like a map[uint64]V, with the
// seqs below denseSeqs (all of them in the runs of a sweep) in slices
// indexed by seq: the checker looks a seq up on every commit and
// execution. Its memory is kept by reset for the next run.
type seqTable[V any] struct {
	vals []V
	set  []bool
	n    int // entries, dense and big
	big  map[uint64]V
}

// get returns the value of seq and whether it is set.
func (t *seqTable[V]) get(seq uint64) (V, bool) {
	if seq < uint64(len(t.set)) {
		return t.vals[seq], t.set[seq]
	}
	if seq >= denseSeqs {
		v, ok := t.big[seq]
		return v, ok
	}
	var zero V
	return zero, false
}

// has reports whether seq is set.
func (t *seqTable[V]) has(seq uint64) bool {
	_, ok := t.get(seq)
	return ok
}

// put sets the value of seq.
func (t *seqTable[V]) put(seq uint64, v V) {
	if seq >= denseSeqs {
		if t.big == nil {
			t.big = map[uint64]V{}
		}
		if _, ok := t.big[seq]; !ok {
			t.n++
		}
		t.big[seq] = v
		return
	}
	if seq >= uint64(len(t.set)) {
		n := len(t.set)
		t.set = slices.Grow(t.set, int(seq)+1-n)[:seq+1]
		t.vals = slices.Grow(t.vals, int(seq)+1-n)[:seq+1]
		clear(t.set[n:])
		clear(t.vals[n:])
	}
	if !t.set[seq] {
		t.n++
		t.set[seq] = true
	}
	t.vals[seq] = v
}

// del unsets seq.
func (t *seqTable[V]) del(seq uint64) {
	if seq < uint64(len(t.set)) {
		if t.set[seq] {
			var zero V
			t.set[seq], t.vals[seq] = false, zero
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
	for s, ok := range t.set {
		if ok {
			buf = append(buf, uint64(s))
		}
	}
	n := len(buf)
	for s := range t.big {
		buf = append(buf, s)
	}
	slices.Sort(buf[n:]) // all above the dense ones
	return buf
}

// each calls f with every value set, in no particular order.
func (t *seqTable[V]) each(f func(V)) {
	for s, ok := range t.set {
		if ok {
			f(t.vals[s])
		}
	}
	for _, v := range t.big {
		f(v)
	}
}

// reset empties t, keeping its memory.
func (t *seqTable[V]) reset() {
	clear(t.vals)
	clear(t.set)
	t.vals, t.set, t.n = t.vals[:0], t.set[:0], 0
	clear(t.big)
}
