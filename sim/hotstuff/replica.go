package hotstuff

import (
	"fmt"
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
)

// StateMachine is the replicated service (sim/ledger's Ledger).
type StateMachine interface {
	Execute(op string) string
	Digest() [32]byte
}

// Config configures a replica.
type Config struct {
	ID          sim.NodeID
	N, F        int
	Batch       int           // requests per block, >= 1
	ViewTimeout time.Duration // the pacemaker's base view timeout, > 0
	Keyring     *crypto.Keyring
	SM          StateMachine
	Rules       Rules // Correct, or a broken variant (ParseVariant)
	// Chained selects chained (pipelined) HotStuff: one generic phase per
	// view, votes to the next leader, the three-chain commit rule.
	Chained bool
}

// Validate reports the first out-of-range field.
func (c Config) Validate() error {
	switch {
	case c.N < 4:
		return fmt.Errorf("hotstuff: Config.N = %d: need at least 4 replicas", c.N)
	case c.F < 1 || c.N < 3*c.F+1:
		return fmt.Errorf("hotstuff: Config.F = %d: need 1 <= F and N >= 3F+1 (N = %d)", c.F, c.N)
	case c.ID < 0 || int(c.ID) >= c.N:
		return fmt.Errorf("hotstuff: Config.ID = %d: want a replica id in [0, %d)", c.ID, c.N)
	case c.Batch < 1:
		return fmt.Errorf("hotstuff: Config.Batch = %d: want at least 1", c.Batch)
	case c.ViewTimeout <= 0:
		return fmt.Errorf("hotstuff: Config.ViewTimeout = %v: want > 0", c.ViewTimeout)
	case c.Keyring == nil:
		return fmt.Errorf("hotstuff: Config.Keyring is nil")
	case c.SM == nil:
		return fmt.Errorf("hotstuff: Config.SM is nil")
	case c.Rules.Quorum == nil || c.Rules.SafeToVote == nil || c.Rules.Timeout == nil || c.Rules.ChainCommit == nil:
		return fmt.Errorf("hotstuff: Config.Rules is incomplete: use Correct or ParseVariant")
	case c.Rules.Chained && !c.Chained:
		return fmt.Errorf("hotstuff: variant %q exists only in chained HotStuff", c.Rules.Name)
	}
	return nil
}

// Genesis is the block every chain starts from (height 0), and GenesisQC
// its prepareQC of view 0, known to every replica.
var (
	Genesis   = NewBlock(Digest{}, 0, 0, nil)
	GenesisQC = &QC{Phase: PhasePrepare, View: 0, Block: Genesis.Hash}
)

// Leader returns the leader of view v of Basic HotStuff (views start at 1,
// led by replica 0): a new leader every view.
func Leader(v uint64, n int) sim.NodeID { return sim.NodeID((v - 1) % uint64(n)) }

// ChainedSpan is the number of consecutive views a chained HotStuff leader
// leads. The three-chain rule commits only when four consecutive views have
// correct leaders (three certified blocks and the proposal carrying the
// third's QC); rotating every view among n = 3f+1 replicas with f crashed
// can leave no such run, and chained HotStuff never commits (n = 4, one
// crashed: 1 of 3 requests in 10 s). With a span of 4 views every correct
// leader can commit on its own.
const ChainedSpan = 4

// ChainedLeader returns the leader of view v of chained HotStuff.
func ChainedLeader(v uint64, n int) sim.NodeID {
	return sim.NodeID(((v - 1) / ChainedSpan) % uint64(n))
}

// leader returns the leader of view v of the replica's protocol.
func (r *Replica) leader(v uint64) sim.NodeID {
	if r.cfg.Chained {
		return ChainedLeader(v, r.n)
	}
	return Leader(v, r.n)
}

// Replica timers.
const (
	timerView  sim.TimerID = 1 // the pacemaker's view timeout
	timerEmpty sim.TimerID = 2 // the leader may propose a block without new requests
)

type reqKey struct {
	client sim.NodeID
	ts     uint64
}

type voteKey struct {
	phase Phase
	view  uint64
	block Digest
}

