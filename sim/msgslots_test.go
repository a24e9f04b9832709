package sim

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestMsgSlotsExact drives msgSlots' address index (open addressing with
// backward-shift removal) with messages drawn again and again from a pool
// larger than msgWindow, against a reference that numbers messages by
// identity: a message is found, with its age, exactly when it was numbered
// fewer than msgWindow messages ago, and the index holds one entry per slot.
func TestMsgSlotsExact(t *testing.T) {
	pool := make([]*qMsg, 3*msgWindow)
	for i := range pool {
		pool[i] = &qMsg{}
	}
	var c msgSlots
	last := map[*qMsg]uint64{} // number of each message's latest numbering
	var count uint64
	rng := rand.New(rand.NewPCG(1, 2))
	var prev *qMsg
	repeats, forgotten := 0, 0
	for step := range 200_000 {
		var m *qMsg
		if prev != nil && rng.IntN(4) == 0 {
			m = prev // a multicast's next copy (seen's fast path)
			repeats++
		} else if rng.IntN(2) == 0 {
			m = pool[rng.IntN(len(pool))]
		} else {
			m = pool[(int(count)+rng.IntN(64))%len(pool)] // recent ones, and ones just evicted
		}
		prev = m
		num, ok := last[m]
		want := ok && count-1-num < msgWindow
		i, age, hit := c.seen(m)
		if hit != want {
			t.Fatalf("step %d: seen = %v, want %v", step, hit, want)
		}
		if hit {
			if age != count-1-num || i != int(num%msgWindow) {
				t.Fatalf("step %d: slot %d age %d, want slot %d age %d", step, i, age, num%msgWindow, count-1-num)
			}
			continue
		}
		if i != int(count%msgWindow) {
			t.Fatalf("step %d: new message in slot %d, want %d", step, i, count%msgWindow)
		}
		last[m] = count
		count++
		if rng.IntN(50) == 0 { // its encoding failed: forgotten, not found again
			c.forget(i)
			delete(last, m)
			forgotten++
		}
		if step%100 == 0 {
			entries := 0
			for h, e := range c.index {
				if e != 0 {
					entries++
					if c.slot[e-1] == nil {
						t.Fatalf("step %d: place %d names empty slot %d", step, h, e-1)
					}
					p := unsafe.Pointer(c.slot[e-1].(*qMsg))
					if got := c.find(p); got != h {
						t.Fatalf("step %d: entry %p not found from its home", step, p)
					}
				}
			}
			if want := min(int(count), msgWindow) - forgottenIn(c.slot[:min(int(count), msgWindow)]); entries != want {
				t.Fatalf("step %d: %d index entries, want %d", step, entries, want)
			}
		}
	}
	if repeats < 10_000 || forgotten < 1000 {
		t.Fatalf("%d repeats, %d forgotten: the draws do not cover the cases", repeats, forgotten)
	}
}

// forgottenIn counts the empty slots (messages forgotten).
func forgottenIn(slots []Message) int {
	n := 0
	for _, m := range slots {
		if m == nil {
			n++
		}
	}
	return n
}
