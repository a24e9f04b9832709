package pbft

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Timer ids used by a replica.
const (
	timerRequest    sim.TimerID = 1 // a pending request was not executed in time: view change
	timerViewChange sim.TimerID = 2 // no valid NEW-VIEW in time after 2f+1 VIEW-CHANGEs
	timerBatch      sim.TimerID = 3 // primary: flush a partial batch
	timerFetch      sim.TimerID = 4 // state transfer retry
	timerBehind     sim.TimerID = 5 // a stable checkpoint above our execution: fetch if still behind
	timerLagging    sim.TimerID = 6 // f+1 replicas are in a view we have not entered: ask for NEW-VIEW
	timerVCResend   sim.TimerID = 7 // retransmit our VIEW-CHANGE while waiting for a NEW-VIEW
)

// reqKey identifies a client request. The client is widened to 64 bits so
// that the key has no padding and hashes as plain memory (a padded key
// hashes field by field: the replicas' pending and inLog maps are looked up
// on every request).
type reqKey struct {
	client int64
	ts     uint64
}

func mkReqKey(c sim.NodeID, ts uint64) reqKey { return reqKey{int64(c), ts} }

// entry is the log slot of one sequence number.
type entry struct {
	seq      uint64
	view     uint64 // view of pp and the votes below
	pp       *PrePrepare
	prepares []*Prepare // indexed by replica; first message per replica wins
	commits  []*Commit
	nPrep    int // PREPAREs (from backups) matching pp's digest
	nCommit  int // COMMITs matching pp's digest

	sentCommit bool
	prepared   bool
	committed  bool
	executed   bool
	cert       *PreparedCert // highest-view prepared certificate (nil or &certBuf); survives view changes
	certBuf    PreparedCert  // storage of cert; its Prepares reuse certPrep (cloned into VIEW-CHANGEs)
	certPrep   []*Prepare    // backing array of certBuf.Prepares, kept across reuse of the entry
}

// ckptState is what a replica knows about the checkpoint at one seq.
type ckptState struct {
	mine    bool // this replica executed up to seq and took the checkpoint
	digest  Digest
	state   Frozen // the state machine at seq (encoded only for a STATE)
	replies []Reply
	votes   []*Checkpoint // indexed by replica
}

// futureMsg is a normal-case message for a view this replica has not entered yet.
type futureMsg struct {
	from sim.NodeID
	msg  sim.Message
	view uint64
}

// Replica is one PBFT replica: a pure state machine implementing sim.Node.
type Replica struct {
	cfg    Config
	id     sim.NodeID
	n, f   int
	q      int // quorum: ceil((n+f+1)/2), which is 2f+1 when n = 3f+1
	k, l   uint64
	kr     *Keyring
	signer Signer
	sm     StateMachine
	rules  rules // the protocol's rules (the paper's, or a broken variant's)
	broken bool  // a broken variant: the invariant assertions are off
	inv    *invariantState
	buf    []byte

	out *sim.Output
	now sim.Time

	view     uint64
	active   bool // false while changing to view `view`
	seq      uint64
	lastExec uint64
	h        uint64 // low watermark: last stable checkpoint
	stableD  Digest
	proof    []*Checkpoint // 2f+1 CHECKPOINTs proving h

	log  seqLog
	free []*entry

	lastReply    map[sim.NodeID]*Reply
	replyClients []sim.NodeID // sorted keys of lastReply
	pending      map[reqKey]pendingReq
	arrivals     uint64     // requests added to pending so far
	pendingOf    []int32    // per client id: its entries in pending
	queue        []*Request // primary: requests waiting for a sequence number
	inLog        map[reqKey]bool
	reqTimerOn   bool
	awaited      reqKey // the request the running request timer belongs to
	batchTimerOn bool

	ckpts map[uint64]*ckptState
	high  []*Checkpoint // per replica: its highest CHECKPOINT above H

	behindSeq    uint64 // a stable checkpoint proof seen above lastExec
	behindD      Digest
	behindProof  []*Checkpoint
	behindArmed  bool
	fetching     bool
	fetchSeq     uint64
	badState     []bool // per replica: sent a STATE whose snapshot does not hash to its proven digest
	fetchRetries int

	vcs       []*ViewChange // per replica: highest-view VIEW-CHANGE received
	vcTimerOn bool
	// timeout is the current view-change timeout T, used by the request
	// timer and the NEW-VIEW timer: the base ViewChangeTimeout, doubled for
	// each view that ends before a request executes in it; back to the base
	// once a request not executed before executes in the current view.
	timeout time.Duration
	// viewProgress: since this replica entered its current view by a
	// NEW-VIEW, a request it had not executed before has executed (true in
	// view 0, which is not entered by a view change).
	viewProgress bool
	sentNewView  uint64      // highest view for which this replica sent NEW-VIEW (+1)
	future       []futureMsg // verified messages of views not yet entered
	futureCount  []int       // per sender: its messages in future (capped by futureCap)
	futureFrom   []uint64    // per replica: highest future view it sent a normal-case message for
	lastNewView  *NewView
	nullDigest   Digest
	askedView    uint64 // view+1 for which this replica asked for the NEW-VIEW
	lagTimerOn   bool
	entering     bool  // inside enterView: no proposals yet
	lateVC       []int // VIEW-CHANGEs for the current view received after entering it, per replica (saturates at 2)

	// store is the modelled stable storage (nil: none, only crashes of
	// kind keep); dirty is what the current step changed that it holds.
	store *Store
	dirty dirty
	// rejoining: the replica lost its disk (a wipe) and has not yet caught
	// up by state transfer; it signs nothing until then.
	rejoining bool

	allocs replicaAllocs
}

