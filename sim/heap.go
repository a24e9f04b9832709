package sim

import "math/bits"

// evKind says what a queued event does.
type evKind uint8

const (
	evDeliver evKind = iota + 1 // network delivery of msg from -> to
	evLocal                     // self-delivery of msg at node to
	evTimer                     // timer arg at node to (queued in the kernel's timerHeap, not the event heap)
	evCrash                     // node to crashes
	evRecover                   // node to recovers
	evLose                      // network message msg from -> to is lost on arrival (Verdict.Lose)
	evFire                      // timer arg of node to fires early if pending (Config.Fires)
	evArrive                    // msg from -> to reaches the receiver's ingress link (ingress limit only)
)

// event is one scheduled kernel event (48 bytes). Events are stored by value
// in the queue; ordering is by (at, key), key being the insertion sequence
// number shifted left by 8 with the event kind in the low byte, so
// simultaneous events run in the order they were scheduled and keys are
// unique.
type event struct {
	at   Time
	key  uint64 // seq<<8 | kind
	msg  Message
	arg  uint64 // timer id for evTimer; for a network event, its send record's reference, type and size (see packArg)
	from NodeID
	to   NodeID
}

// kind returns what the event does.
func (e *event) kind() evKind { return evKind(e.key) }

// before reports whether a runs before b.
func (a *event) before(b *event) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// eventHeap is a typed 4-ary min-heap of events ordered by (at, key): the
// kernel's event queue in small runs (see eventQueue), where it beats the
// radix queue, the published baseline of BenchmarkBareHeap, and a second
// implementation the radix queue is tested against. Four children per node
// halve a binary heap's depth (PBFT n=4 runs ~2.5% faster). It never
// allocates once its backing array has grown to the peak queue size.
type eventHeap struct{ a []event }

// Len returns the number of queued events.
func (h *eventHeap) Len() int { return len(h.a) }

// push adds e.
func (h *eventHeap) push(e event) {
	h.a = append(h.a, e)
	siftUp(h.a, len(h.a)-1, e)
}

// siftUp puts e at the hole a[i], or above it while it runs before the
// parent (the shared last step of push and pop).
func siftUp(a []event, i int, e event) {
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&a[p]) {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = e
}

// pop removes and returns the earliest event. The heap must not be empty.
//
// It moves the hole left by the top down to a leaf along the earliest
// children, choosing among four children with three branch-free
// comparisons (a tournament, see runsBefore), then moves the last event up
// from there (Floyd's variant): the last event is usually one of the
// latest, so it seldom moves up, and the only branches left on the way
// down are the loop's. Comparing each level's earliest child with the
// last event (the textbook sift-down) costs a hard-to-predict branch per
// level. In a large heap (branchlessMax events or more), whose levels miss
// the cache, the textbook sift-down is faster (the branches let the CPU
// load the next level before the comparison is decided): BareHeap-style
// pop and push, 2 cores shared, CPU-ns: 58 vs 87 at 1k events, 71 vs 106
// at 4k, 82 vs 111 at 8k, 100 vs 132 at 16k, 121 vs 147 at 32k, but
// ~290 vs ~200 at 100k.
func (h *eventHeap) pop() event {
	a := h.a
	top := a[0]
	n := len(a) - 1
	last := a[n]
	a[n] = event{} // drop the Message reference for the GC
	h.a = a[:n]
	if n == 0 {
		return top
	}
	a = a[:n]
	if n >= branchlessMax {
		h.siftDown(last)
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c+3 >= n {
			if c < n { // the last, incomplete family
				m := c
				for j := c + 1; j < n; j++ {
					if a[j].before(&a[m]) {
						m = j
					}
				}
				a[i] = a[m]
				i = m
			}
			break
		}
		m1 := c + int(runsBefore(&a[c+1], &a[c]))
		m2 := c + 2 + int(runsBefore(&a[c+3], &a[c+2]))
		m := m1 ^ (m1^m2)&-int(runsBefore(&a[m2], &a[m1]))
		a[i] = a[m]
		i = m
	}
	siftUp(a, i, last)
	return top
}

