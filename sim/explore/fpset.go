package explore

import "unsafe"

// fpSet is a set of 64-bit state fingerprints (World.Hash): 8 bytes a slot
// in open-addressing tables at most 3/4 full, so 11-21 bytes per state,
// against about 40 for a Go map from fingerprint to state id. With depths
// on (the iterative deepening search), each slot also keeps the smallest
// depth at which its state was reached: one byte more.
//
// The set is fpSegs segments, the one for h chosen by h's top bits (a
// segment places h by its low bits), each growing on its own: a growth
// holds the old and the new table of one segment only, not of the whole
// set, and the parallel search locks one segment at a time (shardedFP).
// Large segment tables live outside the Go heap (fpAlloc: an anonymous
// memory mapping where the system has one), so the garbage collector
// neither scans them nor counts them in the live heap that its growth
// target multiplies: with the command's GOGC=400, a table on the heap
// would let the heap grow to five times its size before a collection.
// free gives that memory back; a search frees its set when it ends.
//
// A fingerprint stands for the whole state: two different states with the
// same fingerprint are taken for one, and the second is neither judged nor
// expanded. With n distinct states and a well-mixed 64-bit hash the
// probability that any two collide is at most n*n/2^65: about 3e-8 for a
// million states, 3e-4 for 10^8 (the birthday bound).
type fpSet struct {
	segs [fpSegs]fpSeg
	n    int // fingerprints
	size int // bytes of the tables
	// aux is what each slot keeps besides its fingerprint: nothing, the
	// smallest depth it was reached at (visit) or the budgets used
	// (visitBudgets).
	aux fpAux
}

// fpAux is the per-slot value of an fpSet, by its size in bytes.
type fpAux int

// Per-slot values.
const (
	fpNoAux   fpAux = 0 // the fingerprint only
	fpDepth   fpAux = 1 // a depth (uint8)
	fpBudgets fpAux = 2 // the budgets used (uint16, see budgetKey)
)

// fpSegs is the number of segments of an fpSet (a power of two), and
// fpSegShift the shift that takes a fingerprint to its segment.
const (
	fpSegs     = 256
	fpSegShift = 56
)

// fpMinSlots is the size of a segment's first table; fpHeapMax the largest
// table (in bytes) kept on the Go heap.
const (
	fpMinSlots = 64
	fpHeapMax  = 8 << 10
)

// fpSeg is one segment: an open-addressing table with linear probing.
type fpSeg struct {
	slots   []uint64 // 0: empty (a fingerprint of 0 is stored as 1)
	depths  []uint8  // per slot, with fpDepth
	budgets []uint16 // per slot, with fpBudgets
	n       int
	mem     fpMem // the mapping behind slots and depths (when not on the heap)
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
	g := s.seg(h)
	isNew, shallower = g.visit(h, d, s.aux == fpDepth)
	if isNew {
		s.n++
	}
	return isNew, shallower
}

// visitBudgets inserts h reached with the budgets used b (a budgetKey; the
// set keeps fpBudgets). It reports whether h was new, and whether it must
// be expanded again: it was known, but reached before only with some
// budget used more than b's (see budgetsCover); its budgets become b.
func (s *fpSet) visitBudgets(h uint64, b uint16) (isNew, again bool) {
	g := s.seg(h)
	isNew, again = g.visitBudgets(h, b)
	if isNew {
		s.n++
	}
	return isNew, again
}

// seg returns h's segment, with room for one more fingerprint.
func (s *fpSet) seg(h uint64) *fpSeg {
	g := &s.segs[h>>fpSegShift]
	if 4*(g.n+1) > 3*len(g.slots) {
		s.size += g.grow(s.aux)
	}
	return g
}

// probe returns the slot of fingerprint h in g (0 is stored as 1): the one
// holding it (found) or the empty one where it goes. g has room for one
// more, so an empty slot exists.
func (g *fpSeg) probe(h uint64) (slot uint64, fp uint64, found bool) {
	if h == 0 {
		h = 1
	}
	mask := uint64(len(g.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch g.slots[i] {
		case h:
			return i, h, true
		case 0:
			return i, h, false
		}
	}
}

// visit is fpSet.visit on segment g (which has room for one more).
func (g *fpSeg) visit(h uint64, d int, withDepth bool) (isNew, shallower bool) {
	i, h, found := g.probe(h)
	if found {
		if withDepth && int(g.depths[i]) > d {
			g.depths[i] = uint8(d)
			return false, true
		}
		return false, false
	}
	g.slots[i] = h
	if withDepth {
		g.depths[i] = uint8(d)
	}
	g.n++
	return true, false
}

// visitBudgets is fpSet.visitBudgets on segment g (which has room for
// one more).
func (g *fpSeg) visitBudgets(h uint64, b uint16) (isNew, again bool) {
	i, h, found := g.probe(h)
	if found {
		if budgetsCover(g.budgets[i], b) {
			return false, false
		}
		g.budgets[i] = b
		return false, true
	}
	g.slots[i] = h
	g.budgets[i] = b
	g.n++
	return true, false
}

// grow doubles g's table (or makes its first one) and returns by how many
// bytes the tables grew.
func (g *fpSeg) grow(aux fpAux) int {
	old, oldD, oldB, oldMem := g.slots, g.depths, g.budgets, g.mem
	n := max(fpMinSlots, 2*len(old))
	g.slots, g.depths, g.budgets, g.mem = fpAlloc(n, aux)
	g.n = 0
	for i, h := range old {
		if h == 0 {
			continue
		}
		switch aux {
		case fpBudgets:
			g.visitBudgets(h, oldB[i])
		case fpDepth:
			g.visit(h, int(oldD[i]), true)
		default:
			g.visit(h, 0, false)
		}
	}
	oldMem.free()
	return fpBytes(n, aux) - fpBytes(len(old), aux)
}

// fpBytes is the size of a table of n slots.
func fpBytes(n int, aux fpAux) int { return (8 + int(aux)) * n }

// fpAlloc returns a zeroed table of n slots (and their depths or budgets,
// as aux says), from a mapping when it is larger than fpHeapMax and the
// system has them.
func fpAlloc(n int, aux fpAux) ([]uint64, []uint8, []uint16, fpMem) {
	if fpBytes(n, aux) > fpHeapMax {
		if slots, extra, m, ok := fpMap(n, aux); ok {
			switch aux {
			case fpDepth:
				return slots, extra[:n], nil, m
			case fpBudgets:
				return slots, nil, unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(extra))), n), m
			}
			return slots, nil, nil, m
		}
	}
	var depths []uint8
	var budgets []uint16
	switch aux {
	case fpDepth:
		depths = make([]uint8, n)
	case fpBudgets:
		budgets = make([]uint16, n)
	}
	return make([]uint64, n), depths, budgets, fpMem{}
}

// reset empties the set, keeping its tables (and depth mode).
func (s *fpSet) reset() {
	for i := range s.segs {
		g := &s.segs[i]
		clear(g.slots)
		clear(g.depths)
		clear(g.budgets)
		g.n = 0
	}
	s.n = 0
}

// free gives back the set's tables; the set is then empty.
func (s *fpSet) free() {
	for i := range s.segs {
		s.segs[i].mem.free()
		s.segs[i] = fpSeg{}
	}
	s.n, s.size = 0, 0
}

// len returns the number of fingerprints in the set.
func (s *fpSet) len() int { return s.n }

// bytes returns the tables' size in bytes.
func (s *fpSet) bytes() int { return s.size }
