package sim

import (
	"math/rand/v2"
	"testing"
)

// TestMsgSlotsExact drives msgSlots' address index (open addressing with
// stale entries and periodic rebuilding) with messages drawn again and
// again from a pool larger than msgWindow, against a reference that
// numbers messages by identity: a message is found, with its age, exactly
// when it was numbered fewer than msgWindow messages ago, and every cached
// message is reachable in the index from its home.
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
			checkIndex(t, step, &c)
		}
	}
	if repeats < 10_000 || forgotten < 1000 {
		t.Fatalf("%d repeats, %d forgotten: the draws do not cover the cases", repeats, forgotten)
	}
}

// checkIndex checks that every message that can be found is reachable in
// the index from its home place (before an empty place), and that the
// index keeps empty places (at most 2*msgWindow entries).
func checkIndex(t *testing.T, step int, c *msgSlots) {
	t.Helper()
	entries := 0
	for _, e := range c.index {
		if e != 0 {
			entries++
		}
	}
	if entries > 2*msgWindow {
		t.Fatalf("step %d: %d index entries, want at most %d", step, entries, 2*msgWindow)
	}
	for i := range c.slot {
		p, _ := dataOf(&c.slot[i])
		if p == nil || c.hidden[i] {
			continue
		}
		found := false
		for h := home(p); c.index[h] != 0; h = (h + 1) % len(c.index) {
			if int(c.index[h]-1) == i {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("step %d: slot %d (%p) not reachable from its home", step, i, p)
		}
	}
}

// Zero-size messages: every one lies at the same address.
type zMsgA struct{}
type zMsgB struct{}

func (*zMsgA) Type() MsgType                   { return typeBench }
func (*zMsgA) Size() int                       { return 0 }
func (*zMsgA) AppendCanonical(b []byte) []byte { return b }
func (*zMsgB) Type() MsgType                   { return typeBench }
func (*zMsgB) Size() int                       { return 0 }
func (*zMsgB) AppendCanonical(b []byte) []byte { return b }

// TestMsgSlotsSharedAddress: messages of different types at one address
// (zero-size values) are different messages, and numbering one hides the
// other; a message with a nil pointer is never found. A reference keeps,
// per address, the type and number of the latest message numbered there.
func TestMsgSlotsSharedAddress(t *testing.T) {
	pool := []Message{&zMsgA{}, &zMsgB{}, (*qMsg)(nil), (*zMsgA)(nil)}
	for range 6 {
		pool = append(pool, &qMsg{})
	}
	type latest struct {
		tab any // the message's type, as an interface holding a nil of it
		num uint64
	}
	ref := map[uintptr]latest{}
	typeOf := func(m Message) any {
		switch m.(type) {
		case *zMsgA:
			return (*zMsgA)(nil)
		case *zMsgB:
			return (*zMsgB)(nil)
		}
		return (*qMsg)(nil)
	}
	var c msgSlots
	var count uint64
	rng := rand.New(rand.NewPCG(7, 8))
	hidden := 0
	for step := range 100_000 {
		m := pool[rng.IntN(len(pool))]
		if rng.IntN(200) == 0 { // push the others out of the window
			for range msgWindow / 4 {
				q := &qMsg{}
				if _, _, hit := c.seen(q); hit {
					t.Fatalf("step %d: a new message found", step)
				}
				count++
			}
		}
		p, _ := dataOf(&m)
		l, ok := ref[uintptr(p)]
		want := p != nil && ok && l.tab == typeOf(m) && count-1-l.num < msgWindow
		if !want && ok && l.tab != typeOf(m) && count-1-l.num < msgWindow {
			hidden++
		}
		i, age, hit := c.seen(m)
		if hit != want {
			t.Fatalf("step %d: seen(%T at %p) = %v, want %v", step, m, p, hit, want)
		}
		if hit {
			if age != count-1-l.num || i != int(l.num%msgWindow) {
				t.Fatalf("step %d: slot %d age %d, want slot %d age %d", step, i, age, l.num%msgWindow, count-1-l.num)
			}
			continue
		}
		if p != nil {
			ref[uintptr(p)] = latest{typeOf(m), count}
		}
		count++
		if step%100 == 0 {
			checkIndex(t, step, &c)
		}
	}
	if hidden < 1000 {
		t.Fatalf("%d messages hidden by another type at their address: the draws do not cover the case", hidden)
	}
}
