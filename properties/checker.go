// Package properties checks PBFT runs against the protocol's safety and
// liveness properties, names the replicas that provably misbehaved, and
// searches scenarios (gopter property tests, hunting of broken protocol
// variants) for runs that break them.
//
// A Checker is a sim.Sink: attach it to a run (cluster.Config.Sinks) and it
// judges every trace record as it happens; set cluster.Config.StopWhen to its
// Stopped method to end the run at the first violation. Call Finish once the
// run is over for the end-of-run properties (liveness, linearizability,
// pending client checks). Check runs a checker over a finished run's records.
//
// Replicas listed as faulty are never judged: their events are ignored and
// only correct replicas' executions form the committed log.
package properties

import (
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Property names, as they appear in Violation.Property.
const (
	Agreement       = "agreement"       // correct replicas commit/execute the same request at a sequence number
	TotalOrder      = "total-order"     // each correct replica executes 1, 2, 3, ... without gaps
	Integrity       = "integrity"       // each (client, timestamp) executes at most once per correct replica
	LedgerInvariant = "ledger"          // no payment confirmed twice, money conserved
	Validity        = "validity"        // every executed non-null request was issued by a client, and every one a correct primary proposes
	ClientView      = "client-view"     // an accepted result equals the result of replaying the committed log
	Linearizability = "linearizability" // the client history is linearizable on the payments model
	PreparedUnique  = "prepared-unique" // two correct replicas never prepare different digests for (v, n)
	PrepareOnce     = "prepare-once"    // a correct replica never sends two different PREPAREs for (v, n)
	ViewMonotonic   = "view-monotonic"  // views never decrease at a correct replica
	NewViewO        = "newview-o"       // an accepted NEW-VIEW has the O the replica recomputes
	StateAgreement  = "state-agreement" // correct replicas have equal state digests at a seq
	PrePrepareOnce  = "preprepare-once" // a correct replica never signs two different PRE-PREPAREs for (v, n)
	LocalQuorum     = "local-quorum"    // a correct replica is prepared / committed-local only with a quorum of distinct matching votes that reached it
	Liveness        = "liveness"        // every request completes within the bound after GST
	// Timeliness (timeliness.go): a correct backup executes a request it
	// waits for, or starts a view change, within its request timer; and
	// ArrivalOrder: a correct primary orders requests as they reached it.
	// Accountability is reported when an accusation names a replica that
	// was configured as correct (see Outcome).
	Accountability = "accountability"
)

// SafetyProperties lists the safety properties a Checker judges online.
var SafetyProperties = []string{Agreement, TotalOrder, Integrity, LedgerInvariant, Validity,
	ClientView, Linearizability, PreparedUnique, PrepareOnce, PrePrepareOnce, ViewMonotonic, NewViewO, StateAgreement, LocalQuorum}

// PBFTProperties are the properties that read PBFT's own messages and
// events; the others read only the protocol-neutral events of sim/events
// and apply to any protocol. Accountability also has HotStuff rules and
// is judged for HotStuff runs too.
var PBFTProperties = []string{PreparedUnique, PrepareOnce, PrePrepareOnce, NewViewO, LocalQuorum, Timeliness, ArrivalOrder, ViewChangeCause, NewViewWait, Accountability}

// Violation is one broken property.
type Violation struct {
	Property string       // one of the property constants
	Replicas []sim.NodeID // the replicas (or clients) involved
	View     uint64
	Seq      uint64
	Time     sim.Time // simulated time of detection
	Detail   string
}

// String formats the violation on one line.
func (v Violation) String() string {
	return fmt.Sprintf("%s at %v (view %d, seq %d, nodes %v): %s", v.Property, v.Time, v.View, v.Seq, v.Replicas, v.Detail)
}

// Request identifies a client-issued request.
type Request struct {
	Client    sim.NodeID
	Timestamp uint64
	Op        string
}

// Options configures a Checker.
type Options struct {
	N, F int
	// Faulty nodes are never judged: Byzantine replicas (and crashed
	// clients, whose requests liveness does not cover). Replicas that
	// crash are judged: what they persisted survives a crash (see
	// CheckerOptions), except a wiped replica until it has caught up.
	Faulty []sim.NodeID
	// FaultIntervals say when each replica counts against f
	// (cluster.Config.FaultIntervals); the checker follows wiped replicas
	// to see when they catch up (see FaultModel).
	FaultIntervals []cluster.FaultInterval
	// Keyring, when set, verifies signatures for accountability: only
	// validly signed messages count as evidence, and certificates are
	// checked signature by signature. Without it a certificate counts only
	// when each of its messages was also sent by its author in the trace.
	Keyring *pbft.Keyring
	// LivenessBound: every request of a correct client must be accepted
	// within this bound after max(its submission, GST). Zero disables the
	// liveness check (use it for scenarios outside the fault model).
	LivenessBound time.Duration
	// GST is the global stabilisation time of the run.
	GST sim.Time
	// Requests are the client-issued requests; nil means learn them from
	// Submitted events (the request must be submitted before it executes).
	Requests []Request
	// StopOnViolation makes Stopped return true after the first violation.
	StopOnViolation bool
	// MaxHistory bounds the number of client operations given to the
	// linearizability checker per payment; longer histories are not
	// checked (default 200).
	MaxHistory int
	// LinearizabilityTimeout bounds porcupine's search (default 1s); a
	// timeout is not a violation.
	LinearizabilityTimeout time.Duration
	// Deliveries says the records include every delivery of a message (a
	// full run's trace, as CheckerOptions' runs have): local-quorum is
	// judged only then (a trace of events alone has no votes to audit).
	Deliveries bool
	// Window is the protocol's window L (0: 32): the checker folds and
	// drops its state a window below the lowest stable checkpoint of the
	// correct replicas (see Retained).
	Window int
	// FoldOnExecuted folds a window below the lowest executed prefix of
	// the correct replicas instead, for protocols without stable
	// checkpoints (HotStuff): a correct replica executes each height once,
	// in order, so it acts no more at or below its executed prefix. It
	// assumes that correct replicas do not lose what they executed (no
	// wiping crashes).
	FoldOnExecuted bool
	// ViewChangeTimeout is PBFT's base view-change timeout T: with it (and
	// Deliveries) the checker judges Timeliness, the request-timer rule
	// at every correct backup (timeliness.go). Zero: not judged (other
	// protocols).
	ViewChangeTimeout time.Duration
	// ClockSlow (at least 1) and ClockBack are how much the nodes' clocks
	// stretch a timer: the slowest clock's factor and the longest total
	// backward jump of one clock (see clockStretch).
	ClockSlow float64
	ClockBack time.Duration
	// ClockFast (at most 1; 0 counts as 1) is how much the fastest clock
	// shortens a timer, and ClockForward the longest total forward jump
	// of one clock (a timer whose deadline it skips fires at once): the
	// minimum wait of NewViewWait (see clockShrink).
	ClockFast    float64
	ClockForward time.Duration
	// TimersForced says timers may run out before their deadlines (a
	// scenario's timer_fires, explore's asynchronous timers): NewViewWait,
	// a minimum wait, is then not judged.
	TimersForced bool
	// Ledgers, when set, is the SnapshotCache of the run's replicas
	// (cluster.Config.Ledgers): the reference ledger then shares their
	// states, adopting the result and trie of an operation a replica
	// executed in the same state instead of computing its own (same
	// results, half the ledger memory). nil: an unshared reference ledger.
	Ledgers *ledger.SnapshotCache
}

// Accusation names a replica that provably misbehaved, with the evidence:
// messages signed in its own name that a correct replica never sends.
type Accusation struct {
	Replica  sim.NodeID
	Reason   string
	View     uint64
	Seq      uint64
	Time     sim.Time
	Evidence []sim.Message
}

// String formats the accusation on one line.
func (a Accusation) String() string {
	return fmt.Sprintf("replica %d at %v (view %d, seq %d): %s", a.Replica, a.Time, a.View, a.Seq, a.Reason)
}

type viewSeq struct{ v, n uint64 }

// clientStamp identifies a request by (client, timestamp). The client is widened to
// 64 bits so that the key has no padding and hashes as plain memory.
type clientStamp struct {
	c int64
	t uint64
}

func mkClientStamp(c sim.NodeID, t uint64) clientStamp { return clientStamp{int64(c), t} }

// slot is the checker's state for one (view, seq): the first prepared
// digest and, from base on in Checker.votes, one repVote per replica.
type slot struct {
	prepared  pbft.Digest
	hasPrep   bool
	prepFirst sim.NodeID
	base      int32 // index of replica 0's repVote in Checker.votes; -1: none yet
}

// repVote is what one replica signed for one (view, seq).
type repVote struct {
	vote     sim.Message    // first vote of any type
	signed   [3]sim.Message // first PRE-PREPARE, PREPARE, COMMIT (replaced while unsigned)
	commit   *pbft.Commit   // first COMMIT it sent
	sentPrep pbft.Digest    // digest of its first PREPARE (correct replicas)
	hasSent  bool
}

// typeIndex maps the vote types to repVote.signed's index.
func typeIndex(t sim.MsgType) int {
	switch t {
	case pbft.TypePrePrepare:
		return 0
	case pbft.TypePrepare:
		return 1
	}
	return 2
}

// seqAgree is the committed/executed digest of a seq and its first replica.
type seqAgree struct {
	d     events.Digest
	first sim.NodeID
}

// logEntry is one executed request of the committed log.
type logEntry struct {
	digest  events.Digest
	null    bool
	req     Request
	by      sim.NodeID // first correct replica that executed it
	result  string     // result from the reference replay ("" until replayed)
	slot    int32      // its payment's slot in fold.req.pays, set with result
	ok      bool       // result is set
	present bool       // executed by some correct replica (a batch may have holes)
}

type replicaState struct {
	lastSeq   uint64         // last executed sequence number
	lastIndex int            // batch index of the last executed request at lastSeq
	started   bool           // executed something at lastSeq
	view      uint64         // highest view entered
	vcView    uint64         // highest view it started a view change to
	committed seqTable[bool] // seqs it committed above its last execution
}

// reqState is what the checker knows of one request (client, timestamp).
type reqState struct {
	key      clientStamp // its (client, timestamp), for rebuilding Checker.reqIdx
	sub      int32       // index in Checker.subs; -1: neither submitted nor accepted
	issued   bool        // issued (Submitted event or Options.Requests) with issuedOp
	executed bool        // a correct replica executed it, with result execRes
	replayed bool        // the reference replay executed it, with result refRes
	issuedOp string
	execRes  string // the result its first correct executor reported
	refRes   string // the reference replay's result (first execution)
	// The reference replay's first execution of it (see refStep): the
	// operation it executed and its payment's record before and after.
	ref refStep
}

// execMark is the seq at which a correct replica executed a request.
type execMark struct {
	seq uint64
	ok  bool
}

// req returns the index of request k in c.reqs, adding it.
func (c *Checker) req(k clientStamp) int32 {
	if i, ok := c.reqIdx.get(k); ok {
		return i
	}
	i := int32(len(c.reqs))
	c.reqIdx.put(k, i)
	c.reqs = append(c.reqs, reqState{key: k, sub: -1})
	c.execAt = slices.Grow(c.execAt, c.n)[:len(c.execAt)+c.n]
	clear(c.execAt[len(c.execAt)-c.n:])
	return i
}

// findReq returns request k's state, or nil.
func (c *Checker) findReq(k clientStamp) *reqState {
	if i, ok := c.reqIdx.get(k); ok {
		return &c.reqs[i]
	}
	return nil
}

// submitted reports whether request k was submitted (or accepted).
func (c *Checker) submittedReq(k clientStamp) bool {
	rq := c.findReq(k)
	return rq != nil && rq.sub >= 0
}

type submission struct {
	req      Request
	slot     int32 // the slot of paymentOf(req.Op) in fold.req.pays
	at       sim.Time
	accepted bool
	acceptAt sim.Time
	result   string
}

// Checker judges a run's trace records. It is a sim.Sink.
type Checker struct {
	opts    Options
	faulty  []bool
	faultyC map[sim.NodeID]bool // faulty clients
	crashed []bool              // replicas that crashed so far
	wipe    *wipeTracker        // wiped replicas (nil: the run wipes none)
	// liveFrom: liveness counts from max(submission, GST, liveFrom) (see
	// FaultModel); set when the run is finished.
	liveFrom sim.Time
	lastMsg  []sim.Message // the last message each replica sent (see message)
	hs       *hsAcc        // HotStuff accountability (nil until a HotStuff message)
	n        int
	stopped  bool
	done     bool
	end      sim.Time

	violations []Violation
	vioSeen    map[string]bool
	accused    []Accusation
	accSeen    map[sim.NodeID]bool

	reps       []replicaState
	seqDigest  seqTable[seqAgree]   // committed/executed digest per seq (correct replicas)
	log        seqTable[[]logEntry] // seq -> batch entries
	logFree    [][]logEntry         // emptied log slices of earlier runs
	replayed   uint64               // reference ledger has applied seqs 1..replayed
	ref        *ledger.Ledger
	refBroken  bool         // the reference ledger broke an invariant (see replay)
	confirms   confirmTable // successful confirms per payment (confirms.go)
	pendingRes []pendingResult
	// the requests: reqs[reqIdx[(client, timestamp)]]; execAt[i*n+r] is
	// the seq at which correct replica r executed request i
	reqIdx stampIndex
	reqs   []reqState
	execAt []execMark
	// ops issued with the (client, timestamp) of an earlier issued op
	issuedMore map[Request]bool
	learn      bool
	// per-(view, seq) state: slots indexed by slotTab[view] at seq (index+1;
	// see denseViews) or bigSlot; replicas' votes in votes.
	slots   []slot
	slotTab []seqTable[int32]
	bigSlot map[viewSeq]int32
	votes   []repVote

	subs      []submission
	pendingAc []acceptance

	// what was judged (see judgements)
	states       seqTable[stateAgree] // first correct state digest per seq
	stateSeqs    int                  // seqs where two correct replicas' states were compared
	execAny      bool                 // a correct replica executed a request
	liveJudged   int                  // requests whose liveness was judged
	liveUnjudged int                  // requests pending at an end before their deadline
	liveWhy      string               // why the first of those was not judged
	linDecided   int                  // payment histories decided linearizable or not
	linSkipped   int                  // longer than MaxHistory
	linUnknown   int                  // porcupine gave up

	// COMMITs each replica sent (first per (v, n)), in order, by replica
	commitList [][]*pbft.Commit
	nvSeen     map[*pbft.NewView]bool
	vcSeen     map[*pbft.ViewChange]bool
	sigCache   *pbft.VerifyCache // valid signatures by message identity (see verify)
	nvO        map[*pbft.NewView]recomputedO
	oArena     []pbft.Digest // holds the nvO digests
	bests      map[uint64]bestCert
	// newView's scratch space
	nvSenders []sim.NodeID
	distinct  []sim.NodeID // certProblem's and vcProblem's scratch space
	nvChoices map[uint64]nvChoice
	nvPP      map[uint64]*pbft.PrePrepare
	// the last NEW-VIEW delivered to each replica, per view
	nvDelivered map[nvKey]*pbft.NewView

	// scratch space of the end-of-run linearizability check, kept from run
	// to run
	linOps     []linOp
	linIdx     []int32
	linSorted  []linOp
	linOrder   []linOp
	seqScratch []uint64
	linSeg     []linOp // one payment's operations (linsegment.go)
	lin        linSearch

	fold foldState // what was folded below the low-water mark (compact.go)

	quorum quorumAudit // votes delivered to correct replicas (quorum.go)

	tl *timeliness // the request-timer rule (timeliness.go); nil: not judged

	// noFast sends every record down the general path (see Record's fast path):
	// tests compare the verdicts of both.
	noFast bool
	// noRefChain makes cutPayment replay every sequential segment instead
	// of following the reference replay's records (see refChain), and
	// search every segment of overlapping operations (see refOrders):
	// tests compare the verdicts of both.
	noRefChain bool
	refChained int // segments decided by refChain (tests)
	refOrdered int // segments decided by refOrders (tests)
}

type nvKey struct {
	r sim.NodeID
	v uint64
}

type pendingResult struct {
	replica sim.NodeID
	seq     uint64
	index   int
	result  string
	at      sim.Time
}

type acceptance struct {
	client sim.NodeID
	ts     uint64
	op     string
	result string
	at     sim.Time
}

// New returns a checker for a run with the given options.
func New(opts Options) *Checker {
	c := &Checker{}
	c.reset(opts)
	return c
}

// Reset makes c a new checker for a run with the given options, reusing
// its memory: a sweep keeps one checker per worker instead of allocating
// one per run. Results returned earlier (Violations, Accused) stay valid.
func (c *Checker) Reset(opts Options) { c.reset(opts) }

// resetVerifyCache empties vc (nil stays nil) for the next run.
func resetVerifyCache(vc *pbft.VerifyCache) *pbft.VerifyCache {
	if vc != nil {
		vc.Reset()
	}
	return vc
}

// keepVerifyCache returns the checker's signature cache for a reset from
// keyring old to keyring kr: kept when the keyring is the same (its hits are
// verdicts on those very messages under it, which the cache keeps alive),
// else cleared. Clearing it (64 KB) at every reset cost 8% of an
// exploration's CPU, which resets the checker at every new state.
func keepVerifyCache(vc *pbft.VerifyCache, old, kr *pbft.Keyring) *pbft.VerifyCache {
	if old == kr {
		return vc
	}
	return resetVerifyCache(vc)
}

// reuse returns m cleared, or a new map when m is nil.
func reuse[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return make(map[K]V)
	}
	clear(m)
	return m
}