// popTo is pop for the kernel's queue: it moves the earliest event to
// *dst instead of returning it, and sifts the last event up from the
// bottom in place, so no event is copied through the stack. The order is
// pop's (the same sift). The heap must not be empty.
func (h *eventHeap) popTo(dst *event) {
	a := h.a
	*dst = a[0]
	n := len(a) - 1
	if n == 0 || n >= branchlessMax {
		*dst = h.pop()
		return
	}
	i := 0
	for {
		c := 4*i + 1
		if c+3 >= n {
			if c < n { // the last, incomplete family
				m := c
				for j := c + 1; j < n; j++ {
					if a[j].before(&a[m]) {
						m = j
					}
				}
				a[i] = a[m]
				i = m
			}
			break
		}
		m1 := c + int(runsBefore(&a[c+1], &a[c]))
		m2 := c + 2 + int(runsBefore(&a[c+3], &a[c+2]))
		m := m1 ^ (m1^m2)&-int(runsBefore(&a[m2], &a[m1]))
		a[i] = a[m]
		i = m
	}
	// The hole i < n: move the last event a[n] up from it (parents lie
	// below i, so a[n] stays in place until it is moved).
	last := &a[n]
	for i > 0 {
		p := (i - 1) / 4
		if !last.before(&a[p]) {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = *last
	*last = event{} // drop the Message reference for the GC
	h.a = a[:n]
}

// branchlessMax is the heap size from which pop sifts down the textbook way.
const branchlessMax = 1 << 15

// siftDown puts last, the former last event, into the heap h.a whose top
// has been removed, by the textbook sift-down from the root.
func (h *eventHeap) siftDown(last event) {
	a := h.a
	n := len(a)
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if a[j].before(&a[m]) {
				m = j
			}
		}
		if !a[m].before(&last) {
			break
		}
		a[i] = a[m]
		i = m
	}
	a[i] = last
}

// runsBefore is 1 if a runs before b, else 0, computed without branches:
// the borrow of the 128-bit subtraction (at, key) - (at, key), times made
// unsigned by flipping their sign bit.
func runsBefore(a, b *event) uint64 {
	_, borrow := bits.Sub64(a.key, b.key, 0)
	_, borrow = bits.Sub64(uint64(a.at)^signBit, uint64(b.at)^signBit, borrow)
	return borrow
}

