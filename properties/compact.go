package properties

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/events"
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
// amortised over a window of seqs. Protocols without stable checkpoints
// (HotStuff) fold the same way below the lowest executed prefix of the
// correct replicas (Options.FoldOnExecuted).

// foldState is the summary of what was folded.
type foldState struct {
	stable    []uint64 // last stable checkpoint of each replica (correct ones counted)
	hasStable []bool
	low       uint64 // every seq <= low has been folded (slots, digests, evidence)
	logLow    uint64 // every seq <= logLow has been folded from the committed log
	seqs      uint64 // folded seqs with a committed-log entry
	logHash   uint64 // running hash of the folded committed log, in seq order
	scratch   []bool
	req       foldReqState
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
	rq := f.req
	rq.reset()
	*f = foldState{stable: stable, hasStable: has, logHash: foldHashInit, scratch: f.scratch[:0], req: rq}
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
	c.foldTo(low)
}

// executedPrefix folds when the lowest executed prefix of the correct
// replicas (every seq below a replica's last executed one, whose batch may
// be unfinished) has moved a window (Options.FoldOnExecuted).
func (c *Checker) executedPrefix() {
	low := uint64(math.MaxUint64)
	for r := 0; r < c.n && r < len(c.reps); r++ {
		if !c.correct(sim.NodeID(r)) {
			continue
		}
		last := c.reps[r].lastSeq
		if last == 0 {
			return
		}
		low = min(low, last-1)
	}
	c.foldTo(low)
}

// foldTo folds a window below low, the seq at or below which no correct
// replica acts any more, once that has moved a window since the last fold.
func (c *Checker) foldTo(low uint64) {
	w := c.window()
	if low == math.MaxUint64 || low < 2*w {
		return
	}
	if target := low - w; target >= c.fold.low+w {
		c.foldBelow(target)
	}
}

// foldBelow folds and drops the state of every seq <= p.
func (c *Checker) foldBelow(p uint64) {
	c.foldSlots(p)
	c.quorum.foldBelow(p)
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
		c.states.del(s)
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
			if !c.submittedReq(mkClientStamp(e.req.Client, e.req.Timestamp)) {
				// A faulty node's request: carried along by its payment's
				// linearizability check (linsegment.go).
				c.foldOp(c.entrySlot(&e), linOp{client: int(e.req.Client), input: e.req.Op, pending: true, ret: math.MaxInt64, carried: true}, true)
			}
		}
		if cap(entries) > 0 {
			clear(entries)
			c.logFree = append(c.logFree, entries[:0])
		}
		c.log.del(s)
	}
	f.low, f.logLow = p, max(f.logLow, logTo)
	c.foldRequests()
	if f.req.pays.wantSweep() {
		c.sweepPays()
	}
}

