package sim

import "slices"

// radixMinLen is the queue length at which the kernel's event queue moves
// its events from a 4-ary heap to a radix queue, for the rest of the run.
// Both give the same order. The heap is faster while the queue holds up to
// a few thousand events: with its branch-free pop, BenchmarkKernel's ring
// (one distinct message per event) runs ~10% faster on the heap than on
// the radix queue at 1k-4k pending events and about as fast at 8k, ~15%
// slower at 16k-32k; PBFT n=64 and n=100 runs (up to ~10k events queued)
// showed no difference beyond the noise between thresholds 512 and 4096.
// (Before the branch-free pop the crossover was a few hundred events: PBFT
// n=4 ran ~7% faster than on the radix queue, n=100 ~28% slower.)
var radixMinLen = 4096

// sortedMax is the queue length above which the kernel's event queue
// leaves its sorted form for the heap (eventQueue); it returns to the
// sorted form when a pop leaves sortedMin events or fewer.
var sortedMax, sortedMin = 64, 16

// eventQueue is the kernel's event queue: events ordered by (at, key). A
// small queue (up to sortedMax events) is a sorted array, h.a[lo:] in
// (at, key) order: a pop takes its first event, a push moves the later
// events up by one from the back (a new event, with the largest key, is
// usually later than most: at n=4 with two clients the queue holds 14
// events on average, 32 at most, and a push moves about 6 of them, which
// costs less than the heap's sift-up and sift-down). Larger, it is a 4-ary
// heap (eventHeap; a sorted array is a valid heap) until it first holds
// radixMinLen events, then a radix queue (radixQueue) for the rest of the
// run. All give the same order. Timers are not queued here (see timerHeap).
type eventQueue struct {
	h      eventHeap
	lo     int         // sorted form: the first queued event in h.a
	sorted bool        // h.a[lo:] is sorted; else h is a heap (from 0)
	n      int         // queued events, in whichever form
	r      *radixQueue // nil until the queue grows large (~12 KiB)
}

// init reserves room for about expected events.
func (q *eventQueue) init(expected int) {
	q.h.a = make([]event, 0, min(max(expected, 2*sortedMax), radixMinLen))
	q.sorted = true
}

// Len returns the number of queued events.
func (q *eventQueue) Len() int { return q.n }

// push adds e, which must not lie before the last popped event, and whose
// key must exceed every queued key (see radixQueue).
func (q *eventQueue) push(e event) {
	q.n++
	if q.r != nil {
		q.r.push(e)
		return
	}
	if q.sorted && q.n <= sortedMax {
		q.insert(&e)
	} else {
		if q.sorted {
			q.toHeap()
		}
		q.h.push(e)
	}
	if q.n >= radixMinLen {
		q.toRadix()
	}
}

// insert adds e to the sorted form: it moves the events that run after e
// up by one, from the back. As e.key exceeds every queued key (see
// radixQueue), those are the events later than e.at.
func (q *eventQueue) insert(e *event) {
	a := q.h.a
	if len(a) == cap(a) && q.lo > 0 { // move the queued events to the front
		n := copy(a, a[q.lo:])
		clear(a[n:])
		a, q.lo = a[:n], 0
	}
	a = append(a, event{})
	lo, at := q.lo, e.at // locals: the stores below may alias q and e
	i := len(a) - 1
	for ; i > lo; i-- {
		p := &a[i-1]
		if p.at <= at {
			break
		}
		a[i] = *p
	}
	a[i] = *e
	q.h.a = a
}

// toHeap turns the sorted form into the heap (a sorted array is one).
func (q *eventQueue) toHeap() {
	a := q.h.a
	n := copy(a, a[q.lo:])
	clear(a[n:])
	q.h.a, q.lo, q.sorted = a[:n], 0, false
}

// toSorted turns the heap into the sorted form.
func (q *eventQueue) toSorted() {
	slices.SortFunc(q.h.a, func(a, b event) int {
		if a.before(&b) {
			return -1
		}
		return 1 // keys are unique
	})
	q.lo, q.sorted = 0, true
}

// toRadix moves the queued events, in order, into a new radix queue. Equal
// times are pushed in key order and the radix queue keeps equal times
// first-in first-out, so the order of all later pops is unchanged.
func (q *eventQueue) toRadix() {
	if q.sorted {
		q.toHeap()
	}
	q.r = new(radixQueue)
	q.r.reserve(4 * len(q.h.a))
	for q.h.Len() > 0 {
		q.r.push(q.h.pop())
	}
	q.h.a = nil
}

// popTo moves the earliest event to *dst (see eventHeap.popTo). The queue
// must not be empty.
func (q *eventQueue) popTo(dst *event) {
	q.n--
	if q.sorted {
		a := q.h.a
		p := &a[q.lo]
		*dst = *p
		p.msg = nil // drop the Message reference for the GC
		if q.lo++; q.lo == len(a) {
			q.h.a, q.lo = a[:0], 0
		}
		return
	}
	if q.r != nil {
		*dst = q.r.pop()
		return
	}
	q.h.popTo(dst)
	if len(q.h.a) <= sortedMin {
		q.toSorted()
	}
}

// peek returns the earliest event, valid until the next push or pop. The
// queue must not be empty.
func (q *eventQueue) peek() *event {
	if q.r != nil {
		return q.r.peek()
	}
	return &q.h.a[q.lo]
}

// peekAt returns the time of the earliest event. The queue must not be empty.
func (q *eventQueue) peekAt() Time { return q.peek().at }

// peekMsg returns the message of the earliest event. The queue must not be
// empty.
func (q *eventQueue) peekMsg() Message { return q.peek().msg }