// newViews are the NEW-VIEW messages a leader received for one view
// (chained: for the views of one leader span up to the highest, top).
type newViews struct {
	from   []bool
	msgs   []*NewView
	highQC *QC
	top    uint64
}

// Replica is a Basic HotStuff replica (sim.Node).
type Replica struct {
	cfg    Config
	id     sim.NodeID
	n, f   int
	quorum int
	signer crypto.Signer
	out    *sim.Output

	view        uint64
	decidedView uint64    // the highest view whose DECIDE it processed (0: none)
	lastDecide  *PhaseMsg // that DECIDE
	lastProp    *Proposal // chained: the highest-view valid proposal it processed
	sentNV      uint64    // the highest view it sent a NEW-VIEW for
	lockedQC    *QC
	prepareQC   *QC
	voted       [4]uint64 // highest view voted in, per phase
	blocks      map[Digest]*Block

	// execution
	execHeight uint64
	execTip    Digest
	decided    Digest // highest decided block not yet executed (missing ancestors), if hasDecided
	hasDecided bool
	fetching   map[Digest]bool

	// leader state
	nv       map[uint64]*newViews
	proposed uint64 // highest view it proposed in
	readyQC  *QC    // chained: the QC it formed as leader of readyQC.View+1
	emptyAt  uint64 // the view in which it waits to propose a block without new requests
	votes    map[voteKey][]*Vote
	formed   map[voteKey]bool

	// requests
	pending   []*Request
	inPending map[reqKey]bool
	lastReply map[sim.NodeID]*Reply
	timerOn   bool

	verified     map[*QC]bool
	verifiedCert map[*ViewCert]bool

	// view synchronization after more than f failed views (sync.go)
	ahead  []uint64 // per replica, the highest view of a TIMEOUT it sent that this one verified
	gated  uint64   // the view it timed out into whose n−f TIMEOUTs it has not yet seen
	lastTO *NewView // its TIMEOUT for gated, sent again while it waits
}

// NewReplica validates cfg and returns a replica in view 1.
func NewReplica(cfg Config) (*Replica, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Replica{cfg: cfg, id: cfg.ID, n: cfg.N, f: cfg.F, quorum: cfg.Rules.Quorum(cfg.N, cfg.F),
		signer: cfg.Keyring.Signer(cfg.ID), view: 1, lockedQC: GenesisQC, prepareQC: GenesisQC,
		blocks: map[Digest]*Block{Genesis.Hash: Genesis}, execTip: Genesis.Hash, fetching: map[Digest]bool{},
		nv: map[uint64]*newViews{}, votes: map[voteKey][]*Vote{}, formed: map[voteKey]bool{},
		inPending: map[reqKey]bool{}, lastReply: map[sim.NodeID]*Reply{}, verified: map[*QC]bool{},
		verifiedCert: map[*ViewCert]bool{}, ahead: make([]uint64, cfg.N)}
	return r, nil
}

// View returns the replica's current view.
func (r *Replica) View() uint64 { return r.view }

// LastExecuted returns the height of the last executed block.
func (r *Replica) LastExecuted() uint64 { return r.execHeight }

// StableCheckpoint returns 0: HotStuff has no checkpoint protocol here.
func (r *Replica) StableCheckpoint() uint64 { return 0 }

// StateDigest returns the state machine's digest.
func (r *Replica) StateDigest() Digest { return r.cfg.SM.Digest() }

// LockedQC returns the replica's lockedQC.
func (r *Replica) LockedQC() *QC { return r.lockedQC }

// PrepareQC returns the highest prepareQC the replica holds.
func (r *Replica) PrepareQC() *QC { return r.prepareQC }

// Start implements sim.Node.
func (r *Replica) Start(now sim.Time, out *sim.Output) {
	r.out = out
	out.Report(&ViewEntered{Replica: r.id, View: 1, Leader: r.leader(1), Reason: "start"})
}

// Step implements sim.Node.
func (r *Replica) Step(now sim.Time, in sim.Input, out *sim.Output) {
	r.out = out
	switch in.Kind {
	case sim.InputMessage:
		r.onMessage(in.From, in.Msg)
	case sim.InputTimer:
		switch in.Timer {
		case timerView:
			r.timerOn = false
			r.onTimeout()
		case timerEmpty:
			if r.emptyAt == r.view {
				r.propose(true)
			}
		}
	case sim.InputRecover:
		r.timerOn = false
		r.armTimer()
	}
}

