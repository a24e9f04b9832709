package explore

// fpSet is a set of 64-bit state fingerprints (World.Hash) in one
// open-addressing table: 8 bytes per slot, at most 3/4 full, so 11-21 bytes
// per state, against about 40 for a Go map from fingerprint to state id.
// With depths on (the depth-first search), each slot also keeps the
// smallest depth at which its state was reached: one byte more.
//
// A fingerprint stands for the whole state: two different states with the
// same fingerprint are taken for one, and the second is neither judged nor
// expanded. With n distinct states and a well-mixed 64-bit hash the
// probability that any two collide is at most n*n/2^65: about 3e-8 for a
// million states, 3e-4 for 10^8 (the birthday bound).
type fpSet struct {
	slots  []uint64 // 0: empty (a fingerprint of 0 is stored as 1)
	depths []uint8  // per slot, when withDepth
	n      int
	// withDepth keeps a depth per fingerprint (see visit).
	withDepth bool
}

// add inserts h and reports whether it was new.
func (s *fpSet) add(h uint64) bool {
	isNew, _ := s.visit(h, 0)
	return isNew
}

// visit inserts h reached at depth d. It reports whether h was new, and
// (with depths on) whether it was known only at a depth greater than d,
// in which case its depth becomes d.
func (s *fpSet) visit(h uint64, d int) (isNew, shallower bool) {
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
			if s.withDepth && int(s.depths[i]) > d {
				s.depths[i] = uint8(d)
				return false, true
			}
			return false, false
		case 0:
			s.slots[i] = h
			if s.withDepth {
				s.depths[i] = uint8(d)
			}
			s.n++
			return true, false
		}
	}
}

func (s *fpSet) grow() {
	old, oldD := s.slots, s.depths
	s.slots = make([]uint64, max(1024, 2*len(old)))
	if s.withDepth {
		s.depths = make([]uint8, len(s.slots))
	}
	s.n = 0
	for i, h := range old {
		if h != 0 {
			d := 0
			if s.withDepth {
				d = int(oldD[i])
			}
			s.visit(h, d)
		}
	}
}

// reset empties the set, keeping its table.
func (s *fpSet) reset() {
	clear(s.slots)
	clear(s.depths)
	s.n = 0
}

// bytes returns the table's size in bytes.
func (s *fpSet) bytes() int { return 8*len(s.slots) + len(s.depths) }