func (c *Checker) reset(opts Options) {
	if opts.MaxHistory <= 0 {
		opts.MaxHistory = 200
	}
	if opts.LinearizabilityTimeout <= 0 {
		opts.LinearizabilityTimeout = time.Second
	}
	n := max(opts.N, 0)
	reps := c.reps
	if cap(reps) >= n {
		reps = reps[:n]
		for i := range reps {
			r := &reps[i]
			*r = replicaState{committed: r.committed}
			r.committed.reset()
		}
	} else {
		reps = make([]replicaState, n)
	}
	lastMsg := c.lastMsg
	if cap(lastMsg) >= n {
		clear(lastMsg[:cap(lastMsg)])
		lastMsg = lastMsg[:n]
	} else {
		lastMsg = make([]sim.Message, n)
	}
	crashed := c.crashed
	if cap(crashed) >= n {
		crashed = crashed[:n]
		clear(crashed)
	} else {
		crashed = make([]bool, n)
	}
	faulty := c.faulty
	if cap(faulty) >= n {
		faulty = faulty[:n]
		clear(faulty)
	} else {
		faulty = make([]bool, n)
	}
	commitList := c.commitList
	for i := range commitList {
		clear(commitList[i])
		commitList[i] = commitList[i][:0]
	}
	if cap(commitList) >= n {
		commitList = commitList[:n]
	} else {
		commitList = append(commitList[:cap(commitList)], make([][]*pbft.Commit, n-cap(commitList))...)
	}
	slotTab := c.slotTab
	for i := range slotTab {
		slotTab[i].reset()
	}
	logFree := c.logFree
	c.log.each(func(entries []logEntry) {
		if cap(entries) > 0 {
			clear(entries)
			logFree = append(logFree, entries[:0])
		}
	})
	c.log.reset()
	c.seqDigest.reset()
	c.states.reset()
	clear(c.reqs)
	clear(c.execAt)
	clear(c.violations)
	clear(c.accused)
	clear(c.pendingRes)
	clear(c.pendingAc)
	clear(c.subs)
	clear(c.slots)
	clear(c.votes)
	*c = Checker{
		opts:        opts,
		n:           n,
		faulty:      faulty,
		crashed:     crashed,
		lastMsg:     lastMsg,
		faultyC:     reuse(c.faultyC),
		violations:  c.violations[:0],
		vioSeen:     reuse(c.vioSeen),
		accused:     c.accused[:0],
		accSeen:     reuse(c.accSeen),
		reps:        reps,
		seqDigest:   c.seqDigest,
		states:      c.states,
		log:         c.log,
		logFree:     logFree,
		ref:         newRef(opts.Ledgers),
		confirms:    c.confirms,
		pendingRes:  c.pendingRes[:0],
		reqIdx:      resetStamps(c.reqIdx),
		reqs:        c.reqs[:0],
		execAt:      c.execAt[:0],
		issuedMore:  reuse(c.issuedMore),
		learn:       opts.Requests == nil,
		slots:       c.slots[:0],
		slotTab:     slotTab,
		bigSlot:     reuse(c.bigSlot),
		votes:       c.votes[:0],
		subs:        c.subs[:0],
		pendingAc:   c.pendingAc[:0],
		commitList:  commitList,
		nvSeen:      reuse(c.nvSeen),
		vcSeen:      reuse(c.vcSeen),
		sigCache:    keepVerifyCache(c.sigCache, c.opts.Keyring, opts.Keyring),
		nvO:         reuse(c.nvO),
		oArena:      c.oArena[:0],
		bests:       reuse(c.bests),
		nvSenders:   c.nvSenders[:0],
		distinct:    c.distinct[:0],
		nvChoices:   reuse(c.nvChoices),
		nvPP:        reuse(c.nvPP),
		nvDelivered: reuse(c.nvDelivered),
		linOps:      c.linOps[:0],
		linIdx:      c.linIdx[:0],
		linSorted:   c.linSorted[:0],
		linOrder:    c.linOrder[:0],
		seqScratch:  c.seqScratch[:0],
		lin:         c.lin,
		fold:        c.fold,
		quorum:      c.quorum,
		tl:          newTimeliness(opts, c.tl),
		noFast:      c.noFast,
		noRefChain:  c.noRefChain,
	}
	c.resetFold()
	c.confirms.reset()
	c.quorum.reset(n)
	for _, f := range opts.Faulty {
		if int(f) >= 0 && int(f) < n {
			c.faulty[f] = true
		} else {
			c.faultyC[f] = true
		}
	}
	for _, r := range opts.Requests {
		c.issue(r)
	}
	c.initWipes()
}

