package properties

import (
	"encoding/binary"
	"math"

	"github.com/pbftsim/pbftsim/sim"
)

// Bounded memory. The checker's per-(view, seq) and per-seq state (votes,
// prepared digests, committed digests, the committed log, the COMMITs kept
// as accountability evidence) would grow with the run. Once every correct
// replica has a stable checkpoint at or above s, no correct replica accepts,
// prepares, commits or executes anything at or below s again (its low water
// mark h >= s), so state below low = min(stable checkpoints of the correct
// replicas) - Window can no longer change a verdict of the online checks:
// it is folded into a summary (a running digest of the committed log, the
// count of folded seqs, the operations of the log that no correct client
// submitted, for linearizability) and dropped. One window of margin is kept
// below the lowest stable checkpoint for evidence about recent seqs (a
// VIEW-CHANGE whose claimed stable checkpoint lags). Folding happens when
// low has advanced by a window since the last fold, so its cost is
// amortised over a window of seqs.

// foldState is the summary of what was folded.
type foldState struct {
	stable    []uint64 // last stable checkpoint of each replica (correct ones counted)
	hasStable []bool
	low       uint64 // every seq <= low has been folded (slots, digests, evidence)
	logLow    uint64 // every seq <= logLow has been folded from the committed log
	seqs      uint64 // folded seqs with a committed-log entry
	logHash   uint64 // running hash of the folded committed log, in seq order
	foreign   []linOp
	scratch   []bool
}

// defaultWindow is the fold margin when Options.Window is 0: PBFT's default
// L = 2K with K = 16.
const defaultWindow = 32

func (c *Checker) window() uint64 {
	if c.opts.Window > 0 {
		return uint64(c.opts.Window)
	}
	return defaultWindow
}

func (c *Checker) resetFold() {
	f := &c.fold
	stable, has := f.stable, f.hasStable
	if cap(stable) >= c.n {
		stable, has = stable[:c.n], has[:c.n]
		clear(stable)
		clear(has)
	} else {
		stable, has = make([]uint64, c.n), make([]bool, c.n)
	}
	clear(f.foreign)
	*f = foldState{stable: stable, hasStable: has, logHash: foldHashInit, foreign: f.foreign[:0], scratch: f.scratch[:0]}
}

// foldHashInit seeds FoldedLog's running hash.
const foldHashInit = 0x243f6a8885a308d3

// stableCheckpoint notes a correct replica's stable checkpoint and folds
// when the low-water mark has moved a window.
func (c *Checker) stableCheckpoint(from sim.NodeID, seq uint64) {
	f := &c.fold
	if int(from) >= len(f.stable) {
		return
	}
	if !f.hasStable[from] || seq > f.stable[from] {
		f.stable[from], f.hasStable[from] = seq, true
	}
	low := uint64(math.MaxUint64)
	for r := range f.stable {
		if !c.correct(sim.NodeID(r)) {
			continue
		}
		if !f.hasStable[r] {
			return
		}
		low = min(low, f.stable[r])
	}
	w := c.window()
	if low == math.MaxUint64 || low < 2*w {
		return
	}
	if target := low - w; target >= f.low+w {
		c.foldBelow(target)
	}
}

// foldBelow folds and drops the state of every seq <= p.
func (c *Checker) foldBelow(p uint64) {
	c.foldSlots(p)
	for r := range c.commitList {
		keep := c.commitList[r][:0]
		for _, cm := range c.commitList[r] {
			if cm.Seq > p {
				keep = append(keep, cm)
			}
		}
		clear(c.commitList[r][len(keep):])
		c.commitList[r] = keep
	}
	f := &c.fold
	// The committed log up to what the reference replay applied and no
	// result waits for.
	logTo := min(p, c.replayed)
	for _, pr := range c.pendingRes {
		if pr.seq <= logTo {
			logTo = pr.seq - 1
		}
	}
	for s := f.low + 1; s <= p; s++ {
		c.seqDigest.del(s)
	}
	var buf [8]byte
	for s := f.logLow + 1; s <= logTo; s++ {
		entries, ok := c.log.get(s)
		if !ok {
			continue
		}
		f.seqs++
		f.logHash = foldWord(f.logHash, s)
		for _, e := range entries {
			if !e.present {
				continue
			}
			f.logHash = foldBytes(f.logHash, e.digest[:])
			if e.null {
				continue
			}
			binary.LittleEndian.PutUint64(buf[:], uint64(e.req.Client))
			f.logHash = foldBytes(foldBytes(f.logHash, buf[:]), []byte(e.req.Op))
			if !c.submittedReq(mkCT(e.req.Client, e.req.Timestamp)) {
				f.foreign = append(f.foreign, linOp{client: int(e.req.Client), input: e.req.Op, pending: true, ret: math.MaxInt64})
			}
		}
		if cap(entries) > 0 {
			clear(entries)
			c.logFree = append(c.logFree, entries[:0])
		}
		c.log.del(s)
	}
	f.low, f.logLow = p, max(f.logLow, logTo)
}

