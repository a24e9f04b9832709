package properties

// stampIndex maps request keys (client, timestamp) to indexes in
// Checker.reqs, like a map[clientStamp]int32: open addressing with linear
// probing in a power-of-two number of places, at most half of them used.
// The checker looks a request up on every submission, acceptance and
// execution and at every fold; a multiply-xor hash of the two words is
// cheaper there than the runtime map's hashing of 16 bytes. It has no
// deletion and no iteration: the checker rebuilds it (reset, then put) when
// it compacts reqs, from the keys the requests keep. Lookups do not depend
// on the order of insertion, so nothing else does either.
type stampIndex struct {
	e     []stampEntry
	n     int  // keys held
	shift uint // 64 - log2(len(e))
}

// stampEntry is one place: a key and its index + 1 (0: an empty place).
type stampEntry struct {
	k clientStamp
	v int32
}

// home is the first place of k.
func (x *stampIndex) home(k clientStamp) int {
	h := (uint64(k.c)*0x9e3779b97f4a7c15 ^ k.t) * 0xbf58476d1ce4e5b9
	return int(h >> x.shift)
}

// get returns k's index and whether k is held.
func (x *stampIndex) get(k clientStamp) (int32, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := len(x.e) - 1
	for i := x.home(k); ; i = (i + 1) & mask {
		e := &x.e[i]
		if e.v == 0 {
			return 0, false
		}
		if e.k == k {
			return e.v - 1, true
		}
	}
}

// put sets k's index to v (v >= 0).
func (x *stampIndex) put(k clientStamp, v int32) {
	if 2*(x.n+1) > len(x.e) {
		x.grow()
	}
	mask := len(x.e) - 1
	for i := x.home(k); ; i = (i + 1) & mask {
		e := &x.e[i]
		if e.v == 0 {
			e.k, e.v = k, v+1
			x.n++
			return
		}
		if e.k == k {
			e.v = v + 1
			return
		}
	}
}

// grow doubles the places (16 at first) and puts the keys back.
func (x *stampIndex) grow() {
	old := x.e
	size := max(16, 2*len(old))
	x.e = make([]stampEntry, size)
	x.shift = 64
	for s := size; s > 1; s >>= 1 {
		x.shift--
	}
	x.n = 0
	for i := range old {
		if old[i].v != 0 {
			x.put(old[i].k, old[i].v-1)
		}
	}
}

// len returns the number of keys held.
func (x *stampIndex) len() int { return x.n }

// reset empties the index, keeping its places.
func (x *stampIndex) reset() {
	if x.n > 0 {
		clear(x.e)
		x.n = 0
	}
}

// resetStamps returns x emptied (for Checker.reset).
func resetStamps(x stampIndex) stampIndex {
	x.reset()
	return x
}