// issue records r as issued by its client.
func (c *Checker) issue(r Request) {
	i := c.req(mkClientStamp(r.Client, r.Timestamp)) // may grow c.reqs: before indexing it
	rq := &c.reqs[i]
	if !rq.issued {
		rq.issued, rq.issuedOp = true, r.Op
	} else if rq.issuedOp != r.Op {
		c.issuedMore[r] = true
	}
}

// issuedAs reports whether r was issued by its client, given r's request
// state rq (nil: none), as found by findReq.
func (c *Checker) issuedAs(rq *reqState, r Request) bool {
	if rq != nil && rq.issued && rq.issuedOp == r.Op {
		return true
	}
	return len(c.issuedMore) > 0 && c.issuedMore[r]
}

// correct reports whether id is a replica that is judged.
func (c *Checker) correct(id sim.NodeID) bool {
	return int(id) >= 0 && int(id) < c.n && !c.faulty[id] && !c.wipeDown(id)
}

// faultyNode reports whether id is a faulty replica or client.
func (c *Checker) faultyNode(id sim.NodeID) bool {
	if int(id) >= 0 && int(id) < c.n {
		return c.faulty[id]
	}
	return c.faultyC[id]
}

func (c *Checker) rep(id sim.NodeID) *replicaState {
	return &c.reps[id]
}

