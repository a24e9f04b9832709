package pbft

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// startViewChange stops accepting normal-case messages of the current view
// and multicasts VIEW-CHANGE for view v.
func (r *Replica) startViewChange(v uint64) {
	if v <= r.view && !(v == r.view && r.active) {
		return
	}
	from := r.view
	r.probeViewChange(from, v)
	r.view, r.active = v, false
	r.dirty.view = true
	clear(r.queue) // the next primary rebuilds its queue from pending requests
	r.queue = r.queue[:0]
	r.stopRequestTimer()
	if r.batchTimerOn {
		r.out.CancelTimer(timerBatch)
		r.batchTimerOn = false
	}
	if r.vcTimerOn {
		r.out.CancelTimer(timerViewChange)
		r.vcTimerOn = false
	}
	// drop buffered messages of views we will never enter
	j := 0
	for _, fm := range r.future {
		if fm.view >= v {
			r.future[j] = fm
			j++
		}
	}
	clear(r.future[j:])
	r.future = r.future[:j]
	r.countFuture()
	vc := &ViewChange{NewView: v, StableSeq: r.h, Replica: r.id}
	if r.h > 0 {
		vc.Checkpoints = r.proof
	}
	seqs := make([]uint64, 0, r.log.len())
	for s, e := range r.log.all() {
		if e.cert != nil && s > r.h {
			seqs = append(seqs, s)
		}
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		pc := *r.log.get(s).cert
		pc.Prepares = slices.Clone(pc.Prepares) // the entry reuses its array
		vc.Prepared = append(vc.Prepared, pc)
	}
	vc.Sig = r.sign(vc)
	r.vcs[r.id] = vc
	r.multicast(vc)
	// retransmit the VIEW-CHANGE until a NEW-VIEW is accepted (lossy links)
	r.out.SetTimer(timerVCResend, r.cfg.ViewChangeTimeout)
	r.out.Report(&ViewChangeStarted{Replica: r.id, From: from, To: v})
	r.processViewChanges()
}

// validateVC checks a VIEW-CHANGE's signature and certificates.
func (r *Replica) validateVC(vc *ViewChange) error {
	if vc.Replica < 0 || int(vc.Replica) >= r.n {
		return fmt.Errorf("replica %d out of range", vc.Replica)
	}
	if !r.verify(vc) {
		return fmt.Errorf("bad signature of replica %d", vc.Replica)
	}
	if vc.StableSeq%r.k != 0 {
		return fmt.Errorf("stable seq %d not a checkpoint", vc.StableSeq)
	}
	if vc.StableSeq > 0 {
		if len(vc.Checkpoints) == 0 {
			return fmt.Errorf("no checkpoint proof for %d", vc.StableSeq)
		}
		if !r.validProof(vc.StableSeq, vc.Checkpoints[0].StateDigest, vc.Checkpoints) {
			return fmt.Errorf("invalid checkpoint proof for %d", vc.StableSeq)
		}
	}
	var last uint64
	for i := range vc.Prepared {
		if err := r.validateCert(&vc.Prepared[i], vc); err != nil {
			return fmt.Errorf("prepared cert %d: %w", i, err)
		}
		s := vc.Prepared[i].PrePrepare.Seq
		if i > 0 && s <= last {
			return fmt.Errorf("prepared certs not in increasing seq order")
		}
		last = s
	}
	return nil
}

func (r *Replica) validateCert(pc *PreparedCert, vc *ViewChange) error {
	pp := pc.PrePrepare
	if pp == nil {
		return fmt.Errorf("missing PRE-PREPARE")
	}
	if pp.View >= vc.NewView {
		return fmt.Errorf("view %d not below %d", pp.View, vc.NewView)
	}
	if pp.Seq <= vc.StableSeq || pp.Seq > vc.StableSeq+r.l {
		return fmt.Errorf("seq %d outside (%d, %d]", pp.Seq, vc.StableSeq, vc.StableSeq+r.l)
	}
	if pp.Replica != r.primary(pp.View) || !r.validPrePrepare(pp) {
		return fmt.Errorf("invalid PRE-PREPARE for seq %d", pp.Seq)
	}
	need := r.prepQuorum()
	if len(pc.Prepares) < need {
		return fmt.Errorf("%d PREPAREs, need %d", len(pc.Prepares), need)
	}
	seen := make([]bool, r.n)
	for _, p := range pc.Prepares {
		if p == nil || p.Replica < 0 || int(p.Replica) >= r.n || seen[p.Replica] || p.Replica == pp.Replica {
			return fmt.Errorf("PREPARE from invalid or repeated replica")
		}
		if p.View != pp.View || p.Seq != pp.Seq || !r.rules.prepareMatches(p.Digest, pp.Digest) {
			return fmt.Errorf("PREPARE of replica %d does not match", p.Replica)
		}
		if !r.verify(p) {
			return fmt.Errorf("PREPARE of replica %d: bad signature", p.Replica)
		}
		seen[p.Replica] = true
	}
	return nil
}