// replicaAllocs carves the messages and events a replica makes for every
// request from chunks (see slab).
type replicaAllocs struct {
	prepare     slab[Prepare]
	commit      slab[Commit]
	reply       slab[Reply]
	sentPrepare slab[SentPrepare]
	prepared    slab[Prepared]
	committed   slab[Committed]
	executed    slab[Executed]
	prePrepare  slab[PrePrepare]
	batch       carve[*Request]
}

// NewReplica validates c and returns a replica in view 0.
func NewReplica(c Config) (*Replica, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := &Replica{
		cfg: c, id: c.ID, n: c.N, f: c.F, q: Quorum(c.N, c.F),
		k: uint64(c.CheckpointInterval), l: uint64(c.Window),
		kr: c.Keyring, signer: c.Keyring.Signer(c.ID), sm: c.SM, rules: rulesOf(c.Variant), broken: c.Variant != Correct,
		active:       true,
		log:          newSeqLog(c.Window),
		lastReply:    make(map[sim.NodeID]*Reply),
		pending:      make(map[reqKey]pendingReq),
		inLog:        make(map[reqKey]bool),
		ckpts:        make(map[uint64]*ckptState),
		high:         make([]*Checkpoint, c.N),
		badState:     make([]bool, c.N),
		vcs:          make([]*ViewChange, c.N),
		futureFrom:   make([]uint64, c.N),
		lateVC:       make([]int, c.N),
		futureCount:  make([]int, c.N),
		timeout:      c.ViewChangeTimeout,
		viewProgress: true,
		buf:          make([]byte, 0, 1024),
	}
	r.nullDigest = BatchDigest(nil)
	if s := c.Store; s != nil {
		r.store = s
		if s.initial == nil {
			s.initial = c.SM.Freeze() // the software's initial state
		}
	}
	return r, nil
}

// Quorum is the size of a PBFT quorum for n replicas tolerating f faults:
// ceil((n+f+1)/2), so that two quorums intersect in at least f+1 replicas
// (one correct). It is 2f+1 when n = 3f+1; with more replicas than 3f+1 a
// quorum of 2f+1 would not be safe. Prepared needs Quorum-1 PREPAREs (2f),
// committed-local Quorum COMMITs (2f+1).
func Quorum(n, f int) int { return (n + f + 2) / 2 }

// ---- read-only accessors ----

// ID returns the replica's id.
func (r *Replica) ID() sim.NodeID { return r.id }

// View returns the current view (the target view while a view change is in progress).
func (r *Replica) View() uint64 { return r.view }

// InViewChange reports whether the replica left its view and waits for a NEW-VIEW.
func (r *Replica) InViewChange() bool { return !r.active }

// LastExecuted returns the highest sequence number executed (or installed by state transfer).
func (r *Replica) LastExecuted() uint64 { return r.lastExec }

// StableCheckpoint returns the low watermark h, the last stable checkpoint.
func (r *Replica) StableCheckpoint() uint64 { return r.h }

// StateDigest returns the digest of the replicated state: the state machine's
// digest and the last-reply table. Replicas that executed the same requests
// have the same StateDigest.
func (r *Replica) StateDigest() Digest { return r.stateDigest() }

// LogSize returns the number of log entries held; it never exceeds the window L.
func (r *Replica) LogSize() int { return r.log.len() }

// Primary returns the primary of the current view.
func (r *Replica) Primary() sim.NodeID { return r.primary(r.view) }

// Signer returns the replica's own signer (for Byzantine wrappers).
func (r *Replica) Signer() Signer { return r.signer }

// ---- helpers ----

func (r *Replica) primary(v uint64) sim.NodeID { return sim.NodeID(v % uint64(r.n)) }
func (r *Replica) isPrimary() bool             { return r.primary(r.view) == r.id }

func (r *Replica) multicast(m sim.Message) {
	for i := 0; i < r.n; i++ {
		if sim.NodeID(i) != r.id {
			r.out.Send(sim.NodeID(i), m)
		}
	}
}

func (r *Replica) verify(m Signable) bool {
	vc := r.cfg.VerifyCache
	if vc != nil && vc.has(m) {
		return true
	}
	ok, b := r.kr.VerifyBuf(r.buf, m)
	r.buf = b
	if ok && vc != nil {
		vc.add(m)
	}
	return ok
}

func (r *Replica) sign(m Signable) Sig {
	s, b := r.signer.SignBuf(r.buf, m)
	r.buf = b
	return s
}

func (r *Replica) inWindow(seq uint64) bool { return seq > r.h && seq <= r.h+r.l }

// proposeLimit is the highest sequence number the primary may assign: like
// Fabric, not beyond h + L/2 (when L/2 still reaches the next checkpoint).
func (r *Replica) proposeLimit() uint64 {
	if r.l/2 >= r.k {
		return r.h + r.l/2
	}
	return r.h + r.l
}

func (r *Replica) prepQuorum() int {
	return r.rules.preparedVotes(r.q)
}

func (r *Replica) commitQuorum() int {
	return r.rules.committedVotes(r.q)
}

// getEntry returns the log entry for seq, reset to the current view.
func (r *Replica) getEntry(seq uint64) *entry {
	e := r.log.get(seq)
	if e == nil {
		if k := len(r.free); k > 0 {
			e = r.free[k-1]
			r.free = r.free[:k-1]
		} else {
			e = &entry{prepares: make([]*Prepare, r.n), commits: make([]*Commit, r.n)}
		}
		e.seq = seq
		e.view = r.view
		r.log.put(e)
		return e
	}
	if e.view != r.view {
		r.resetView(e)
	}
	return e
}

func (r *Replica) resetView(e *entry) {
	e.view = r.view
	e.pp = nil
	clear(e.prepares)
	clear(e.commits)
	e.nPrep, e.nCommit = 0, 0
	e.sentCommit, e.prepared, e.committed = false, false, false
}

