package properties

import (
	"encoding/binary"
	"fmt"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Local quorums (property LocalQuorum). The paper defines a replica's
// local certificates by the messages in its log: prepared(m, v, n, i)
// needs 2f PREPAREs matching the PRE-PREPARE's digest from distinct
// backups, committed-local(m, v, n, i) needs 2f+1 matching COMMITs from
// distinct replicas (its own included); with n > 3f+1, 2f+1 is
// pbft.Quorum(n, f). A correct replica can only hold a message that
// reached it, so the checker audits each Prepared and Committed event of a
// correct replica against the validly signed votes delivered to it (and
// its own vote): fewer distinct matching authors than the quorum means the
// replica counted a vote it did not have (a duplicate, a vote for another
// digest, a short quorum, a skipped phase). The audit is lenient where the
// paper is silent (a vote counts whoever relayed it and whenever it
// arrived), so the correct protocol never breaks it; it catches a
// quorum-counting bug in the run where it happens, before (and whether or
// not) it leads to divergent executions.

// quorumKey is one (receiver, vote type, view, seq, digest). The digest is
// keyed by its four 8-byte words folded by XOR (a smaller key hashes
// faster): a digest changed in any one byte, or in one bit of every word,
// gets another key; only two digests whose words XOR to the same value
// share one, which could only make the audit more lenient (a Byzantine
// strategy that wants to pass would have to craft such a pair on purpose).
type quorumKey struct {
	v, n uint64
	d    uint64
	to   int32
	typ  uint8 // quorumPrepare or quorumCommit
}

func digestKey(d pbft.Digest) uint64 {
	le := binary.LittleEndian
	return le.Uint64(d[:8]) ^ le.Uint64(d[8:16]) ^ le.Uint64(d[16:24]) ^ le.Uint64(d[24:32])
}

const (
	quorumPrepare uint8 = iota
	quorumCommit
)

// quorumSet is the set of distinct authors of the votes of one quorumKey:
// a bit set for the first 128 replicas, the rest in quorumAudit.big.
type quorumSet struct {
	bits  [2]uint64
	count int32
}

// quorumAudit is the checker's local-quorum state: sets[votes[k]] is the
// set of k (one map lookup per delivery; the sets of folded keys are
// reused).
type quorumAudit struct {
	votes map[quorumKey]int32
	sets  []quorumSet
	free  []int32
	big   map[quorumBig]bool
}

type quorumBig struct {
	k      quorumKey
	author int32
}

func (a *quorumAudit) reset() {
	if a.votes == nil {
		a.votes = map[quorumKey]int32{}
	}
	clear(a.votes)
	a.sets = a.sets[:0]
	a.free = a.free[:0]
	clear(a.big)
}

// set returns k's set (nil when k has none).
func (a *quorumAudit) set(k quorumKey) *quorumSet {
	if i, ok := a.votes[k]; ok {
		return &a.sets[i]
	}
	return nil
}

// add notes a vote of author for k.
func (a *quorumAudit) add(k quorumKey, author int32) {
	s := a.set(k)
	if s == nil {
		var i int32
		if n := len(a.free); n > 0 {
			i, a.free = a.free[n-1], a.free[:n-1]
			a.sets[i] = quorumSet{}
		} else {
			i = int32(len(a.sets))
			a.sets = append(a.sets, quorumSet{})
		}
		a.votes[k] = i
		s = &a.sets[i]
	}
	if author < 128 {
		w, b := author/64, uint64(1)<<(author%64)
		if s.bits[w]&b != 0 {
			return
		}
		s.bits[w] |= b
	} else {
		if a.big == nil {
			a.big = map[quorumBig]bool{}
		}
		bk := quorumBig{k, author}
		if a.big[bk] {
			return
		}
		a.big[bk] = true
	}
	s.count++
}

// has reports whether author's vote for k is noted.
func (a *quorumAudit) has(k quorumKey, author int32) bool {
	if author < 128 {
		s := a.set(k)
		return s != nil && s.bits[author/64]&(uint64(1)<<(author%64)) != 0
	}
	return a.big[quorumBig{k, author}]
}

// count is the number of distinct authors noted for k.
func (a *quorumAudit) count(k quorumKey) int32 {
	if s := a.set(k); s != nil {
		return s.count
	}
	return 0
}

// foldBelow drops the votes of every seq <= p (see Checker.foldBelow).
func (a *quorumAudit) foldBelow(p uint64) {
	for k, i := range a.votes {
		if k.n <= p {
			delete(a.votes, k)
			a.free = append(a.free, i)
		}
	}
	for k := range a.big {
		if k.k.n <= p {
			delete(a.big, k)
		}
	}
}

// quorumDelivered notes a PREPARE or COMMIT delivered to a correct
// replica by from. A vote its author sent is its author's (the network
// stamps the true sender, and a replica signs only as itself); a relayed
// one counts only with a valid signature.
func (c *Checker) quorumDelivered(from, to sim.NodeID, m sim.Message) {
	if !c.opts.Deliveries {
		return
	}
	var k quorumKey
	var author sim.NodeID
	switch x := m.(type) {
	case *pbft.Prepare:
		k = quorumKey{v: x.View, n: x.Seq, d: digestKey(x.Digest), typ: quorumPrepare}
		author = x.Replica
	case *pbft.Commit:
		k = quorumKey{v: x.View, n: x.Seq, d: digestKey(x.Digest), typ: quorumCommit}
		author = x.Replica
	default:
		return
	}
	if k.n <= c.fold.low || int(author) < 0 || int(author) >= c.n || (from != author && !c.sigOK(m.(pbft.Signable))) {
		return
	}
	k.to = int32(to)
	c.quorum.add(k, int32(author))
}

// quorumEvent audits a correct replica's Prepared or Committed event.
func (c *Checker) quorumEvent(now sim.Time, from sim.NodeID, typ uint8, view, seq uint64, d pbft.Digest) {
	if !c.opts.Deliveries || seq <= c.fold.low {
		return
	}
	k := quorumKey{v: view, n: seq, d: digestKey(d), to: int32(from), typ: typ}
	q := int32(pbft.Quorum(c.n, c.opts.F))
	primary := sim.NodeID(view % uint64(c.n))
	have := c.quorum.count(k)
	if len(c.quorum.big) > 0 {
		for a := int32(128); a < int32(c.n); a++ {
			if c.quorum.has(k, a) {
				have++
			}
		}
	}
	what, need := "COMMITs", q
	if typ == quorumPrepare {
		// From distinct backups: the primary's PREPARE (a correct primary
		// sends none) does not count.
		what, need = "PREPAREs from backups", q-1
		if c.quorum.has(k, int32(primary)) {
			have--
		}
	}
	// The replica's own vote: a correct replica that is prepared has sent
	// its PREPARE (a backup) and, before committed-local, its COMMIT.
	if (typ == quorumCommit || from != primary) && !c.quorum.has(k, int32(from)) {
		have++
	}
	if have >= need {
		return
	}
	event := "committed-local"
	if typ == quorumPrepare {
		event = "prepared"
	}
	c.violate(Violation{Property: LocalQuorum, Replicas: []sim.NodeID{from}, View: view, Seq: seq, Time: now,
		Detail: fmt.Sprintf("replica %d was %s for digest %s at (view %d, seq %d) with matching %s of only %d distinct replicas reaching it (its own included); %d needed",
			from, event, short(d), view, seq, what, have, need)})
}