// foldSlots drops the (view, seq) slots with seq <= p and compacts c.slots
// and c.votes in place (slot indexes only shrink, in the same order).
func (c *Checker) foldSlots(p uint64) {
	alive := c.fold.scratch[:0]
	alive = append(alive, make([]bool, len(c.slots))...)
	for _, row := range c.slotTab {
		// From 0, not low+1: a late message (e.g. a forged CHECKPOINT's
		// seq made a replica fold early) can add a slot at or below low.
		for seq := uint64(0); seq < uint64(len(row)); seq++ {
			if row[seq] == 0 {
				continue
			}
			if seq <= p {
				row[seq] = 0
			} else {
				alive[row[seq]-1] = true
			}
		}
	}
	for k, i := range c.bigSlot {
		if k.n <= p {
			delete(c.bigSlot, k)
		} else {
			alive[i] = true
		}
	}
	// New indexes in old order; move slots and their votes down.
	remap := make([]int32, len(c.slots))
	next, nextVote := int32(0), 0
	for i := range c.slots {
		if !alive[i] {
			remap[i] = -1
			continue
		}
		remap[i] = next
		sl := c.slots[i]
		if sl.base >= 0 {
			copy(c.votes[nextVote:nextVote+c.n], c.votes[sl.base:int(sl.base)+c.n])
			sl.base = int32(nextVote)
			nextVote += c.n
		}
		c.slots[next] = sl
		next++
	}
	clear(c.slots[next:])
	c.slots = c.slots[:next]
	clear(c.votes[nextVote:])
	c.votes = c.votes[:nextVote]
	for _, row := range c.slotTab {
		for seq := p + 1; seq < uint64(len(row)); seq++ {
			if row[seq] != 0 {
				row[seq] = remap[row[seq]-1] + 1
			}
		}
	}
	for k, i := range c.bigSlot {
		c.bigSlot[k] = remap[i]
	}
	c.fold.scratch = alive[:0]
}

func foldWord(h, w uint64) uint64 {
	h = (h ^ w) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

func foldBytes(h uint64, b []byte) uint64 {
	h = foldWord(h, uint64(len(b)))
	for len(b) >= 8 {
		h = foldWord(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var w uint64
	for i := len(b) - 1; i >= 0; i-- {
		w = w<<8 | uint64(b[i])
	}
	return foldWord(h, w)
}

// Retained returns the number of entries the checker holds for the
// protocol's sequence space: (view, seq) slots, per-replica votes, COMMITs
// kept as evidence, committed digests and committed-log seqs. With correct
// replicas that keep taking checkpoints it stays proportional to the window
// (see foldBelow), not to the length of the run.
func (c *Checker) Retained() int {
	n := len(c.slots) + len(c.votes) + c.seqDigest.len() + c.log.len()
	for _, cl := range c.commitList {
		n += len(cl)
	}
	return n
}

// FoldedLog summarises the committed log folded so far: the seqs folded
// (every seq at or below Below has been), how many of them had entries, and
// a running hash of their entries (seq, digest, client, operation) in order.
func (c *Checker) FoldedLog() (below, seqs, hash uint64) {
	return c.fold.low, c.fold.seqs, c.fold.logHash
}
