package pbft

import "github.com/pbftsim/pbftsim/sim"

// Inert reports whether delivering m from `from` to this replica, now or
// at any later step (under crashes that keep the replica's state), changes
// nothing: no state, no send, no timer, no event. The exhaustive explorer
// (sim/explore, Inerter) discards such messages so that states differing
// only in them merge. It answers for PREPAREs and COMMITs only (false for
// anything else), and only for the cases where onPrepare and onCommit
// return without a change for good:
//   - a vote the receiver never takes from that sender (wrong signer field,
//     itself, a replica id out of range, a PREPARE from the view's primary);
//   - a vote of an older view, or for a sequence number at or below the
//     stable checkpoint (views and h only grow);
//   - a vote of the current view, with the receiver active, for an entry of
//     that view that already holds a vote of that sender, or that is
//     already prepared (PREPARE) or committed (COMMIT): the log keeps no
//     vote past its certificate (the prepared certificate is taken when the
//     entry prepares), and the entry stays so until a view change or a
//     checkpoint makes the vote old.
//
// The variants that reopen an entry (accept-second-preprepare) or count a
// sender's COMMIT twice (commit-counts-duplicates) make fewer votes inert,
// and under recovery-forgets-signed a recovery drops the log, so no vote
// is inert for what its entry holds.
// A wiped replica that has not caught up yet answers false.
func (r *Replica) Inert(from sim.NodeID, m sim.Message) bool {
	if r.rejoining {
		return false
	}
	switch m := m.(type) {
	case *Prepare:
		if from != m.Replica || from == r.id || from < 0 || int(from) >= r.n || from == r.primary(m.View) {
			return true
		}
		e := r.settledEntry(m.View, m.Seq)
		if e == nil {
			return m.View < r.view || m.Seq <= r.h
		}
		if !r.rules.keepSignedOnRecovery {
			return false // a recovery empties the log (forgetSigned)
		}
		return e.prepares[from] != nil || e.prepared && !r.rules.replaceAcceptedPrePrepare
	case *Commit:
		if from != m.Replica || from == r.id || from < 0 || int(from) >= r.n {
			return true
		}
		e := r.settledEntry(m.View, m.Seq)
		if e == nil {
			return m.View < r.view || m.Seq <= r.h
		}
		if !r.rules.keepSignedOnRecovery {
			return false
		}
		return e.commits[from] != nil && !r.rules.repeatedCommitCounts || e.committed && !r.rules.replaceAcceptedPrePrepare
	}
	return false
}

// settledEntry returns the log entry of seq if a vote of view v for seq
// would be processed now and find the entry already of view v (so that
// looking it up changes nothing); nil otherwise.
func (r *Replica) settledEntry(v, seq uint64) *entry {
	if v != r.view || !r.active || !r.inWindow(seq) {
		return nil
	}
	if e := r.log.get(seq); e != nil && e.view == v {
		return e
	}
	return nil
}

// Inert reports whether delivering m from `from` to this client, now or
// later, changes nothing: anything but a REPLY; a REPLY the client never
// takes (wrong sender, another client's); a REPLY for a request the
// client already accepted (timestamps only grow) that reports no view
// higher than the one the client has noted for its sender; and, with
// ClientConfig.DropSpentReplies, any message once every operation is
// accepted (a finished client stays finished).
func (c *Client) Inert(from sim.NodeID, m sim.Message) bool {
	rep, ok := m.(*Reply)
	if !ok || c.finished() {
		return true
	}
	if from < 0 || int(from) >= c.cfg.N || rep.Replica != from || rep.Client != c.cfg.ID {
		return true
	}
	return rep.View <= c.views[from] && rep.Timestamp <= c.ts && (c.cur == nil || rep.Timestamp != c.cur.Timestamp)
}