// brokenLateVCReset restores the old late-VIEW-CHANGE answer (the count
// reset to 0 after each NEW-VIEW sent, so re-deliveries flip it; tests).
var brokenLateVCReset bool

func (r *Replica) onViewChange(from sim.NodeID, vc *ViewChange) {
	if from != vc.Replica || from == r.id || from < 0 || int(from) >= r.n {
		return
	}
	if vc.NewView <= r.view && r.active && r.lastNewView != nil && r.lastNewView.View == r.view {
		// A replica still asking for this view (or an older one) missed
		// NEW-VIEWs. The first late VIEW-CHANGE is normal (only 2f+1 were
		// needed); a retransmission means it is stuck: send it the NEW-VIEW
		// of our view (signed by its primary, so any replica can forward
		// it; the primary itself may have moved on). The count saturates
		// at 2: every later one is answered too, with the same NEW-VIEW,
		// so a re-delivered VIEW-CHANGE leaves the state as it was (a
		// network may duplicate messages).
		if r.lateVC[from] < 2 || brokenLateVCReset {
			r.lateVC[from]++
		}
		if r.lateVC[from] >= 2 && r.verify(vc) {
			if brokenLateVCReset {
				r.lateVC[from] = 0
			}
			r.out.Send(from, r.lastNewView)
		}
		return
	}
	if vc.NewView < r.view || (vc.NewView == r.view && r.active) {
		return
	}
	if old := r.vcs[from]; old != nil && old.NewView >= vc.NewView {
		return
	}
	if r.validateVC(vc) != nil {
		return
	}
	r.vcs[from] = vc
	r.processViewChanges()
}

// processViewChanges applies the f+1 rule, starts the view-change timer on
// 2f+1 VIEW-CHANGEs and, at the new primary, sends NEW-VIEW.
func (r *Replica) processViewChanges() {
	// Join the smallest view named by f+1 replicas above ours.
	higher := make([]uint64, 0, r.n)
	for i, vc := range r.vcs {
		if vc != nil && sim.NodeID(i) != r.id && vc.NewView > r.view {
			higher = append(higher, vc.NewView)
		}
	}
	if len(higher) >= r.rules.joinVotes(r.f) {
		slices.Sort(higher)
		r.startViewChange(higher[0])
		return
	}
	if r.active {
		return
	}
	// 2f+1 replicas (this one included) are changing to this view or a
	// later one: start the timer T for the NEW-VIEW.
	cnt, exact := 0, 0
	for _, vc := range r.vcs {
		if vc != nil && vc.NewView >= r.view {
			cnt++
			if vc.NewView == r.view {
				exact++
			}
		}
	}
	if cnt >= r.q && !r.vcTimerOn {
		r.vcTimerOn = true
		r.out.SetTimer(timerViewChange, r.timeout)
	}
	if exact < r.q {
		return
	}
	if r.isPrimary() && r.sentNewView < r.view+1 && r.vcs[r.id] != nil && r.vcs[r.id].NewView == r.view {
		r.sendNewView()
	}
}

func (r *Replica) sendNewView() {
	r.sentNewView = r.view + 1
	V := make([]*ViewChange, 0, r.q)
	V = append(V, r.vcs[r.id])
	for i, vc := range r.vcs {
		if len(V) == r.q && !r.cfg.FullCertificates {
			break
		}
		if vc != nil && sim.NodeID(i) != r.id && vc.NewView == r.view {
			V = append(V, vc)
		}
	}
	O, _, _ := r.computeO(V, r.view)
	for _, pp := range O {
		pp.Sig = r.sign(pp)
	}
	nv := &NewView{View: r.view, ViewChanges: V, PrePrepares: O, Replica: r.id}
	nv.Sig = r.sign(nv)
	r.multicast(nv)
	r.enterView(nv, true, true)
}

