package pbft

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// TestLateViewChangeGetsTheNewView: a replica active in view 1 (entered by
// a NEW-VIEW) that receives VIEW-CHANGEs for view 1 (or an older view)
// from a replica that is still asking answers the second one from that
// sender and every later one with the NEW-VIEW it accepted (the first late
// one is normal: only 2f+1 were needed; the count saturates, so a
// re-delivery leaves the state unchanged); not for badly signed ones, not
// for VIEW-CHANGEs for a later view, and not for ones from another sender
// counted together. With brokenLateVCReset (the count reset after each
// answer, so every second one is answered) "three" and "four" fail.
func TestLateViewChangeGetsTheNewView(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(h *harness) []hmsg // late VIEW-CHANGEs to replica 3
		want []int                   // NEW-VIEWs sent to 0, 1, 2 by replica 3 after them
	}{
		{"one", func(h *harness) []hmsg { return []hmsg{{0, 3, vcFor(h.kr, 1, 0)}} }, []int{0, 0, 0}},
		{"two", func(h *harness) []hmsg {
			return []hmsg{{0, 3, vcFor(h.kr, 1, 0)}, {0, 3, vcFor(h.kr, 1, 0)}}
		}, []int{1, 0, 0}},
		{"three", func(h *harness) []hmsg {
			return []hmsg{{0, 3, vcFor(h.kr, 1, 0)}, {0, 3, vcFor(h.kr, 1, 0)}, {0, 3, vcFor(h.kr, 1, 0)}}
		}, []int{2, 0, 0}},
		{"four", func(h *harness) []hmsg {
			vc := vcFor(h.kr, 1, 0)
			return []hmsg{{0, 3, vc}, {0, 3, vc}, {0, 3, vc}, {0, 3, vc}}
		}, []int{3, 0, 0}},
		{"two senders once each", func(h *harness) []hmsg {
			return []hmsg{{0, 3, vcFor(h.kr, 1, 0)}, {2, 3, vcFor(h.kr, 1, 2)}}
		}, []int{0, 0, 0}},
		{"two senders twice each", func(h *harness) []hmsg {
			return []hmsg{{0, 3, vcFor(h.kr, 1, 0)}, {2, 3, vcFor(h.kr, 1, 2)}, {2, 3, vcFor(h.kr, 1, 2)}, {0, 3, vcFor(h.kr, 1, 0)}}
		}, []int{1, 0, 1}},
		{"older view twice", func(h *harness) []hmsg {
			return []hmsg{{1, 3, vcFor(h.kr, 0, 1)}, {1, 3, vcFor(h.kr, 0, 1)}}
		}, []int{0, 1, 0}},
		{"bad signature twice", func(h *harness) []hmsg {
			vc := vcFor(h.kr, 1, 0)
			bad := *vc
			bad.Sig ^= 1
			return []hmsg{{0, 3, &bad}, {0, 3, &bad}}
		}, []int{0, 0, 0}},
		{"later view twice", func(h *harness) []hmsg {
			return []hmsg{{0, 3, vcFor(h.kr, 2, 0)}, {0, 3, vcFor(h.kr, 2, 0)}}
		}, []int{0, 0, 0}},
		{"relayed by another replica", func(h *harness) []hmsg {
			return []hmsg{{2, 3, vcFor(h.kr, 1, 0)}, {2, 3, vcFor(h.kr, 1, 0)}}
		}, []int{0, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, hopts{n: 4, clients: 1})
			h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true }
			h.inject(4, 3, req(h, "x", 1))
			h.deliverAll()
			h.fireNext(sim.Time(1 << 62)) // request timer: VIEW-CHANGE(1)
			V := []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 1), vcFor(h.kr, 1, 2)}
			h.inject(1, 3, nvFor(h.kr, 1, V, nil))
			h.deliverAll()
			if r := h.replicas[3]; r.view != 1 || !r.active {
				t.Fatalf("replica 3 not active in view 1: %v", r)
			}
			before := len(h.forwards)
			for _, m := range c.send(h) {
				h.inject(m.from, m.to, m.msg)
				h.deliverAll()
			}
			got := make([]int, 3)
			for _, f := range h.forwards[before:] {
				if f.from == 3 && f.to < 3 {
					got[f.to]++
				}
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("NEW-VIEWs sent by replica 3 to 0, 1, 2: %v, want %v", got, c.want)
				}
			}
		})
	}
}