func (r *Replica) isReplica(id sim.NodeID) bool { return id >= 0 && int(id) < r.n }

func (r *Replica) onMessage(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *Request:
		r.onRequest(from, m)
	case *NewView:
		r.onTimeoutMsg(from, m)
		r.onNewView(from, m)
	case *Proposal:
		if m.View < r.view && r.cfg.Chained {
			// an old proposal brings its QC chain, which proves itself:
			// from any replica (see onGeneric)
			if r.isReplica(from) && m.Leader == r.leader(m.View) {
				r.onGeneric(m)
			}
			return
		}
		if from != r.leader(m.View) || m.Leader != from || m.View < r.view {
			return
		}
		if r.cfg.Chained {
			r.onGeneric(m)
			return
		}
		if m.View > r.view {
			// n−f replicas entered the proposal's view (its certificate):
			// follow them there.
			if !r.validCert(m.Cert, m.View) {
				return
			}
			r.enter(m.View, "proposal")
		}
		r.onProposal(m)
	case *PhaseMsg:
		// A DECIDE's commitQC proves itself: any replica may pass it on
		// (see onNewView); PRE-COMMIT and COMMIT come from the leader.
		if m.QC == nil || m.QC.Phase != PhaseCommit && (from != r.leader(m.View) || m.Leader != from) {
			return
		}
		r.onPhase(from, m)
	case *Vote:
		if from == m.Replica && r.isReplica(from) {
			r.onVote(m)
		}
	case *FetchBlock:
		if b := r.blocks[m.Hash]; b != nil && r.isReplica(from) && from == m.Replica {
			r.out.Send(from, &BlockMsg{Block: b})
		}
	case *BlockMsg:
		r.onBlock(m.Block)
	}
}

// ---- requests and the pacemaker ----

func (r *Replica) onRequest(from sim.NodeID, q *Request) {
	if from != q.Client || r.isReplica(q.Client) || !r.cfg.Keyring.Verify(q) {
		return
	}
	if last := r.lastReply[q.Client]; last != nil && q.Timestamp <= last.Timestamp {
		if q.Timestamp == last.Timestamp {
			r.out.Send(q.Client, last)
		}
		return
	}
	k := reqKey{q.Client, q.Timestamp}
	if !r.inPending[k] {
		r.inPending[k] = true
		r.pending = append(r.pending, q)
	}
	r.armTimer()
	r.tryPropose()
}

// armTimer starts the view timer if the replica waits for work to be done
// and the timer is not running.
func (r *Replica) armTimer() {
	if r.timerOn || len(r.pending) == 0 {
		return
	}
	r.timerOn = true
	r.out.SetTimer(timerView, r.cfg.Rules.Timeout(r.cfg.ViewTimeout, r.failures()))
}

// restartTimer restarts the view timer (if requests are pending) with the
// timeout of the current view.
func (r *Replica) restartTimer() {
	if r.timerOn {
		r.out.CancelTimer(timerView)
		r.timerOn = false
	}
	r.armTimer()
}

// failures is the number of views entered since the last decision (the
// view timeouts behind the current view). It is a function of the view,
// not of a replica's history, so replicas in the same view wait alike and
// one that lags waits less and catches up.
func (r *Replica) failures() int {
	// decidedView is the view of the DECIDE (Basic) or of the proposal
	// whose QC chain committed a block (chained) last processed. A new QC
	// without a commit is no progress: views that certify blocks but never
	// three in a row must still grow the timeout.
	// Chained HotStuff doubles once per leader span (ChainedSpan views):
	// its commits need a whole span of views to succeed in a row, and
	// doubling every view would let a few views lost before GST, or to
	// one faulty leader, grow the timeout far past what a span needs.
	if r.view <= r.decidedView+1 {
		return 0
	}
	k := min(r.view-r.decidedView-1, 1<<20)
	if r.cfg.Chained {
		k = (k + ChainedSpan - 1) / ChainedSpan
	}
	return int(k)
}

