package sim

import (
	"cmp"
	"slices"
)

// PendingTimer is a live timer of a node: it fires At unless it is
// cancelled, re-armed or its node crashes first.
type PendingTimer struct {
	Node NodeID
	ID   TimerID
	At   Time
}

// Timers returns node id's live timers, earliest first (for inspection
// between steps: an interactive explorer shows them; a run never needs it).
func (k *Kernel) Timers(id NodeID) []PendingTimer {
	if id < 0 || int(id) >= k.n {
		return nil
	}
	type live struct {
		t   PendingTimer
		key uint64
	}
	var ls []live
	k.timers[id].all(func(tid TimerID, slot uint32) {
		e := k.th.a[k.th.t[slot].pos]
		ls = append(ls, live{PendingTimer{Node: id, ID: tid, At: e.at}, e.key})
	})
	slices.SortFunc(ls, func(a, b live) int {
		if a.t.At != b.t.At {
			return cmp.Compare(a.t.At, b.t.At)
		}
		return cmp.Compare(a.key, b.key)
	})
	out := make([]PendingTimer, len(ls))
	for i, l := range ls {
		out[i] = l.t
	}
	return out
}
