package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/explore"
)

// redeliveryCopier copies and hashes nodes much as the exhaustive explorer
// does (properties/explore's copier, which this package cannot import):
// keyrings and caches shared and not hashed, allocation slabs, scratch
// buffers, free lists and the output batch not hashed. It is stricter:
// it also hashes the ledger's caches (trie nodes' Merkle hashes, version
// memos) that the explorer skips, so a re-delivery that only fills a
// cache fails here too.
func redeliveryCopier() *explore.Copier {
	return &explore.Copier{
		Shared: explore.TypeNamed("Keyring", "VerifyCache", "SnapshotCache", "Ops"),
		Zero:   explore.TypeNamed("slab["),
		Skip:   map[string]bool{"Replica.out": true},
		Reset:  map[string]bool{"Replica.buf": true, "Replica.free": true, "Client.buf": true, "Client.scratch": true},
	}
}

// redelivery checks, after every message step of a harness run, that the
// message delivered again leaves the receiver's state as it was (the
// network may duplicate messages: the explorer's monotone network
// re-delivers any message sent).
type redelivery struct {
	t  *testing.T
	cp *explore.Copier
	// checked counts the deliveries checked per message type; buffered
	// those of a future view's message the receiver buffered, late those
	// of a VIEW-CHANGE for the receiver's view or an older one.
	checked        map[string]int
	buffered, late int
	fails          int
}

func newRedelivery(t *testing.T, h *harness) *redelivery {
	c := &redelivery{t: t, cp: redeliveryCopier(), checked: map[string]int{}}
	h.afterDeliver = c.after
	return c
}

// after delivers in again three times to a copy of nd, which has just
// stepped with it. The second delivery must leave nd's state hash
// unchanged, but for two inputs whose repetition the protocol reads as a
// retransmission (a network duplicate is indistinguishable from one): a
// REQUEST from its client (the primary then starts its request timer) and
// a VIEW-CHANGE for the receiver's view or an older one (counted per
// sender up to 2: the second is answered with the NEW-VIEW). For those
// the fourth delivery must leave the state as the third did: either way a
// message delivered again and again changes its receiver's state at most
// twice.
func (c *redelivery) after(nd sim.Node, now sim.Time, in sim.Input) {
	var h [4]uint64
	h[0] = c.cp.Hash(nd)
	x := c.cp.Clone(nd).(sim.Node)
	var out sim.Output
	for i := 1; i < len(h); i++ {
		out.Reset()
		x.Step(now, in, &out)
		h[i] = c.cp.Hash(x)
	}
	kind := in.Msg.Type().String()
	c.checked[kind]++
	retransmission := false
	if r, ok := nd.(*Replica); ok {
		switch m := in.Msg.(type) {
		case *Request:
			retransmission = in.From == m.Client
		case *ViewChange:
			if m.NewView <= r.view && r.active {
				retransmission = true
				c.late++
			}
		}
		for _, fm := range r.future {
			if fm.msg == in.Msg {
				c.buffered++
				break
			}
		}
	}
	var bad string
	switch {
	case h[3] != h[2]:
		bad = "the fourth delivery changed the state"
	case h[1] != h[0] && !retransmission:
		bad = "the second delivery changed the state"
	}
	if bad != "" {
		c.fails++
		if c.fails <= 5 {
			c.t.Errorf("%s from %d to %T: %s", kind, in.From, nd, bad)
		}
	}
}

// report fails the test if a kind in want was never checked, or, when
// asked, no buffered future message or late VIEW-CHANGE was.
func (c *redelivery) report(want []string, buffered, late bool) {
	c.t.Helper()
	c.t.Logf("checked %v; %d of a buffered future message, %d late VIEW-CHANGEs", c.checked, c.buffered, c.late)
	for _, k := range want {
		if c.checked[k] == 0 {
			c.t.Errorf("no %s delivered: the run checked none", k)
		}
	}
	if buffered && c.buffered == 0 {
		c.t.Error("no future-view message buffered: the run checked none")
	}
	if late && c.late == 0 {
		c.t.Error("no late VIEW-CHANGE delivered: the run checked none")
	}
}

// TestRedeliveryLeavesStateUnchanged: every message delivered in two runs
// (a replica stuck in an old view that keeps asking for it and is sent
// the NEW-VIEW; a view change under reordering delays with checkpoints,
// where messages of the new view reach replicas still changing to it) is
// delivered again to a copy of its receiver: the state stays as it was
// (see redelivery.after for the two retransmissions counted up to twice).
// brokenFutureDup (a future message buffered again) and brokenLateVCReset
// (the late count reset after each answer, so it flips) make it fail.
func TestRedeliveryLeavesStateUnchanged(t *testing.T) {
	t.Run("stuck replica", func(t *testing.T) {
		h := newHarness(t, hopts{n: 4, clients: 1, ops: 1})
		c := newRedelivery(t, h)
		runStuckReplica(t, h)
		c.report([]string{"REQUEST", "PREPARE", "COMMIT", "REPLY", "VIEW-CHANGE", "NEW-VIEW"}, false, true)
	})
	t.Run("view change under reordering", func(t *testing.T) {
		h := newHarness(t, hopts{n: 4, clients: 2, ops: 6, k: 2, l: 4,
			delay: sim.Delay{Kind: sim.DelayUniform, Max: 2 * time.Millisecond}, seed: 3})
		c := newRedelivery(t, h)
		h.drop = func(from, to sim.NodeID, m sim.Message) bool {
			pp, ok := m.(*PrePrepare)
			return ok && pp.View == 0 && pp.Seq >= 3 && to != 1 // primary 0 stalls at seq 3
		}
		h.start()
		h.run(time.Minute, nil)
		if !h.allDone() {
			t.Fatalf("not done: %v", fmt.Sprint(h.replicas))
		}
		c.report([]string{"REQUEST", "PRE-PREPARE", "PREPARE", "COMMIT", "REPLY", "CHECKPOINT", "VIEW-CHANGE", "NEW-VIEW"}, true, true)
	})
}