// onTimeout is the paper's nextView interrupt: the replica gives up on
// the current view and enters the next one alone, sending its prepareQC to
// that view's leader only (a TIMEOUT, see enter). Its next timeout is
// twice as long.
func (r *Replica) onTimeout() {
	clear(r.fetching) // fetch again what did not arrive
	r.execute()
	if r.waiting() { // see sync.go
		r.resendTimeout()
		r.armTimer()
		return
	}
	next := r.view + 1
	if r.cfg.Chained {
		// the next leader's first view: a faulty leader costs one
		// timeout, not one per view of its span
		next = r.nvKey(r.view) + ChainedSpan
	}
	r.enter(next, "timeout")
}

// enter moves the replica to view v (> r.view), sends NEW-VIEW (TIMEOUT
// when it timed out) to the leader of v unless it follows a leader that
// already proposed or formed a QC in v, and restarts the view timer.
func (r *Replica) enter(v uint64, reason string) {
	if v <= r.view {
		return
	}
	timedOut := reason == "timeout" || reason == "join"
	r.out.Report(&ViewEntered{Replica: r.id, View: v, Leader: r.leader(v), Reason: reason, TimedOut: timedOut})
	r.view = v
	if (timedOut || reason == "decide" || reason == "join") && r.sentNV < v {
		nv := &NewView{View: v, PrepareQC: r.prepareQC, Replica: r.id, Timeout: timedOut}
		nv.Sig = r.signer.Sign(nv)
		r.sentNV = v
		if timedOut && r.syncing() {
			r.broadcastTimeout(nv)
		} else {
			r.out.Send(r.leader(v), nv)
		}
	}
	r.restartTimer()
	for k := range r.nv {
		if k < r.nvKey(v) {
			delete(r.nv, k)
		}
	}
	for k := range r.votes {
		// chained: the leader of v collects the votes of view v−1
		if k.view < v && !(r.cfg.Chained && k.view+1 == v) {
			delete(r.votes, k)
			delete(r.formed, k)
		}
	}
	r.tryPropose()
}

// maxNVViews bounds the views for which a leader keeps NEW-VIEWs.
const maxNVViews = 64

// onNewView collects, at the leader of m.View, the NEW-VIEW and TIMEOUT
// messages for that view: with n−f of them the leader enters the view
// (however far behind it was) and proposes on the highest prepareQC they
// carry. A replica that timed out into a view this leader has passed, or
// with an older prepareQC than the leader's, may have missed a decision:
// the leader hands it its latest DECIDE (chained: its latest proposal, whose
// QC chain commits what the leader committed; one reply
// per TIMEOUT, so the view change stays linear). The decision also aligns
// the laggard's timeouts, which count views since the last decision, with
// those of the replicas ahead, so that it catches up with them.
func (r *Replica) onNewView(from sim.NodeID, m *NewView) {
	if from != m.Replica || !r.isReplica(from) || r.leader(m.View) != r.id {
		return
	}
	if m.Timeout && from != r.id && (m.View <= r.view || r.cfg.Chained && m.PrepareQC != nil && m.PrepareQC.View < r.prepareQC.View) {
		switch {
		case r.lastDecide != nil:
			r.out.Send(from, r.lastDecide)
		case r.lastProp != nil: // chained: its QCs carry the decisions
			r.out.Send(from, r.lastProp)
		}
	}
	key := r.nvKey(m.View)
	if key < r.nvKey(r.view) || m.View < r.view && !r.cfg.Chained || !r.cfg.Keyring.Verify(m) || !r.validQC(m.PrepareQC, PhasePrepare) {
		return
	}
	s := r.nv[key]
	if s == nil {
		if len(r.nv) >= maxNVViews && !r.evictNV(key) {
			return
		}
		s = &newViews{from: make([]bool, r.n), highQC: GenesisQC}
		r.nv[key] = s
	}
	if r.cfg.Chained && m.PrepareQC.View > 0 {
		r.chainUpdateFrom(m.PrepareQC)
	}
	if s.from[from] && m.View <= s.top {
		return
	}
	s.top = max(s.top, m.View)
	if m.PrepareQC.View > s.highQC.View {
		s.highQC = m.PrepareQC
	}
	if !s.from[from] {
		s.from[from] = true
		s.msgs = append(s.msgs, m)
	}
	if s.top > r.view && len(s.msgs) >= r.quorum {
		r.enter(s.top, "new-view")
		return
	}
	if m.Timeout && s.top > r.view && len(s.msgs) >= r.f+1 {
		// f+1 replicas, one of them correct, timed out into a view this
		// one leads while it waits in a lower one (a longer timeout after
		// decisions it missed, or a slower clock): it joins them, its own
		// TIMEOUT completing the n−f it needs to propose. Only TIMEOUTs
		// count: NEW-VIEWs after a decision reach a leader that will
		// process the DECIDE itself.
		r.enter(s.top, "join")
		return
	}
	r.tryPropose()
}