func short[D ~[32]byte](d D) string { return hex.EncodeToString(d[:4]) }

func (c *Checker) violate(v Violation) {
	key := v.Property + "|" + fmt.Sprint(v.Replicas, v.View, v.Seq)
	if c.vioSeen[key] {
		return
	}
	c.vioSeen[key] = true
	c.violations = append(c.violations, v)
	if c.opts.StopOnViolation {
		c.stopped = true
	}
}

func (c *Checker) accuse(a Accusation) {
	if c.accSeen[a.Replica] {
		return
	}
	c.accSeen[a.Replica] = true
	c.accused = append(c.accused, a)
	c.wipeAccused(a.Replica)
}

// Stopped reports whether the run should stop: a violation was found and
// Options.StopOnViolation is set. Use it as cluster.Config.StopWhen.
func (c *Checker) Stopped() bool { return c.stopped }

// Violations returns the violations found so far, in detection order.
func (c *Checker) Violations() []Violation {
	if len(c.violations) == 0 {
		return nil // as from a new checker, whose slice is nil
	}
	return slices.Clone(c.violations)
}

// Accused returns the replicas proven to have misbehaved, by replica id.
func (c *Checker) Accused() []Accusation {
	if len(c.accused) == 0 {
		return nil
	}
	out := slices.Clone(c.accused)
	sort.Slice(out, func(i, j int) bool { return out[i].Replica < out[j].Replica })
	return out
}

// Safe reports whether no safety property was violated.
func (c *Checker) Safe() bool {
	for _, v := range c.violations {
		if v.Property != Liveness {
			return false
		}
	}
	return true
}

// Record implements sim.Sink.
func (c *Checker) Record(r *sim.Record) {
	if r.Time > c.end {
		c.end = r.Time
	}
	if t := c.tl; t != nil {
		t.rec++
		if len(t.toJudge) > 0 && r.Time > t.toJudge[0].now {
			c.tlJudgeProposals()
		}
	}
	if !c.noFast {
		// The fast path: the most frequent records (three
		// quarters of a fault-free run's: votes sent and delivered,
		// replies, checkpoints delivered, requests sent, and fastEvent's
		// events) with one type switch, inline. It does what the general
		// path (slowRecord: tlRecord, then its switch and message) does
		// for them, which is little for most: timeliness reads of a
		// delivered vote, reply or checkpoint only that it was the input
		// of its receiver's step (for view-change-cause), and not the
		// requests sent;
		// message skips the later copies of a multicast and reads no
		// reply or request; a delivered reply or checkpoint is read by no
		// property. The general path runs instead with noFast
		// (TestFastRecordSameVerdicts).
		switch r.Kind {
		case sim.RecDeliver:
			if t := c.tl; t != nil && !brokenFastInput && int(r.To) >= 0 && int(r.To) < len(t.reps) && !t.reps[r.To].out {
				// the step's input, for view-change-cause (as tlRecord)
				t.reps[r.To].lastIn, t.reps[r.To].lastMsg = r.Kind, r.Msg
			}
			switch m := r.Msg.(type) {
			case *pbft.Prepare:
				if !c.faultyNode(r.To) {
					c.quorumVote(r.From, r.To, quorumPrepare, m.View, m.Seq, digestKey(m.Digest), m.Replica, m)
				}
				return
			case *pbft.Commit:
				if !c.faultyNode(r.To) {
					c.quorumVote(r.From, r.To, quorumCommit, m.View, m.Seq, digestKey(m.Digest), m.Replica, m)
				}
				return
			case *pbft.Reply, *pbft.Checkpoint:
				return
			}
		case sim.RecSend, sim.RecDrop:
			from := r.From
			if int(from) < 0 || int(from) >= c.n {
				return // a client's (message and timeliness read replicas' sends only)
			}
			switch r.Msg.(type) {
			case *pbft.Prepare, *pbft.Commit, *pbft.Checkpoint:
				if !samePtr(c.lastMsg[from], r.Msg) {
					c.message(r)
				}
				return
			case *pbft.Reply, *pbft.Request:
				c.lastMsg[from] = r.Msg // all message does with them
				return
			}
		case sim.RecEvent:
			if c.fastEvent(r) {
				return
			}
		}
	}
	c.slowRecord(r)
}

