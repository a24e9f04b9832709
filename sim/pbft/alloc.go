package pbft

// slab hands out pointers to fresh zero values of T carved from chunks, so
// that a replica allocating many small messages and events calls the
// allocator once per chunk instead of once per value. A chunk is freed by
// the GC when none of its values is referenced any more. Chunks start small
// and double up to slabMax values, so that a replica that sends little
// (large n, short runs) does not over-allocate.
//
// Invariants (TestSlab): every value handed out is zero and is never
// handed out again, so it is distinct from every other value (messages are
// shared and immutable once sent, and the identity-keyed caches of the
// kernel and the verify cache tell messages apart by address); a chunk
// holds at most slabMax values.
type slab[T any] struct {
	buf  []T
	next int // size of the next chunk
}

const (
	slabMin = 4
	slabMax = 64
)

// new returns a pointer to a zero T that no one else holds.
func (s *slab[T]) new() *T {
	if len(s.buf) == 0 {
		n := max(s.next, slabMin)
		s.buf = make([]T, n)
		s.next = min(2*n, slabMax)
	}
	p := &s.buf[0]
	s.buf = s.buf[1:]
	return p
}