// nvKey is the key of view v's NEW-VIEWs in Replica.nv: the view itself;
// in chained HotStuff the first view of v's leader span. A leader counts
// the NEW-VIEWs of every view of its span up to the one it proposes in:
// replicas whose timers expire a view apart, common within a span, still
// add up to n−f (a NEW-VIEW for view w says its sender will follow a
// proposal of any later view of the same leader).
func (r *Replica) nvKey(v uint64) uint64 {
	if r.cfg.Chained {
		return v - (v-1)%ChainedSpan
	}
	return v
}

// evictNV drops the highest view's NEW-VIEWs if it is above v (the lower
// views are the ones the replicas reach first); it reports whether it did.
func (r *Replica) evictNV(v uint64) bool {
	var top uint64
	for k := range r.nv {
		top = max(top, k)
	}
	if top <= v {
		return false
	}
	delete(r.nv, top)
	return true
}

// validCert reports whether c proves that Quorum distinct replicas sent a
// valid NEW-VIEW (or TIMEOUT) for view v (chained: for a view of v's
// leader span up to v, see nvKey).
func (r *Replica) validCert(c *ViewCert, v uint64) bool {
	if c == nil || c.View != v {
		return false
	}
	if r.verifiedCert[c] {
		return true
	}
	if len(c.NewViews) < r.quorum {
		return false
	}
	seen := make([]bool, r.n)
	for _, m := range c.NewViews {
		if m == nil || !r.isReplica(m.Replica) || seen[m.Replica] || m.View > v || r.nvKey(m.View) != r.nvKey(v) || !r.cfg.Keyring.Verify(m) {
			return false
		}
		seen[m.Replica] = true
	}
	if len(r.verifiedCert) > 256 {
		clear(r.verifiedCert)
	}
	r.verifiedCert[c] = true
	return true
}

// ---- leader ----

func (r *Replica) isLeader() bool { return r.leader(r.view) == r.id }

// tryPropose lets the leader of the current view propose once it has the
// view's highQC (n−f NEW-VIEWs; the genesis QC in view 1) and a request to
// order.
func (r *Replica) tryPropose() { r.propose(false) }