// radixQueue is the kernel's event queue in large runs (see eventQueue): a
// monotone priority queue (a radix heap on at, with 4-bit digits) of events ordered by (at, key). Timers are
// not queued here (see timerHeap), so it holds messages, crashes and
// recoveries.
//
// It relies on two properties of the kernel's pushes (push panics on a
// violation of the first; the tests check both):
//
//   - monotone times: every pushed event has at >= last, the time of the last
//     popped event (the kernel never schedules into the past); an empty queue
//     may be pushed any time (last then moves down to it);
//   - increasing keys: every pushed key is larger than the key of every event
//     queued (keys are seq<<8 | kind, seq counting pushes).
//
// Layout. Write times as unsigned numbers u(at) (at with its sign bit
// flipped, which preserves the order) cut into 16 digits of 4 bits, digit 15
// the most significant. Bucket 0 holds the events with at == last. Every
// other event is in bucket (l, d), l being the most significant digit where
// u(at) and u(last) differ and d the digit l of u(at); buckets are ordered by
// (l, d) and numbered 1 + 16l + d accordingly. Every bucket is a FIFO: push
// appends at the back; bucket 0 is consumed from the front; when bucket 0 is
// empty, pop takes the lowest non-empty bucket (l, d), sets last to its least
// time m and moves all its events, in bucket order, to the back of their
// buckets for the new last: all lie below level l, whose buckets are empty
// then, and the events at m go to bucket 0. For every bucket the queue keeps
// the least at and (a pointer to) the first event having it, so peek is O(1)
// and the minimum is never searched for. (With one-bit digits this is the
// classic radix heap; 4-bit digits let an event skip 4 bits of distance per
// move instead of one or two, so it is moved about 3 to 4 times, not 6 to 9,
// at the kernel's queue sizes.)
//
// Why pops come out exactly in (at, key) order:
//
//  1. Buckets are ordered by time. As at >= last, at has a larger digit than
//     last at level l and equal digits above. An event of bucket (l', d')
//     with l' < l agrees with last at level l and above, so it is earlier
//     than every event of level l; at the same level, u(at) agrees above l
//     and its digit l is d: a smaller d is earlier. Bucket 0 (at == last) is
//     the earliest.
//  2. Every event is in bucket(at, last), at all times. Push puts it there.
//     When last moves to m, the least time of the lowest non-empty bucket
//     (l, d) (bucket 0 being empty): m agrees with the old last above level l
//     and has digit d at l, like every event of (l, d), so those events agree
//     with m at levels >= l and land below level l. An event of a bucket (l,
//     d') with d' != d still differs from m first at level l, with digit d'
//     there: same bucket; an event of a level above l still differs from m
//     first at its level: same bucket. In particular events with equal at
//     always share a bucket.
//  3. Within a bucket, events with equal at are in key order. Push appends
//     an event whose key exceeds every queued key; refill copies a bucket in
//     order into buckets below level l, all empty before (they are lower than
//     the lowest non-empty bucket), so each receives a subsequence of it; pop
//     removes the front of bucket 0. All three keep the invariant.
//
// Hence the front of bucket 0 is the least event by (at, key): bucket 0
// holds the events at last, the least time by 1 (and by 2, all of them), in
// key order by 3. If bucket 0 is empty, the least event is the first event
// with the least time of the lowest non-empty bucket (by 1 and 3), which is
// the one recorded as that bucket's min (replaced only by a strictly earlier
// event, so it stays the first of its time). After the refill it is the
// front of bucket 0, so peek and pop agree.
//
// Storage. Buckets are linked lists of fixed-size chunks taken from a free
// list shared by all buckets, so the queue needs about Len()/chunkLen + 256
// chunks at most; they are allocated in batches (a quarter more each time)
// only when the peak grows (no allocation in the steady state), and events
// are never copied to grow. Freed chunks are cleared, and popped events lose
// their Message reference, for the GC. The queue itself is about 12 KiB (257
// buckets).
type radixQueue struct {
	n    int  // queued events
	last Time // time of the last popped event (a lower bound of all queued)
	// mask has bit j set iff bucket j+1 is not empty.
	mask   [qBuckets / 64]uint64
	b      [qBuckets + 1]bucket
	free   *chunk // free list of cleared chunks, linked by next
	chunks int    // chunks allocated
}

const (
	qDigitBits = 4                  // bits per digit
	qDigits    = 64 / qDigitBits    // digits per time
	qRadix     = 1 << qDigitBits    // buckets per level
	qBuckets   = qDigits * qRadix   // buckets besides bucket 0 (a multiple of 64)
	digitMask  = uint64(qRadix - 1) // one digit
	signBit    = uint64(1) << 63    // flips Time's order to uint64's
	chunkLen   = 32                 // events in one chunk (1.5 KiB)
)

// chunk is a block of a bucket's events.
type chunk struct {
	ev   [chunkLen]event
	next *chunk
}

// bucket is one bucket of an radixQueue: a FIFO list of chunks from head to
// tail, holding head.ev[lo:] ... tail.ev[:hi] (lo is 0 but in bucket 0). n
// counts its events; head and tail are nil when n is 0, except that bucket 0
// keeps its last chunk. min points to the first event with the least time,
// minAt (buckets other than 0; meaningless when empty).
type bucket struct {
	head, tail *chunk
	lo, hi     int
	n          int
	minAt      Time
	min        *event
}

// bucketOf returns the bucket of an event at at when the last popped time is
// last (see radixQueue).
func bucketOf(at, last Time) int {
	x := uint64(at ^ last)
	if x == 0 {
		return 0
	}
	l := uint(bits.Len64(x)-1) / qDigitBits
	d := (uint64(at) ^ signBit) >> (l * qDigitBits) & digitMask
	return 1 + int(l)*qRadix + int(d)
}

// Len returns the number of queued events.
func (q *radixQueue) Len() int { return q.n }

