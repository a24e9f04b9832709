package sim

// timerHeap is an indexed binary min-heap of the live timers, ordered by
// (at, key) like the event queue (keys come from the same sequence). Each
// timer has a slot that remembers its position in the heap, so re-arming a
// timer moves its entry and cancelling it removes it: the queue never holds
// stale timers (a protocol re-arming its timers on every request would
// otherwise fill the event queue with them).
type timerHeap struct {
	a    []entry // entry.slot indexes t
	t    []timerSlot
	free []uint32
}

// entry is a timer in the timer heap: its time and key and its slot (see
// timerHeap).
type entry struct {
	at   Time
	key  uint64
	slot uint32
}

// before reports whether a runs before b.
func (a *entry) before(b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// timerSlot is one live timer.
type timerSlot struct {
	node NodeID
	id   TimerID
	pos  int // index in a
}

// Len returns the number of live timers.
func (h *timerHeap) Len() int { return len(h.a) }

// add queues timer id of node at (at, key) and returns its slot.
func (h *timerHeap) add(node NodeID, id TimerID, at Time, key uint64) uint32 {
	var slot uint32
	ts := timerSlot{node: node, id: id, pos: len(h.a)}
	if n := len(h.free); n > 0 {
		slot = h.free[n-1]
		h.free = h.free[:n-1]
		h.t[slot] = ts
	} else {
		slot = uint32(len(h.t))
		h.t = append(h.t, ts)
	}
	h.a = append(h.a, entry{at: at, key: key, slot: slot})
	h.up(len(h.a) - 1)
	return slot
}

// update moves the timer in slot to (at, key).
func (h *timerHeap) update(slot uint32, at Time, key uint64) {
	i := h.t[slot].pos
	old := h.a[i]
	h.a[i].at, h.a[i].key = at, key
	if h.a[i].before(&old) {
		h.up(i)
	} else {
		h.down(i)
	}
}

// remove drops the timer in slot and frees the slot.
func (h *timerHeap) remove(slot uint32) {
	i := h.t[slot].pos
	n := len(h.a) - 1
	if i != n {
		h.a[i] = h.a[n]
		h.t[h.a[i].slot].pos = i
		h.a = h.a[:n]
		h.down(i)
		h.up(i)
	} else {
		h.a = h.a[:n]
	}
	h.free = append(h.free, slot)
}

// pop removes the earliest timer and returns it with its node and id. The
// heap must not be empty.
func (h *timerHeap) pop() (entry, timerSlot) {
	top := h.a[0]
	ts := h.t[top.slot]
	h.remove(top.slot)
	return top, ts
}

func (h *timerHeap) up(i int) {
	a := h.a
	x := a[i]
	for i > 0 {
		p := (i - 1) / 2
		if !x.before(&a[p]) {
			break
		}
		a[i] = a[p]
		h.t[a[i].slot].pos = i
		i = p
	}
	a[i] = x
	h.t[x.slot].pos = i
}

func (h *timerHeap) down(i int) {
	a := h.a
	n := len(a)
	x := a[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && a[r].before(&a[c]) {
			c = r
		}
		if !a[c].before(&x) {
			break
		}
		a[i] = a[c]
		h.t[a[i].slot].pos = i
		i = c
	}
	a[i] = x
	h.t[x.slot].pos = i
}

// peekAt returns the time of the next event: the earliest timer's when timer
// is true, otherwise the earliest queued event's.
func (h *timerHeap) peekAt(timer bool, q *eventQueue) Time {
	if timer {
		return h.a[0].at
	}
	return q.peekAt()
}

// smallTimers is the number of timer ids a nodeTimers holds in its array
// (protocols number their timers from 1 up; larger ids go to a map).
const smallTimers = 16

// nodeTimers maps one node's live timers to their slots in the timer heap,
// without a map lookup for the small ids protocols use: id i <
// smallTimers in small[i] (slot+1; 0: not live), larger ids in big.
type nodeTimers struct {
	small [smallTimers]uint32
	big   map[TimerID]uint32
}

// get returns the slot of live timer id.
func (t *nodeTimers) get(id TimerID) (uint32, bool) {
	if id < smallTimers {
		if s := t.small[id]; s != 0 {
			return s - 1, true
		}
		return 0, false
	}
	s, ok := t.big[id]
	return s, ok
}

// set records slot as the slot of live timer id.
func (t *nodeTimers) set(id TimerID, slot uint32) {
	if id < smallTimers {
		t.small[id] = slot + 1
		return
	}
	if t.big == nil {
		t.big = make(map[TimerID]uint32)
	}
	t.big[id] = slot
}

// del forgets timer id.
func (t *nodeTimers) del(id TimerID) {
	if id < smallTimers {
		t.small[id] = 0
		return
	}
	delete(t.big, id)
}

// all calls f with every live timer and its slot: the small ids in order,
// then the others in map order (callers must not depend on the order).
func (t *nodeTimers) all(f func(id TimerID, slot uint32)) {
	for i, s := range t.small {
		if s != 0 {
			f(TimerID(i), s-1)
		}
	}
	for id, s := range t.big {
		f(id, s)
	}
}

// reset forgets every timer.
func (t *nodeTimers) reset() {
	t.small = [smallTimers]uint32{}
	clear(t.big)
}