// propose is tryPropose; force proposes a block without new requests.
func (r *Replica) propose(force bool) {
	if !r.isLeader() || r.proposed >= r.view || len(r.pending) == 0 {
		return
	}
	highQC := GenesisQC
	var cert *ViewCert
	if r.cfg.Chained && r.readyQC != nil && r.readyQC.View+1 == r.view {
		// the QC of the previous view's block, formed here from its votes
		highQC = r.readyQC
	} else if r.cfg.Chained && r.proposed > 0 && r.nvKey(r.proposed) == r.nvKey(r.view) {
		// Chained: the NEW-VIEWs of a span start it; later views of the
		// span extend the previous view's block, so they wait for its QC.
		// Proposing on the NEW-VIEWs' highQC again would make the span's
		// blocks siblings, none certified in consecutive views: no span
		// entered by a view change could commit by itself.
		return
	} else if r.view > 1 {
		s := r.nv[r.nvKey(r.view)]
		if s == nil || len(s.msgs) < r.quorum {
			return
		}
		highQC = s.highQC
		cert = &ViewCert{View: r.view, NewViews: slices.Clone(s.msgs)}
		r.verifiedCert[cert] = true
	}
	parent := r.blocks[highQC.Block]
	if parent == nil {
		r.fetch(highQC.Block)
		return
	}
	// requests already in the uncommitted chain it extends are not proposed again
	inChain := map[reqKey]bool{}
	for b := parent; b != nil && b.Height > r.execHeight; b = r.blocks[b.Parent] {
		for _, q := range b.Cmds {
			inChain[reqKey{q.Client, q.Timestamp}] = true
		}
	}
	var cmds []*Request
	for _, q := range r.pending {
		if len(cmds) == r.cfg.Batch {
			break
		}
		if !inChain[reqKey{q.Client, q.Timestamp}] {
			cmds = append(cmds, q)
		}
	}
	// Every pending request is in the uncommitted chain: a block without
	// requests would commit it, but the chain's last block was usually just
	// decided and its DECIDE is on its way. Wait half a view timeout first.
	if len(cmds) == 0 && !force && !r.cfg.Chained {
		if r.emptyAt != r.view {
			r.emptyAt = r.view
			r.out.SetTimer(timerEmpty, r.cfg.ViewTimeout/2)
		}
		return
	}
	// Chained HotStuff pipelines: a block without requests carries the
	// chain's QCs on (three of them commit a block), so it is proposed at
	// once.
	b := NewBlock(parent.Hash, parent.Height+1, r.view, cmds)
	if r.cfg.Chained {
		b = newBlockQC(parent.Hash, parent.Height+1, r.view, cmds, highQC)
	}
	r.blocks[b.Hash] = b
	r.proposed = r.view
	p := &Proposal{View: r.view, Block: b, Justify: highQC, Cert: cert, Leader: r.id}
	for i := 0; i < r.n; i++ {
		r.out.Send(sim.NodeID(i), p)
	}
}

// onVote collects the votes of the current view; at quorum the leader
// combines them into a QC and starts the next phase.
func (r *Replica) onVote(v *Vote) {
	if r.cfg.Chained {
		// chained: votes for the block of view v go to the leader of v+1
		if r.leader(v.View+1) != r.id || v.View+1 < r.view || v.Phase != PhasePrepare || !r.cfg.Keyring.Verify(v) {
			return
		}
	} else if v.View != r.view || !r.isLeader() || v.Phase < PhasePrepare || v.Phase > PhaseCommit || !r.cfg.Keyring.Verify(v) {
		return
	}
	k := voteKey{v.Phase, v.View, v.Block}
	if r.formed[k] {
		return
	}
	for _, o := range r.votes[k] {
		if o.Replica == v.Replica {
			return
		}
	}
	r.votes[k] = append(r.votes[k], v)
	if len(r.votes[k]) < r.quorum {
		return
	}
	r.formed[k] = true
	qc := &QC{Phase: v.Phase, View: v.View, Block: v.Block, Votes: r.votes[k]}
	delete(r.votes, k)
	r.verified[qc] = true
	if r.cfg.Chained {
		if qc.View > r.prepareQC.View {
			r.prepareQC = qc
		}
		r.readyQC = qc
		if qc.View+1 > r.view {
			r.enter(qc.View+1, "qc")
		}
		r.tryPropose()
		return
	}
	m := &PhaseMsg{View: r.view, QC: qc, Leader: r.id}
	for i := 0; i < r.n; i++ {
		r.out.Send(sim.NodeID(i), m)
	}
}

// ---- replica ----

// validQC reports whether qc is a well-formed certificate of phase ph:
// the genesis QC, or Quorum distinct replicas' valid votes for its
// (phase, view, block).
func (r *Replica) validQC(qc *QC, ph Phase) bool {
	if qc == nil || qc.Phase != ph {
		return false
	}
	if qc.View == 0 {
		return ph == PhasePrepare && qc.Block == Genesis.Hash && len(qc.Votes) == 0
	}
	if r.verified[qc] {
		return true
	}
	if len(qc.Votes) < r.quorum {
		return false
	}
	seen := make([]bool, r.n)
	for _, v := range qc.Votes {
		if v == nil || !r.isReplica(v.Replica) || seen[v.Replica] || v.Phase != qc.Phase || v.View != qc.View || v.Block != qc.Block || !r.cfg.Keyring.Verify(v) {
			return false
		}
		seen[v.Replica] = true
	}
	if len(r.verified) > 256 {
		clear(r.verified)
	}
	r.verified[qc] = true
	return true
}

