package sim

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

// eventQueue is the kernel's event queue: events ordered by (at, key), in a
// 4-ary heap (eventHeap) until it first holds radixMinLen events, then in a
// radix queue (radixQueue). Timers are not queued here (see timerHeap).
type eventQueue struct {
	h eventHeap
	r *radixQueue // nil until the queue grows large (~12 KiB)
}

// init reserves room for about expected events.
func (q *eventQueue) init(expected int) {
	q.h.a = make([]event, 0, min(max(expected, 16), radixMinLen))
}

// Len returns the number of queued events.
func (q *eventQueue) Len() int {
	if q.r != nil {
		return q.r.Len()
	}
	return q.h.Len()
}

// push adds e, which must not lie before the last popped event.
func (q *eventQueue) push(e event) {
	if q.r != nil {
		q.r.push(e)
		return
	}
	q.h.push(e)
	if len(q.h.a) >= radixMinLen {
		q.toRadix()
	}
}

// toRadix moves the queued events, in order, into a new radix queue. Equal
// times are pushed in key order and the radix queue keeps equal times
// first-in first-out, so the order of all later pops is unchanged.
func (q *eventQueue) toRadix() {
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
	if q.r != nil {
		*dst = q.r.pop()
		return
	}
	q.h.popTo(dst)
}

// peek returns the earliest event, valid until the next push or pop. The
// queue must not be empty.
func (q *eventQueue) peek() *event {
	if q.r != nil {
		return q.r.peek()
	}
	return q.h.peek()
}

// peekAt returns the time of the earliest event. The queue must not be empty.
func (q *eventQueue) peekAt() Time { return q.peek().at }

// peekMsg returns the message of the earliest event. The queue must not be
// empty.
func (q *eventQueue) peekMsg() Message { return q.peek().msg }