func (r *Replica) freeEntry(e *entry) {
	*e = entry{prepares: e.prepares, commits: e.commits, certPrep: e.certPrep[:0]}
	clearSmall(e.prepares)
	clearSmall(e.commits)
	clearSmall(e.certPrep[:cap(e.certPrep)])
	r.free = append(r.free, e)
}

// clearSmall is clear for the short vote slices of an entry (n elements):
// a counted loop, which the compiler does not turn into a call of the
// runtime's memclr (clear, and a range loop storing nil, cost a call of
// about 33 instructions each for 4 pointers).
func clearSmall[M any](s []*M) {
	for i := 0; i < len(s); i++ {
		s[i] = nil
	}
}

// ---- sim.Node ----

// Start implements sim.Node. A replica has nothing to do until a request
// arrives.
func (r *Replica) Start(now sim.Time, out *sim.Output) { r.now = now }

// Step implements sim.Node.
func (r *Replica) Step(now sim.Time, in sim.Input, out *sim.Output) {
	r.now, r.out = now, out
	switch in.Kind {
	case sim.InputMessage:
		r.onMessage(in.From, in.Msg)
	case sim.InputTimer:
		r.onTimer(in.Timer)
	case sim.InputRecover:
		r.onRecover(in.Crash)
	}
	if r.store != nil {
		r.persist()
	}
	r.out = nil
	r.checkInvariants()
}

func (r *Replica) onMessage(from sim.NodeID, m sim.Message) {
	if r.rejoining {
		// A wiped replica may have signed anything before: it only
		// learns of stable checkpoints and fetches the state until it
		// has caught up (see Store).
		switch m.(type) {
		case *Checkpoint, *State:
		default:
			return
		}
	}
	switch m := m.(type) {
	case *Request:
		r.onRequest(from, m)
	case *PrePrepare:
		r.onPrePrepare(from, m)
	case *Prepare:
		r.onPrepare(from, m)
	case *Commit:
		r.onCommit(from, m)
	case *Checkpoint:
		r.onCheckpoint(from, m)
	case *ViewChange:
		r.onViewChange(from, m)
	case *NewView:
		r.onNewView(from, m)
	case *FetchState:
		r.onFetchState(from, m)
	case *State:
		r.onState(from, m)
	}
}

func (r *Replica) onTimer(id sim.TimerID) {
	switch id {
	case timerRequest:
		r.reqTimerOn = false
		if r.active && len(r.pending) > 0 {
			if !r.viewProgress && r.rules.growTimeout {
				// this view, entered by a view change, executed nothing
				// new before its timer ran out: wait twice as long for
				// the next one (OSDI'99 §4.5.2)
				r.growTimeout()
			}
			r.startViewChange(r.view + 1)
		}
	case timerViewChange:
		r.vcTimerOn = false
		if !r.active {
			if r.rules.growNewViewTimer {
				r.growTimeout()
			}
			r.startViewChange(r.view + 1)
		}
	case timerBatch:
		r.batchTimerOn = false
		r.propose(true)
	case timerFetch:
		r.onFetchTimer()
	case timerBehind:
		r.behindArmed = false
		r.checkBehind()
	case timerVCResend:
		if !r.active && r.vcs[r.id] != nil && r.vcs[r.id].NewView == r.view {
			r.multicast(r.vcs[r.id])
			r.out.SetTimer(timerVCResend, r.cfg.ViewChangeTimeout)
		}
	case timerLagging:
		r.lagTimerOn = false
		r.checkLaggingView(true)
	}
}

func (r *Replica) onRecover(k sim.CrashKind) {
	if k != sim.CrashKeep {
		r.recoverFrom(k)
	}
	r.probeRecover()
	r.reqTimerOn, r.vcTimerOn, r.batchTimerOn, r.behindArmed, r.lagTimerOn = false, false, false, false, false
	if !r.rules.keepSignedOnRecovery {
		r.forgetSigned()
	}
	if r.active {
		r.armRequestTimer()
		r.propose(false)
	} else {
		r.processViewChanges()
		r.out.SetTimer(timerVCResend, 0)
	}
	if r.behindSeq > r.lastExec {
		r.armBehind()
	}
	// Catch up: ask for any newer stable state (and the current NEW-VIEW).
	if r.fetching {
		r.out.SetTimer(timerFetch, r.cfg.ViewChangeTimeout)
	} else {
		r.startFetch(r.lastExec + 1)
	}
}

// forgetSigned drops what a replica without stable storage for its log
// loses in a crash: the log and the sequence numbers it assigned.
func (r *Replica) forgetSigned() {
	for s, e := range r.log.all() {
		r.log.del(s)
		r.freeEntry(e)
	}
	clear(r.inLog)
	r.seq = r.h
	if r.isPrimary() && r.active {
		r.requeuePending()
	}
}

// ---- requests ----

// maxTimeoutShift bounds the doubling of the view-change timeout (2^20 T).
const maxTimeoutShift = 20

// growTimeout doubles the view-change timeout T (up to 2^20 times the base).
func (r *Replica) growTimeout() {
	if r.timeout < r.cfg.ViewChangeTimeout<<maxTimeoutShift {
		r.probe(ProbeTimeoutGrew)
		r.timeout *= 2
	}
}

// armRequestTimer starts the request timer (OSDI'99 §4.5.2) if the replica
// is a backup in an active view and waits for a request and no timer runs:
// the timer then belongs to one awaited request (the pending request that
// arrived first, see oldestPending) and stops only when that request is no
// longer awaited (delPending). The primary does not arm it for the requests it
// receives (it does not vote itself out for its own queue); it starts it
// only on a client's complaint (primaryComplaint).
func (r *Replica) armRequestTimer() {
	if r.reqTimerOn && (len(r.pending) == 0 || !r.active) {
		r.stopRequestTimer()
	}
	if r.reqTimerOn || len(r.pending) == 0 || !r.active || r.isPrimary() {
		return
	}
	r.awaited = r.oldestPending()
	r.out.SetTimer(timerRequest, r.timeout)
	r.reqTimerOn = true
}

