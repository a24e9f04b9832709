package properties

import (
	"fmt"
	"math"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// The parts of the default liveness bound that come from the world around
// the replicas (issue 20): clocks and link bandwidth. Region delays need no
// term of their own: network.regions sets every link's delay, and
// delayBound takes the largest over the links (max RTT/2 plus the jitter's
// 99.9th percentile).

// clockStretch is how much the nodes' clocks can stretch the bound: slow
// is the largest factor by which a clock makes a timer last longer in
// virtual time (1/(1+ppm/1e6) for the slowest clock, at least 1); back is
// the longest total backward jump of one node's clock, in virtual time (a
// backward jump delays every pending timer by its size); forward is the
// largest number of forward jumps of one node (each may fire a pending
// view-change timer early: the view fails and the timer doubles without
// the time having passed, which breaks the paper's argument that timers at
// GST are about GST long, by one doubling per jump).
func clockStretch(c cluster.Config) (slow float64, back time.Duration, forward int) {
	slow = 1
	for _, cl := range c.Clocks {
		scale, ok := driftScale(cl.DriftPPM)
		if !ok { // unreachable after validation
			continue
		}
		slow = max(slow, scale)
		var b time.Duration
		fw := 0
		for _, j := range cl.Jumps {
			if j.By < 0 {
				b -= j.By
			} else {
				fw++
			}
		}
		back = max(back, time.Duration(float64(b)*scale))
		forward = max(forward, fw)
	}
	return slow, back, forward
}

// driftScale is the virtual time a clock drifting by ppm parts per million
// takes per second it reads (ok: a finite positive factor).
func driftScale(ppm float64) (scale float64, ok bool) {
	scale = 1e6 / (1e6 + ppm)
	return scale, scale > 0 && !math.IsInf(scale, 0)
}

// clockShrink is how much the nodes' clocks can shorten a timer: fast (at
// most 1) is the fastest clock's factor (a clock that runs ppm parts per
// million fast ends a timer of d after d*1e6/(1e6+ppm) of virtual time),
// forward the longest total forward jump of one clock, in virtual time (a
// timer whose deadline a jump skips fires at once, up to the jump early).
func clockShrink(c cluster.Config) (fast float64, forward time.Duration) {
	fast = 1
	for _, cl := range c.Clocks {
		scale, ok := driftScale(cl.DriftPPM)
		if !ok {
			continue
		}
		fast = min(fast, scale)
		var fw time.Duration
		for _, j := range cl.Jumps {
			if j.By > 0 {
				fw += j.By
			}
		}
		forward = max(forward, time.Duration(float64(fw)*max(scale, 1)))
	}
	return fast, forward
}

// queueBound is the longest a view's largest burst of bytes can occupy a
// rate-limited link (0 when no link is limited): the new primary's NEW-VIEW
// (2f+1 VIEW-CHANGEs, each with a prepared certificate, PRE-PREPARE and 2f
// PREPAREs, for every sequence number that can be in flight: at most the
// log window, and at most the workload's requests) to its n-1 peers plus its
// own VIEW-CHANGE to them, on the slowest egress link; and n-1 VIEW-CHANGEs
// plus one NEW-VIEW arriving at the slowest ingress link. HotStuff's
// messages carry at most one certificate of 2f+1 votes, far less, so the
// PBFT figure over-estimates its queueing.
func queueBound(c cluster.Config) time.Duration {
	eg, in := c.Network.SlowestEgress(c.N), c.Network.SlowestIngress(c.N)
	if eg == 0 && in == 0 {
		return 0
	}
	vc, nv := viewChangeSizes(c)
	peers := c.N - 1
	return eg.TxTime(peers*(nv+vc)) + in.TxTime(peers*vc+nv)
}

// viewChangeSizes returns the wire sizes of the largest VIEW-CHANGE and
// NEW-VIEW of c's PBFT configuration (see queueBound), built from the
// protocol's own messages so the sizes follow its encoding.
func viewChangeSizes(c cluster.Config) (vc, nv int) {
	seqs := c.Window
	if c.Requests > 0 {
		seqs = min(seqs, c.Requests)
	}
	batch := make([]*pbft.Request, max(c.Batch, 1))
	for i := range batch {
		batch[i] = &pbft.Request{Op: "AUTHORIZE PAY0000000 100.00"}
	}
	pp := &pbft.PrePrepare{Batch: batch}
	cert := pbft.PreparedCert{PrePrepare: pp, Prepares: make([]*pbft.Prepare, 2*c.F)}
	for i := range cert.Prepares {
		cert.Prepares[i] = &pbft.Prepare{}
	}
	v := &pbft.ViewChange{Prepared: make([]pbft.PreparedCert, seqs), Checkpoints: make([]*pbft.Checkpoint, 2*c.F+1)}
	for i := range v.Prepared {
		v.Prepared[i] = cert
	}
	for i := range v.Checkpoints {
		v.Checkpoints[i] = &pbft.Checkpoint{}
	}
	n := &pbft.NewView{ViewChanges: make([]*pbft.ViewChange, 2*c.F+1), PrePrepares: make([]*pbft.PrePrepare, seqs)}
	for i := range n.ViewChanges {
		n.ViewChanges[i] = v
	}
	for i := range n.PrePrepares {
		n.PrePrepares[i] = pp
	}
	return v.Size(), n.Size()
}

// linkOverload returns why c's rate-limited links cannot be expected to
// give messages a delay bound, or "" when they can. Partial synchrony needs
// a bound on every message's delay after GST; a link's queue stays bounded
// only if what is offered to it periodically fits its rate. PBFT's
// retransmissions are periodic and do not back off (sim/pbft): a replica
// waiting for a NEW-VIEW sends its VIEW-CHANGE to its n-1 peers every
// ViewChangeTimeout (and a replica in the new view answers each
// retransmission of a peer still asking, from the second on, with the
// NEW-VIEW), and a client without its result sends its request to
// all n replicas every ClientTimeout, to which the primary answers with the
// PRE-PREPARE again and every replica with its PREPARE and COMMIT again
// (and the reply). If that load on a replica exceeds the slowest egress or
// ingress rate, the queues of a stalled request or view change grow without
// bound (congestion collapse: each retransmission waits behind the ones
// before it), and liveness cannot be expected. This is a necessary
// condition, not a sufficient one; the messages are sized as in queueBound
// (the largest the workload allows).
func linkOverload(c cluster.Config) string {
	if c.Protocol == cluster.ProtocolHotStuff {
		return ""
	}
	vc, nv := viewChangeSizes(c)
	req, pp, vote, reply := normalSizes(c)
	var bits float64
	if c.ViewChangeTimeout > 0 {
		// Waiting for a NEW-VIEW, a replica resends its VIEW-CHANGE; in
		// the new view it answers each VIEW-CHANGE retransmission of a
		// peer still asking, from the second on, with the NEW-VIEW (sim/pbft
		// onViewChange): the larger of the two.
		bits += max(float64(8*vc*(c.N-1)), float64(8*nv*(c.N-1))) / c.ViewChangeTimeout.Seconds()
	}
	if c.ClientTimeout > 0 {
		bits += float64(8*c.Clients*((c.N-1)*(pp+2*vote)+req+reply)) / c.ClientTimeout.Seconds()
	}
	nodes := c.N + c.Clients
	for _, l := range []struct {
		name string
		rate sim.Bandwidth
	}{{"egress", c.Network.SlowestEgress(nodes)}, {"ingress", c.Network.SlowestIngress(nodes)}} {
		if l.rate != 0 && bits > float64(l.rate) {
			return fmt.Sprintf("the slowest %s link (%v) cannot carry a replica's periodic retransmissions (VIEW-CHANGE of %d bytes to %d peers every %v, or NEW-VIEW of %d bytes to each in answer; for each of %d clients, every %v, its request, the PRE-PREPARE, PREPARE and COMMIT again and the reply: %.3g bit/s): its queue can grow without bound, so no delay bound holds after GST",
				l.name, l.rate, vc, c.N-1, c.ViewChangeTimeout, nv, c.Clients, c.ClientTimeout, bits)
		}
	}
	return ""
}

// normalSizes returns the wire sizes of a request, a PRE-PREPARE of a
// full batch, a PREPARE (a COMMIT has the same size) and a reply.
func normalSizes(c cluster.Config) (req, pp, vote, reply int) {
	q := &pbft.Request{Op: "AUTHORIZE PAY0000000 100.00"}
	batch := make([]*pbft.Request, max(c.Batch, 1))
	for i := range batch {
		batch[i] = q
	}
	return q.Size(), (&pbft.PrePrepare{Batch: batch}).Size(), (&pbft.Prepare{}).Size(), (&pbft.Reply{Result: "AUTHORIZED PAY0000000 100.00"}).Size()
}
