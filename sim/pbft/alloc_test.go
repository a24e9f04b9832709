package pbft

import "testing"

// TestSlab checks the slab's invariants: each value handed out is a zero
// value at an address never handed out before (even when earlier values
// were written to), and chunks grow from slabMin to at most slabMax values.
func TestSlab(t *testing.T) {
	var s slab[Prepare]
	seen := map[*Prepare]bool{}
	for i := range 1000 {
		p := s.new()
		if seen[p] {
			t.Fatalf("value %d: address handed out twice", i)
		}
		seen[p] = true
		if *p != (Prepare{}) {
			t.Fatalf("value %d is not zero: %+v", i, *p)
		}
		p.Seq, p.Sig = uint64(i)+1, 7 // a sent message's fields
		if c := cap(s.buf) + 1; c > slabMax {
			t.Fatalf("value %d: chunk of %d values, want at most %d", i, c, slabMax)
		}
	}
	for p := range seen {
		if p.Sig != 7 || p.Seq == 0 {
			t.Fatalf("a value changed after it was handed out: %+v", *p)
		}
	}
	if s.next != slabMax {
		t.Errorf("chunks grew to %d values, want slabMax %d", s.next, slabMax)
	}
}