// oldestPending returns the pending request that arrived first (pending
// must not be empty). The request timer awaits it, and a new primary orders
// pending requests in arrival order (requeuePending). Were it the smallest
// (client, timestamp) instead, a client with a larger id would wait behind
// every request of the clients with smaller ids, however many they submit,
// whenever views change between executions (a timeout below the round trip
// makes every execution cost a view change), and a primary that censors it
// while ordering the others would never be voted out (its request would
// never be awaited while theirs are pending).
func (r *Replica) oldestPending() reqKey {
	var oldest reqKey
	var op pendingReq
	first := true
	for k, p := range r.pending {
		if first || r.before(k, p, oldest, op) {
			oldest, op, first = k, p, false
		}
	}
	return oldest
}

// primaryComplaint starts the primary's request timer for key, a request
// it holds and has not executed (ordered in its view, or still queued: at
// the top of its window, or in a view the others have left), which the
// client has just retransmitted (so the client lacks f+1 replies after its
// own timeout).
// If the primary has still not executed it one timeout T later, it moves
// to the next view like a backup would. Deviation from the paper, where
// only backups run the timer: without it, a view can stall for good when a
// correct backup left it alone before GST without having sent its COMMIT
// (with f others crashed, only 2f correct replicas remain in the view), and
// every backup still in it has executed the request: no backup waits, so
// no timer ends the view (properties/testdata/findings
// pbft-liveness-backup-ahead-primary-untimed). Nor can a primary that
// missed the NEW-VIEW of a later view, and keeps its old view's requests
// queued, stay there for good while the others wait for its VIEW-CHANGE
// (pbft-liveness-stale-primary-queued). A primary whose requests execute
// is never voted out by its own timer, whatever its queue.
func (r *Replica) primaryComplaint(key reqKey) {
	if r.reqTimerOn || !r.rules.primaryComplaintTimer {
		return
	}
	r.awaited = key
	r.out.SetTimer(timerRequest, r.timeout)
	r.reqTimerOn = true
}

// pendingBefore reports whether pending request a comes before b: it
// arrived first (with the broken variant requests-by-client-id: it has the
// smaller (client, timestamp)).
func (r *Replica) pendingBefore(a, b reqKey) bool {
	return r.before(a, r.pending[a], b, r.pending[b])
}

// before is pendingBefore for pending requests a and b, held as pa and pb.
func (r *Replica) before(a reqKey, pa pendingReq, b reqKey, pb pendingReq) bool {
	if !r.rules.arrivalOrder {
		return a.client < b.client || a.client == b.client && a.ts < b.ts
	}
	return pa.arrival < pb.arrival
}

// pendingReq is a pending request and its arrival number (the requests
// added to pending before it: FIFO order).
type pendingReq struct {
	q       *Request
	arrival uint64
}

// stopRequestTimer cancels the request timer.
func (r *Replica) stopRequestTimer() {
	if r.reqTimerOn {
		r.out.CancelTimer(timerRequest)
		r.reqTimerOn = false
	}
}

// executedReq reports whether the request was already executed (or is older
// than the last reply to its client).
func (r *Replica) executedReq(q *Request) bool {
	last := r.lastReply[q.Client]
	return last != nil && q.Timestamp <= last.Timestamp
}

func (r *Replica) validRequest(q *Request) bool {
	return int(q.Client) >= r.n && r.verify(q)
}

func (r *Replica) onRequest(from sim.NodeID, q *Request) {
	fromClient := from == q.Client
	if !fromClient && (from < 0 || int(from) >= r.n) {
		return
	}
	if !r.validRequest(q) && (r.rules.primaryVerifiesRequests || !r.isPrimary() || int(q.Client) < r.n) {
		return
	}
	if last := r.lastReply[q.Client]; last != nil && r.rules.checkTimestamps {
		if q.Timestamp == last.Timestamp {
			r.out.Send(q.Client, last) // resend the cached reply
			r.probe(ProbeReplyCache)
			return
		}
		if q.Timestamp < last.Timestamp {
			return
		}
	}
	key := mkReqKey(q.Client, q.Timestamp)
	_, again := r.pending[key] // a retransmission of a request it holds
	if !again {
		r.addPending(key, q)
		if r.isPrimary() && r.active {
			r.queue = append(r.queue, q)
		}
	}
	// A backup relays every transmission it gets from the client (the
	// client retransmits only when it got no answer: an earlier relay, or
	// the primary's PRE-PREPARE, may have been lost).
	if !r.isPrimary() && fromClient && r.active {
		r.out.Send(r.primary(r.view), q)
	}
	if r.isPrimary() && fromClient && r.active && (again || r.inLog[key]) {
		if r.inLog[key] {
			r.retransmitPrePrepare(key)
		}
		r.primaryComplaint(key)
	}
	r.armRequestTimer()
	r.propose(false)
}