// put appends e to bucket i.
func (q *radixQueue) put(i int, e *event) {
	bk := &q.b[i]
	if bk.hi == chunkLen || bk.tail == nil {
		q.grow(bk)
	}
	p := &bk.tail.ev[bk.hi]
	*p = *e
	bk.hi++
	bk.n++
	if bk.n == 1 || e.at < bk.minAt {
		bk.minAt = e.at
		bk.min = p
	}
	if i > 0 {
		q.mask[(i-1)/64] |= 1 << ((i - 1) % 64)
	}
}

// grow links a fresh chunk at the tail of bk.
func (q *radixQueue) grow(bk *bucket) {
	if q.free == nil {
		q.addChunks(max(16, q.chunks/4))
	}
	c := q.free
	q.free = c.next
	c.next = nil
	if bk.tail == nil {
		bk.head = c
	} else {
		bk.tail.next = c
	}
	bk.tail = c
	bk.hi = 0
}

// addChunks allocates n chunks at once and puts them on the free list.
func (q *radixQueue) addChunks(n int) {
	cs := make([]chunk, n)
	for i := range cs {
		cs[i].next = q.free
		q.free = &cs[i]
	}
	q.chunks += n
}

// reserve makes room for about n more events without further allocation.
func (q *radixQueue) reserve(n int) { q.addChunks((n + chunkLen - 1) / chunkLen) }

// release clears the first n events of c and puts it on the free list.
func (q *radixQueue) release(c *chunk, n int) {
	clear(c.ev[:n])
	c.next = q.free
	q.free = c
}

// lowest returns the lowest non-empty bucket other than 0, or 0 if there is
// none.
func (q *radixQueue) lowest() int {
	for w, m := range q.mask {
		if m != 0 {
			return 1 + w*64 + bits.TrailingZeros64(m)
		}
	}
	return 0
}

// push adds e. e.key must exceed every queued key, and e.at must not be
// earlier than the last popped event unless the queue is empty (see
// radixQueue); a push into the past of a non-empty queue panics, as it would
// break the order (the kernel never does it: its clock only moves forward).
func (q *radixQueue) push(e event) {
	if e.at < q.last {
		if q.n > 0 {
			panic("sim: event queued before the last popped event")
		}
		q.last = e.at
	}
	q.n++
	q.put(bucketOf(e.at, q.last), &e)
}

// pop removes and returns the earliest event by (at, key). The queue must not
// be empty.
func (q *radixQueue) pop() event {
	b0 := &q.b[0]
	if b0.n == 0 {
		q.refill()
	}
	p := &b0.head.ev[b0.lo]
	e := *p
	p.msg = nil // drop the Message reference for the GC
	b0.lo++
	b0.n--
	q.n--
	if b0.n == 0 { // keep the chunk for the next events at this time
		c := b0.head
		for c != b0.tail {
			next := c.next
			q.release(c, chunkLen)
			c = next
		}
		b0.head = c
		b0.lo, b0.hi = 0, 0
	} else if b0.lo == chunkLen {
		c := b0.head
		b0.head = c.next
		b0.lo = 0
		q.release(c, chunkLen)
	}
	return e
}

// refill moves the lowest non-empty bucket into the buckets below its level,
// after setting last to its least time, so that bucket 0 (empty before)
// holds the events at that time. The queue must not be empty.
func (q *radixQueue) refill() {
	i := q.lowest()
	src := &q.b[i]
	m := src.minAt
	q.last = m
	q.mask[(i-1)/64] &^= 1 << ((i - 1) % 64)
	for c := src.head; c != nil; {
		n := chunkLen
		if c == src.tail {
			n = src.hi
		}
		for j := range n {
			e := &c.ev[j]
			q.put(bucketOf(e.at, m), e)
		}
		next := c.next
		q.release(c, n)
		c = next
	}
	*src = bucket{}
}

// peek returns the earliest event by (at, key), without removing it. The
// pointer is valid until the next push or pop. The queue must not be empty.
func (q *radixQueue) peek() *event {
	if b0 := &q.b[0]; b0.n > 0 {
		return &b0.head.ev[b0.lo]
	}
	return q.b[q.lowest()].min
}

// peekAt returns the time of the earliest event. The queue must not be empty.
func (q *radixQueue) peekAt() Time { return q.peek().at }

// peekMsg returns the message of the earliest event (nil if none). The queue
// must not be empty.
func (q *radixQueue) peekMsg() Message { return q.peek().msg }
