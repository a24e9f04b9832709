package pbft

import (
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// The tests of this package check the replica invariants after every step.
func init() { invariantsOn = true }

// TestInvariantsCatchBrokenState shows each assertion failing on a state
// that breaks it.
func TestInvariantsCatchBrokenState(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(r *Replica)
		want   string
	}{
		{"view decreases", func(r *Replica) { r.view = 0 }, "view went from"},
		{"executed decreases", func(r *Replica) { r.lastExec = 0 }, "last executed went from"},
		{"watermark not a checkpoint", func(r *Replica) { r.h, r.seq, r.lastExec = 1, 1, 1 }, "watermarks"},
		{"entry outside the window", func(r *Replica) { e := r.getEntry(500); e.seq = 500 }, "outside (h, h+L]"},
		{"two digests for (v, n)", func(r *Replica) { e := r.log.get(1); pp := *e.pp; pp.Digest[0]++; e.pp = &pp }, "two PRE-PREPAREs"},
		{"executed flag beyond last executed", func(r *Replica) { r.getEntry(2).executed = true }, "executed=true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := isolated(t, 4, Correct)
			pp := ppWith(h, 1, 1, req(h, "x", 1))
			r := h.replicas[1]
			// view 1 entered by a NEW-VIEW, seq 1 executed
			V := []*ViewChange{vcFor(h.kr, 1, 0), vcFor(h.kr, 1, 2), vcFor(h.kr, 1, 3)}
			h.inject(1, 2, nvFor(h.kr, 1, V, nil))
			h.deliverAll()
			r = h.replicas[2]
			h.inject(1, 2, pp)
			h.inject(3, 2, prep(h.kr, 1, 1, pp.Digest, 3))
			h.inject(1, 2, commit(h.kr, 1, 1, pp.Digest, 1))
			h.inject(3, 2, commit(h.kr, 1, 1, pp.Digest, 3))
			h.deliverAll()
			if r.View() != 1 || r.LastExecuted() != 1 {
				t.Fatalf("set-up: %v", r)
			}
			got := func() (msg string) {
				defer func() {
					if p := recover(); p != nil {
						msg, _ = p.(string)
					}
				}()
				c.break_(r)
				r.checkInvariants()
				return ""
			}()
			if !strings.Contains(got, c.want) {
				t.Fatalf("got %q, want a panic about %q", got, c.want)
			}
		})
	}
	_ = sim.NodeID(0)
}
