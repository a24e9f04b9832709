package properties

import (
	"encoding/binary"
	"fmt"
	"slices"

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

// quorumAudit is the checker's local-quorum state. Keys are grouped by
// seq: rows[seqs[n]] holds seq n's cells, one per (receiver, vote type),
// each a short list of (view, digest) sets (usually one, held inline). A delivery costs
// one 8-byte-key map lookup (none when it is for the seq of the previous
// one; the live seqs of a window are usually found in a ring indexed by
// seq, without hashing) and a scan of a cell, instead of hashing the whole
// key; folding
// visits the seqs, not every key. Rows and cells of folded seqs are
// reused. Receivers outside [0, maxQuorumTo) fall back to odd.
//
// In front of the rows, the receivers below fastN (the replicas) have a
// fixed ring of rows, fast: seq s owns ring row s % quorumRing (fastSeq
// holds s) from its first vote until it is folded, unless another seq
// owns that row then or s already has a row of its own (then s's votes
// all go to the rows); a vote then costs an index and a compare, no row
// lookup and no allocation (fastCell). A seq is in the ring or in the rows
// for the receivers below fastN, never in both.
type quorumAudit struct {
	fastN    int                // receivers in the ring: [0, fastN)
	stride   int                // cells per ring row: 2 * fastN
	fastSeq  [quorumRing]uint64 // the seq owning ring row i, or fastFree(i)
	fast     []quorumCell       // ring row i's cells: [i*2*fastN, (i+1)*2*fastN), index 2*to + typ
	ring     [quorumRing]int32  // seq's row + 1 at seq % quorumRing, if it has one there
	seqs     map[uint64]int32   // the other seqs' rows
	rows     []quorumRow
	freeRows []int32
	lastSeq  uint64 // the seq of rows[lastRow], when hasLast
	lastRow  int32
	hasLast  bool
	entries  int // sets held, for Checker.Retained
	odd      map[quorumKey]*quorumSet
	big      map[quorumBig]bool
}

// quorumRing is the size of quorumAudit's ring of rows (a power of 2,
// above the seqs a fold keeps: 3 windows of 32 by default).
const quorumRing = 256

// maxQuorumTo bounds the receivers kept in rows (replicas are below n;
// anything else goes to quorumAudit.odd).
const maxQuorumTo = 1 << 12

type quorumRow struct {
	seq   uint64
	used  bool
	cells []quorumCell // index 2*to + typ
}

// quorumCell holds the sets of one (seq, receiver, vote type): the first
// (view, digest) inline, any other in more.
type quorumCell struct {
	first quorumEntry
	has   bool
	more  []quorumEntry
}

type quorumEntry struct {
	v, d uint64
	set  quorumSet
}

type quorumBig struct {
	k      quorumKey
	author int32
}

func (a *quorumAudit) reset(fastN int) {
	if fastN < 0 || fastN > maxQuorumTo {
		fastN = 0
	}
	for i := range a.fastSeq {
		a.fastSeq[i] = fastFree(i)
	}
	a.fastN, a.stride = fastN, 2*fastN
	if cells := quorumRing * 2 * fastN; cap(a.fast) >= cells {
		a.fast = a.fast[:cells]
	} else {
		a.fast = make([]quorumCell, cells)
	}
	if a.seqs == nil {
		a.seqs = map[uint64]int32{}
	}
	clear(a.seqs)
	clear(a.ring[:])
	a.freeRows = a.freeRows[:0]
	for i := range a.rows {
		a.clearRow(int32(i))
		a.freeRows = append(a.freeRows, int32(i))
	}
	slices.Reverse(a.freeRows) // reused in order
	a.hasLast = false
	a.entries = 0
	clear(a.odd)
	clear(a.big)
}

// clearRow empties row i, keeping its cells' memory.
func (a *quorumAudit) clearRow(i int32) {
	row := &a.rows[i]
	for j := range row.cells {
		c := &row.cells[j]
		c.has, c.more = false, c.more[:0]
	}
	row.used = false
}

// row returns the index of seq's row, creating it when create is set
// (else -1 when seq has none).
func (a *quorumAudit) row(seq uint64, create bool) int32 {
	if a.hasLast && a.lastSeq == seq {
		return a.lastRow
	}
	slot := &a.ring[seq%quorumRing]
	if j := *slot - 1; j >= 0 && a.rows[j].seq == seq {
		a.lastSeq, a.lastRow, a.hasLast = seq, j, true
		return j
	}
	i, ok := int32(0), false
	if len(a.seqs) > 0 {
		i, ok = a.seqs[seq]
	}
	if !ok {
		if !create {
			return -1
		}
		if n := len(a.freeRows); n > 0 {
			i, a.freeRows = a.freeRows[n-1], a.freeRows[:n-1]
		} else {
			i = int32(len(a.rows))
			a.rows = append(a.rows, quorumRow{})
		}
		a.rows[i].seq, a.rows[i].used = seq, true
		if *slot == 0 {
			*slot = i + 1
		} else {
			if a.seqs == nil {
				a.seqs = map[uint64]int32{}
			}
			a.seqs[seq] = i
		}
	}
	a.lastSeq, a.lastRow, a.hasLast = seq, i, true
	return i
}

// fastCell returns the ring cell of (seq, to, typ) when seq owns its ring
// row and to is below fastN, else nil: the key is then the rows' (see
// set), unless fastClaim claims the row for seq.
func (a *quorumAudit) fastCell(seq uint64, to int32, typ uint8) *quorumCell {
	i := int(seq % quorumRing)
	if a.fastSeq[i] != seq || uint32(to) >= uint32(a.fastN) {
		return nil
	}
	return &a.fast[i*a.stride+2*int(to)+int(typ)]
}

// fastFree is the mark of a free ring row i: a seq that ring row i cannot
// hold (it is not i modulo quorumRing).
func fastFree(i int) uint64 { return uint64(i) + 1 }

// fastClaim claims seq's ring row for it, when the row is free, to is
// below fastN and seq has no row of its own, and returns the ring cell of
// (seq, to, typ); else nil. Call it only when fastCell returned nil.
func (a *quorumAudit) fastClaim(seq uint64, to int32, typ uint8) *quorumCell {
	i := int(seq % quorumRing)
	if uint32(to) >= uint32(a.fastN) || a.fastSeq[i] != fastFree(i) || a.row(seq, false) >= 0 {
		return nil
	}
	a.fastSeq[i] = seq
	row := a.fast[i*a.stride : (i+1)*a.stride]
	for j := range row {
		row[j].has, row[j].more = false, row[j].more[:0]
	}
	return &row[2*int(to)+int(typ)]
}

// cellSet returns the set of (v, d) in cell (nil when it has none),
// creating it when create is set.
func (a *quorumAudit) cellSet(cell *quorumCell, v, d uint64, create bool) *quorumSet {
	if cell.has {
		if cell.first.v == v && cell.first.d == d {
			return &cell.first.set
		}
		for j := range cell.more {
			if cell.more[j].v == v && cell.more[j].d == d {
				return &cell.more[j].set
			}
		}
	}
	if !create {
		return nil
	}
	a.entries++
	if !cell.has {
		cell.first, cell.has = quorumEntry{v: v, d: d}, true
		return &cell.first.set
	}
	cell.more = append(cell.more, quorumEntry{v: v, d: d})
	return &cell.more[len(cell.more)-1].set
}

// lookup returns k's set (nil when k has none), creating it when create
// is set: in the ring or in the rows.
func (a *quorumAudit) lookup(k quorumKey, create bool) *quorumSet {
	cell := a.fastCell(k.n, k.to, k.typ)
	if cell == nil && create {
		cell = a.fastClaim(k.n, k.to, k.typ)
	}
	if cell != nil {
		if cell.has && cell.first.v == k.v && cell.first.d == k.d {
			return &cell.first.set
		}
		return a.cellSet(cell, k.v, k.d, create)
	}
	if s := a.lastSet(k); s != nil {
		return s
	}
	return a.set(k, create)
}

// set returns k's set in the rows (nil when k has none), creating it when
// create is set.
func (a *quorumAudit) set(k quorumKey, create bool) *quorumSet {
	if k.to < 0 || k.to >= maxQuorumTo {
		if s := a.odd[k]; s != nil || !create {
			return s
		}
		if a.odd == nil {
			a.odd = map[quorumKey]*quorumSet{}
		}
		s := &quorumSet{}
		a.odd[k] = s
		a.entries++
		return s
	}
	ri := a.row(k.n, create)
	if ri < 0 {
		return nil
	}
	row := &a.rows[ri]
	ci := 2*int(k.to) + int(k.typ)
	if ci >= len(row.cells) {
		if !create {
			return nil
		}
		row.cells = append(row.cells, make([]quorumCell, ci+1-len(row.cells))...)
	}
	return a.cellSet(&row.cells[ci], k.v, k.d, create)
}

// add notes a vote of author for k.
func (a *quorumAudit) add(k quorumKey, author int32) {
	a.addTo(a.lookup(k, true), k, author)
}

// addTo notes a vote of author for k, whose set is s.
func (a *quorumAudit) addTo(s *quorumSet, k quorumKey, author int32) {
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

// lastSet is set's most frequent case, without creating: k's set when k
// is the first (view, digest) of its cell in the row of the seq looked up
// last; nil otherwise (set then finds it or not).
func (a *quorumAudit) lastSet(k quorumKey) *quorumSet {
	if !a.hasLast || a.lastSeq != k.n {
		return nil
	}
	// rows hold the cells of receivers in [0, maxQuorumTo) only, so
	// another k.to (the odd map's) is past the cells, as a negative one
	// is as a uint
	cells := a.rows[a.lastRow].cells
	if ci := uint(2*int(k.to) + int(k.typ)); ci < uint(len(cells)) {
		if cell := &cells[ci]; cell.has && cell.first.v == k.v && cell.first.d == k.d {
			return &cell.first.set
		}
	}
	return nil
}

// has reports whether author's vote for k is noted.
func (a *quorumAudit) has(k quorumKey, author int32) bool {
	if author < 128 {
		return a.hasIn(a.lookup(k, false), k, author)
	}
	return a.hasIn(nil, k, author)
}

// hasIn is has with k's set s (nil: none) already looked up.
func (a *quorumAudit) hasIn(s *quorumSet, k quorumKey, author int32) bool {
	if author < 128 {
		return s != nil && s.bits[author/64]&(uint64(1)<<(author%64)) != 0
	}
	return a.big[quorumBig{k, author}]
}

// count is the number of distinct authors noted for k.
func (a *quorumAudit) count(k quorumKey) int32 {
	if s := a.lookup(k, false); s != nil {
		return s.count
	}
	return 0
}

// foldBelow drops the votes of every seq <= p (see Checker.foldBelow).
func (a *quorumAudit) foldBelow(p uint64) {
	for i, s := range a.fastSeq {
		if s != fastFree(i) && s <= p {
			for _, c := range a.fast[i*a.stride : (i+1)*a.stride] {
				if c.has {
					a.entries -= 1 + len(c.more)
				}
			}
			a.fastSeq[i] = fastFree(i) // cells cleared when the row is claimed again
		}
	}
	for i := range a.rows {
		row := &a.rows[i]
		if row.used && row.seq <= p {
			for j := range row.cells {
				if c := &row.cells[j]; c.has {
					a.entries -= 1 + len(c.more)
				}
			}
			if slot := &a.ring[row.seq%quorumRing]; *slot == int32(i)+1 {
				*slot = 0
			} else {
				delete(a.seqs, row.seq)
			}
			a.clearRow(int32(i))
			a.freeRows = append(a.freeRows, int32(i))
		}
	}
	a.hasLast = false
	for k := range a.odd {
		if k.n <= p {
			delete(a.odd, k)
			a.entries--
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
	switch x := m.(type) {
	case *pbft.Prepare:
		c.quorumVote(from, to, quorumPrepare, x.View, x.Seq, digestKey(x.Digest), x.Replica, x)
	case *pbft.Commit:
		c.quorumVote(from, to, quorumCommit, x.View, x.Seq, digestKey(x.Digest), x.Replica, x)
	}
}

// quorumVote is quorumDelivered of a vote of type typ by author for
// (view, seq, digest key d).
func (c *Checker) quorumVote(from, to sim.NodeID, typ uint8, view, seq, d uint64, author sim.NodeID, m pbft.Signable) {
	if !c.opts.Deliveries || seq <= c.fold.low || int(author) < 0 || int(author) >= c.n || (from != author && !c.sigOK(m)) {
		return
	}
	// The most frequent cases inline: a ring cell's first set, or none yet.
	cell := c.quorum.fastCell(seq, int32(to), typ)
	if cell == nil {
		cell = c.quorum.fastClaim(seq, int32(to), typ)
	}
	if cell != nil && author < 64 {
		b := uint64(1) << author
		if !cell.has {
			cell.first, cell.has = quorumEntry{v: view, d: d, set: quorumSet{bits: [2]uint64{b, 0}, count: 1}}, true
			c.quorum.entries++
			return
		}
		if s := &cell.first.set; cell.first.v == view && cell.first.d == d {
			if s.bits[0]&b == 0 {
				s.bits[0] |= b
				s.count++
			}
			return
		}
	}
	c.quorum.add(quorumKey{v: view, n: seq, d: d, to: int32(to), typ: typ}, int32(author))
}

// quorumEvent audits a correct replica's Prepared or Committed event.
func (c *Checker) quorumEvent(now sim.Time, from sim.NodeID, typ uint8, view, seq uint64, d pbft.Digest) {
	if !c.opts.Deliveries || seq <= c.fold.low {
		return
	}
	k := quorumKey{v: view, n: seq, d: digestKey(d), to: int32(from), typ: typ}
	q := int32(pbft.Quorum(c.n, c.opts.F))
	primary := sim.NodeID(view % uint64(c.n))
	// looked up once for count and has; a ring cell's first set inline
	var set *quorumSet
	if cell := c.quorum.fastCell(seq, k.to, typ); cell != nil && cell.has && cell.first.v == view && cell.first.d == k.d {
		set = &cell.first.set
	} else {
		set = c.quorum.lookup(k, false)
	}
	have := int32(0)
	if set != nil {
		have = set.count // distinct authors, those numbered 128 and above included
	}
	what, need := "COMMITs", q
	if typ == quorumPrepare {
		// From distinct backups: the primary's PREPARE (a correct primary
		// sends none) does not count.
		what, need = "PREPAREs from backups", q-1
		if c.quorum.hasIn(set, k, int32(primary)) {
			have--
		}
	}
	// The replica's own vote: a correct replica that is prepared has sent
	// its PREPARE (a backup) and, before committed-local, its COMMIT.
	if (typ == quorumCommit || from != primary) && !c.quorum.hasIn(set, k, int32(from)) {
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