// extends reports whether block b is a descendant of (or is) the block
// with hash anc, following the parents the replica knows.
func (r *Replica) extends(b *Block, anc Digest) bool {
	a := r.blocks[anc]
	for b != nil {
		if b.Hash == anc {
			return true
		}
		if a != nil && b.Height <= a.Height {
			return false
		}
		b = r.blocks[b.Parent]
	}
	return false
}

// safeNode is the paper's predicate: b extends the locked block (safety),
// or justify is newer than the lock (liveness).
func (r *Replica) safeNode(b *Block, justify *QC) bool {
	return r.extends(b, r.lockedQC.Block) || justify.View > r.lockedQC.View
}

func (r *Replica) vote(ph Phase, view uint64, block Digest) {
	if r.voted[ph] >= view {
		return
	}
	r.voted[ph] = view
	v := &Vote{Phase: ph, View: view, Block: block, Replica: r.id}
	v.Sig = r.signer.Sign(v)
	to := r.leader(view)
	if r.cfg.Chained {
		to = r.leader(view + 1) // the next leader forms the QC
	}
	r.out.Send(to, v)
}

// onProposal is the PREPARE phase at a replica: vote for the leader's block
// if it extends its justify QC's block and is safe.
func (r *Replica) onProposal(m *Proposal) {
	if r.voted[PhasePrepare] >= m.View || !r.acceptBlock(m) {
		return
	}
	if !r.cfg.Rules.SafeToVote(r, m.Block, m.Justify) {
		return
	}
	r.vote(PhasePrepare, m.View, m.Block.Hash)
}

// acceptBlock checks a proposal's block (its hash, view, signed requests,
// its parent the block of its valid justify QC, one above it in height if
// known; in chained HotStuff the block carries that QC itself) and stores it.
func (r *Replica) acceptBlock(m *Proposal) bool {
	b := m.Block
	if b == nil || !b.valid() || b.View != m.View || b.Parent != m.Justify.blockOrZero() ||
		r.cfg.Chained && b.Justify != m.Justify || !r.validQC(m.Justify, PhasePrepare) {
		return false
	}
	for _, q := range b.Cmds {
		if q == nil || r.isReplica(q.Client) || !r.cfg.Keyring.Verify(q) {
			return false
		}
	}
	parent := r.blocks[b.Parent]
	if parent == nil {
		r.fetch(b.Parent)
	} else if b.Height != parent.Height+1 {
		return false
	}
	r.blocks[b.Hash] = b
	return true
}

func (q *QC) blockOrZero() Digest {
	if q == nil {
		return Digest{}
	}
	return q.Block
}

// onPhase handles the leader's PRE-COMMIT, COMMIT and DECIDE.
func (r *Replica) onPhase(from sim.NodeID, m *PhaseMsg) {
	qc := m.QC
	if qc.View != m.View || !r.validQC(qc, qc.Phase) {
		return
	}
	if qc.Phase == PhaseCommit { // DECIDE: a commitQC is final, whatever the view
		if r.lastDecide == nil || m.View > r.lastDecide.View {
			r.lastDecide = m
		}
		r.decide(qc.Block)
		if m.View >= r.view {
			r.decidedView = m.View
			r.enter(m.View+1, "decide")
		} else if m.View > r.decidedView {
			// A decision it missed (handed over after a TIMEOUT): its
			// views since the last decision are fewer than it counted, so
			// it restarts the view timer with the shorter timeout and
			// catches up with the replicas ahead.
			r.decidedView = m.View
			r.restartTimer()
		}
		return
	}
	if m.View < r.view {
		return
	}
	if m.View > r.view {
		// n−f replicas voted in view m.View: follow them there.
		r.enter(m.View, "qc")
	}
	switch qc.Phase {
	case PhasePrepare: // PRE-COMMIT
		if qc.View > r.prepareQC.View {
			r.prepareQC = qc
		}
		r.vote(PhasePreCommit, m.View, qc.Block)
	case PhasePreCommit: // COMMIT
		if qc.View > r.lockedQC.View {
			r.lockedQC = qc
		}
		r.vote(PhaseCommit, m.View, qc.Block)
	}
}

