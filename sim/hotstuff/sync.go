package hotstuff

import (
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// View synchronization (Basic and chained HotStuff). The linear pacemaker lets each
// replica leave a view when its own timer expires and tells only the next
// leader. Timers that double with every failed view keep correct replicas
// in step only while their clocks run at rates less than a factor 2 apart:
// a replica whose clock runs more than twice as fast as another's enters
// every view after that one left it (it reaches view v at about
// base·2^v/rate), so with n−f replicas needed in one view no quorum ever
// forms, however long the run (check --protocol hotstuff --seed 4: clocks
// at 1.32 and 0.59 of real time, n = 5 with one silent replica, no request
// in 60 s). Partial synchrony bounds the clock rates' ratio, but by an
// unknown constant, so no fixed growth factor is enough.
//
// After more than f consecutive failed views (more than f faulty leaders
// can explain) a replica therefore synchronizes as PBFT's view change does:
// it sends its TIMEOUT to every replica, not only to the leader; it joins
// the highest view that f+1 replicas (one of them correct) timed out into;
// and the timer of a view it timed out into starts only once it knows n−f
// replicas reached that view (until then the timer sends its TIMEOUT again,
// for TIMEOUTs lost before GST). A replica ahead thus waits for the others,
// and the replicas behind join it, whatever their clock rates. Before that
// (a decision, or up to f failed views, which covers a crashed leader) the
// view change stays linear: n−2 TIMEOUTs.
//
// Chained HotStuff shares it: its failed views are counted per leader span
// (see failures), its TIMEOUTs name the next leader's first view, and a
// replica whose QC chain is ahead of a TIMEOUT's sender answers with its
// latest proposal, whose QCs commit what it committed (chained HotStuff has
// no DECIDE). Without it a replica that alone saw the proposal carrying a
// commit, with no request left pending (so no view timer), stays in its
// view while the others time out and double their timeouts until it leads
// (findings/chained-hotstuff-liveness-idle-replica), and clocks whose rates
// differ by more than 2x keep the replicas in different spans for long
// (properties TestChainedViewSync).

// syncing reports whether the replica's current view follows more than f
// failed views (chained: leader spans; see failures).
func (r *Replica) syncing() bool { return r.failures() > r.f }

// broadcastTimeout sends the replica's TIMEOUT for nv.View to every replica
// (to itself only when it leads the view) and makes the view wait for n−f
// TIMEOUTs before its timer may end it.
func (r *Replica) broadcastTimeout(nv *NewView) {
	r.lastTO = nv
	r.gated = nv.View
	r.ahead[r.id] = max(r.ahead[r.id], nv.View)
	r.resendTimeout()
	if r.reached(nv.View) >= r.quorum {
		r.gated = 0
	}
}

// resendTimeout sends lastTO to the other replicas and to itself if it
// leads lastTO's view.
func (r *Replica) resendTimeout() {
	for id := sim.NodeID(0); int(id) < r.n; id++ {
		if id != r.id || r.leader(r.lastTO.View) == r.id {
			r.out.Send(id, r.lastTO)
		}
	}
}

// waiting reports whether the current view's timer must not end the view
// yet: the replica timed out into it while synchronizing and has not seen
// n−f replicas reach it.
func (r *Replica) waiting() bool {
	return r.gated == r.view && r.lastTO != nil && r.lastTO.View == r.view && r.syncing()
}

// reached is the number of replicas known to have timed out into view v or
// a higher one.
func (r *Replica) reached(v uint64) int {
	k := 0
	for _, w := range r.ahead {
		if w >= v {
			k++
		}
	}
	return k
}

// onTimeoutMsg records a TIMEOUT sent to every replica (see syncing): with
// f+1 replicas in higher views the replica joins the highest view f+1 of
// them reached, and with n−f in its own view it starts the view's timer.
// A replica that is in the view f+1 timed out into without having timed
// out itself (it entered after a decision, or has no request to wait for,
// so its timer is off) says so with its own TIMEOUT: otherwise replicas
// waiting for n−f would wait for it forever. A sender whose prepareQC is
// older than the replica's latest DECIDE missed that decision: it gets the
// DECIDE (one reply per TIMEOUT), which resets its count of failed views.
func (r *Replica) onTimeoutMsg(from sim.NodeID, m *NewView) {
	if !m.Timeout || from != m.Replica || from == r.id || !r.isReplica(from) || m.View <= r.ahead[from] || !r.cfg.Keyring.Verify(m) {
		return
	}
	r.ahead[from] = m.View
	if m.PrepareQC != nil && r.leader(m.View) != r.id { // the leader of m.View does this in onNewView
		switch {
		case r.lastDecide != nil && m.PrepareQC.View < r.lastDecide.View:
			r.out.Send(from, r.lastDecide)
		case r.cfg.Chained && r.lastProp != nil && m.PrepareQC.View < r.prepareQC.View:
			r.out.Send(from, r.lastProp)
		}
	}
	views := slices.Sorted(slices.Values(r.ahead))
	top := views[r.n-r.f-1] // f+1 replicas reached top or more
	if top > r.view {
		r.enter(top, "join")
	} else if top == r.view && (r.lastTO == nil || r.lastTO.View < r.view) && (r.leader(r.view) != r.id || r.syncing()) {
		// (the leader of a view also gets the linear TIMEOUTs of replicas
		// that are not synchronizing: those need no answer)
		nv := &NewView{View: r.view, PrepareQC: r.prepareQC, Replica: r.id, Timeout: true}
		nv.Sig = r.signer.Sign(nv)
		r.lastTO = nv
		r.ahead[r.id] = max(r.ahead[r.id], r.view)
		r.resendTimeout()
	}
	if r.gated == r.view && r.reached(r.view) >= r.quorum {
		r.gated = 0
		r.restartTimer() // the view's timeout runs from the moment n−f are in it
	}
}