// computeO derives O from V for view v: min-s, max-s and one PRE-PREPARE per
// sequence number in (min-s, max-s] (unsigned; the primary signs them).
func (r *Replica) computeO(V []*ViewChange, v uint64) (O []*PrePrepare, minS uint64, maxS uint64) {
	for _, vc := range V {
		if vc.StableSeq > minS {
			minS = vc.StableSeq
		}
	}
	maxS = minS
	if r.rules.reproposePrepared {
		for _, vc := range V {
			for i := range vc.Prepared {
				if s := vc.Prepared[i].PrePrepare.Seq; s > maxS {
					maxS = s
				}
			}
		}
	}
	prim := r.primary(v)
	for s := minS + 1; s <= maxS; s++ {
		var best *PrePrepare
		for _, vc := range V {
			for i := range vc.Prepared {
				pp := vc.Prepared[i].PrePrepare
				if pp.Seq != s {
					continue
				}
				if best == nil || r.rules.betterCertificate(pp.View, best.View) {
					best = pp
				}
			}
		}
		np := &PrePrepare{View: v, Seq: s, Digest: r.nullDigest, Replica: prim}
		if best != nil {
			np.Digest, np.Batch = best.Digest, best.Batch
		}
		O = append(O, np)
	}
	return O, minS, maxS
}

func (r *Replica) onNewView(from sim.NodeID, nv *NewView) {
	// A NEW-VIEW may be forwarded by another replica (its signature is
	// what authenticates it), so From need not be the primary.
	if from == r.id || nv.Replica != r.primary(nv.View) || nv.Replica == r.id {
		return
	}
	if nv.View < r.view || (nv.View == r.view && r.active) {
		return
	}
	if !r.verify(nv) {
		return
	}
	if err := r.validateNewView(nv); err != nil {
		r.probe(ProbeNVRejected)
		// A NEW-VIEW signed by the primary that does not verify proves the
		// primary faulty: move on to the next view.
		if nv.View >= r.view {
			r.startViewChange(nv.View + 1)
		}
		return
	}
	r.enterView(nv, r.rules.recomputeO, true)
}

// validateNewView checks V (2f+1 valid VIEW-CHANGEs for the view from
// distinct replicas) and that O equals the O recomputed from V.
func (r *Replica) validateNewView(nv *NewView) error {
	if len(nv.ViewChanges) < r.q {
		return fmt.Errorf("V has %d VIEW-CHANGEs, need %d", len(nv.ViewChanges), r.q)
	}
	seen := make([]bool, r.n)
	for _, vc := range nv.ViewChanges {
		if vc == nil || vc.NewView != nv.View {
			return fmt.Errorf("VIEW-CHANGE for another view in V")
		}
		if err := r.validateVC(vc); err != nil {
			return fmt.Errorf("VIEW-CHANGE of replica %d: %w", vc.Replica, err)
		}
		if seen[vc.Replica] {
			return fmt.Errorf("two VIEW-CHANGEs of replica %d in V", vc.Replica)
		}
		seen[vc.Replica] = true
	}
	for i, pp := range nv.PrePrepares {
		if pp == nil || pp.View != nv.View || pp.Replica != nv.Replica || !r.validPrePrepare(pp) {
			return fmt.Errorf("O[%d] is not a valid PRE-PREPARE of view %d", i, nv.View)
		}
		if i > 0 && pp.Seq <= nv.PrePrepares[i-1].Seq {
			return fmt.Errorf("O not in sequence order")
		}
	}
	if !r.rules.recomputeO {
		return nil
	}
	O, _, _ := r.computeO(nv.ViewChanges, nv.View)
	if len(O) != len(nv.PrePrepares) {
		return fmt.Errorf("O has %d PRE-PREPAREs, recomputed %d", len(nv.PrePrepares), len(O))
	}
	for i, pp := range O {
		got := nv.PrePrepares[i]
		if got.Seq != pp.Seq || got.Digest != pp.Digest {
			return fmt.Errorf("O[%d] = (seq %d, %v), recomputed (seq %d, %v)", i, got.Seq, got.Digest, pp.Seq, pp.Digest)
		}
	}
	return nil
}

