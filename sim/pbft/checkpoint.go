package pbft

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// afterExecute takes a checkpoint when seq is a multiple of K.
func (r *Replica) afterExecute(seq uint64) {
	if seq%r.k != 0 || seq <= r.h {
		return
	}
	cs := r.ckpt(seq)
	cs.mine = true
	cs.digest = r.stateDigest()
	cs.state = r.sm.Freeze()
	cs.replies = r.replyTable()
	c := &Checkpoint{Seq: seq, StateDigest: cs.digest, Replica: r.id}
	c.Sig = r.sign(c)
	cs.votes[r.id] = c
	if r.store != nil {
		r.dirty.ckpts = append(r.dirty.ckpts, seq)
	}
	r.multicast(c)
	r.checkStable(seq, cs)
}

func (r *Replica) ckpt(seq uint64) *ckptState {
	cs := r.ckpts[seq]
	if cs == nil {
		cs = &ckptState{votes: make([]*Checkpoint, r.n)}
		r.ckpts[seq] = cs
	}
	return cs
}

func (r *Replica) onCheckpoint(from sim.NodeID, c *Checkpoint) {
	if from != c.Replica || from == r.id || from < 0 || int(from) >= r.n {
		return
	}
	if c.Seq <= r.h || c.Seq%r.k != 0 || !r.verify(c) {
		return
	}
	if c.Seq > r.h+r.l {
		// Above our window: remember the sender's highest; f+1 of them mean
		// at least one correct replica is ahead of our whole window.
		if old := r.high[from]; old == nil || old.Seq < c.Seq {
			r.high[from] = c
		}
		r.checkHigh()
		return
	}
	cs := r.ckpt(c.Seq)
	if cs.votes[from] != nil {
		return
	}
	cs.votes[from] = c
	r.checkStable(c.Seq, cs)
}

// checkHigh starts state transfer when f+1 replicas report checkpoints above H.
func (r *Replica) checkHigh() {
	H := r.h + r.l
	seqs := make([]uint64, 0, r.n)
	for _, c := range r.high {
		if c != nil && c.Seq > H {
			seqs = append(seqs, c.Seq)
		}
	}
	if len(seqs) < r.f+1 {
		return
	}
	slices.Sort(seqs)
	// the (f+1)-th highest: at least one correct replica reached it
	r.startFetch(seqs[len(seqs)-(r.f+1)])
}

// ckptQuorum is the number of matching CHECKPOINTs that make a checkpoint stable.
func (r *Replica) ckptQuorum() int {
	return r.rules.stableVotes(r.q, r.f)
}

// ckptMatches reports whether two CHECKPOINTs for one seq vote the same digest.
func (r *Replica) ckptMatches(a, b *Checkpoint) bool {
	return r.rules.checkpointsMatch(a.StateDigest, b.StateDigest)
}

// quorumDigest returns the digest with 2f+1 matching votes, if any, and the proof.
func (r *Replica) quorumDigest(cs *ckptState) (Digest, []*Checkpoint, bool) {
	for _, c := range cs.votes {
		if c == nil {
			continue
		}
		cnt := 0
		for _, o := range cs.votes {
			if o != nil && r.ckptMatches(o, c) {
				cnt++
			}
		}
		if cnt >= r.ckptQuorum() {
			proof := make([]*Checkpoint, 0, r.q)
			for _, o := range cs.votes {
				if o != nil && r.ckptMatches(o, c) && len(proof) < r.ckptQuorum() {
					proof = append(proof, o)
				}
			}
			return c.StateDigest, proof, true
		}
	}
	return Digest{}, nil, false
}

func (r *Replica) checkStable(seq uint64, cs *ckptState) {
	d, proof, ok := r.quorumDigest(cs)
	if !ok {
		return
	}
	if cs.mine {
		if cs.digest == d {
			r.makeStable(seq, d, proof)
		}
		return
	}
	if seq > r.lastExec && seq > r.behindSeq {
		// Proven stable elsewhere but not executed here yet: give the
		// protocol a moment to catch up, then fetch the state.
		r.behindSeq, r.behindD, r.behindProof = seq, d, proof
		r.armBehind()
	}
}

func (r *Replica) armBehind() {
	if r.behindArmed {
		return
	}
	r.behindArmed = true
	r.out.SetTimer(timerBehind, r.cfg.ViewChangeTimeout/2)
}

func (r *Replica) checkBehind() {
	if r.behindSeq <= r.lastExec {
		return
	}
	if r.behindSeq > r.h {
		r.makeStable(r.behindSeq, r.behindD, r.behindProof)
	}
	r.startFetch(r.behindSeq)
}

