package properties

import (
	"strings"
	"unsafe"
)

// payTab numbers the payments the linearizability check holds something
// for (linsegment.go): a payment id is looked up once, when its request is
// submitted (or, for a request no correct client submitted, replayed), and
// its slot index then travels with the submission and the committed log's
// entry, so that the fold's per-request work (captureStart, foldOp,
// cutSegments, refHolds) indexes a slice instead of hashing the id into
// string-keyed maps. A slot holds the payment's summary or its open
// segment (never both) and the fold's scratch marks.
//
// Memory stays bounded as the maps' did: a slot is freed, and its number
// reused, when it holds neither a summary nor an open segment and no
// submission or committed-log entry the checker still holds refers to it
// (sweep, run after a fold when the slots in use have doubled since the
// last sweep).
type payTab struct {
	idx   map[string]int32 // id -> slot
	slots []paySlot
	free  []int32 // free slots, reused last first
	open  []int32 // the slots with an open segment (paySlot.openAt: the position)
	nSum  int     // the slots holding a summary
	live  int     // the slots in use after the last sweep
	epoch uint32  // the last scratch mark handed out (newMark)
}

// paySlot is one payment's entry in a payTab.
type paySlot struct {
	id     string // the payment id (cloned: no operation is kept alive)
	used   bool   // false: free
	hasSum bool   // sum is the payment's summary
	sum    paySum
	pl     *payLin // the open segment, carried operations or states; nil: none
	openAt int32   // pl's position in payTab.open
	// Scratch marks (a mark is valid when it equals the value handed out
	// for the current use, see newMark).
	minMark  uint32 // minCall is set (cutSegments)
	busyMark uint32 // the payment is in the unfolded replayed log (refHolds)
	keepMark uint32 // referenced (sweep)
	minCall  int64
}

// noSlot is the slot of nothing (a null request's log entry).
const noSlot = -1

// reset empties t, keeping its memory.
func (t *payTab) reset() {
	t.idx = reuse(t.idx)
	clear(t.slots)
	*t = payTab{idx: t.idx, slots: t.slots[:0], free: t.free[:0], open: t.open[:0], epoch: t.epoch}
}

// intern returns id's slot, adding it.
func (t *payTab) intern(id string) int32 {
	if i, ok := t.idx[id]; ok {
		return i
	}
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		i = int32(len(t.slots))
		t.slots = append(t.slots, paySlot{})
	}
	id = strings.Clone(id)
	t.slots[i] = paySlot{id: id, used: true, openAt: -1}
	t.idx[id] = i
	return i
}

// find returns id's slot (ok false: none).
func (t *payTab) find(id string) (int32, bool) {
	i, ok := t.idx[id]
	return i, ok
}

// setSum makes s slot i's summary (dropping an open segment).
func (t *payTab) setSum(i int32, s paySum) {
	t.clearOpen(i)
	sl := &t.slots[i]
	if !sl.hasSum {
		sl.hasSum = true
		t.nSum++
	}
	sl.sum = s
}

// dropSum forgets slot i's summary.
func (t *payTab) dropSum(i int32) {
	if sl := &t.slots[i]; sl.hasSum {
		sl.hasSum, sl.sum = false, paySum{}
		t.nSum--
	}
}

// setOpen makes pl slot i's open segment (dropping its summary).
func (t *payTab) setOpen(i int32, pl *payLin) {
	t.dropSum(i)
	sl := &t.slots[i]
	if sl.pl == nil {
		sl.openAt = int32(len(t.open))
		t.open = append(t.open, i)
	}
	sl.pl = pl
}

// clearOpen forgets slot i's open segment.
func (t *payTab) clearOpen(i int32) {
	sl := &t.slots[i]
	if sl.pl == nil {
		return
	}
	last := t.open[len(t.open)-1]
	t.open[sl.openAt] = last
	t.slots[last].openAt = sl.openAt
	t.open = t.open[:len(t.open)-1]
	sl.pl, sl.openAt = nil, -1
}

// newMark returns a scratch mark no slot holds yet.
func (t *payTab) newMark() uint32 {
	t.epoch++
	if t.epoch == 0 { // wrapped: no stale mark may equal a new one
		for i := range t.slots {
			sl := &t.slots[i]
			sl.minMark, sl.busyMark, sl.keepMark = 0, 0, 0
		}
		t.epoch = 1
	}
	return t.epoch
}

// inUse returns the number of slots in use.
func (t *payTab) inUse() int { return len(t.slots) - len(t.free) }

// wantSweep reports whether the slots in use doubled since the last sweep.
func (t *payTab) wantSweep() bool { return t.inUse() >= 2*t.live+64 }

// sweep frees the slots that hold no summary and no open segment and
// whose mark is not keep (the caller marked every slot still referred to
// with keep, from newMark).
func (t *payTab) sweep(keep uint32) {
	for i := range t.slots {
		sl := &t.slots[i]
		if !sl.used || sl.hasSum || sl.pl != nil || (sl.keepMark == keep && !brokenPaySweep) {
			continue
		}
		delete(t.idx, sl.id)
		*sl = paySlot{openAt: -1}
		t.free = append(t.free, int32(i))
	}
	t.live = t.inUse()
}

// brokenPaySweep makes sweep free referenced slots (tests: the
// differential test must fail).
var brokenPaySweep = false

// summaryBytes returns the size of the summaries held: a paySum and the
// id's bytes each.
func (t *payTab) summaryBytes() int {
	n := 0
	for i := range t.slots {
		if t.slots[i].hasSum {
			n += int(unsafe.Sizeof(paySum{})) + len(t.slots[i].id)
		}
	}
	return n
}

// replaySlot returns the slot of the payment of ent, the committed log's
// entry the reference replay executes now, whose request's state is rq:
// its submission's slot when the client submitted that very operation, else
// by the id.
func (c *Checker) replaySlot(ent *logEntry, rq *reqState) int32 {
	if i := rq.sub; i >= 0 && c.subs[i].req.Op == ent.req.Op {
		return c.subs[i].slot
	}
	return c.fold.req.pays.intern(paymentOf(ent.req.Op))
}

// sweepPays frees the payment slots that nothing refers to (payTab.sweep):
// the submissions and the replayed entries of the committed log the
// checker holds refer to theirs.
func (c *Checker) sweepPays() {
	t := &c.fold.req.pays
	keep := t.newMark()
	for i := range c.subs {
		t.slots[c.subs[i].slot].keepMark = keep
	}
	c.log.each(func(entries []logEntry) {
		for i := range entries {
			if e := &entries[i]; e.ok && !e.null {
				t.slots[e.slot].keepMark = keep
			}
		}
	})
	t.sweep(keep)
}
