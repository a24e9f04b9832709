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

// TestCarve: carved slices are zero, of the length asked, capped there (an
// append reallocates instead of writing into the next slice), and never
// overlap, for sizes below and above a chunk.
func TestCarve(t *testing.T) {
	var c carve[int]
	var got [][]int
	for i := range 400 {
		n := i % 7
		if i%50 == 0 {
			n = slabMax + 3 // larger than a chunk
		}
		s := c.take(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("take(%d): len %d cap %d", n, len(s), cap(s))
		}
		for j := range s {
			if s[j] != 0 {
				t.Fatalf("take(%d): value %d is %d, want 0", n, j, s[j])
			}
			s[j] = i + 1
		}
		got = append(got, s)
		if n > 0 {
			_ = append(s[:n-1], -1) // within the slice: stays in place
			_ = append(s, -1)       // beyond it: must not touch the next slice
		}
	}
	for i, s := range got {
		for j := range s {
			want := i + 1
			if j == len(s)-1 {
				want = -1
			}
			if s[j] != want {
				t.Fatalf("slice %d value %d is %d, want %d: slices overlap", i, j, s[j], want)
			}
		}
	}
}