// makeStable moves the low watermark to seq, proven by proof, and discards
// log entries and checkpoints at or below it.
func (r *Replica) makeStable(seq uint64, d Digest, proof []*Checkpoint) {
	if seq <= r.h {
		return
	}
	r.h, r.stableD, r.proof = seq, d, proof
	r.dirty.stable = true
	for s, e := range r.log.all() {
		if s <= seq {
			r.log.del(s)
			r.freeEntry(e)
		}
	}
	for s, cs := range r.ckpts {
		if s < seq || (s == seq && !cs.mine) {
			delete(r.ckpts, s)
		}
	}
	for i, c := range r.high {
		if c != nil && c.Seq <= seq+r.l {
			r.high[i] = nil
			if c.Seq > seq {
				cs := r.ckpt(c.Seq)
				if cs.votes[i] == nil {
					cs.votes[i] = c
				}
			}
		}
	}
	if r.seq < seq {
		r.seq = seq
	}
	r.out.Report(&StableCheckpoint{Replica: r.id, Seq: seq, StateDigest: d})
	// votes moved down from r.high may complete a later checkpoint
	later := make([]uint64, 0, len(r.ckpts))
	for s, cs := range r.ckpts {
		if s > seq && !cs.mine {
			later = append(later, s)
		}
	}
	slices.Sort(later) // deterministic order: checkStable may send
	for _, s := range later {
		if cs := r.ckpts[s]; cs != nil {
			if _, _, ok := r.quorumDigest(cs); ok {
				r.checkStable(s, cs)
			}
		}
	}
	r.propose(false)
}

// ---- state transfer ----

func (r *Replica) startFetch(seq uint64) {
	if seq <= r.lastExec {
		return
	}
	if r.fetching {
		// already fetching: aim higher if needed, the retries will ask
		if seq > r.fetchSeq {
			r.fetchSeq = seq
		}
		return
	}
	r.fetching, r.fetchSeq, r.fetchRetries = true, seq, 0
	r.probe(ProbeReplicaFetching)
	r.askState()
}

// askState multicasts FETCH-STATE for any stable state above what this
// replica has executed (fetchSeq is the target, but every newer stable
// checkpoint is progress: asking only for the target could ask for a
// checkpoint that never becomes stable anywhere).
func (r *Replica) askState() {
	r.multicast(&FetchState{Seq: r.lastExec + 1, View: r.enteredView(), Replica: r.id})
	r.out.SetTimer(timerFetch, r.cfg.ViewChangeTimeout)
}

func (r *Replica) onFetchTimer() {
	if !r.fetching {
		return
	}
	if r.lastExec >= r.fetchSeq {
		r.fetching = false
		return
	}
	r.fetchRetries++
	// keep trying while there is evidence that we are behind
	if r.behindSeq <= r.lastExec && r.h <= r.lastExec && r.fetchRetries > 2 {
		r.fetching = false
		return
	}
	r.askState()
}

func (r *Replica) onFetchState(from sim.NodeID, fs *FetchState) {
	if from != fs.Replica || from == r.id || from < 0 || int(from) >= r.n {
		return
	}
	st := &State{Replica: r.id}
	useful := false
	if cs := r.ckpts[r.h]; r.h >= fs.Seq && r.h > 0 && cs != nil && cs.mine && r.lastExec >= r.h {
		st.Seq, st.StateDigest, st.Snapshot, st.LastReplies, st.Proof = r.h, cs.digest, cs.state.Encode(), cs.replies, r.proof
		useful = true
	}
	if r.active && r.view > fs.View && r.lastNewView != nil && r.lastNewView.View == r.view {
		st.NewView = r.lastNewView
		useful = true
	}
	if useful {
		r.out.Send(from, st)
	}
}

// validProof checks 2f+1 signed matching CHECKPOINTs from distinct replicas.
func (r *Replica) validProof(seq uint64, d Digest, proof []*Checkpoint) bool {
	return r.validProofOf(seq, d, proof, r.q)
}

// validProofOf checks need signed matching CHECKPOINTs from distinct
// replicas.
func (r *Replica) validProofOf(seq uint64, d Digest, proof []*Checkpoint, need int) bool {
	if len(proof) < need {
		return false
	}
	seen := make([]bool, r.n)
	for _, c := range proof {
		if c == nil || c.Seq != seq || !r.rules.checkpointsMatch(c.StateDigest, d) || c.Replica < 0 || int(c.Replica) >= r.n || seen[c.Replica] || !r.verify(c) {
			return false
		}
		seen[c.Replica] = true
	}
	return true
}