// slowRecord is Record's general path: the records its fast path does not
// handle, every record with noFast.
func (c *Checker) slowRecord(r *sim.Record) {
	if c.tl != nil {
		c.tlRecord(r)
	}
	switch r.Kind {
	case sim.RecEvent:
		c.event(r)
	case sim.RecSend, sim.RecLocal, sim.RecDrop:
		c.message(r)
	case sim.RecCrash:
		if int(r.From) >= 0 && int(r.From) < len(c.crashed) {
			c.crashed[r.From] = true
		}
		if r.Timer == sim.TimerID(sim.CrashWipe) {
			c.wipeCrash(r.From)
		}
	case sim.RecDeliver:
		switch m := r.Msg.(type) {
		case *pbft.Prepare, *pbft.Commit:
			// Noted for every replica but a Byzantine one, judged or not
			// at the moment (a wiped replica is judged again once it has
			// caught up, with the votes that reached it meanwhile).
			if !c.faultyNode(r.To) {
				c.quorumDelivered(r.From, r.To, m)
			}
			return
		}
		// A wiped replica that has not caught up is not judged, but what
		// reaches it counts once it is (a vote it got then may complete a
		// quorum after it caught up).
		if !c.correct(r.To) && !c.wipeDown(r.To) {
			return
		}
		switch m := r.Msg.(type) {
		case *pbft.NewView:
			// Receivers take a NEW-VIEW signed by the view's primary,
			// whoever forwards it (a replica forwards its view's NEW-VIEW
			// to one stuck asking for it), and ignore one signed by
			// another replica (a Byzantine replica may send one for a view
			// it is not the primary of: it must not stand for the NEW-VIEW
			// the receiver then accepts).
			if c.n > 0 && m.Replica == sim.NodeID(m.View%uint64(c.n)) && c.sigOK(m) {
				c.nvDelivered[nvKey{r.To, m.View}] = m
			}
		case *pbft.State: // a lagging replica may enter a view from a STATE
			if nv := m.NewView; nv != nil && c.n > 0 && nv.Replica == sim.NodeID(nv.View%uint64(c.n)) && c.sigOK(nv) {
				c.nvDelivered[nvKey{r.To, m.NewView.View}] = m.NewView
			}
		}
	}
}

// executedRecord judges replica from's execution ex, reported at t (by
// fastEvent and event alike).
func (c *Checker) executedRecord(t sim.Time, from sim.NodeID, ex events.Execution) {
	if c.correct(from) {
		c.executed(t, from, ex)
		if c.opts.FoldOnExecuted {
			c.executedPrefix()
		}
	}
}

// preparedRecord judges replica from's PREPARED event e, reported at t.
func (c *Checker) preparedRecord(t sim.Time, from sim.NodeID, e *pbft.Prepared) {
	if c.correct(from) {
		c.preparedEvent(t, from, e)
		c.quorumEvent(t, from, quorumPrepare, e.View, e.Seq, e.Digest)
	}
}

// sentPrepareRecord judges replica from's sent PREPARE e, reported at t.
func (c *Checker) sentPrepareRecord(t sim.Time, from sim.NodeID, e *pbft.SentPrepare) {
	if c.correct(from) {
		c.sentPrepare(t, from, e.View, e.Seq, e.Digest, c.repVote(from, e.View, e.Seq))
	}
}

// fastEvent is Record's fast path for a replica's most frequent events (executed,
// committed, prepared, sent-prepare: about 15 records a request) in a run
// that wipes no replica: the judgements of tlRecord and event for them,
// after one type switch on the concrete event. Each of these types
// implements only the neutral interface event's switch takes it by, if
// any (sim/pbft/neutral.go).
func (c *Checker) fastEvent(r *sim.Record) bool {
	from := r.From
	if c.wipe != nil || int(from) < 0 || int(from) >= c.n {
		return false
	}
	switch e := r.Event.(type) {
	case *pbft.Executed:
		if t := c.tl; t != nil && !e.Null {
			if b := &t.reps[from]; !b.out {
				c.tlExecuted(b, from, e, r.Time)
			}
		}
		c.executedRecord(r.Time, from, e.Execution())
	case *pbft.Committed:
		if c.correct(from) {
			c.agree(r.Time, from, e.View, e.Seq, events.Digest(e.Digest), "committed")
			c.quorumEvent(r.Time, from, quorumCommit, e.View, e.Seq, e.Digest)
			if rs := c.rep(from); e.Seq > rs.lastSeq {
				rs.committed.put(e.Seq, true)
			}
		}
	case *pbft.Prepared:
		c.preparedRecord(r.Time, from, e)
	case *pbft.SentPrepare:
		c.sentPrepareRecord(r.Time, from, e)
	default:
		return false
	}
	return true
}

// samePtr is a == b for b of a pointer type (the messages Record's fast path
// compares): the same dynamic type and pointer, without the runtime's
// general interface comparison.
func samePtr(a, b sim.Message) bool {
	type iface struct{ tab, data unsafe.Pointer }
	x, y := (*iface)(unsafe.Pointer(&a)), (*iface)(unsafe.Pointer(&b))
	return x.tab == y.tab && x.data == y.data
}

// Wants implements sim.KindSink: the checker judges sends, local
// deliveries, drops, deliveries and node events, and notes crashes (to
// name a crashed replica in a violation); duplicate records would only
// move its notion of the run's end, which Finish sets, and so would timer
// and recover records, which it takes only when it judges timeliness (for
// ViewChangeCause: which input a replica's step had).
func (c *Checker) Wants(k sim.RecordKind) bool {
	switch k {
	case sim.RecSend, sim.RecLocal, sim.RecDrop, sim.RecDeliver, sim.RecEvent, sim.RecCrash:
		return true
	case sim.RecTimer, sim.RecRecover:
		return c.tl != nil
	}
	return false
}

// SkipsCopies implements sim.CopySink: the checker does not need the later
// copies of a multicast, about a sixth of a fault-free run's records. It
// would skip each of them anyway: the copy's sender is a client (ignored)
// or a replica whose last send, drop or local delivery it noted was the
// same message (the copy's previous record), which message then skips;
// timeliness reads only the first copy of a PRE-PREPARE or NEW-VIEW
// (tlProposed and its NEW-VIEW case skip a resend), and a copy, at the
// time of the record before it, neither moves the end of the run nor
// brings on a judgement of proposals (Record). So the verdicts are those
// of a checker fed every record (TestSkipCopiesSameVerdicts).
func (c *Checker) SkipsCopies() bool { return true }

// Check runs a new checker over the records of a finished run and finishes
// it at the last record's time.
func Check(opts Options, records []sim.Record) *Checker {
	c := New(opts)
	for i := range records {
		c.Record(&records[i])
	}
	c.Finish(c.end)
	return c
}

// event judges a node's event. The protocol-neutral events (package
// sim/events) feed agreement, total order, integrity, validity, state
// agreement, the client view, the ledger and linearizability, for any
// protocol; PBFT's own events feed the PBFT-specific properties.
func (c *Checker) event(r *sim.Record) {
	from := r.From
	if c.wipe != nil && int(from) >= 0 && int(from) < c.n {
		if c.wipeDown(from) {
			c.wipeEvent(r.Time, from, r.Event)
			return
		}
		if ex, ok := r.Event.(events.Executed); ok {
			c.wipeSigned(from, ex.Execution().Seq)
		}
	}
	switch e := r.Event.(type) {
	case events.Submitted:
		c.submitted(r.Time, from, e.Submission())
	case events.Accepted:
		c.accepted(r.Time, from, e.Acceptance())
	case events.Executed:
		c.executedRecord(r.Time, from, e.Execution())
	case events.Decided:
		if c.correct(from) {
			d := e.Decision()
			c.agree(r.Time, from, d.View, d.Seq, d.Digest, "committed")
			if pc, ok := e.(*pbft.Committed); ok {
				c.quorumEvent(r.Time, from, quorumCommit, pc.View, pc.Seq, pc.Digest)
			}
			if rs := c.rep(from); d.Seq > rs.lastSeq {
				rs.committed.put(d.Seq, true)
			}
		}
	case events.StateInstalled:
		if c.correct(from) {
			rs := c.rep(from)
			if seq := e.StateInstall().Seq; seq > rs.lastSeq {
				rs.lastSeq, rs.lastIndex, rs.started = seq, 0, false
			}
		}
	case events.ViewEntered:
		if c.correct(from) {
			v := e.ViewEntry().View
			rs := c.rep(from)
			if v < rs.view || v < rs.vcView {
				c.violate(Violation{Property: ViewMonotonic, Replicas: []sim.NodeID{from}, View: v, Time: r.Time,
					Detail: fmt.Sprintf("replica %d entered view %d after view %d (highest view change %d)", from, v, rs.view, rs.vcView)})
			}
			rs.view = max(rs.view, v)
			if nv, ok := e.(*pbft.NewViewEntered); ok {
				c.pbftNewViewEntered(r.Time, from, nv)
			}
		}
	case events.StateReported:
		if c.correct(from) {
			c.stateReport(r.Time, from, e.StateReport())
		}
	case *pbft.Prepared:
		c.preparedRecord(r.Time, from, e)
	case *pbft.SentPrepare:
		c.sentPrepareRecord(r.Time, from, e)
	case *pbft.StableCheckpoint:
		if c.correct(from) {
			c.stableCheckpoint(from, e.Seq)
		}
	case *pbft.ViewChangeStarted:
		if c.correct(from) {
			rs := c.rep(from)
			if e.To <= rs.view || e.To < rs.vcView {
				c.violate(Violation{Property: ViewMonotonic, Replicas: []sim.NodeID{from}, View: e.To, Time: r.Time,
					Detail: fmt.Sprintf("replica %d started a view change to view %d after entering view %d (highest view change %d)", from, e.To, rs.view, rs.vcView)})
			}
			rs.vcView = max(rs.vcView, e.To)
		}
	}
}