// retransmitPrePrepare: the client retransmits a request that this primary
// ordered in its view, so the client lacks f+1 replies and PRE-PREPAREs,
// PREPAREs or COMMITs may have been lost on the way to some replica. The
// primary multicasts again the PRE-PREPARE of the request's sequence number
// s and of every number it has not executed below s (it may itself lack
// the COMMITs that would let it execute up to s), each with its own COMMIT
// if sent; executed or not. Every backup that holds such a PRE-PREPARE
// answers with the PREPARE and COMMIT it signed for it (onPrePrepare,
// resendVotes), even after it moved on to a later view, so a replica that
// missed votes before GST collects 2f+1 of them.
//
// This is the paper's retransmission of lost protocol messages (Castro's
// thesis §5.2 and the BFT library: a replica retransmits the messages it
// sent that another lacks, as its status messages show), triggered by the
// client's retransmission instead of periodic status messages. It is
// bounded: per client retransmission, at most L PRE-PREPAREs and COMMITs
// from the primary and, per PRE-PREPARE received again, one PREPARE and one
// COMMIT from each backup; entries already garbage-collected are caught up
// by state transfer from a stable checkpoint. Resending a message already
// sent is safe: the network could have delayed the first copy as long.
func (r *Replica) retransmitPrePrepare(key reqKey) {
	target := r.orderedAt(key)
	if target == nil {
		return
	}
	for s := min(r.lastExec+1, target.seq); s <= target.seq; s++ {
		e := r.log.get(s)
		if e == nil || e.pp == nil || e.view != r.view || e.pp.Replica != r.id {
			continue
		}
		r.multicast(e.pp)
		if c := e.commits[r.id]; c != nil && e.sentCommit {
			r.multicast(c)
		}
	}
}

// orderedAt returns the entry of the current view in which this replica,
// the primary, ordered the request key (nil if none).
func (r *Replica) orderedAt(key reqKey) *entry {
	for _, e := range r.log.all() {
		if e.pp == nil || e.view != r.view || e.pp.Replica != r.id {
			continue
		}
		for _, q := range e.pp.Batch {
			if int64(q.Client) == key.client && q.Timestamp == key.ts {
				return e
			}
		}
	}
	return nil
}

// resendVotes multicasts again this replica's PREPARE and COMMIT for e,
// executed or not, when the primary of e's view retransmits e's
// PRE-PREPARE (retransmitPrePrepare).
func (r *Replica) resendVotes(e *entry) {
	if p := e.prepares[r.id]; p != nil {
		r.multicast(p)
	}
	if c := e.commits[r.id]; c != nil && e.sentCommit {
		r.multicast(c)
	}
}

// onOldPrePrepare handles a PRE-PREPARE of a view below this replica's:
// the old view's primary retransmits it (retransmitPrePrepare), so its
// receivers there may lack this replica's votes for it. If the entry still
// holds that PRE-PREPARE (no NEW-VIEW replaced it), resend the PREPARE and
// COMMIT this replica signed in that view. Nothing new is signed: a vote
// of the old view counts only in the old view, exactly as a delayed copy
// of the first transmission would.
func (r *Replica) onOldPrePrepare(pp *PrePrepare) {
	e := r.log.get(pp.Seq)
	if e == nil || e.pp == nil || e.view != pp.View || e.pp.Digest != pp.Digest || !r.verify(pp) {
		return
	}
	r.resendVotes(e)
}

// propose lets the primary assign sequence numbers to queued requests.
func (r *Replica) propose(force bool) {
	if !r.isPrimary() || !r.active || r.entering {
		return
	}
	if r.store != nil && r.store.wiped && r.sentNewView != r.view+1 {
		// after a wipe it cannot know what it proposed in this view
		// before: it proposes only in views it opened itself since
		return
	}
	for {
		// drop requests already executed or ordered
		j := 0
		for _, q := range r.queue {
			if !r.inLog[mkReqKey(q.Client, q.Timestamp)] && (!r.executedReq(q) || !r.rules.checkTimestamps) {
				r.queue[j] = q
				j++
			}
		}
		clear(r.queue[j:])
		r.queue = r.queue[:j]
		if len(r.queue) == 0 {
			if r.batchTimerOn {
				r.out.CancelTimer(timerBatch)
				r.batchTimerOn = false
			}
			return
		}
		if r.seq+1 > r.proposeLimit() {
			r.probe(ProbeWatermarkStall)
			return
		}
		b := r.cfg.Batch
		if len(r.queue) < b && !force {
			if !r.batchTimerOn {
				r.out.SetTimer(timerBatch, r.cfg.BatchTimeout)
				r.batchTimerOn = true
			}
			return
		}
		if b > len(r.queue) {
			b = len(r.queue)
		}
		batch := r.allocs.batch.take(b)
		copy(batch, r.queue[:b])
		n := copy(r.queue, r.queue[b:])
		clear(r.queue[n:])
		r.queue = r.queue[:n]
		if r.batchTimerOn {
			r.out.CancelTimer(timerBatch)
			r.batchTimerOn = false
		}
		force = false
		r.seq++
		pp := r.allocs.prePrepare.new()
		*pp = PrePrepare{View: r.view, Seq: r.seq, Batch: batch, Replica: r.id}
		pp.Digest, r.buf = r.rules.batchDigest(r.buf, batch)
		pp.Sig = r.sign(pp)
		if vc := r.cfg.VerifyCache; vc != nil && r.rules.primaryVerifiesRequests {
			// valid by construction: signed here, d computed here over
			// requests this replica verified when they arrived (not so
			// with primary-unverified-requests: the backups check it)
			vc.addValidPP(pp)
		}
		for _, q := range batch {
			r.inLog[mkReqKey(q.Client, q.Timestamp)] = true
		}
		r.multicast(pp)
		e := r.getEntry(pp.Seq)
		r.acceptPrePrepare(e, pp)
	}
}

// ---- normal case ----

// futureCap bounds the buffered messages of one sender: a backup sends at
// most a PREPARE and a COMMIT per sequence number of the 2L numbers a
// future message may carry (a primary a PRE-PREPARE and a COMMIT).
func (r *Replica) futureCap() int { return 4*int(r.l) + 8 }