func (r *Replica) onState(from sim.NodeID, st *State) {
	if from != st.Replica || from == r.id || from < 0 || int(from) >= r.n {
		return
	}
	if !r.rejoining {
		r.stateNewView(st.NewView)
	}
	if !r.fetching || st.Seq == 0 || st.Seq <= r.lastExec || r.badState[from] {
		return
	}
	// TOCS'02 §6.2: the 2f+1 CHECKPOINT proof fixes the digest; the state
	// is installed only if it hashes to that digest. One sender's word
	// (even f+1 senders' (seq, digest)) never vouches for the bytes.
	if !r.validProofOf(st.Seq, st.StateDigest, st.Proof, r.rules.stateProofVotes(r.q, r.f)) {
		return
	}
	rejoining := r.rejoining
	if ok, got := r.install(st, r.rules.verifyState); ok && rejoining {
		r.stateNewView(st.NewView) // caught up: now it may take part
	} else if !ok {
		// Discard it, accuse the sender and take the state from another
		// replica: the others answered the same multicast FETCH-STATE
		// (their STATEs are handled as they arrive) and the fetch timer
		// asks again; this sender's STATEs are ignored from now on.
		r.badState[from] = true
		r.probe(ProbeStateRejected)
		r.out.Report(&BadState{Replica: r.id, From: from, Seq: st.Seq, Want: st.StateDigest, Got: got})
	}
}

// stateNewView enters the view of the NEW-VIEW a STATE carries, if newer.
func (r *Replica) stateNewView(nv *NewView) {
	if nv != nil && (nv.View > r.view || nv.View == r.view && !r.active) {
		r.onNewView(nv.Replica, nv) // fully verified there
	}
}

// install restores a snapshot proven by a stable-checkpoint certificate.
// With check set, it verifies that the restored state has the proven
// digest and rolls back (returning false and the digest it found, zero if
// the snapshot does not decode) if not.
func (r *Replica) install(st *State, check bool) (bool, Digest) {
	var old Frozen
	var oldReplies map[sim.NodeID]*Reply
	var oldClients []sim.NodeID
	if check {
		old = r.sm.Freeze()
		oldReplies = r.lastReply
		oldClients = r.replyClients
		r.lastReply = make(map[sim.NodeID]*Reply, len(st.LastReplies))
		r.replyClients = make([]sim.NodeID, 0, len(st.LastReplies))
	}
	if err := r.sm.Restore(st.Snapshot); err != nil {
		if check {
			r.lastReply, r.replyClients = oldReplies, oldClients
		}
		return false, Digest{}
	}
	r.setReplies(st.LastReplies)
	if got := r.stateDigest(); check && got != st.StateDigest {
		// a lying responder: put our state back
		if err := r.sm.Thaw(old); err != nil {
			panic(fmt.Sprintf("pbft: replica %d cannot restore its own snapshot: %v", r.id, err))
		}
		r.lastReply, r.replyClients = oldReplies, oldClients
		return false, got
	}
	r.lastExec = st.Seq
	r.dirty.state = true
	if r.rejoining {
		// caught up by state transfer: it may sign again
		r.rejoining, r.store.rejoining = false, false
		r.probe(ProbeRejoined)
	}
	for key, p := range r.pending {
		if r.executedReq(p.q) {
			r.delPending(key)
			delete(r.inLog, key)
		}
	}
	r.armRequestTimer()
	for s, e := range r.log.all() {
		if s <= st.Seq {
			e.executed = true
		}
	}
	cs := r.ckpt(st.Seq)
	cs.mine = true
	cs.digest = r.stateDigest()
	cs.state = r.sm.Freeze()
	cs.replies = r.replyTable()
	if r.store != nil {
		r.dirty.ckpts = append(r.dirty.ckpts, st.Seq)
	}
	if r.lastExec >= r.fetchSeq {
		r.fetching = false
		r.out.CancelTimer(timerFetch)
	}
	r.out.Report(&StateTransferred{Replica: r.id, Seq: st.Seq})
	r.probe(ProbeStateInstalled)
	if st.Seq > r.h {
		r.makeStable(st.Seq, st.StateDigest, st.Proof)
	}
	r.execute()
	return true, st.StateDigest
}

// resendCheckpoints multicasts again this replica's CHECKPOINTs above h.
func (r *Replica) resendCheckpoints() {
	seqs := make([]uint64, 0, len(r.ckpts))
	for s, cs := range r.ckpts {
		if s > r.h && cs.mine && cs.votes[r.id] != nil {
			seqs = append(seqs, s)
		}
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		r.multicast(r.ckpts[s].votes[r.id])
	}
}
