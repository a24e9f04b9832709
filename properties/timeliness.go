package properties

import (
	"fmt"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Timeliness is the request-timer rule of PBFT (OSDI'99 §4.4, TOCS'02
// §4.5.2: "a backup is waiting for a request if it received a valid request
// and has not executed it. A backup starts a timer when it receives a
// request and the timer is not already running. It stops the timer when it
// is no longer waiting to execute the request, but restarts it if at that
// point it is waiting to execute some other request"), judged at every
// correct backup as a bound on time, without any assumption about the
// network:
//
// Let a correct backup b be in view v, active (it entered v, or v is 0) and
// not v's primary, from a time t1 at which it certainly waits for request R
// (R's own client delivered R to b, and b had executed neither R nor a later
// request of that client). Then b executes R, or starts a view change, by
//
//	t1 + (k+1) * T_v * slow + back
//
// where T_v is the longest timeout b's timer can have in v (the base
// view-change timeout doubled once for every view change b started since
// it last executed a request while in a view: the timeout doubles only when
// a timer runs out, and goes back to its base when a request executes in
// the view; a replica that enters v straight from an earlier view, without
// a view change of its own, may still run that view's timer, so T_v is at
// least the earlier view's), k counts the requests that reached b before t1 (in any message
// that carries requests b may take: a request, a PRE-PREPARE, the O of a
// NEW-VIEW, itself or in a STATE, and, at the new view's primary, the
// certificates of a VIEW-CHANGE) and that b stopped waiting for in [t1, now] (it executed them or a
// later request of their client), and slow and back are the clocks' stretch
// (see clockStretch). Why: at t1 b's timer runs (for the request b has
// waited for longest, which reached b no later than R) and ends within T_v
// unless b stops waiting for that request; then it restarts for the next
// one, which again reached b before R, or is R. Only those k stops restart
// it, so after at most k+1 timeouts b leaves the view.
//
// Where the liveness bound must cover up to f faulty primaries, a timeout
// that grew before GST and a network's delays (about 16 view-change
// timeouts, livenessBound), this rule judges one replica's timer, so a
// primary that executes other clients' requests while censoring one is
// caught as soon as a correct backup waits for the censored request beyond
// its timer: a few requests are enough, where the liveness bound needs a
// workload that outlasts it. It is judged on runs whose records include the
// deliveries (Options.Deliveries) of PBFT (Options.ViewChangeTimeout > 0);
// a replica is judged until it first crashes.
const Timeliness = "timeliness"

// ArrivalOrder is the order in which a correct primary proposes the
// requests it holds: in the order they reached it (docs/protocol.md: the
// primary's queue takes requests as they arrive, and a new primary orders
// its pending requests by arrival, so that the request a backup's timer
// awaits, the one that reached it first, is also ordered first). Judged when
// a correct primary that has not crashed sends a new PRE-PREPARE (not a
// retransmission, nor one of a NEW-VIEW's O) in its view v: every request R
// that its own client delivered to the primary before the primary first
// received (in any message) a request Q of the batch, and that the primary
// has not executed since (nor a later request of R's client, nor possibly
// by a state transfer), is in this batch or was already ordered in v (in O
// or an earlier PRE-PREPARE of v). A primary that orders by anything else
// (client id, digest, last come first) lets a request wait behind requests
// that came after it, view after view, where the timer of every backup
// awaits it; the liveness bound sees that only when the workload outlasts
// it. Judged on the same runs as Timeliness.
const ArrivalOrder = "arrival-order"

// ViewChangeCause is the rule by which a correct replica leaves its view
// (OSDI'99 §4.4-4.5, TOCS'02 §4.5.2): only when a timer of its own runs out
// (the request timer, the NEW-VIEW timer), when the primary proves faulty
// (it rejects a NEW-VIEW, received itself or in a STATE), when it recovers
// from a crash, or on VIEW-CHANGEs for views above its own from f+1
// distinct replicas (one of them correct): never on fewer, so that f faulty
// replicas cannot make the correct ones abandon a view that works. Judged
// at each view change a correct replica starts (not after it first
// crashed), from the input of that step: a step that delivered a message
// other than a NEW-VIEW or a STATE must follow VIEW-CHANGEs, delivered
// to the replica so far, from f+1 replicas other than itself for views
// above the one it leaves (their validity is not checked, so the rule errs
// towards passing; so does a step that delivered a PREPARE, COMMIT,
// CHECKPOINT or REPLY, which the checker's fast path does not show it: the
// step is then taken for the replica's previous input). Judged on the same
// runs as Timeliness.
const ViewChangeCause = "view-change-cause"

// NewViewWait is the minimum wait of PBFT's NEW-VIEW timer (OSDI'99 §4.5.2,
// TOCS'02 §4.5.2: "If the timer of backup i expires in view v, the backup
// starts a view change to move the system to view v+1 ... If the timer
// expires before it receives a valid NEW-VIEW message for v+1 ... it starts
// the view change for view v+2 but this time it will wait 2T before
// starting a view change for view v+3"): the timeout doubles every time
// the NEW-VIEW timer runs out, and goes back to its base only when a
// request executes in a view, so that a view change that takes longer than
// the base timeout ends (the liveness argument), where a timeout that does
// not grow moves every replica on to the next view before the NEW-VIEW
// arrives, view after view. Judged at each view change that a correct
// replica starts on a timer of its own while it waits for a NEW-VIEW (not
// active in its view w: the request timer runs only in an active view),
// before it first crashes: since it started the view change to w it has
// waited at least
//
//	T * 2^m * fast - forward
//
// where T is the base view-change timeout, m (at most 20, the cap of the
// doubling) counts its NEW-VIEW timers that ran out since it last executed
// a request in an active view, and fast (at most 1) is the fastest clock's
// shortening, less the longest total forward jump of one clock (a jump
// fires the timers whose deadline it skips); the timer starts no earlier
// than the view change (at 2f+1 VIEW-CHANGEs), so the wait only errs
// towards passing. A lower bound where Timeliness and liveness are upper
// ones: the liveness bound sees a timeout that does not grow only when the
// churn outlasts it. Judged on the same runs as Timeliness.
const NewViewWait = "newview-wait"

// tlEntry is a request that reached a judged backup and that the backup
// has not executed (nor a later request of its client).
type tlEntry struct {
	key   clientStamp
	first uint64 // the checker's record number of its first arrival
	// a window: from record t1Rec at time t1, the backup waits for this
	// request in its view (open), with k earlier requests done since.
	open   bool
	direct bool // its own client delivered it to the backup
	// directRec is the record number of that delivery (0: none);
	// assigned is v+1 when the replica, primary of v, ordered it in v
	directRec uint64
	assigned  uint64
	noWindow  bool // it reached the backup before a state transfer
	t1        sim.Time
	t1Rec     uint64
	k         int
}

// tlReplica is the timeliness state of one replica.
type tlReplica struct {
	out      bool // not judged (faulty, or crashed)
	active   bool
	primary  bool
	view     uint64
	grown    int           // view changes started since it last executed a request in a view
	ppView   uint64        // v+1 for the view v of ppMax
	ppMax    uint64        // the highest sequence number it ordered (or O held) in view ppView-1
	timeout  time.Duration // T_v: the longest timeout of its timer in this view
	entries  []tlEntry
	executed clientTS // per client: the latest timestamp it executed
	// per client: the latest timestamp it may have executed by a state
	// transfer (every one seen by then): such a request may not be pending,
	// so it opens no window, but it is noted (it may be pending, and then
	// counts as an earlier request)
	transferred clientTS
	// for ViewChangeCause: the kind of the record that started this
	// replica's current step (a delivery, a timer, a recovery), the message
	// it delivered, and per sender the highest view of a VIEW-CHANGE
	// delivered to it
	lastIn  sim.RecordKind
	lastMsg sim.Message
	vcHigh  []uint64
	// for NewViewWait: when it last started a view change, how many of its
	// NEW-VIEW timers ran out since it last executed a request in an
	// active view, and whether a timer started its current step and no
	// view change of that step was judged yet
	vcAt       sim.Time
	nvExpired  int
	timerFresh bool
}

// timeliness is a checker's timeliness state (nil when not judged).
type timeliness struct {
	reps     []tlReplica
	base     time.Duration
	slow     float64
	back     time.Duration
	rec      uint64        // records seen
	seen     clientTS      // per client: the latest timestamp seen anywhere
	judged   int           // waits judged
	causes   int           // view changes of correct replicas judged for ViewChangeCause
	waits    int           // NEW-VIEW timer expiries of correct replicas judged for NewViewWait
	fast     float64       // the fastest clock's shortening of a timer
	forward  time.Duration // the longest total forward jump of one clock
	proposed int           // PRE-PREPAREs of correct primaries judged for ArrivalOrder
	// proposals to judge once the records of their step are in (see
	// tlProposed)
	toJudge []tlProposal
}

// tlProposal is a PRE-PREPARE a correct primary sent, to judge for
// ArrivalOrder.
type tlProposal struct {
	id  sim.NodeID
	pp  *pbft.PrePrepare
	now sim.Time
}

// newTimeliness returns the timeliness state for opts (nil: not judged),
// reusing old's memory.
func newTimeliness(opts Options, old *timeliness) *timeliness {
	if opts.ViewChangeTimeout <= 0 || !opts.Deliveries || opts.N <= 0 {
		return nil
	}
	t := old
	if t == nil {
		t = &timeliness{}
	}
	reps := t.reps
	if cap(reps) >= opts.N {
		reps = reps[:opts.N]
	} else {
		reps = make([]tlReplica, opts.N)
	}
	for i := range reps {
		r := &reps[i]
		ex, tr := r.executed, r.transferred
		ex.reset()
		tr.reset()
		vh := r.vcHigh
		if cap(vh) >= opts.N {
			vh = vh[:opts.N]
			clear(vh)
		} else {
			vh = make([]uint64, opts.N)
		}
		*r = tlReplica{active: true, primary: i == 0, timeout: opts.ViewChangeTimeout, entries: r.entries[:0], executed: ex, transferred: tr, vcHigh: vh}
	}
	for _, f := range opts.Faulty {
		if int(f) >= 0 && int(f) < opts.N {
			reps[f].out = true
		}
	}
	seen := t.seen
	seen.reset()
	slow := opts.ClockSlow
	if slow < 1 {
		slow = 1
	}
	clear(t.toJudge)
	fast := opts.ClockFast
	if fast <= 0 || fast > 1 {
		fast = 1
	}
	*t = timeliness{reps: reps, base: opts.ViewChangeTimeout, slow: slow, back: opts.ClockBack, fast: fast, forward: opts.ClockForward, seen: seen, toJudge: t.toJudge[:0]}
	return t
}

// tlRecord feeds one record to the timeliness judgement (Record has counted
// it in rec and judged the proposals of earlier times).
func (c *Checker) tlRecord(r *sim.Record) {
	t := c.tl
	switch r.Kind {
	case sim.RecDeliver, sim.RecLocal:
		if int(r.To) < 0 || int(r.To) >= len(t.reps) || t.reps[r.To].out {
			return
		}
		b := &t.reps[r.To]
		b.lastIn, b.lastMsg = r.Kind, r.Msg
		if m, ok := r.Msg.(*pbft.ViewChange); ok && m.Replica == r.From && int(r.From) >= 0 && int(r.From) < len(b.vcHigh) {
			b.vcHigh[r.From] = max(b.vcHigh[r.From], m.NewView)
		}
		switch m := r.Msg.(type) {
		case *pbft.Request:
			c.tlArrive(b, r.To, m, r.Time, m.Client == r.From)
		case *pbft.PrePrepare:
			c.tlBatch(b, r.To, m, r.Time)
		case *pbft.ViewChange:
			// only the new view's primary takes requests from
			// VIEW-CHANGEs (into O, which it then holds)
			if int(m.NewView%uint64(len(t.reps))) == int(r.To) {
				c.tlVC(b, r.To, m, r.Time)
			}
		case *pbft.NewView:
			c.tlNV(b, r.To, m, r.Time)
		case *pbft.State:
			if m.NewView != nil {
				c.tlNV(b, r.To, m.NewView, r.Time)
			}
		}
	case sim.RecSend:
		if int(r.From) < 0 || int(r.From) >= len(t.reps) || t.reps[r.From].out {
			return
		}
		b := &t.reps[r.From]
		switch m := r.Msg.(type) {
		case *pbft.PrePrepare:
			if m.Replica == r.From && m.View >= b.view { // (b.view may lag: a step's sends come before its events)
				c.tlProposed(b, r.From, m, r.Time)
			}
		case *pbft.NewView:
			if m.Replica == r.From && b.ppView != m.View+1 {
				b.ppView, b.ppMax = m.View+1, 0
				for _, pp := range m.PrePrepares {
					b.ppMax = max(b.ppMax, pp.Seq)
					c.tlAssign(b, m.View, pp)
				}
			}
		}
	case sim.RecEvent:
		from := r.From
		if int(from) < 0 || int(from) >= len(t.reps) {
			if e, ok := r.Event.(*pbft.Submitted); ok {
				t.saw(e.Client, e.Timestamp)
			}
			return
		}
		b := &t.reps[from]
		if b.out {
			return
		}
		switch e := r.Event.(type) {
		case *pbft.Executed:
			if !e.Null {
				c.tlExecuted(b, from, e, r.Time)
			}
		case *pbft.ViewChangeStarted:
			c.vcCause(b, from, e, r.Time)
			c.nvWait(b, from, e, r.Time)
			c.tlCloseAll(b, from, r.Time)
			b.active, b.view = false, e.To
			b.grown++
		case *pbft.NewViewEntered:
			// A replica that enters a view from the view before (a NEW-VIEW
			// for a later view reached it while it was still active) keeps
			// the timer it was running: its timeout may be that view's.
			c.tlCloseAll(b, from, r.Time)
			carried := time.Duration(0)
			if b.active {
				carried = b.timeout
			}
			b.active, b.view = true, e.View
			b.primary = e.Primary == from
			b.timeout = max(t.base<<uint(min(b.grown, 20)), carried)
			if !b.primary {
				for i := range b.entries {
					c.tlOpen(b, &b.entries[i], r.Time)
				}
			}
		case *pbft.StateTransferred:
			// The snapshot may hold any request seen so far: the backup
			// may have stopped waiting for any of them, so none opens a
			// window again, but they still count as earlier requests.
			c.tlCloseAll(b, from, r.Time)
			for i := range b.entries {
				b.entries[i].noWindow = true
			}
			t.seen.each(b.transferred.raise)
		}
	case sim.RecTimer, sim.RecRecover:
		if int(r.To) >= 0 && int(r.To) < len(t.reps) {
			t.reps[r.To].lastIn, t.reps[r.To].lastMsg = r.Kind, nil
			t.reps[r.To].timerFresh = r.Kind == sim.RecTimer
		}
	case sim.RecCrash:
		if int(r.From) >= 0 && int(r.From) < len(t.reps) && !t.reps[r.From].out {
			b := &t.reps[r.From]
			c.tlCloseAll(b, r.From, r.Time)
			b.out = true
			b.entries = b.entries[:0]
		}
	}
}

// saw notes a request's timestamp seen in the run.
func (t *timeliness) saw(client sim.NodeID, ts uint64) {
	t.seen.raise(int64(client), ts)
}

// tlArrive notes request q reaching backup b (id); direct when from its
// own client.
func (c *Checker) tlArrive(b *tlReplica, id sim.NodeID, q *pbft.Request, now sim.Time, direct bool) {
	if q == nil {
		return
	}
	c.tl.saw(q.Client, q.Timestamp)
	key := mkClientStamp(q.Client, q.Timestamp)
	if ts, ok := b.executed.get(key.c); ok && ts >= q.Timestamp {
		return // executed (or superseded) at b: b does not wait for it
	}
	i := -1
	for j := range b.entries {
		if b.entries[j].key == key {
			i = j
			break
		}
	}
	if i < 0 {
		b.entries = append(b.entries, tlEntry{key: key, first: c.tl.rec})
		i = len(b.entries) - 1
	}
	if direct {
		e := &b.entries[i]
		e.direct = true
		if e.directRec == 0 {
			e.directRec = c.tl.rec
		}
		if b.active && !b.primary {
			c.tlOpen(b, e, now)
		}
	}
}

func (c *Checker) tlBatch(b *tlReplica, id sim.NodeID, pp *pbft.PrePrepare, now sim.Time) {
	if pp == nil {
		return
	}
	for _, q := range pp.Batch {
		c.tlArrive(b, id, q, now, false)
	}
}

func (c *Checker) tlVC(b *tlReplica, id sim.NodeID, vc *pbft.ViewChange, now sim.Time) {
	if vc == nil {
		return
	}
	for _, pc := range vc.Prepared {
		c.tlBatch(b, id, pc.PrePrepare, now)
	}
}

// tlNV notes the requests of a NEW-VIEW's O reaching b (a backup takes
// them as it installs O; its V's VIEW-CHANGEs are only checked).
func (c *Checker) tlNV(b *tlReplica, id sim.NodeID, nv *pbft.NewView, now sim.Time) {
	for _, pp := range nv.PrePrepares {
		c.tlBatch(b, id, pp, now)
	}
}

// tlFind returns b's entry for key (nil: none).
func (b *tlReplica) find(key clientStamp) *tlEntry {
	for j := range b.entries {
		if b.entries[j].key == key {
			return &b.entries[j]
		}
	}
	return nil
}

// tlAssign notes that b, primary of view v, ordered pp's requests in v.
func (c *Checker) tlAssign(b *tlReplica, v uint64, pp *pbft.PrePrepare) {
	if pp == nil {
		return
	}
	for _, q := range pp.Batch {
		if q != nil {
			if e := b.find(mkClientStamp(q.Client, q.Timestamp)); e != nil {
				e.assigned = v + 1
			}
		}
	}
}

// tlProposed notes a PRE-PREPARE that b (id) sent, to judge ArrivalOrder
// on once the records of the step that sent it are in: a step's sends are
// recorded before its events, and the same step may have installed a
// state transfer (which may have executed a request it holds) before it
// proposed.
func (c *Checker) tlProposed(b *tlReplica, id sim.NodeID, pp *pbft.PrePrepare, now sim.Time) {
	if b.ppView == pp.View+1 && pp.Seq <= b.ppMax {
		return // sent before (a retransmission), or in O
	}
	if b.ppView != pp.View+1 {
		b.ppView, b.ppMax = pp.View+1, 0
	}
	b.ppMax = pp.Seq
	c.tlAssign(b, pp.View, pp)
	c.tl.toJudge = append(c.tl.toJudge, tlProposal{id, pp, now})
}

// tlJudgeProposals judges the noted PRE-PREPAREs.
func (c *Checker) tlJudgeProposals() {
	for i, p := range c.tl.toJudge {
		if b := &c.tl.reps[p.id]; !b.out {
			c.tlOrder(b, p.id, p.pp, p.now)
		}
		c.tl.toJudge[i] = tlProposal{}
	}
	c.tl.toJudge = c.tl.toJudge[:0]
}

// tlOrder judges ArrivalOrder on PRE-PREPARE pp that b (id) sent at now.
func (c *Checker) tlOrder(b *tlReplica, id sim.NodeID, pp *pbft.PrePrepare, now sim.Time) {
	c.tl.proposed++
	for _, q := range pp.Batch {
		if q == nil {
			continue
		}
		e := b.find(mkClientStamp(q.Client, q.Timestamp))
		if e == nil {
			continue
		}
		for j := range b.entries {
			w := &b.entries[j]
			if w.directRec == 0 || w.directRec >= e.first || w.assigned == pp.View+1 {
				continue
			}
			if ts, ok := b.transferred.get(w.key.c); ok && w.key.t <= ts {
				continue
			}
			c.violate(Violation{Property: ArrivalOrder, Replicas: []sim.NodeID{id, sim.NodeID(w.key.c)}, View: pp.View, Seq: pp.Seq, Time: now,
				Detail: fmt.Sprintf("primary %d ordered client %d's request %d at seq %d of view %d before client %d's request %d, which reached it first (from its client) and which it had neither executed nor ordered in the view",
					id, q.Client, q.Timestamp, pp.Seq, pp.View, w.key.c, w.key.t)})
			return
		}
	}
}

// tlOpen opens e's window at b if b certainly waits for it.
func (c *Checker) tlOpen(b *tlReplica, e *tlEntry, now sim.Time) {
	if e.open || !e.direct || e.noWindow {
		return
	}
	if ts, ok := b.transferred.get(e.key.c); ok && e.key.t <= ts {
		return
	}
	e.open, e.t1, e.t1Rec, e.k = true, now, c.tl.rec, 0
}

// tlExecuted: backup b executed request e (not a null request).
func (c *Checker) tlExecuted(b *tlReplica, id sim.NodeID, e *pbft.Executed, now sim.Time) {
	c.tl.saw(e.Client, e.Timestamp)
	cl := int64(e.Client)
	b.executed.raise(cl, e.Timestamp)
	if b.active {
		b.grown, b.nvExpired = 0, 0
	}
	// b stops waiting for this request and every earlier one of its client
	for i := 0; i < len(b.entries); {
		x := b.entries[i]
		if x.key.c != cl || x.key.t > e.Timestamp {
			i++
			continue
		}
		if x.open {
			c.tlJudge(b, id, &x, now)
		}
		for j := range b.entries {
			if w := &b.entries[j]; j != i && w.open && x.first < w.t1Rec {
				w.k++
			}
		}
		last := len(b.entries) - 1
		b.entries[i] = b.entries[last]
		b.entries = b.entries[:last]
	}
}

// tlCloseAll judges and closes every open window of b at now.
func (c *Checker) tlCloseAll(b *tlReplica, id sim.NodeID, now sim.Time) {
	for i := range b.entries {
		if e := &b.entries[i]; e.open {
			c.tlJudge(b, id, e, now)
			e.open = false
		}
	}
}

// tlBound is the longest b may wait in its view for a request with k
// earlier requests done meanwhile.
func (t *timeliness) bound(b *tlReplica, k int) time.Duration {
	seg := time.Duration(float64(b.timeout)*t.slow) + b.timeout/100 + time.Microsecond
	return time.Duration(k+1)*seg + t.back
}

// tlJudge judges window e of backup b, closing at now.
func (c *Checker) tlJudge(b *tlReplica, id sim.NodeID, e *tlEntry, now sim.Time) {
	t := c.tl
	t.judged++
	waited := time.Duration(now - e.t1)
	if bound := t.bound(b, e.k); waited > bound {
		c.violate(Violation{Property: Timeliness, Replicas: []sim.NodeID{id, sim.NodeID(e.key.c)}, View: b.view, Time: now,
			Detail: fmt.Sprintf("backup %d waited %v in view %d (from %v to %v) for client %d's request %d without executing it or starting a view change; its request timer (timeout at most %v, restarted by %d requests that reached it earlier and executed meanwhile) allows at most %v",
				id, waited, b.view, e.t1, now, e.key.c, e.key.t, b.timeout, e.k, bound)})
	}
}

// vcCause judges, for ViewChangeCause, the view change e that correct
// replica b (id) started at now, by the input of its step.
func (c *Checker) vcCause(b *tlReplica, id sim.NodeID, e *pbft.ViewChangeStarted, now sim.Time) {
	t := c.tl
	t.causes++
	switch b.lastIn {
	case sim.RecTimer, sim.RecRecover:
		return
	case sim.RecDeliver, sim.RecLocal:
		switch b.lastMsg.(type) {
		case *pbft.NewView, *pbft.State:
			return
		}
	}
	var higher []sim.NodeID
	for s, v := range b.vcHigh {
		if sim.NodeID(s) != id && v > e.From {
			higher = append(higher, sim.NodeID(s))
		}
	}
	if len(higher) >= c.opts.F+1 {
		return
	}
	c.violate(Violation{Property: ViewChangeCause, Replicas: append([]sim.NodeID{id}, higher...), View: e.From, Time: now,
		Detail: fmt.Sprintf("replica %d left view %d for view %d on a %s with VIEW-CHANGEs for views above %d from %d replica(s) %v, fewer than f+1 = %d, and no timer of its own",
			id, e.From, e.To, recordInput(b.lastIn, b.lastMsg), e.From, len(higher), higher, c.opts.F+1)})
}

// nvWait judges NewViewWait on the view change e that correct replica b
// (id) started at now (before tlRecord marks b inactive in e.To).
func (c *Checker) nvWait(b *tlReplica, id sim.NodeID, e *pbft.ViewChangeStarted, now sim.Time) {
	t := c.tl
	fresh := b.timerFresh
	b.timerFresh = false
	defer func() { b.vcAt = now }()
	if !fresh || b.lastIn != sim.RecTimer || b.active || c.opts.TimersForced {
		return // not a NEW-VIEW timer that ran out, or one that may run out early
	}
	m := min(b.nvExpired, maxTimeoutDoublings)
	b.nvExpired++
	least := time.Duration(float64(t.base<<uint(m))*t.fast) - t.forward - time.Microsecond
	if least <= 0 {
		return // the clocks' jumps and shortening leave no minimum wait
	}
	t.waits++
	if waited := time.Duration(now - b.vcAt); waited < least {
		c.violate(Violation{Property: NewViewWait, Replicas: []sim.NodeID{id}, View: e.From, Time: now,
			Detail: fmt.Sprintf("replica %d's NEW-VIEW timer for view %d ran out %v after it started that view change (at %v): its timeout, the base %v doubled for each of its %d NEW-VIEW timer(s) that ran out since it last executed a request in a view (less the clocks' shortening), is at least %v",
				id, e.From, waited, b.vcAt, t.base, m, least)})
	}
}

// maxTimeoutDoublings is the cap of PBFT's timeout doubling (2^20 times
// the base, sim/pbft's maxTimeoutShift).
const maxTimeoutDoublings = 20

// recordInput names the input of a step for a violation's detail.
func recordInput(k sim.RecordKind, m sim.Message) string {
	if m != nil {
		return fmt.Sprintf("delivery of a %T", m)
	}
	return fmt.Sprintf("step (record kind %v)", k)
}

// causeJudgement says what the ViewChangeCause judgement judged.
func (c *Checker) causeJudgement() Judgement {
	return countJudgement(ViewChangeCause, c.tl.causes, "no correct replica started a view change", "view changes of correct replicas")
}

// waitJudgement says what the NewViewWait judgement judged.
func (c *Checker) waitJudgement() Judgement {
	if c.opts.TimersForced {
		return Judgement{Property: NewViewWait, Reason: "not judged: timers may run out before their deadlines (forced timer fires or explore's asynchronous timers)"}
	}
	return countJudgement(NewViewWait, c.tl.waits, "no NEW-VIEW timer of a correct replica ran out with a minimum wait left (after the clocks' jumps)", "NEW-VIEW timer expiries of correct replicas")
}

// countJudgement is the judgement of property, judged n times: vacuous
// (none) when n is 0, else "judged n what".
func countJudgement(property string, n int, none, what string) Judgement {
	j := Judgement{Property: property, Judged: true}
	if n == 0 {
		j.Reason = "vacuous: " + none
	} else {
		j.Reason = fmt.Sprintf("judged %d %s", n, what)
	}
	return j
}

// tlFinish judges the windows still open at the run's end (and the
// PRE-PREPAREs of its last step).
func (c *Checker) tlFinish() {
	c.tlJudgeProposals()
	for i := range c.tl.reps {
		if b := &c.tl.reps[i]; !b.out {
			c.tlCloseAll(b, sim.NodeID(i), c.end)
		}
	}
}

// orderJudgement says what the ArrivalOrder judgement judged.
func (c *Checker) orderJudgement() Judgement {
	return countJudgement(ArrivalOrder, c.tl.proposed, "no correct primary ordered a request", "PRE-PREPAREs of correct primaries")
}

// tlJudgement says what the timeliness judgement judged.
func (c *Checker) tlJudgement() Judgement {
	j := Judgement{Property: Timeliness, Judged: true}
	if c.tl.judged == 0 {
		j.Reason = "vacuous: no correct backup waited for a request of a client in a view"
	} else {
		j.Reason = fmt.Sprintf("judged %d waits of correct backups for requests", c.tl.judged)
	}
	return j
}