// bufferFuture keeps a normal-case message of a view not yet entered, once
// its signature (and, for a PRE-PREPARE, its digest and requests) verify,
// and while its sender has fewer than futureCap messages buffered: a
// Byzantine sender can neither fill the buffer nor make the replica ask
// for a NEW-VIEW with forged messages. A message already buffered from the
// same sender is not buffered again (a network may duplicate messages:
// receiving one twice leaves the state as once).
func (r *Replica) bufferFuture(from sim.NodeID, m sim.Message, view uint64) {
	if from < 0 || int(from) >= r.n || r.futureCount[from] >= r.futureCap() {
		return
	}
	if !brokenFutureDup && r.buffered(from, m) {
		return
	}
	switch m := m.(type) {
	case *PrePrepare:
		if !r.validPrePrepare(m) {
			return
		}
	case Signable:
		if !r.verify(m) {
			return
		}
	}
	r.futureCount[from]++
	r.future = append(r.future, futureMsg{from: from, msg: m, view: view})
	if view > r.futureFrom[from] {
		r.futureFrom[from] = view
		r.checkLaggingView(false)
	}
}

// brokenFutureDup buffers a future-view message again each time it is
// received (tests).
var brokenFutureDup bool

// buffered reports whether m, or a message with the same canonical
// encoding, is buffered from sender from.
func (r *Replica) buffered(from sim.NodeID, m sim.Message) bool {
	for _, fm := range r.future {
		if fm.from == from && sameMessage(fm.msg, m, &r.buf) {
			return true
		}
	}
	return false
}

