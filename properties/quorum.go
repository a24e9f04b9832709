package properties

import (
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

// quorumKey is one (receiver, vote type, view, seq, digest).
type quorumKey struct {
	v, n uint64
	d    pbft.Digest
	to   int32
	typ  uint8 // quorumPrepare or quorumCommit
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

// quorumAudit is the checker's local-quorum state: per seq, per (receiver,
// vote type), the votes of the first (view, digest) seen inline and those
// of any other (a view change, a Byzantine vote for another digest) in a
// list, so that a delivery costs a lookup by seq (the last seq is kept at
// hand) and no hashing of digests.
type quorumAudit struct {
	seqs  map[uint64]*quorumSeq
	free  []*quorumSeq
	lastN uint64
	last  *quorumSeq // seqs[lastN], or nil
	big   map[quorumBig]bool
}

// quorumSeq is the votes of one seq: first[to*2+typ], then more.
type quorumSeq struct {
	first []quorumVotes
	more  []quorumMore
}

type quorumVotes struct {
	used bool
	v    uint64
	d    pbft.Digest
	set  quorumSet
}

type quorumMore struct {
	k   quorumKey
	set quorumSet
}

type quorumBig struct {
	k      quorumKey
	author int32
}

func (a *quorumAudit) reset() {
	for n, s := range a.seqs {
		a.recycle(s)
		delete(a.seqs, n)
	}
	a.last = nil
	clear(a.big)
}

func (a *quorumAudit) recycle(s *quorumSeq) {
	clear(s.first)
	s.more = s.more[:0]
	a.free = append(a.free, s)
}

// set returns the author set of k, created when create is set (else nil
// when k has no votes).
func (a *quorumAudit) set(k quorumKey, create bool) *quorumSet {
	s := a.last
	if s == nil || a.lastN != k.n {
		s = a.seqs[k.n]
		if s == nil {
			if !create {
				return nil
			}
			if a.seqs == nil {
				a.seqs = map[uint64]*quorumSeq{}
			}
			if len(a.free) > 0 {
				s = a.free[len(a.free)-1]
				a.free = a.free[:len(a.free)-1]
			} else {
				s = &quorumSeq{}
			}
			a.seqs[k.n] = s
		}
		a.lastN, a.last = k.n, s
	}
	i := int(k.to)*2 + int(k.typ)
	if i >= len(s.first) {
		if !create {
			return nil
		}
		s.first = append(s.first, make([]quorumVotes, i+1-len(s.first))...)
	}
	e := &s.first[i]
	if !e.used {
		if !create {
			return nil
		}
		e.used, e.v, e.d = true, k.v, k.d
	}
	if e.v == k.v && e.d == k.d {
		return &e.set
	}
	for j := range s.more {
		if s.more[j].k == k {
			return &s.more[j].set
		}
	}
	if !create {
		return nil
	}
	s.more = append(s.more, quorumMore{k: k})
	return &s.more[len(s.more)-1].set
}

// count returns the number of distinct authors of k's votes.
func (a *quorumAudit) count(k quorumKey) int32 {
	if s := a.set(k, false); s != nil {
		return s.count
	}
	return 0
}

// add notes a vote of author for k; it returns the number of distinct
// authors so far.
func (a *quorumAudit) add(k quorumKey, author int32) int32 {
	s := a.set(k, true)
	if author < 128 {
		w, b := author/64, uint64(1)<<(author%64)
		if s.bits[w]&b != 0 {
			return s.count
		}
		s.bits[w] |= b
	} else {
		if a.big == nil {
			a.big = map[quorumBig]bool{}
		}
		bk := quorumBig{k, author}
		if a.big[bk] {
			return s.count
		}
		a.big[bk] = true
	}
	s.count++
	return s.count
}

// has reports whether author's vote for k is noted.
func (a *quorumAudit) has(k quorumKey, author int32) bool {
	if author < 128 {
		s := a.set(k, false)
		return s != nil && s.bits[author/64]&(uint64(1)<<(author%64)) != 0
	}
	return a.big[quorumBig{k, author}]
}

// foldBelow drops the votes of every seq <= p (see Checker.foldBelow).
func (a *quorumAudit) foldBelow(p uint64) {
	for n, s := range a.seqs {
		if n <= p {
			a.recycle(s)
			delete(a.seqs, n)
		}
	}
	if a.lastN <= p {
		a.last = nil
	}
	for k := range a.big {
		if k.k.n <= p {
			delete(a.big, k)
		}
	}
}

// quorumDelivered notes a PREPARE or COMMIT delivered to a correct
// replica.
func (c *Checker) quorumDelivered(to sim.NodeID, m sim.Message) {
	if !c.opts.Deliveries {
		return
	}
	var k quorumKey
	var author sim.NodeID
	switch x := m.(type) {
	case *pbft.Prepare:
		k = quorumKey{v: x.View, n: x.Seq, d: x.Digest, typ: quorumPrepare}
		author = x.Replica
	case *pbft.Commit:
		k = quorumKey{v: x.View, n: x.Seq, d: x.Digest, typ: quorumCommit}
		author = x.Replica
	default:
		return
	}
	if k.n <= c.fold.low || int(author) < 0 || int(author) >= c.n || !c.sigOK(m.(pbft.Signable)) {
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
	k := quorumKey{v: view, n: seq, d: d, to: int32(from), typ: typ}
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