// ---- commit and execution ----

// decide commits block h and its ancestors above the executed height, in
// height order, once the replica has them all (it fetches missing ones).
// Of several decided blocks waiting for ancestors, the highest is kept: its
// chain contains the others.
func (r *Replica) decide(h Digest) {
	if b := r.blocks[h]; b != nil && b.Height <= r.execHeight {
		return
	}
	if r.hasDecided {
		cur, b := r.blocks[r.decided], r.blocks[h]
		if b == nil || (cur != nil && cur.Height >= b.Height) {
			r.fetch(h)
			return
		}
	}
	r.decided, r.hasDecided = h, true
	r.execute()
}

// execute runs the chain up to the decided block if every block is known.
func (r *Replica) execute() {
	if !r.hasDecided {
		return
	}
	top := r.blocks[r.decided]
	if top == nil {
		r.fetch(r.decided)
		return
	}
	var chain []*Block
	for b := top; b.Height > r.execHeight; {
		chain = append(chain, b)
		p := r.blocks[b.Parent]
		if p == nil {
			r.fetch(b.Parent)
			return
		}
		b = p
	}
	r.hasDecided = false
	for i := len(chain) - 1; i >= 0; i-- {
		r.executeBlock(chain[i])
	}
	r.armTimer()
}

func (r *Replica) executeBlock(b *Block) {
	r.out.Report(&Decided{Replica: r.id, View: b.View, Seq: b.Height, Digest: b.Hash})
	r.execHeight, r.execTip = b.Height, b.Hash
	if len(b.Cmds) == 0 {
		r.out.Report(&Executed{Replica: r.id, View: b.View, Seq: b.Height, Digest: b.Hash, Null: true})
	}
	defer func() {
		if b.Height%StateInterval == 0 {
			r.out.Report(&StateDigest{Replica: r.id, Seq: b.Height, Digest: r.cfg.SM.Digest()})
		}
	}()
	for i, q := range b.Cmds {
		k := reqKey{q.Client, q.Timestamp}
		if last := r.lastReply[q.Client]; last != nil && q.Timestamp <= last.Timestamp {
			r.dropPending(k)
			continue
		}
		res := r.cfg.SM.Execute(q.Op)
		rep := &Reply{View: r.view, Timestamp: q.Timestamp, Client: q.Client, Replica: r.id, Result: res}
		r.lastReply[q.Client] = rep
		r.dropPending(k)
		r.out.Send(q.Client, rep)
		r.out.Report(&Executed{Replica: r.id, View: b.View, Seq: b.Height, Index: i, Digest: b.Hash,
			Client: q.Client, Timestamp: q.Timestamp, Op: q.Op, Result: res})
	}
	// requests of clients answered here that are now obsolete
	j := 0
	for _, q := range r.pending {
		if last := r.lastReply[q.Client]; last != nil && q.Timestamp <= last.Timestamp {
			delete(r.inPending, reqKey{q.Client, q.Timestamp})
			continue
		}
		r.pending[j] = q
		j++
	}
	clear(r.pending[j:])
	r.pending = r.pending[:j]
	if len(r.pending) == 0 && r.timerOn {
		r.out.CancelTimer(timerView)
		r.timerOn = false
	}
}

func (r *Replica) dropPending(k reqKey) {
	if !r.inPending[k] {
		return
	}
	delete(r.inPending, k)
	for i, q := range r.pending {
		if q.Client == k.client && q.Timestamp == k.ts {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			return
		}
	}
}

// fetch asks every other replica for block h (once until it arrives).
func (r *Replica) fetch(h Digest) {
	if r.fetching[h] || r.blocks[h] != nil {
		return
	}
	r.fetching[h] = true
	m := &FetchBlock{Hash: h, Replica: r.id}
	for i := 0; i < r.n; i++ {
		if sim.NodeID(i) != r.id {
			r.out.Send(sim.NodeID(i), m)
		}
	}
}

func (r *Replica) onBlock(b *Block) {
	if b == nil || !r.fetching[b.Hash] || !b.valid() {
		return
	}
	delete(r.fetching, b.Hash)
	r.blocks[b.Hash] = b
	r.execute()
	r.tryPropose()
}