// foldSlots drops the (view, seq) slots with seq <= p and compacts c.slots
// and c.votes in place (slot indexes only shrink, in the same order).
func (c *Checker) foldSlots(p uint64) {
	alive := c.fold.scratch[:0]
	alive = append(alive, make([]bool, len(c.slots))...)
	// Every seq, not only those above the last fold's low: a late vote
	// for a folded seq creates a slot again, which must be dropped with its
	// table entry (else the entry outlives the compaction and points past
	// c.slots).
	for v := range c.slotTab {
		c.slotTab[v].update(func(seq uint64, i int32) (int32, bool) {
			if seq <= p {
				return 0, false
			}
			alive[i-1] = true
			return i, true
		})
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
	for v := range c.slotTab {
		c.slotTab[v].update(func(_ uint64, i int32) (int32, bool) { return remap[i-1] + 1, true })
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
// protocol's sequence space and the requests: (view, seq) slots,
// per-replica votes, COMMITs kept as evidence, committed and state digests,
// committed-log seqs, submissions, requests and the local-quorum audit's
// vote sets. With correct replicas that keep taking checkpoints it stays
// proportional to the window (see foldBelow), not to the length of the run.
func (c *Checker) Retained() int {
	n := len(c.slots) + len(c.votes) + c.seqDigest.len() + c.log.len() + c.states.len() + len(c.subs) + len(c.reqs) + c.quorum.entries
	for _, cl := range c.commitList {
		n += len(cl)
	}
	return n
}

// PaymentRetention is what the linearizability check holds for the
// payments (see Checker.RetainedPayments).
type PaymentRetention struct {
	Open         int // payments with an open segment, carried operations or several possible states
	Ops          int // operations they hold
	PeakOpen     int // the most Open after a fold during the run
	PeakOps      int // the most Ops after a fold during the run
	Summaries    int // compact summaries of the other payments checked so far
	SummaryBytes int // their size: the paySum and the id's bytes (the table's own overhead not counted)
	Slots        int // payment ids numbered: those of the above, and those held submissions and log entries refer to (paytab.go)
}

// RetainedPayments returns what the linearizability check holds for the
// payments (linsegment.go).
func (c *Checker) RetainedPayments() PaymentRetention {
	f := &c.fold.req
	return PaymentRetention{Open: len(f.pays.open), Ops: f.openOps(), PeakOpen: f.peakOpen, PeakOps: f.peakOps,
		Summaries: f.pays.nSum, SummaryBytes: f.pays.summaryBytes(), Slots: f.pays.inUse()}
}

// openOps returns the operations the open payments hold.
func (f *foldReqState) openOps() int {
	n := 0
	for _, i := range f.pays.open {
		pl := f.pays.slots[i].pl
		n += len(pl.ops) + len(pl.carried)
	}
	return n
}

// FoldedLog summarises the committed log folded so far: the seqs folded
// (every seq at or below Below has been), how many of them had entries, and
// a running hash of their entries (seq, digest, client, operation) in order.
func (c *Checker) FoldedLog() (below, seqs, hash uint64) {
	return c.fold.low, c.fold.seqs, c.fold.logHash
}

// Requests are folded too, once their fate is settled: submitted by a
// client, accepted, replayed by the reference ledger, and executed by a
// correct replica at a seq that was folded from the committed log. A folded
// request's liveness is judged then (a late acceptance is reported at
// Finish, as before), its operation joins its payment's history for the
// end-of-run linearizability check (at most MaxHistory operations per
// payment: past that the payment is given up, as a longer history is), and
// its client's folded timestamp rises: a later execution of a request at or
// below it by a correct replica is an Integrity violation. Requests fold in
// timestamp order per client (a client's unsettled request holds back its
// later ones).

// foldReqState is the part of foldState about requests.
type foldReqState struct {
	clientTs   clientTS    // highest folded timestamp per client
	late       []Violation // liveness violations of folded requests
	liveJudged int
	// pays holds, per payment, its summary when its checked segments end
	// in one state, or its open segment, carried operations or several
	// states (linsegment.go, paytab.go).
	pays      payTab
	free      []*payLin    // payLins to reuse (at most maxFreePayLins)
	ledgers   *ledgerCache // ledgers of recently summarised payments (linsegment.go)
	refRecs   *refRecs     // the reference ledger's records of recently replayed payments (linsegment.go)
	ids       []int32      // cutSegments' scratch
	cutting   bool         // cutSegments runs: linViolation adds to cutVios
	cutVios   []cutVio     // the violations cutSegments found (reported at its end, in payment order)
	busyMark  uint32       // refHolds' scratch: the payments in the unfolded replayed log hold this busyMark
	busyBuilt bool         // busyMark is set for this fold
	peakOpen  int          // the most open payments after a fold
	peakOps   int          // the most operations they held after a fold
	requests  int          // requests folded
	blocked   map[sim.NodeID]bool
	subMap    []int32
	reqMap    []int32
}

func (f *foldReqState) reset() {
	f.clientTs.reset()
	f.pays.reset()
	*f = foldReqState{clientTs: f.clientTs, late: f.late[:0], pays: f.pays,
		ids: f.ids[:0], blocked: reuse(f.blocked), subMap: f.subMap[:0], reqMap: f.reqMap[:0],
		free: f.free, ledgers: f.ledgers, refRecs: f.refRecs}
	if f.ledgers == nil {
		f.ledgers = &ledgerCache{}
	}
	f.ledgers.reset()
	if f.refRecs == nil {
		f.refRecs = &refRecs{}
	}
	f.refRecs.reset()
}

// foldedTs is the highest folded timestamp of client (0: none).
func (c *Checker) foldedTs(client sim.NodeID) uint64 {
	t, _ := c.fold.req.clientTs.get(int64(client))
	return t
}

// foldedReq reports whether request (client, ts) lies at or below its
// client's folded timestamp.
func (c *Checker) foldedReq(client sim.NodeID, ts uint64) bool {
	t, ok := c.fold.req.clientTs.get(int64(client))
	return ok && ts <= t
}

// foldRequests folds the settled requests (see above) and compacts subs,
// reqs and execAt.
func (c *Checker) foldRequests() {
	c.flushResults() // no acceptance left waiting for a request about to fold
	f := &c.fold.req
	clear(f.blocked)
	subMap := f.subMap[:0]
	subMap = append(subMap, make([]int32, len(c.subs))...)
	reqMap := f.reqMap[:0]
	reqMap = append(reqMap, make([]int32, len(c.reqs))...)
	for i := range reqMap {
		reqMap[i] = 0 // kept unless its submission folds
	}
	folded := 0
	for i := range c.subs {
		s := &c.subs[i]
		client := s.req.Client
		ri, ok := c.reqIdx.get(mkClientStamp(client, s.req.Timestamp))
		if !ok || f.blocked[client] || !s.accepted || !c.settled(ri) {
			f.blocked[client] = true
			subMap[i] = 0
			continue
		}
		subMap[i] = -1
		reqMap[ri] = -1
		folded++
		c.foldSubmission(s, &c.reqs[ri])
	}
	if folded == 0 {
		f.subMap, f.reqMap = subMap, reqMap
		c.cutSegments()
		return
	}
	f.requests += folded
	// Compact subs and reqs (indexes only shrink, order kept).
	n := int32(0)
	for i := range c.subs {
		if subMap[i] < 0 {
			continue
		}
		subMap[i] = n
		c.subs[n] = c.subs[i]
		n++
	}
	clear(c.subs[n:])
	c.subs = c.subs[:n]
	m := int32(0)
	for i := range c.reqs {
		if reqMap[i] < 0 {
			continue
		}
		reqMap[i] = m
		rq := c.reqs[i]
		if rq.sub >= 0 {
			rq.sub = subMap[rq.sub]
		}
		c.reqs[m] = rq
		copy(c.execAt[int(m)*c.n:int(m+1)*c.n], c.execAt[i*c.n:(i+1)*c.n])
		m++
	}
	clear(c.reqs[m:])
	c.reqs = c.reqs[:m]
	clear(c.execAt[int(m)*c.n:])
	c.execAt = c.execAt[:int(m)*c.n]
	c.reqIdx.reset()
	for i := range c.reqs {
		c.reqIdx.put(c.reqs[i].key, int32(i))
	}
	f.subMap, f.reqMap = subMap, reqMap
	c.cutSegments()
}

// settled reports whether request ri's execution is below the folded log.
func (c *Checker) settled(ri int32) bool {
	rq := &c.reqs[ri]
	if !rq.replayed || !rq.executed {
		return false
	}
	for r := 0; r < c.n; r++ {
		if at := c.execAt[int(ri)*c.n+r]; at.ok && at.seq <= c.fold.logLow {
			return true
		}
	}
	return false
}

// foldSubmission folds an accepted submission, whose request's state is
// rq: liveness judged, operation into its payment's history (with what the
// reference replay did for it, see refChain), client timestamp raised.
func (c *Checker) foldSubmission(s *submission, rq *reqState) {
	f := &c.fold.req
	client := s.req.Client
	f.clientTs.raise(int64(client), s.req.Timestamp)
	if c.opts.LivenessBound > 0 && !c.faultyC[client] {
		f.liveJudged++
		deadline := max(s.at, c.opts.GST).Add(c.opts.LivenessBound)
		if s.acceptAt > deadline {
			f.late = append(f.late, Violation{Property: Liveness, Replicas: []sim.NodeID{client}, Time: s.acceptAt,
				Detail: fmt.Sprintf("client %d's request %d (%q) submitted at %v completed at %v, after the bound %v past max(submission, GST)", client, s.req.Timestamp, s.req.Op, s.at, s.acceptAt, c.opts.LivenessBound)})
		}
	}
	op := linOp{client: int(client), input: s.req.Op, call: int64(s.at), output: s.result, ret: int64(s.acceptAt)}
	if st := &rq.ref; st.ok && rq.replayed && st.op == s.req.Op && rq.refRes == s.result {
		op.chain, op.pre, op.post = true, st.pre, st.post
	}
	c.foldOp(s.slot, op, false)
}

// foldedHistory appends the operations of the open segments and the
// carried operations, by payment id, to out.
func (c *Checker) foldedHistory(out []linOp) []linOp {
	t := &c.fold.req.pays
	if len(t.open) == 0 {
		return out
	}
	ids := slices.Clone(t.open)
	slices.SortFunc(ids, func(a, b int32) int { return strings.Compare(t.slots[a].id, t.slots[b].id) })
	for _, i := range ids {
		out = append(out, t.slots[i].pl.ops...)
		out = append(out, t.slots[i].pl.carried...)
	}
	return out
}

// reexecutedFolded reports (as an Integrity violation) a correct replica's
// execution of a request that was folded: at or below its client's folded
// timestamp and no longer held. It returns true when it did.
func (c *Checker) reexecutedFolded(now sim.Time, from sim.NodeID, e events.Execution) bool {
	if !c.foldedReq(e.Client, e.Timestamp) || c.findReq(mkClientStamp(e.Client, e.Timestamp)) != nil {
		return false
	}
	c.violate(Violation{Property: Integrity, Replicas: []sim.NodeID{from}, View: e.View, Seq: e.Seq, Time: now,
		Detail: fmt.Sprintf("replica %d executed request (client %d, timestamp %d) at seq %d, at or below the client's requests already executed and folded (up to timestamp %d)", from, e.Client, e.Timestamp, e.Seq, c.foldedTs(e.Client))})
	return true
}