// enterView installs an accepted (or, at the primary, sent) NEW-VIEW.
func (r *Replica) enterView(nv *NewView, recomputed, matches bool) {
	r.view, r.active = nv.View, true
	r.dirty.view = true
	r.probeNewView(nv)
	// No proposals until O is installed and r.seq moved past it: makeStable
	// and execution below would otherwise let the primary assign a sequence
	// number that O also uses (two PRE-PREPAREs for one (v, n)).
	r.entering = true
	r.lastNewView = nv
	clear(r.lateVC)
	if r.vcTimerOn {
		r.out.CancelTimer(timerViewChange)
		r.vcTimerOn = false
	}
	// The timeout stays as it is until a request executes in this view
	// (then it goes back to its base value, see executeEntry).
	r.viewProgress = false
	if !r.rules.growTimeout {
		r.timeout = r.cfg.ViewChangeTimeout
	}
	r.out.CancelTimer(timerVCResend)
	for i, vc := range r.vcs {
		if vc != nil && vc.NewView <= nv.View {
			r.vcs[i] = nil
		}
	}
	// Adopt the latest stable checkpoint in V.
	var minS uint64
	var minVC *ViewChange
	for _, vc := range nv.ViewChanges {
		if vc.StableSeq > minS {
			minS, minVC = vc.StableSeq, vc
		}
	}
	if minVC != nil && minS > r.h {
		d := minVC.Checkpoints[0].StateDigest
		if cs := r.ckpts[minS]; cs != nil && cs.mine && cs.digest == d {
			r.makeStable(minS, d, minVC.Checkpoints)
		} else if r.lastExec < minS {
			r.makeStable(minS, d, minVC.Checkpoints)
			r.startFetch(minS)
		}
	}
	for _, e := range r.log.all() {
		if e.view != r.view {
			r.resetView(e)
		}
	}
	clear(r.inLog)
	maxS := r.h
	for _, pp := range nv.PrePrepares {
		if pp.Seq > maxS {
			maxS = pp.Seq
		}
		if !r.inWindow(pp.Seq) {
			continue
		}
		for _, q := range pp.Batch {
			r.inLog[mkReqKey(q.Client, q.Timestamp)] = true
		}
		r.acceptPrePrepare(r.getEntry(pp.Seq), pp)
	}
	if r.rules.seqPastO {
		r.seq = maxS
	} else {
		r.seq = max(r.seq, r.h)
	}
	// CHECKPOINTs are sent once; a lost one can leave a checkpoint unstable
	// and the primary stuck at the top of its window, which is what made
	// this view change happen. Send our unstable ones again.
	r.resendCheckpoints()
	r.out.Report(&NewViewEntered{Replica: r.id, View: r.view, Primary: r.primary(r.view), Recomputed: recomputed, OMatches: matches})
	// Replay buffered messages of this view.
	buf := r.future
	r.future = nil
	for _, fm := range buf {
		if fm.view > r.view {
			r.future = append(r.future, fm)
		}
	}
	r.countFuture()
	for _, fm := range buf {
		if fm.view == r.view {
			r.onMessage(fm.from, fm.msg)
		}
	}
	if r.isPrimary() {
		r.requeuePending()
	} else {
		r.queue = r.queue[:0]
	}
	r.entering = false
	r.armRequestTimer()
	r.execute()
	r.propose(false)
}

// requeuePending makes the primary's queue the pending requests not in the
// log and not executed, in the order they arrived here (pendingBefore;
// oldestPending says why not in (client, timestamp) order).
func (r *Replica) requeuePending() {
	keys := make([]reqKey, 0, len(r.pending))
	for k, p := range r.pending {
		if !r.inLog[k] && !r.executedReq(p.q) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		switch {
		case r.pendingBefore(a, b):
			return -1
		case r.pendingBefore(b, a):
			return 1
		}
		return 0
	})
	r.queue = r.queue[:0]
	for _, k := range keys {
		r.queue = append(r.queue, r.pending[k].q)
	}
}

// countFuture recounts the buffered messages per sender.
func (r *Replica) countFuture() {
	clear(r.futureCount)
	for _, fm := range r.future {
		r.futureCount[fm.from]++
	}
}

// checkLaggingView asks for the current NEW-VIEW when f+1 replicas send
// normal-case messages of views this replica has not entered.
func (r *Replica) checkLaggingView(fire bool) {
	cnt := 0
	for _, v := range r.futureFrom {
		if v > r.view || (v == r.view && !r.active) {
			cnt++
		}
	}
	if cnt < r.f+1 || r.askedView >= r.view+1 {
		return
	}
	if !fire {
		// Normally the NEW-VIEW is just late: wait a little before asking.
		if !r.lagTimerOn {
			r.lagTimerOn = true
			r.out.SetTimer(timerLagging, r.cfg.ViewChangeTimeout/2)
		}
		return
	}
	r.askedView = r.view + 1
	r.multicast(&FetchState{Seq: r.lastExec + 1, View: r.enteredView(), Replica: r.id})
}

// enteredView is the highest view this replica has entered (its current view,
// or the one before while a view change is in progress).
func (r *Replica) enteredView() uint64 {
	if r.active || r.view == 0 {
		return r.view
	}
	return r.view - 1
}