// pbftNewViewEntered judges PBFT's NEW-VIEW acceptance by a correct replica.
func (c *Checker) pbftNewViewEntered(now sim.Time, from sim.NodeID, e *pbft.NewViewEntered) {
	c.acceptedNewView(now, from, e)
	if !e.OMatches {
		c.violate(Violation{Property: NewViewO, Replicas: []sim.NodeID{from, e.Primary}, View: e.View, Time: now,
			Detail: fmt.Sprintf("replica %d accepted NEW-VIEW %d from %d whose O differs from the O recomputed from V (recomputed=%v)", from, e.View, e.Primary, e.Recomputed)})
	}
}

// agree checks that correct replicas commit/execute one digest per seq.
func (c *Checker) agree(now sim.Time, from sim.NodeID, view, seq uint64, d events.Digest, what string) bool {
	if sa, ok := c.seqDigest.get(seq); ok {
		if d0 := sa.d; d0 != d {
			first := sa.first
			other := fmt.Sprintf("replica %d has", first)
			ids := []sim.NodeID{first, from}
			if first == from {
				other, ids = "it earlier had", []sim.NodeID{from}
			}
			c.violate(Violation{Property: Agreement, Replicas: ids, View: view, Seq: seq, Time: now,
				Detail: fmt.Sprintf("replica %d %s digest %s at seq %d (view %d) but %s %s", from, what, short(d), seq, view, other, short(d0))})
			return false
		}
		return true
	}
	c.seqDigest.put(seq, seqAgree{d, from})
	return true
}

// preparedEvent judges PBFT's prepared predicate at correct replicas.
func (c *Checker) preparedEvent(now sim.Time, from sim.NodeID, e *pbft.Prepared) {
	sl := &c.slots[c.slot(e.View, e.Seq)]
	if sl.hasPrep {
		if d0 := sl.prepared; d0 != e.Digest {
			c.violate(Violation{Property: PreparedUnique, Replicas: []sim.NodeID{sl.prepFirst, from}, View: e.View, Seq: e.Seq, Time: now,
				Detail: fmt.Sprintf("replica %d prepared %s but replica %d prepared %s for (view %d, seq %d)", from, short(e.Digest), sl.prepFirst, short(d0), e.View, e.Seq)})
		}
		return
	}
	sl.prepared, sl.hasPrep, sl.prepFirst = e.Digest, true, from
}

// sentPrepare checks the PREPAREs correct replica from sent; rv is its
// repVote for (view, seq).
func (c *Checker) sentPrepare(now sim.Time, from sim.NodeID, view, seq uint64, d pbft.Digest, rv *repVote) {
	if rv.hasSent {
		if d0 := rv.sentPrep; d0 != d {
			c.violate(Violation{Property: PrepareOnce, Replicas: []sim.NodeID{from}, View: view, Seq: seq, Time: now,
				Detail: fmt.Sprintf("replica %d sent PREPAREs for both %s and %s at (view %d, seq %d)", from, short(d0), short(d), view, seq)})
		}
		return
	}
	rv.sentPrep, rv.hasSent = d, true
}

// Slots of views below denseViews are found in Checker.slotTab (a
// seqTable per view, whose ring follows the window of live seqs), the
// others in Checker.bigSlot.
const denseViews = 64

// slot returns the index of (view, seq)'s slot in c.slots, adding it.
func (c *Checker) slot(view, seq uint64) int32 {
	if view < denseViews {
		if view >= uint64(len(c.slotTab)) {
			n := len(c.slotTab)
			c.slotTab = slices.Grow(c.slotTab, int(view)+1-n)[:view+1]
			for i := n; i <= int(view); i++ {
				c.slotTab[i].reset()
			}
		}
		row := &c.slotTab[view]
		if i, ok := row.get(seq); ok {
			return i - 1
		}
		i := int32(len(c.slots))
		c.slots = append(c.slots, slot{base: -1})
		row.put(seq, i+1)
		return i
	}
	k := viewSeq{view, seq}
	if i, ok := c.bigSlot[k]; ok {
		return i
	}
	i := int32(len(c.slots))
	c.slots = append(c.slots, slot{base: -1})
	c.bigSlot[k] = i
	return i
}

// findSlot is slot without adding: -1 when (view, seq) has none.
func (c *Checker) findSlot(view, seq uint64) int32 {
	if view < denseViews {
		if view < uint64(len(c.slotTab)) {
			if i, ok := c.slotTab[view].get(seq); ok {
				return i - 1
			}
		}
		return -1
	}
	if i, ok := c.bigSlot[viewSeq{view, seq}]; ok {
		return i
	}
	return -1
}

// repVote returns replica r's votes for (view, seq), adding them; r must
// be a replica (0 <= r < n). The pointer is valid until the next call.
func (c *Checker) repVote(r sim.NodeID, view, seq uint64) *repVote {
	sl := &c.slots[c.slot(view, seq)]
	if sl.base < 0 {
		b := len(c.votes)
		sl.base = int32(b)
		c.votes = slices.Grow(c.votes, c.n)[:b+c.n]
		clear(c.votes[b:])
	}
	return &c.votes[int(sl.base)+int(r)]
}

// signedBy returns the first validly signed (or not yet checked) message
// of type typ that replica r sent for (view, seq), or nil.
func (c *Checker) signedBy(r sim.NodeID, typ sim.MsgType, view, seq uint64) sim.Message {
	if int(r) < 0 || int(r) >= c.n {
		return nil
	}
	i := c.findSlot(view, seq)
	if i < 0 || c.slots[i].base < 0 {
		return nil
	}
	return c.votes[int(c.slots[i].base)+int(r)].signed[typeIndex(typ)]
}

