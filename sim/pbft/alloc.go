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

// carve hands out slices of n fresh zero values of T, cut from chunks of
// slabMax values (or of n, if larger) like slab's, each with its capacity
// capped at n so that appending to it never reaches the next one's values.
type carve[T any] struct{ buf []T }

// take returns a slice of n zero Ts that no one else holds.
func (c *carve[T]) take(n int) []T {
	if n > len(c.buf) {
		c.buf = make([]T, max(n, slabMax))
	}
	s := c.buf[:n:n]
	c.buf = c.buf[n:]
	return s
}