// sameMessage reports whether a and b are one message: the same value, or
// of one type with the same canonical encoding (buf is scratch).
func sameMessage(a, b sim.Message, buf *[]byte) bool {
	if a == b {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	x := a.AppendCanonical((*buf)[:0])
	n := len(x)
	x = b.AppendCanonical(x)
	*buf = x
	return string(x[:n]) == string(x[n:])
}

// normalCaseOK decides whether a message of view v, seq n is processed now;
// it buffers messages of future views.
func (r *Replica) normalCaseOK(from sim.NodeID, m sim.Message, v, seq uint64) bool {
	if v > r.view || (v == r.view && !r.active) {
		if seq > r.h && seq <= r.h+2*r.l {
			r.bufferFuture(from, m, v)
		}
		return false
	}
	return v == r.view && r.inWindow(seq)
}

func (r *Replica) onPrePrepare(from sim.NodeID, pp *PrePrepare) {
	if from != pp.Replica || pp.Replica != r.primary(pp.View) || from == r.id {
		return
	}
	if pp.View < r.view {
		r.onOldPrePrepare(pp)
		return
	}
	if !r.normalCaseOK(from, pp, pp.View, pp.Seq) {
		return
	}
	if !r.validPrePrepare(pp) {
		return
	}
	e := r.getEntry(pp.Seq)
	if e.pp != nil {
		if e.pp.Digest == pp.Digest {
			if e.view == r.view {
				r.resendVotes(e) // a retransmission: our votes may have been lost too
			}
			return
		}
		if !r.rules.replaceAcceptedPrePrepare {
			return
		}
		// broken variant: replace the accepted PRE-PREPARE and vote again
		e.prepares[r.id] = nil
		e.prepared, e.committed, e.sentCommit = false, false, false
	}
	r.acceptPrePrepare(e, pp)
}

// validPrePrepare checks signature, digest and the signed requests.
func (r *Replica) validPrePrepare(pp *PrePrepare) bool {
	vc := r.cfg.VerifyCache
	if vc != nil && vc.validPP(pp) {
		return true
	}
	if !r.verify(pp) {
		return false
	}
	var d Digest
	d, r.buf = r.rules.batchDigest(r.buf, pp.Batch)
	if !r.rules.batchDigestOK(pp.Digest, d) {
		return false
	}
	for _, q := range pp.Batch {
		if !r.validRequest(q) && r.rules.verifyBatchRequests {
			return false
		}
	}
	if vc != nil {
		vc.addValidPP(pp)
	}
	return true
}

// acceptPrePrepare logs pp in e (of the current view) and, at a backup,
// multicasts PREPARE.
func (r *Replica) acceptPrePrepare(e *entry, pp *PrePrepare) {
	e.pp = pp
	r.markEntry(pp.Seq)
	if pp.View == r.view && !r.isPrimary() {
		p := r.allocs.prepare.new()
		*p = Prepare{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: r.id}
		p.Sig = r.sign(p)
		e.prepares[r.id] = p
		r.multicast(p)
		ev := r.allocs.sentPrepare.new()
		*ev = SentPrepare{Replica: r.id, View: p.View, Seq: p.Seq, Digest: p.Digest}
		r.out.Report(ev)
	}
	for _, q := range pp.Batch {
		key := mkReqKey(q.Client, q.Timestamp)
		if !r.executedReq(q) {
			if _, ok := r.pending[key]; !ok {
				r.addPending(key, q)
			}
		}
	}
	r.recount(e)
	r.armRequestTimer()
	r.checkPrepared(e)
}

func (r *Replica) prepMatches(e *entry, p *Prepare) bool {
	return r.rules.prepareMatches(p.Digest, e.pp.Digest)
}

func (r *Replica) recount(e *entry) {
	e.nPrep, e.nCommit = 0, 0
	if e.pp == nil {
		return
	}
	prim := r.primary(e.view)
	for i, p := range e.prepares {
		if p != nil && sim.NodeID(i) != prim && r.prepMatches(e, p) {
			e.nPrep++
		}
	}
	for _, c := range e.commits {
		if c != nil && c.Digest == e.pp.Digest {
			e.nCommit++
		}
	}
}

func (r *Replica) onPrepare(from sim.NodeID, p *Prepare) {
	if from != p.Replica || from == r.id || from < 0 || int(from) >= r.n || from == r.primary(p.View) {
		return
	}
	if !r.normalCaseOK(from, p, p.View, p.Seq) || !r.verify(p) {
		return
	}
	e := r.getEntry(p.Seq)
	if e.prepares[from] != nil || e.prepared && !r.rules.replaceAcceptedPrePrepare {
		// A vote past the certificate is not kept: the prepared
		// certificate was taken when the entry prepared, and nothing reads
		// the others until a view change clears them (see Inert). Only a
		// variant that reopens a prepared entry recounts them.
		return
	}
	e.prepares[from] = p
	if e.pp != nil && r.prepMatches(e, p) {
		e.nPrep++
		r.checkPrepared(e)
	}
}

func (r *Replica) onCommit(from sim.NodeID, c *Commit) {
	if from != c.Replica || from == r.id || from < 0 || int(from) >= r.n {
		return
	}
	if !r.normalCaseOK(from, c, c.View, c.Seq) || !r.verify(c) {
		return
	}
	e := r.getEntry(c.Seq)
	if e.committed && !r.rules.replaceAcceptedPrePrepare {
		return // as for PREPAREs: nothing reads a vote past the quorum
	}
	if e.commits[from] != nil {
		if r.rules.repeatedCommitCounts && e.pp != nil && c.Digest == e.pp.Digest {
			e.nCommit++ // broken variant: the same sender counted again
			r.checkCommitted(e)
		}
		return
	}
	e.commits[from] = c
	if e.pp != nil && c.Digest == e.pp.Digest {
		e.nCommit++
		r.checkCommitted(e)
	}
}

func (r *Replica) checkPrepared(e *entry) {
	if e.prepared || e.pp == nil || e.nPrep < r.prepQuorum() {
		return
	}
	e.prepared = true
	// The certificate lives in the entry (no allocation per request); a
	// VIEW-CHANGE copies it, Prepares included, before it is sent.
	ps := e.certPrep[:0]
	if cap(ps) < r.q-1 {
		ps = make([]*Prepare, 0, r.q-1)
	}
	prim := r.primary(e.view)
	for i, p := range e.prepares {
		if p != nil && sim.NodeID(i) != prim && r.prepMatches(e, p) && (len(ps) < r.q-1 || r.cfg.FullCertificates) {
			ps = append(ps, p)
		}
	}
	clear(ps[len(ps):cap(ps)])
	e.certPrep = ps
	e.certBuf = PreparedCert{PrePrepare: e.pp, Prepares: ps}
	e.cert = &e.certBuf
	if r.spentVotes() {
		dropVotes(r, e.prepares)
		e.nPrep = 0
	}
	ev := r.allocs.prepared.new()
	*ev = Prepared{Replica: r.id, View: e.view, Seq: e.seq, Digest: e.pp.Digest}
	r.out.Report(ev)
	if !r.rules.commitPhase {
		e.committed = true
		r.out.Report(&Committed{Replica: r.id, View: e.view, Seq: e.seq, Digest: e.pp.Digest})
		r.execute()
		return
	}
	if !e.sentCommit {
		e.sentCommit = true
		c := r.allocs.commit.new()
		*c = Commit{View: e.view, Seq: e.seq, Digest: e.pp.Digest, Replica: r.id}
		c.Sig = r.sign(c)
		if e.commits[r.id] == nil {
			e.commits[r.id] = c
			e.nCommit++
		}
		r.markEntry(e.seq)
		r.multicast(c)
	}
	r.checkCommitted(e)
}

// spentVotes reports whether the replica forgets the other replicas' votes
// of an entry once it prepared (PREPAREs) or committed (COMMITs): with
// Config.DropSpentVotes, under the rules where nothing reads them again.
// onPrepare and onCommit keep no vote for a prepared or committed entry,
// checkPrepared and checkCommitted return at once for it, and recount runs
// only on an entry that acceptPrePrepare fills, which is a fresh one or one
// that a view change reset (resetView), except under the variant that
// replaces an accepted PRE-PREPARE (replaceAcceptedPrePrepare), which
// reopens the entry and counts its votes again. The replica's own vote
// stays: resendVotes and the stable store read it.
func (r *Replica) spentVotes() bool {
	return r.cfg.DropSpentVotes && !r.rules.replaceAcceptedPrePrepare
}

// dropVotes clears the votes of every replica but this one.
func dropVotes[M any](r *Replica, votes []*M) {
	for i := range votes {
		if sim.NodeID(i) != r.id {
			votes[i] = nil
		}
	}
}

func (r *Replica) checkCommitted(e *entry) {
	if e.committed || !e.prepared || e.nCommit < r.commitQuorum() {
		return
	}
	e.committed = true
	if r.spentVotes() {
		dropVotes(r, e.commits)
		e.nCommit = 0
	}
	ev := r.allocs.committed.new()
	*ev = Committed{Replica: r.id, View: e.view, Seq: e.seq, Digest: e.pp.Digest}
	r.out.Report(ev)
	r.execute()
}

// execute runs committed entries in sequence order.
func (r *Replica) execute() {
	progress := false
	if !r.rules.executeInOrder {
		seqs := make([]uint64, 0, r.log.len())
		for s, e := range r.log.all() {
			if e.committed && !e.executed && s > r.lastExec {
				seqs = append(seqs, s)
			}
		}
		slices.Sort(seqs)
		for _, s := range seqs {
			r.executeEntry(r.log.get(s))
			progress = true
		}
		for {
			e := r.log.get(r.lastExec + 1)
			if e == nil || !e.executed {
				break
			}
			r.lastExec++
			r.afterExecute(r.lastExec)
		}
	} else {
		for r.lastExec >= r.h {
			e := r.log.get(r.lastExec + 1)
			if e == nil || !e.committed || e.pp == nil {
				break
			}
			if !e.executed {
				r.executeEntry(e)
			}
			r.lastExec++
			progress = true
			r.afterExecute(r.lastExec)
		}
	}
	if progress {
		r.dirty.state = true
		if !r.rules.timerPerRequest && r.reqTimerOn {
			// broken variant: any execution restarts the timer
			r.stopRequestTimer()
		}
		r.armRequestTimer()
		r.propose(false)
	}
}

func (r *Replica) executeEntry(e *entry) {
	e.executed = true
	pp := e.pp
	if len(pp.Batch) == 0 {
		r.out.Report(&Executed{Replica: r.id, View: e.view, Seq: e.seq, Digest: pp.Digest, Null: true})
		return
	}
	obsolete := false // some pending request of a client answered here may be obsolete
	for i, q := range pp.Batch {
		key := mkReqKey(q.Client, q.Timestamp)
		last := r.lastReply[q.Client]
		if r.rules.checkTimestamps && last != nil && q.Timestamp <= last.Timestamp { // executedReq
			r.probe(ProbeDupExecution)
			r.delPending(key)
			continue
		}
		if r.active {
			// a request not executed before executed in this view: the
			// view works, the timeout goes back to its base value
			r.viewProgress = true
			r.timeout = r.cfg.ViewChangeTimeout
		}
		res := r.sm.Execute(q.Op)
		rep := r.allocs.reply.new()
		*rep = Reply{View: r.view, Timestamp: q.Timestamp, Client: q.Client, Replica: r.id, Result: res}
		if last == nil { // a first reply (lastReply holds no nil)
			i := sort.Search(len(r.replyClients), func(i int) bool { return r.replyClients[i] >= q.Client })
			r.replyClients = slices.Insert(r.replyClients, i, q.Client)
		}
		r.lastReply[q.Client] = rep
		r.delPending(key)
		obsolete = obsolete || r.hasPending(q.Client)
		if len(r.inLog) > 0 { // only a primary's holds requests
			delete(r.inLog, key)
		}
		r.out.Send(q.Client, rep)
		ev := r.allocs.executed.new()
		*ev = Executed{Replica: r.id, View: e.view, Seq: e.seq, Index: i, Digest: pp.Digest,
			Client: q.Client, Timestamp: q.Timestamp, Op: q.Op, Result: res}
		r.out.Report(ev)
	}
	// forget pending requests made obsolete by these replies (only requests
	// of the clients just answered can be)
	if obsolete {
		for key, p := range r.pending {
			if r.executedReq(p.q) && r.rules.checkTimestamps {
				r.delPending(key)
			}
		}
	}
}

// addPending records q, not yet in pending, as pending.
func (r *Replica) addPending(key reqKey, q *Request) {
	r.pending[key] = pendingReq{q, r.arrivals}
	r.arrivals++
	if c := int(key.client); c >= 0 && c < maxCountedClient {
		if c >= len(r.pendingOf) {
			r.pendingOf = append(r.pendingOf, make([]int32, c+1-len(r.pendingOf))...)
		}
		r.pendingOf[c]++
	}
}

// delPending removes key from pending, if there.
func (r *Replica) delPending(key reqKey) {
	n := len(r.pending)
	delete(r.pending, key) // one map operation: whether key was there shows in the length
	if len(r.pending) == n {
		return
	}
	if c := int(key.client); c >= 0 && c < len(r.pendingOf) {
		r.pendingOf[c]--
	}
	if r.reqTimerOn && key == r.awaited {
		// no longer waiting for the timer's request: stop it (the caller
		// restarts it with armRequestTimer if another request is awaited)
		r.stopRequestTimer()
	}
}

// hasPending reports whether client may have a request in pending (always
// true for client ids too large to count).
func (r *Replica) hasPending(client sim.NodeID) bool {
	c := int(client)
	if c < 0 || c >= maxCountedClient {
		return true
	}
	return c < len(r.pendingOf) && r.pendingOf[c] > 0
}

// maxCountedClient bounds the client ids whose pending requests are counted.
const maxCountedClient = 1 << 16

// stateDigest is SHA-256 over the state machine digest and the last-reply
// table (client, timestamp, result in client order).
func (r *Replica) stateDigest() Digest {
	b := r.buf[:0]
	d := r.sm.Digest()
	b = append(b, d[:]...)
	for _, c := range r.replyClients {
		if !r.rules.stateCoversReplies {
			break // broken variant: the reply table is not covered
		}
		b = appendReplyState(b, r.lastReply[c])
	}
	r.buf = b
	return r.cfg.VerifyCache.stateSum(b)
}

func appendReplyState(b []byte, rep *Reply) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(rep.Client))
	b = appendU64(b, rep.Timestamp)
	return appendStr(b, rep.Result)
}

// StateDigestOf is the state digest (what CHECKPOINTs and STATEs carry) of
// a state machine sm with the last-reply table replies (sorted by client,
// as STATE carries it): a replica that installs them has this StateDigest.
func StateDigestOf(sm StateMachine, replies []Reply) Digest {
	d := sm.Digest()
	b := append([]byte(nil), d[:]...)
	for i := range replies {
		b = appendReplyState(b, &replies[i])
	}
	return sha256.Sum256(b)
}

func (r *Replica) replyTable() []Reply {
	out := make([]Reply, len(r.replyClients))
	for i, c := range r.replyClients {
		out[i] = *r.lastReply[c]
	}
	return out
}

// String describes the replica briefly (for test failures).
func (r *Replica) String() string {
	return fmt.Sprintf("r%d{v=%d active=%v h=%d exec=%d log=%d}", r.id, r.view, r.active, r.h, r.lastExec, r.log.len())
}