func (c *Checker) submitted(now sim.Time, client sim.NodeID, e events.Submission) {
	req := Request{Client: client, Timestamp: e.Timestamp, Op: e.Op}
	if c.learn {
		c.issue(req)
	}
	ri := c.req(mkClientStamp(client, e.Timestamp))
	rq := &c.reqs[ri]
	if rq.sub >= 0 {
		return
	}
	at := e.At
	if at == 0 {
		at = now
	}
	rq.sub = int32(len(c.subs))
	c.subs = append(c.subs, submission{req: req, slot: c.fold.req.pays.intern(paymentOf(req.Op)), at: at})
}

func (c *Checker) accepted(now sim.Time, client sim.NodeID, e events.Acceptance) {
	ri := c.req(mkClientStamp(client, e.Timestamp))
	rq := &c.reqs[ri]
	if i := rq.sub; i >= 0 && !c.subs[i].accepted {
		c.subs[i].accepted, c.subs[i].acceptAt, c.subs[i].result = true, now, e.Result
	} else if i < 0 {
		// Accepted without a Submitted event (e.g. a synthetic stream).
		rq.sub = int32(len(c.subs))
		at := e.SubmittedAt
		c.subs = append(c.subs, submission{req: Request{client, e.Timestamp, e.Op}, slot: c.fold.req.pays.intern(paymentOf(e.Op)), at: at, accepted: true, acceptAt: now, result: e.Result})
	}
	a := acceptance{client: client, ts: e.Timestamp, op: e.Op, result: e.Result, at: now}
	if !c.checkAccepted(a, false) {
		c.pendingAc = append(c.pendingAc, a)
	}
}

// checkAccepted compares an accepted result with the committed log's. It
// returns false when the request is not (yet) in the replayed log.
func (c *Checker) checkAccepted(a acceptance, final bool) bool {
	rq := c.findReq(mkClientStamp(a.client, a.ts))
	var want string
	ok := rq != nil && rq.replayed
	if ok {
		want = rq.refRes
	} else if final && rq != nil && rq.executed {
		// The reference replay stopped at a gap (every correct replica
		// skipped a seq by state transfer): compare with the result the
		// first correct replica to execute the request reported.
		want, ok = rq.execRes, true
	}
	if !ok {
		if final {
			c.violate(Violation{Property: ClientView, Replicas: []sim.NodeID{a.client}, Time: a.at,
				Detail: fmt.Sprintf("client %d accepted %q for request %d (%q) that no correct replica executed in the committed log", a.client, a.result, a.ts, a.op)})
		}
		return false
	}
	if want != a.result {
		c.violate(Violation{Property: ClientView, Replicas: []sim.NodeID{a.client}, Time: a.at,
			Detail: fmt.Sprintf("client %d accepted %q for request %d (%q) but the committed log gives %q", a.client, a.result, a.ts, a.op, want)})
	}
	return true
}

func (c *Checker) executed(now sim.Time, from sim.NodeID, e events.Execution) {
	rs := c.rep(from)
	// Total order: seq 1, 2, 3, ... with increasing batch indexes inside a
	// seq. A replica may skip (report no execution for) a seq it committed:
	// a batch of duplicate requests is ordered but not executed again.
	switch {
	case rs.started && e.Seq == rs.lastSeq && e.Index > rs.lastIndex:
	case e.Seq > rs.lastSeq && c.committedUpTo(rs, e.Seq):
		for s := rs.lastSeq + 1; s < e.Seq; s++ {
			if !c.log.has(s) {
				c.log.put(s, nil) // ordered, nothing executed
			}
		}
	default:
		c.violate(Violation{Property: TotalOrder, Replicas: []sim.NodeID{from}, View: e.View, Seq: e.Seq, Time: now,
			Detail: fmt.Sprintf("replica %d executed seq %d index %d after seq %d index %d%s", from, e.Seq, e.Index, rs.lastSeq, rs.lastIndex, c.missing(rs, e.Seq))})
	}
	if e.Seq >= rs.lastSeq {
		for s := rs.lastSeq + 1; s <= e.Seq && rs.committed.len() > 0; s++ {
			rs.committed.del(s)
		}
		rs.lastSeq, rs.lastIndex, rs.started = e.Seq, e.Index, true
	}
	c.agree(now, from, e.View, e.Seq, e.Digest, "executed")

	req := Request{Client: e.Client, Timestamp: e.Timestamp, Op: e.Op}
	if !e.Null && !c.reexecutedFolded(now, from, e) {
		c.execAny = true
		i := c.req(mkClientStamp(e.Client, e.Timestamp))
		if rq := &c.reqs[i]; !rq.executed {
			rq.executed, rq.execRes = true, e.Result
		}
		if at := &c.execAt[int(i)*c.n+int(from)]; at.ok {
			s0 := at.seq
			c.violate(Violation{Property: Integrity, Replicas: []sim.NodeID{from}, View: e.View, Seq: e.Seq, Time: now,
				Detail: fmt.Sprintf("replica %d executed request (client %d, timestamp %d) at seq %d and again at seq %d", from, e.Client, e.Timestamp, s0, e.Seq)})
		} else {
			at.seq, at.ok = e.Seq, true
		}
		// A faulty node may issue requests in its own name (a Byzantine
		// replica acting as a client): only correct clients' are checked.
		if !c.issuedAs(&c.reqs[i], req) && !c.faultyNode(e.Client) {
			c.violate(Violation{Property: Validity, Replicas: []sim.NodeID{from}, View: e.View, Seq: e.Seq, Time: now,
				Detail: fmt.Sprintf("replica %d executed %q (client %d, timestamp %d) that the client never issued", from, e.Op, e.Client, e.Timestamp)})
		}
		if id, ok := confirmID(e.Op, e.Result); ok {
			if s0, twice := c.confirms.confirmReplica(int(from), id, e.Seq); twice {
				c.violate(Violation{Property: LedgerInvariant, Replicas: []sim.NodeID{from}, View: e.View, Seq: e.Seq, Time: now,
					Detail: fmt.Sprintf("replica %d confirmed payment %s at seq %d and again at seq %d", from, id, s0, e.Seq)})
			}
		}
	}

	// Committed log: the first correct execution of (seq, index) defines it.
	entries, _ := c.log.get(e.Seq)
	if e.Index < 0 || e.Index > 1<<16 {
		return
	}
	if e.Index < len(entries) && entries[e.Index].present {
		ent := entries[e.Index]
		if ent.null != e.Null || (!e.Null && ent.req != req) {
			c.violate(Violation{Property: Agreement, Replicas: []sim.NodeID{ent.by, from}, View: e.View, Seq: e.Seq, Time: now,
				Detail: fmt.Sprintf("replica %d executed %s at seq %d index %d but replica %d executed %s", from, reqString(req, e.Null), e.Seq, e.Index, ent.by, reqString(ent.req, ent.null))})
			return
		}
	} else {
		if entries == nil && len(c.logFree) > 0 {
			entries = c.logFree[len(c.logFree)-1]
			c.logFree = c.logFree[:len(c.logFree)-1]
		}
		for len(entries) <= e.Index {
			entries = append(entries, logEntry{})
		}
		entries[e.Index] = logEntry{digest: e.Digest, null: e.Null, req: req, by: from, present: true}
		c.log.put(e.Seq, entries)
		c.replay()
	}
	if !e.Null {
		c.pendingRes = append(c.pendingRes, pendingResult{replica: from, seq: e.Seq, index: e.Index, result: e.Result, at: now})
		c.flushResults()
	}
}

