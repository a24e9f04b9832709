package sim

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTimerHeapRandom checks the indexed timer heap against a plain list
// under random adds, updates, removals and pops: pops come out in (at, key)
// order, and every live timer's slot knows its position.
func TestTimerHeapRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h timerHeap
	type live struct {
		slot uint32
		at   Time
		key  uint64
	}
	var ref []live
	var seq uint64
	check := func() {
		t.Helper()
		if h.Len() != len(ref) {
			t.Fatalf("heap has %d timers, want %d", h.Len(), len(ref))
		}
		for i, e := range h.a {
			if h.t[e.slot].pos != i {
				t.Fatalf("slot %d at position %d thinks it is at %d", e.slot, i, h.t[e.slot].pos)
			}
			if i > 0 && h.a[i].before(&h.a[(i-1)/2]) {
				t.Fatalf("heap order broken at %d", i)
			}
		}
	}
	for step := 0; step < 20000; step++ {
		seq++
		at := Time(r.IntN(1000))
		switch op := r.IntN(4); {
		case op == 0 || len(ref) == 0:
			s := h.add(NodeID(r.IntN(5)), TimerID(step), at, seq)
			ref = append(ref, live{s, at, seq})
		case op == 1:
			i := r.IntN(len(ref))
			h.update(ref[i].slot, at, seq)
			ref[i].at, ref[i].key = at, seq
		case op == 2:
			i := r.IntN(len(ref))
			h.remove(ref[i].slot)
			ref = slices.Delete(ref, i, i+1)
		default:
			best := 0
			for i, x := range ref {
				if x.at < ref[best].at || (x.at == ref[best].at && x.key < ref[best].key) {
					best = i
				}
			}
			top, _ := h.pop()
			if top.at != ref[best].at || top.key != ref[best].key || top.slot != ref[best].slot {
				t.Fatalf("step %d: pop gave (%d, %d, slot %d), want (%d, %d, slot %d)", step, top.at, top.key, top.slot, ref[best].at, ref[best].key, ref[best].slot)
			}
			ref = slices.Delete(ref, best, best+1)
		}
		check()
	}
}

// TestNodeTimersMatchMap runs random sets, deletes, lookups and resets on a
// nodeTimers and on a map, with ids on both sides of smallTimers (0 and
// huge ids included) and slot 0 among the slots: every lookup and the set
// of live timers must agree.
func TestNodeTimersMatchMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ids := []TimerID{0, 1, 2, 7, smallTimers - 1, smallTimers, smallTimers + 1, 40, 1 << 40, ^TimerID(0)}
	var nt nodeTimers
	ref := map[TimerID]uint32{}
	for op := range 20000 {
		id := ids[r.IntN(len(ids))]
		switch c := r.IntN(100); {
		case c < 45:
			slot := uint32(r.IntN(4)) // slot 0 is a valid slot
			nt.set(id, slot)
			ref[id] = slot
		case c < 90:
			nt.del(id)
			delete(ref, id)
		case c < 99:
			got, ok := nt.get(id)
			want, wok := ref[id]
			if ok != wok || got != want {
				t.Fatalf("op %d: get(%d) = %d, %v; want %d, %v", op, id, got, ok, want, wok)
			}
		default:
			nt.reset()
			clear(ref)
		}
		all := map[TimerID]uint32{}
		nt.all(func(id TimerID, slot uint32) {
			if _, dup := all[id]; dup {
				t.Fatalf("op %d: all gave timer %d twice", op, id)
			}
			all[id] = slot
		})
		if !maps.Equal(all, ref) {
			t.Fatalf("op %d: all gave %v, want %v", op, all, ref)
		}
	}
}
