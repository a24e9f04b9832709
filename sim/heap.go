package sim

// evKind says what a queued event does.
type evKind uint8

const (
	evDeliver evKind = iota + 1 // network delivery of msg from -> to
	evLocal                     // self-delivery of msg at node to
	evTimer                     // timer arg at node to (queued in the kernel's timerHeap, not the event heap)
	evCrash                     // node to crashes
	evRecover                   // node to recovers
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
	arg  uint64 // timer id for evTimer; for evDeliver, 1 + trace seq of the send record
	from NodeID
	to   NodeID
}

// kind returns what the event does.
func (e *event) kind() evKind { return evKind(e.key) }

// before reports whether a runs before b.
func (a *event) before(b *event) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// eventHeap is a typed binary min-heap of events ordered by (at, key).
// Timers are not queued here (see timerHeap), so it holds messages, crashes
// and recoveries. It never allocates once its backing array has grown to the
// peak queue size.
type eventHeap struct{ a []event }

// Len returns the number of queued events.
func (h *eventHeap) Len() int { return len(h.a) }

// push adds e.
func (h *eventHeap) push(e event) {
	h.a = append(h.a, e)
	a := h.a
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(&a[p]) {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = e
}

// pop removes and returns the earliest event. The heap must not be empty.
func (h *eventHeap) pop() event {
	a := h.a
	top := a[0]
	n := len(a) - 1
	last := a[n]
	a[n] = event{} // drop the Message reference for the GC
	h.a = a[:n]
	if n > 0 {
		a = a[:n]
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if r := c + 1; r < n && a[r].before(&a[c]) {
				c = r
			}
			if !a[c].before(&last) {
				break
			}
			a[i] = a[c]
			i = c
		}
		a[i] = last
	}
	return top
}

// peekAt returns the time of the earliest event. The heap must not be empty.
func (h *eventHeap) peekAt() Time { return h.a[0].at }

// peekMsg returns the message of the earliest event (nil if none). The heap
// must not be empty.
func (h *eventHeap) peekMsg() Message { return h.a[0].msg }