// committedUpTo reports whether replica rs committed every seq strictly
// between its last executed one and seq.
func (c *Checker) committedUpTo(rs *replicaState, seq uint64) bool {
	for s := rs.lastSeq + 1; s < seq; s++ {
		if !rs.committed.has(s) {
			return false
		}
	}
	return true
}

func (c *Checker) missing(rs *replicaState, seq uint64) string {
	for s := rs.lastSeq + 1; s < seq; s++ {
		if !rs.committed.has(s) {
			return fmt.Sprintf(" (seq %d not committed)", s)
		}
	}
	return ""
}

// entrySlot returns the slot of log entry e's payment in fold.req.pays
// (set once the reference replay has executed it).
func (c *Checker) entrySlot(e *logEntry) int32 {
	if e.ok && !e.null {
		return e.slot
	}
	return c.fold.req.pays.intern(paymentOf(e.req.Op))
}

func reqString(r Request, null bool) string {
	if null {
		return "the null request"
	}
	return fmt.Sprintf("%q (client %d, timestamp %d)", r.Op, r.Client, r.Timestamp)
}

// confirmID returns the payment id of a successful confirm.
func confirmID(op, result string) (string, bool) {
	rest, ok := strings.CutPrefix(op, "confirm ")
	if !ok || !strings.HasPrefix(result, "ok ") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// replay applies the contiguous committed log to the reference ledger.
func (c *Checker) replay() {
	for {
		entries, ok := c.log.get(c.replayed + 1)
		if !ok {
			return
		}
		next := c.replayed + 1
		// Wait until the batch is complete: a later seq exists or, for the
		// last seq, apply what is known (entries only grow by index).
		for i := range entries {
			ent := &entries[i]
			if ent.ok || !ent.present {
				continue
			}
			ent.ok = true
			if ent.null {
				continue
			}
			ri := c.req(mkClientStamp(ent.req.Client, ent.req.Timestamp))
			ent.slot = c.replaySlot(ent, &c.reqs[ri])
			pay := c.fold.req.pays.slots[ent.slot].id
			pre, preOK := c.refRecord(pay)
			c.captureStart(ent.slot, pre, preOK) // (linsegment.go)
			ent.result = c.ref.Execute(ent.req.Op)
			post, postOK, payErr := c.refExecuted(pay, ent.result, pre, preOK, !c.refBroken)
			if rq := &c.reqs[ri]; !rq.replayed {
				rq.replayed, rq.refRes = true, ent.result
				if !c.noRefChain && preOK && postOK {
					rq.ref = refStep{op: ent.req.Op, pre: pre, post: post, ok: true}
				}
			}
			if id, ok := confirmID(ent.req.Op, ent.result); ok {
				if s0, twice := c.confirms.confirmLog(id, next); twice {
					c.violate(Violation{Property: LedgerInvariant, Seq: next,
						Detail: fmt.Sprintf("the committed log confirms payment %s at seq %d and again at seq %d", id, s0, next)})
				}
			}
			// The touched payment in O(1) while the reference ledger is
			// sound (an operation changes only its payment), the whole
			// ledger once it is not.
			err := payErr // CheckPayment's, from refExecuted's lookup
			if c.refBroken {
				err = c.ref.CheckInvariants()
			}
			if err != nil {
				c.refBroken = true
				c.violate(Violation{Property: LedgerInvariant, Seq: next, Detail: "replaying the committed log: " + err.Error()})
			}
		}
		if !c.log.has(next + 1) {
			return
		}
		c.replayed = next
	}
}

// flushResults compares correct replicas' results with the reference replay.
func (c *Checker) flushResults() {
	keep := c.pendingRes[:0]
	for _, p := range c.pendingRes {
		entries, _ := c.log.get(p.seq)
		if p.index >= len(entries) || !entries[p.index].ok {
			keep = append(keep, p)
			continue
		}
		if want := entries[p.index].result; want != p.result {
			c.violate(Violation{Property: ClientView, Replicas: []sim.NodeID{p.replica}, Seq: p.seq, Time: p.at,
				Detail: fmt.Sprintf("replica %d returned %q at seq %d but replaying the committed log gives %q", p.replica, p.result, p.seq, want)})
		}
	}
	c.pendingRes = keep
	if len(c.pendingAc) > 0 {
		keepA := c.pendingAc[:0]
		for _, a := range c.pendingAc {
			if !c.checkAccepted(a, false) {
				keepA = append(keepA, a)
			}
		}
		c.pendingAc = keepA
	}
}

// Finish runs the end-of-run checks (pending client results, liveness,
// linearizability) for a run that ended at time end. Later calls do nothing.
func (c *Checker) Finish(end sim.Time) {
	if c.done {
		return
	}
	c.done = true
	if end > c.end {
		c.end = end
	}
	c.flushResults()
	for _, a := range c.pendingAc {
		c.checkAccepted(a, true)
	}
	c.pendingAc = nil
	_, _, c.liveFrom = c.FaultModel()
	if c.tl != nil {
		c.tlFinish() // before liveness: the sharper judgement of a wait names the failure
	}
	c.liveness()
	c.linearizable()
}

func (c *Checker) liveness() {
	if c.opts.LivenessBound <= 0 {
		return
	}
	c.liveJudged += c.fold.req.liveJudged // requests folded during the run (compact.go)
	for _, v := range c.fold.req.late {
		c.violate(v)
	}
	for _, s := range c.subs {
		if c.faultyC[s.req.Client] {
			continue
		}
		start := max(s.at, c.opts.GST, c.liveFrom)
		deadline := start.Add(c.opts.LivenessBound)
		if s.accepted || c.end > deadline {
			c.liveJudged++
		} else {
			c.livenessUnjudged(&s, start)
		}
		switch {
		case s.accepted && s.acceptAt <= deadline:
		case s.accepted:
			c.violate(Violation{Property: Liveness, Replicas: []sim.NodeID{s.req.Client}, Time: s.acceptAt,
				Detail: fmt.Sprintf("client %d's request %d (%q) submitted at %v completed at %v, after the bound %v past max(submission, GST)", s.req.Client, s.req.Timestamp, s.req.Op, s.at, s.acceptAt, c.opts.LivenessBound)})
		case c.end > deadline:
			c.violate(Violation{Property: Liveness, Replicas: []sim.NodeID{s.req.Client}, Time: c.end,
				Detail: fmt.Sprintf("client %d's request %d (%q) submitted at %v did not complete within %v after max(submission, GST) (run ended at %v)", s.req.Client, s.req.Timestamp, s.req.Op, s.at, c.opts.LivenessBound, c.end)})
		}
	}
}

// Recorder is a sim.Sink that keeps a copy of every record, so that a
// finished run can be checked (or checked again) with Check.
type Recorder struct {
	Records []sim.Record
}

// Record implements sim.Sink.
func (r *Recorder) Record(rec *sim.Record) { r.Records = append(r.Records, *rec) }

// brokenFastInput makes Record's fast path skip noting a delivery as its
// receiver's step input (TestFastRecordStepInput shows view-change-cause
// then misses a violation).
var brokenFastInput bool
