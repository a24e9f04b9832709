package hotstuff

// Chained (pipelined) HotStuff (Yin et al., PODC'19, Algorithm 3): one
// generic phase per view. The leader of view v proposes a block carrying
// the highest QC it knows (normally the QC of view v−1's block, formed from
// the votes sent to it); every replica votes for it to the leader of v+1
// and moves to v+1. A proposal's QC chain b* → b2 → b1 → b0 (each block
// carrying the QC of the next) does the work of Basic HotStuff's phases:
// the QC of b2 is the new highQC (prepareQC), the QC of b1 the lock, and b0
// commits when b0, b1, b2 were certified in consecutive views (the
// three-chain rule, Rules.ChainCommit). The pacemaker, the client, the
// block fetches and the execution are Basic HotStuff's.

// onGeneric handles a chained proposal. One of an older view still brings
// its QCs (a leader hands its latest proposal to a replica that timed out
// into a view it has passed); one of a higher view is followed when it
// proves that n−f replicas are there: a view certificate, or a justify QC
// of the view just before it.
func (r *Replica) onGeneric(m *Proposal) {
	if m.View < r.view {
		if m.Justify != nil && m.Justify.View > r.prepareQC.View && m.Block != nil && r.acceptBlock(m) {
			r.chainUpdateFrom(m.Justify)
		}
		return
	}
	if m.View > r.view {
		if !r.validCert(m.Cert, m.View) && (m.Justify == nil || m.Justify.View+1 != m.View || !r.validQC(m.Justify, PhasePrepare)) {
			return
		}
		r.enter(m.View, "proposal")
	}
	if r.voted[PhasePrepare] >= m.View || !r.acceptBlock(m) {
		return
	}
	if r.lastProp == nil || m.View > r.lastProp.View {
		r.lastProp = m
	}
	// The paper votes before updating: safeNode judges against the lock
	// held before this proposal.
	safe := r.cfg.Rules.SafeToVote(r, m.Block, m.Justify)
	r.chainUpdate(m.Justify)
	if !safe {
		return
	}
	r.vote(PhasePrepare, m.View, m.Block.Hash)
	r.enter(m.View+1, "vote")
}

// chainUpdateFrom is chainUpdate for a QC that arrived outside a proposal
// of the current view (an old proposal handed over, a NEW-VIEW's
// prepareQC): a commit it brings restarts the view timer with the shorter
// timeout.
func (r *Replica) chainUpdateFrom(qc2 *QC) {
	d := r.decidedView
	r.chainUpdate(qc2)
	if r.decidedView > d {
		r.restartTimer()
	}
}

// chainUpdate applies the chain ending in the valid QC qc2 (of block b2):
// the highQC, the lock on a two-chain, the commit on a three-chain.
func (r *Replica) chainUpdate(qc2 *QC) {
	if qc2.View > r.prepareQC.View {
		r.prepareQC = qc2
	}
	b2, qc1 := r.chainLink(qc2)
	if qc1 == nil {
		return
	}
	if qc1.View > r.lockedQC.View {
		r.lockedQC = qc1
	}
	b1, qc0 := r.chainLink(qc1)
	if qc0 == nil {
		return
	}
	b0 := r.blocks[qc0.Block]
	if b0 == nil {
		r.fetch(qc0.Block)
		return
	}
	if c := r.cfg.Rules.ChainCommit(b2, b1, b0); c != nil {
		// The view after b2's is the one whose leader holds the QC that
		// commits (Basic HotStuff's DECIDE view): every replica that
		// commits c counts its timeouts from the same view, whichever
		// later proposal brought it the chain.
		r.decidedView = max(r.decidedView, b2.View+1)
		r.decide(c.Hash)
	}
}

// chainLink returns the block qc certifies and that block's own valid
// justify QC; a nil QC when the block is missing (it is fetched) or is the
// genesis block.
func (r *Replica) chainLink(qc *QC) (*Block, *QC) {
	b := r.blocks[qc.Block]
	if b == nil {
		r.fetch(qc.Block)
		return nil, nil
	}
	if b.Justify == nil || !r.validQC(b.Justify, PhasePrepare) {
		return b, nil
	}
	return b, b.Justify
}
