package explore

// fpSet is a set of 64-bit state fingerprints (World.Hash) in one
// open-addressing table: 8 bytes per slot, at most 3/4 full, so 11-21 bytes
// per state, against about 40 for a Go map from fingerprint to state id.
//
// A fingerprint stands for the whole state: two different states with the
// same fingerprint are taken for one, and the second is neither judged nor
// expanded. With n distinct states and a well-mixed 64-bit hash the
// probability that any two collide is at most n*n/2^65: about 3e-8 for a
// million states, 3e-4 for 10^8 (the birthday bound).
type fpSet struct {
	slots []uint64 // 0: empty (a fingerprint of 0 is stored as 1)
	n     int
}

// add inserts h and reports whether it was new.
func (s *fpSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

func (s *fpSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(1024, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// reset empties the set, keeping its table.
func (s *fpSet) reset() {
	clear(s.slots)
	s.n = 0
}

// bytes returns the table's size in bytes.
func (s *fpSet) bytes() int { return 8 * len(s.slots) }
