// Package explore explores every schedule of a small simulation within
// bounds, on the real node code: at each step the choice is which in-flight
// message to deliver next, or to drop or duplicate one (within budgets), to
// fire the earliest pending timer (any pending timer, with asynchronous
// timers: Model.AsyncTimers), or to crash or recover a node. A faulty
// (Byzantine) node's messages may also be withheld at no cost: with the
// node's own deterministic strategy that is its finite menu of actions.
//
// Worlds are copied per branch (copy-on-write per node: a transition copies
// only the nodes it steps, by reflection, see Copier) and recognised by a
// hash of every node's canonical state, the in-flight messages (a multiset)
// and the order of the pending timers. Exploration is breadth-first, so the
// first violation found has a shortest path; depth-first iterative
// deepening and sleep-set partial-order reduction are options.
//
// Time follows the kernel's rules so that every explored path can be
// replayed by the ordinary kernel (see Schedule): each transition other
// than a timer happens one Unit after the previous one, a timer fires at its
// deadline, and a transition is possible only strictly before the earliest
// pending deadline. Self-sends and timers due at the current time run at
// once, in the kernel's order. Absolute times are not part of a state.
// With asynchronous timers (Model.AsyncTimers) every transition, a Fire
// included, happens one Unit after the previous one, any pending timer may
// fire, and no deadline constrains anything; a replay fires such timers
// early (Schedule.Fires).
//
// Nothing here imports the properties, scenarios or reports packages: what
// counts as a violation is the caller's Check.
package explore

import (
	"fmt"
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Unit is the virtual time between two explored transitions. It is not a
// divisor of any whole number of milliseconds, and transitions stop short of
// timer deadlines, so no two events of a replayed path share a time.
const Unit = sim.Time(997 * time.Nanosecond)

// Kind is the kind of a transition.
type Kind uint8

// Transition kinds.
const (
	Deliver   Kind = iota + 1 // deliver an in-flight message
	Drop                      // lose an in-flight message (a drop, or a faulty sender's withholding)
	Duplicate                 // make one more copy of an in-flight message
	Fire                      // fire the earliest pending timer
	Crash                     // crash a node: its timers are cancelled, messages to it are lost
	Recover                   // recover a crashed node
)

var kindNames = [...]string{"", "deliver", "drop", "duplicate", "fire", "crash", "recover"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Choice is one transition out of a world: Msg indexes World.Flight for
// Deliver, Drop and Duplicate; Node names the node of Crash and Recover,
// and of Fire. With asynchronous timers (Model.AsyncTimers) a Fire also
// names its timer (Timer): any pending timer may fire. With timed timers
// the earliest one fires and Timer is 0.
type Choice struct {
	Kind  Kind
	Msg   int
	Node  sim.NodeID
	Timer sim.TimerID
}

// Flight is an in-flight network message.
type Flight struct {
	From, To sim.NodeID
	Msg      sim.Message
	H        uint64   // hash of the message's canonical encoding
	SentAt   sim.Time // virtual time of the send
	Send     int      // index of the send along the path (0, 1, ...)
	Copy     bool     // a duplicate made by a Duplicate transition
	// Duped: the send was duplicated (as in the kernel, a send is
	// duplicated at most once).
	Duped bool
}

// Timer is a pending timer.
type Timer struct {
	Node sim.NodeID
	ID   sim.TimerID
	At   sim.Time
	Seq  uint64 // arming order (the kernel's tie-break)
	// zero: armed with a delay <= 0, so it runs within the transition
	// that armed it (drain), whatever the timer semantics.
	zero bool
}

// local is a queued self-send.
type local struct {
	node sim.NodeID
	msg  sim.Message
	seq  uint64
}

// World is one global state: the nodes, the network and the timers.
// Worlds share node values copy-on-write: never step a node of a world
// you did not make with Apply.
type World struct {
	Nodes  []sim.Node
	nh     []uint64 // per-node state hash
	Down   []bool
	Flight []Flight
	Timers []Timer
	Now    sim.Time
	seq    uint64
	sends  int
	trace  *recChain // records of the path (Options.Records)
	ghosts []Flight  // messages discarded as inert (Options.VerifyInert only)
	// Symmetry (Model.Symmetry): the group, the renamed node hashes (per
	// permutation, per node) and the canonical hash.
	sg   *symGroup
	snh  []uint64
	skey uint64
	// Budgets used along the path (Fires only counts with
	// Bounds.TimerLimit).
	Drops, Dups, Crashes, Fires int
	Depth                       int
	// exact: the hash includes each pending timer's time left
	// (Model.ExactTimers).
	exact bool
	// async: timers fire at any moment (Model.AsyncTimers).
	async bool
	// noBudgets: the hash leaves out the budgets used
	// (Options.SubsumeBudgets).
	noBudgets bool
}

// Record is what the explorer traces: the records of one transition, as the
// kernel would trace them (Seq is left 0: the position is the caller's).
type Record = sim.Record

// Engine steps worlds for one model. It is not safe for concurrent use.
type Engine struct {
	m          *Model
	countFires bool // count timer expirations in World.Fires (Bounds.TimerLimit)
	cp         *Copier
	out        sim.Output
	// per transition, per node: copied (private to the new world, so
	// stepped in place), stepped, and its hash in the new world known
	owned, stepped, hashed []bool
	loc                    []local
	recs                   []Record
	keep                   bool
	// SendHook, when set, sees every network send (for Schedule).
	sendHook func(f *Flight)
	// verifyInert: check every inertness declaration (Options.VerifyInert);
	// inertErr is the first broken one.
	verifyInert bool
	inertErr    error
	discarded   int // messages discarded as inert
	// The step memo (memo.go); noMemo: off (Model.StepMemo < 0).
	memo     []memoEntry
	noMemo   bool
	memoHits int
	// quiet: Bounds.QuietTimers (a Fire's Effect is then not Local).
	quiet bool
	// noBudgets: worlds hash without their budgets used
	// (Options.SubsumeBudgets).
	noBudgets bool
	// Apply's buffers for the new world's flight and timers.
	fbuf []Flight
	tbuf []Timer
	// rslab: the records handed out by takeRecords are carved from it.
	rslab []Record
	spare []*World // released worlds (Release)
	sym   *symHasher
	peekState
	// No-op transitions (noop.go): the node steps of the current
	// transition and their outputs (sends, self-sends, events), and
	// whether the last Apply or Peek was a no-op (with subsumeNoops).
	nsteps, nout          int
	subsumeNoops, wasNoop bool
}

// Model describes what to explore.
type Model struct {
	// New returns fresh initial nodes (not started); node i has NodeID i.
	New func() ([]sim.Node, error)
	// Copier copies and hashes nodes; nil means a Copier with no extra rules.
	Copier *Copier
	// Crashable lists the nodes that Crash may crash.
	Crashable []sim.NodeID
	// Faulty lists nodes whose messages may be withheld at no budget cost.
	Faulty []sim.NodeID
	// Prune, if set, reports worlds that are not expanded (e.g. beyond a
	// view bound); they are still checked.
	Prune func(w *World) bool
	// Done, if set, reports worlds in which the run's goal is reached (for
	// the liveness check).
	Done func(w *World) bool
	// DiscardInert makes every transition end by discarding the in-flight
	// messages that their receivers declare inert (see Inerter): such a
	// message is treated as delivered after the end of the path. States
	// that differ only in them merge. Replay must use the same model, as
	// the choices' message indices depend on it.
	DiscardInert bool
	// Inert, if set, replaces the nodes' Inerter for DiscardInert (tests
	// use it to declare a wrong one and see Options.VerifyInert fail).
	Inert func(node sim.Node, from sim.NodeID, m sim.Message) bool
	// StepMemo is the number of slots of the step memo (see memo.go):
	// 0 means DefaultStepMemo, a negative number turns the memo off. The
	// memo assumes what merging worlds by their hash assumes: a node's
	// step depends only on its hashed state and the input (not on the
	// absolute time, nor on fields the Copier does not hash).
	StepMemo int
	// brokenMemo leaves the sender and the message out of the memo's key
	// (tests show that the comparison with the memo off catches it).
	brokenMemo bool
	// Symmetry, if set, makes the state hash canonical over node-id
	// permutations (symmetry reduction, see Symmetry).
	Symmetry *Symmetry
	// ExactTimers puts each pending timer's time left (deadline minus
	// now) into the state hash. Without it only the timers' order is
	// hashed, so two states that differ only in how far their deadlines
	// are (from now, or from each other) are taken for one: what is
	// explored below such a state (how many transitions fit before a
	// timer must fire) then depends on the path that reached it first,
	// and some states within the bounds may not be reached. With it,
	// merging is exact, at the cost of more states.
	ExactTimers bool
	// AsyncTimers makes timers asynchronous: a timer armed with a
	// positive delay may fire at any later transition (a Fire choice per
	// pending timer), nothing forces it to fire, and no deadline
	// constrains other transitions. A timer that fires "early" is
	// indistinguishable from messages slower than the timeout, the model
	// under which a BFT protocol's safety must hold. Timers armed with
	// delay 0 still run within the transition that armed them. World.Now
	// still advances one Unit per transition (for the records and
	// replay), but neither the semantics nor the state hash reads a
	// deadline: the hash holds the set of pending (node, timer id) pairs,
	// so merging is exact and ExactTimers does not apply. An
	// over-approximation of the timed semantics: two timers, even of one
	// node, may fire in either order whatever their deadlines. Timer
	// transitions touch only their node, which sharpens the sleep sets'
	// independence (DPOR keeps a Fire dependent on every transition).
	//
	// Both the exact merging and that independence require that no node's
	// Step reads its `now` argument in a way that reaches its outputs or
	// its hashed state (the absolute time of a transition depends on the
	// path, which the hash leaves out). PBFT's and HotStuff's replicas do
	// not read it (a session-9 review); a node that puts the time in a
	// message (sim/echo's PING) breaks it, and nothing checks it at run
	// time.
	AsyncTimers bool
	// KeepSent makes the network monotone (the message set of TLA+ and
	// Ivy models of BFT protocols): a delivery does not remove its
	// message, so any message sent may be delivered again at any later
	// step, and identical sends (same sender, receiver and content) are
	// one message. The in-flight messages are then a set of the messages
	// ever sent that their receivers have not declared inert
	// (DiscardInert), and a state is the nodes, the down nodes, the
	// pending timers, the budgets and that set. Choices offers no
	// Duplicate (a re-delivery is one) and no delivery to a down node (the
	// message waits). Every schedule without it, drops left out, is a
	// schedule with it (each message delivered once); the extra ones
	// re-deliver messages, as a network that duplicates them may, so a
	// violation found is one of the real system's (Replay gives each
	// further delivery of a send to a later identical send or to the
	// send's duplicate). Meant for safety with asynchronous timers and
	// Bounds.SubsumeDrops (Run requires both, and neither quiet timers,
	// a liveness check, sleep sets nor DPOR).
	KeepSent bool
}

// NewEngine returns an engine for m.
func NewEngine(m *Model) *Engine {
	cp := m.Copier
	if cp == nil {
		cp = &Copier{}
	}
	return &Engine{m: m, cp: cp}
}

// KeepRecords makes Initial and Apply keep the trace records of each
// transition (see Records).
func (e *Engine) KeepRecords(on bool) { e.keep = on }

// CountFires makes Apply count timer expirations in World.Fires (and the
// state hash include them), as Run does with Bounds.TimerLimit: without it
// Choices cannot apply a timer bound.
func (e *Engine) CountFires(on bool) { e.countFires = on }

// Records returns the records of the last Apply (with KeepRecords on).
func (e *Engine) Records() []Record { return e.takeRecords() }

// Copier returns the engine's copier.
func (e *Engine) Copier() *Copier { return e.cp }

func (e *Engine) record(r Record) {
	if e.keep {
		e.recs = append(e.recs, r)
	}
}

// Initial builds and starts the initial world: every node's Start at time
// 0, in node order, then the self-sends and zero timers that causes.
func (e *Engine) Initial() (*World, []Record, error) {
	nodes, err := e.m.New()
	if err != nil {
		return nil, nil, err
	}
	w := &World{Nodes: nodes, nh: make([]uint64, len(nodes)), Down: make([]bool, len(nodes)), exact: e.m.ExactTimers && !e.m.AsyncTimers, async: e.m.AsyncTimers, noBudgets: e.noBudgets}
	e.begin(w, true)
	for i, nd := range nodes {
		nd.Start(0, &e.out)
		e.stepped[i] = true // hash not known yet
		e.apply(w, sim.NodeID(i))
	}
	e.drain(w)
	if e.m.DiscardInert {
		e.discardInert(w, 0)
	}
	for i := range nodes {
		w.nh[i] = e.cp.Hash(nodes[i])
	}
	if e.m.Symmetry != nil {
		if err := e.symInitial(w); err != nil {
			return nil, nil, err
		}
	}
	return w, e.takeRecords(), nil
}

func (e *Engine) begin(w *World, fresh bool) {
	n := len(w.Nodes)
	if cap(e.owned) < n {
		e.owned, e.stepped, e.hashed = make([]bool, n), make([]bool, n), make([]bool, n)
	}
	e.owned, e.stepped, e.hashed = e.owned[:n], e.stepped[:n], e.hashed[:n]
	for i := range e.owned {
		e.owned[i], e.stepped[i], e.hashed[i] = fresh, false, false
	}
	e.loc = e.loc[:0]
	e.recs = e.recs[:0]
	e.nsteps, e.nout = 0, 0
}

func (e *Engine) takeRecords() []Record {
	if !e.keep || len(e.recs) == 0 {
		return nil
	}
	// Carved out of a slab (one allocation for many transitions; the
	// capacity is cut so that an append cannot reach the next records).
	n := len(e.recs)
	if len(e.rslab)+n > cap(e.rslab) {
		e.rslab = make([]Record, 0, max(recordSlab, n))
	}
	k := len(e.rslab)
	e.rslab = append(e.rslab, e.recs...)
	return e.rslab[k : k+n : k+n]
}

// recordSlab is the number of records in one allocation of takeRecords.
const recordSlab = 256

// smallWorld is a world and its per-node slices in one allocation.
type smallWorld struct {
	w     World
	nodes [8]sim.Node
	nh    [8]uint64
	down  [8]bool
}

// newWorld returns a world of n nodes (their slices zero).
func newWorld(n int) *World {
	if n > 8 {
		return &World{Nodes: make([]sim.Node, n), nh: make([]uint64, n), Down: make([]bool, n)}
	}
	m := new(smallWorld)
	m.w.Nodes, m.w.nh, m.w.Down = m.nodes[:n:n], m.nh[:n:n], m.down[:n:n]
	return &m.w
}

// touch makes node id of w private to w (copying it on first touch in this
// transition) and returns it.
func (e *Engine) touch(w *World, id sim.NodeID) sim.Node {
	if !e.owned[id] {
		w.Nodes[id] = e.cp.Clone(w.Nodes[id]).(sim.Node)
		e.owned[id] = true
	}
	return w.Nodes[id]
}

// apply carries out the Output node id just produced, as the kernel does.
func (e *Engine) apply(w *World, id sim.NodeID) {
	out := &e.out
	e.nout += len(out.Events)
	for i := range out.Sends {
		s := &out.Sends[i]
		if s.Msg == nil || s.To < 0 || int(s.To) >= len(w.Nodes) {
			continue // the kernel stops the run with an error; not explored
		}
		if s.To == id {
			w.seq++
			e.loc = append(e.loc, local{node: id, msg: s.Msg, seq: w.seq})
			e.nout++
			continue
		}
		e.record(Record{Time: w.Now, Kind: sim.RecSend, From: id, To: s.To, Msg: s.Msg})
		w.seq++
		f := Flight{From: id, To: s.To, Msg: s.Msg, H: e.cp.MessageHash(s.Msg), SentAt: w.Now, Send: w.sends}
		w.sends++
		if e.sendHook != nil {
			g := f // f itself stays off the heap
			e.sendHook(&g)
			f = g
		}
		if e.m.KeepSent && sentBefore(w.Flight, &f) {
			continue // a set: the message is in flight already (no output for SubsumeNoops)
		}
		if !brokenNoopSends {
			e.nout++
		}
		w.Flight = append(w.Flight, f)
	}
	for i := range out.Timers {
		op := &out.Timers[i]
		j := slices.IndexFunc(w.Timers, func(t Timer) bool { return t.Node == id && t.ID == op.ID })
		if op.Cancel {
			if j >= 0 {
				w.Timers = slices.Delete(w.Timers, j, j+1)
			}
			continue
		}
		w.seq++
		t := Timer{Node: id, ID: op.ID, At: w.Now + sim.Time(max(op.After, 0)), Seq: w.seq, zero: op.After <= 0}
		if j >= 0 {
			w.Timers[j] = t
		} else {
			w.Timers = append(w.Timers, t)
		}
	}
	for _, ev := range out.Events {
		if ev != nil {
			e.record(Record{Time: w.Now, Kind: sim.RecEvent, From: id, To: id, Event: ev})
		}
	}
	out.Reset()
}

// earliest returns the index of the earliest pending timer, or -1.
func earliest(w *World) int {
	b := -1
	for i, t := range w.Timers {
		if b < 0 || t.At < w.Timers[b].At || t.At == w.Timers[b].At && t.Seq < w.Timers[b].Seq {
			b = i
		}
	}
	return b
}

// dueTimer returns the index of the pending timer that is due now (the
// earliest with its deadline reached; with asynchronous timers, the first
// armed with delay 0), or -1.
func dueTimer(w *World) int {
	if !w.async {
		if ti := earliest(w); ti >= 0 && w.Timers[ti].At <= w.Now {
			return ti
		}
		return -1
	}
	b := -1
	for i := range w.Timers {
		if t := &w.Timers[i]; t.zero && (b < 0 || t.Seq < w.Timers[b].Seq) {
			b = i
		}
	}
	return b
}

// timerIndex returns the index of node's pending timer id, or -1.
func timerIndex(w *World, node sim.NodeID, id sim.TimerID) int {
	for i := range w.Timers {
		if t := &w.Timers[i]; t.Node == node && t.ID == id {
			return i
		}
	}
	return -1
}

// drain runs the self-sends and the timers due now, in sequence order.
func (e *Engine) drain(w *World) {
	for {
		ti := dueTimer(w)
		due := ti >= 0
		if len(e.loc) == 0 && !due {
			return
		}
		if due && (len(e.loc) == 0 || w.Timers[ti].Seq < e.loc[0].seq) {
			e.fire(w, ti)
			continue
		}
		l := e.loc[0]
		e.loc = e.loc[1:]
		if w.Down[l.node] {
			e.record(Record{Time: w.Now, Kind: sim.RecDrop, From: l.node, To: l.node, Msg: l.msg, Reason: sim.DropCrashed})
			continue
		}
		e.record(Record{Time: w.Now, Kind: sim.RecLocal, From: l.node, To: l.node, Msg: l.msg})
		e.step(w, l.node, sim.Input{Kind: sim.InputMessage, From: l.node, Msg: l.msg}, e.cp.MessageHash(l.msg))
	}
}

func (e *Engine) fire(w *World, ti int) {
	t := w.Timers[ti]
	w.Timers = slices.Delete(w.Timers, ti, ti+1)
	if !w.async {
		w.Now = max(w.Now, t.At)
	}
	e.record(Record{Time: w.Now, Kind: sim.RecTimer, From: t.Node, To: t.Node, Timer: t.ID})
	e.step(w, t.Node, sim.Input{Kind: sim.InputTimer, Timer: t.ID}, uint64(t.ID))
}

// canStep reports whether a transition other than Fire may happen now: one
// Unit later must still be strictly before the earliest deadline (always,
// with asynchronous timers).
func canStep(w *World) bool {
	if w.async {
		return true
	}
	ti := earliest(w)
	return ti < 0 || w.Now+Unit < w.Timers[ti].At
}

// Bounds limits an exploration.
type Bounds struct {
	Drops, Duplicates, Crashes int
	// Depth is the maximum number of transitions on a path (0: no limit).
	Depth int
	// TimerLimit bounds the timer expirations (Fire transitions) on a
	// path to Timers. Without it the state space of a protocol whose
	// timers re-arm is infinite (a retry timer can expire again and again
	// while its messages are delayed); with it every explored path is
	// still a path of the real system (its timers have not expired yet).
	TimerLimit bool
	Timers     int
	// QuietTimers lets a timer expire only when no message is in flight
	// (or when its deadline leaves no room for another transition): every
	// message sent before has been delivered or dropped first, as in a
	// system whose timeouts exceed its message delays. A timer expiring
	// while a message is in flight is then not explored. (The fair
	// continuation of the liveness check fires timers the same way.)
	QuietTimers bool
	// SubsumeDrops makes Choices offer no Drop transition: neither a
	// budgeted drop (Drops is not spent) nor the withholding of a faulty
	// sender's message. For safety a lost message is one never delivered:
	// removing the Drop transitions from a path leaves a path that is
	// enabled (a delivery needs its message in flight, which a drop only
	// takes away) and steps every node identically, so it reaches the same
	// node states, down nodes and pending timers (with more messages in
	// flight) and the same records but the drops'. That holds with
	// asynchronous timers (Model.AsyncTimers: a Fire needs only a pending
	// timer, and no node reads the clock) and without QuietTimers (there a
	// drop can enable a Fire) and without a liveness check (a drop can make
	// a fair continuation fail), and only for a Check that reads neither
	// drop records (RecDrop with DropFilter) nor more of the records' times
	// than their order. Nothing checks these conditions here: the caller
	// sets it when they hold (TestSubsumedDropsSameNodeStates shows the
	// node states differ with timed or quiet timers).
	SubsumeDrops bool
	// SubsumeNoops makes the searches skip the successor of a no-op
	// Deliver or Fire (one node step that leaves the node's state hash
	// unchanged and outputs nothing: see noop.go), which its parent
	// subsumes for safety: it is neither judged, nor expanded, nor counted
	// as a state (Stats.Noops counts them). It holds only where
	// SubsumeDrops does (asynchronous timers, no QuietTimers, no liveness
	// check; Run requires SubsumeDrops) and for a Check that a delivery
	// the receiver ignored, or a timer record, cannot turn from a
	// violation into none. Not with sleep sets or DPOR.
	SubsumeNoops bool
}

// Limit returns b without its depth bound (the budgets only).
func (b Bounds) Limit() Bounds {
	b.Depth = 0
	return b
}

// Choices appends w's enabled transitions under b to dst. Identical
// in-flight messages (same sender, receiver and content) give one choice.
func (e *Engine) Choices(dst []Choice, w *World, b Bounds) []Choice {
	if b.Depth > 0 && w.Depth >= b.Depth {
		return dst
	}
	if canStep(w) && e.m.KeepSent {
		// A set: no two in-flight messages are identical, nothing is
		// duplicated (a re-delivery is one) and a message to a down node
		// waits for its recovery.
		for i := range w.Flight {
			if !w.Down[w.Flight[i].To] {
				dst = append(dst, Choice{Kind: Deliver, Msg: i})
			}
		}
		if !b.SubsumeDrops {
			for i := range w.Flight {
				if w.Drops < b.Drops || slices.Contains(e.m.Faulty, w.Flight[i].From) {
					dst = append(dst, Choice{Kind: Drop, Msg: i})
				}
			}
		}
	}
	if canStep(w) {
		for i := range w.Flight {
			if e.m.KeepSent {
				break // above
			}
			f := &w.Flight[i]
			dup := false
			for j := 0; j < i; j++ {
				g := &w.Flight[j]
				if g.H == f.H && g.From == f.From && g.To == f.To && g.Duped == f.Duped {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			dst = append(dst, Choice{Kind: Deliver, Msg: i})
			if !b.SubsumeDrops && (w.Drops < b.Drops || slices.Contains(e.m.Faulty, f.From)) {
				dst = append(dst, Choice{Kind: Drop, Msg: i})
			}
			if w.Dups < b.Duplicates && !f.Duped && !(brokenSubsumeDups && b.SubsumeDrops) {
				dst = append(dst, Choice{Kind: Duplicate, Msg: i})
			}
		}
		for _, id := range e.m.Crashable {
			if w.Down[id] {
				dst = append(dst, Choice{Kind: Recover, Node: id})
			} else if w.Crashes < b.Crashes {
				dst = append(dst, Choice{Kind: Crash, Node: id})
			}
		}
	}
	if len(w.Timers) > 0 && (!b.TimerLimit || w.Fires < b.Timers) && (!b.QuietTimers || len(w.Flight) == 0 || !canStep(w)) {
		if !w.async {
			dst = append(dst, Choice{Kind: Fire, Node: w.Timers[earliest(w)].Node})
		} else {
			// Any pending timer ((node, id) pairs are unique: arming
			// a pending timer again replaces it).
			for i := range w.Timers {
				dst = append(dst, Choice{Kind: Fire, Node: w.Timers[i].Node, Timer: w.Timers[i].ID})
			}
		}
	}
	return dst
}

// Effect says what a transition touched (for partial-order reduction).
type Effect struct {
	Nodes  uint64 // bit i: node i was stepped
	Timers bool   // timers were set or cancelled (or one fired)
	// Close: a timer armed by the transition has a deadline within a few
	// units of another pending one, so one unit earlier or later could
	// change the timers' order.
	Close bool
	// Local: asynchronous timers (Model.AsyncTimers), whose arming,
	// cancelling and firing touch only their own node: Timers and Close
	// are then false, and a Fire is independent of transitions that do
	// not step its node (except with Bounds.QuietTimers, where a Fire is
	// enabled only when nothing is in flight: it is not Local then).
	Local bool
}

// Apply returns the world after c (w is unchanged) and what c touched.
func (e *Engine) Apply(w *World, c Choice) (*World, Effect) {
	// The flight and the timers change in the engine's buffers; the new
	// world gets copies of the exact size at the end (one allocation each,
	// none for growing).
	e.fbuf = append(e.fbuf[:0], w.Flight...)
	e.tbuf = append(e.tbuf[:0], w.Timers...)
	var nw *World
	var sf []Flight
	var st []Timer
	if k := len(e.spare); k > 0 && len(e.spare[k-1].Nodes) == len(w.Nodes) {
		nw = e.spare[k-1]
		e.spare = e.spare[:k-1]
		sf, st = nw.Flight[:0], nw.Timers[:0]
		*nw = World{Nodes: nw.Nodes, nh: nw.nh, Down: nw.Down, snh: nw.snh[:0]}
	} else {
		nw = newWorld(len(w.Nodes))
	}
	e.derive(nw, w)
	nTimers, tseq := len(nw.Timers), nw.seq
	e.transition(w, nw, c)
	e.fbuf, e.tbuf = nw.Flight[:0], nw.Timers[:0]
	nw.Flight, nw.Timers = into(sf, nw.Flight), into(st, nw.Timers)
	var eff Effect
	for i, st := range e.stepped {
		if st {
			if !e.hashed[i] {
				nw.nh[i] = e.cp.Hash(nw.Nodes[i])
			}
			eff.Nodes |= 1 << uint(i%64)
		}
	}
	if w.sg != nil {
		e.symApply(w, nw)
	}
	e.wasNoop = e.subsumeNoops && e.noopOf(w, nw, c)
	if nw.async {
		eff.Local = !(e.quiet && c.Kind == Fire)
		if brokenAsyncFire && c.Kind == Fire {
			eff.Nodes = 0 // as if it touched no node
		}
		return nw, eff
	}
	eff.Timers = c.Kind == Fire || c.Kind == Crash || len(nw.Timers) != nTimers || timersArmed(nw, tseq)
	eff.Close = eff.Timers && timersClose(nw, tseq)
	return nw, eff
}

// derive makes nw (whose per-node slices have w's length) the world w
// before a transition: w's nodes (shared), hashes, down nodes, network,
// timers in the engine's buffers, counters and one more depth; and begins
// the transition.
func (e *Engine) derive(nw, w *World) {
	copy(nw.Nodes, w.Nodes)
	copy(nw.nh, w.nh)
	copy(nw.Down, w.Down)
	nw.Flight, nw.Timers = e.fbuf, e.tbuf
	nw.Now, nw.seq, nw.sends, nw.Depth, nw.ghosts = w.Now, w.seq, w.sends, w.Depth+1, w.ghosts
	nw.Drops, nw.Dups, nw.Crashes, nw.Fires = w.Drops, w.Dups, w.Crashes, w.Fires
	nw.exact, nw.async, nw.noBudgets = w.exact, w.async, w.noBudgets
	e.begin(nw, false)
}

// transition carries out c on nw (derived from w): the transition itself,
// the self-sends and due timers it causes, and the inert discards.
func (e *Engine) transition(w, nw *World, c Choice) {
	switch c.Kind {
	case Deliver:
		f := nw.Flight[c.Msg]
		if !e.m.KeepSent || brokenKeepSent {
			nw.Flight = slices.Delete(nw.Flight, c.Msg, c.Msg+1)
		}
		nw.Now += Unit
		if nw.Down[f.To] {
			e.record(Record{Time: nw.Now, Kind: sim.RecDrop, From: f.From, To: f.To, Msg: f.Msg, Reason: sim.DropCrashed})
			break
		}
		e.record(Record{Time: nw.Now, Kind: sim.RecDeliver, From: f.From, To: f.To, Msg: f.Msg})
		e.step(nw, f.To, sim.Input{Kind: sim.InputMessage, From: f.From, Msg: f.Msg}, f.H)
	case Drop:
		f := nw.Flight[c.Msg]
		nw.Flight = slices.Delete(nw.Flight, c.Msg, c.Msg+1)
		nw.Now += Unit
		if !slices.Contains(e.m.Faulty, f.From) {
			nw.Drops++
		}
		e.record(Record{Time: nw.Now, Kind: sim.RecDrop, From: f.From, To: f.To, Msg: f.Msg, Reason: sim.DropFilter})
	case Duplicate:
		nw.Flight[c.Msg].Duped = true
		f := nw.Flight[c.Msg]
		f.Copy = true
		nw.Flight = append(nw.Flight, f)
		nw.Now += Unit
		nw.Dups++
		e.record(Record{Time: nw.Now, Kind: sim.RecDuplicate, From: f.From, To: f.To, Msg: f.Msg})
	case Fire:
		if nw.async {
			nw.Now += Unit
			e.fire(nw, timerIndex(nw, c.Node, c.Timer))
		} else {
			e.fire(nw, earliest(nw))
		}
		if e.countFires {
			nw.Fires++
		}
	case Crash:
		nw.Now += Unit
		nw.Down[c.Node] = true
		nw.Crashes++
		nw.Timers = slices.DeleteFunc(nw.Timers, func(t Timer) bool { return t.Node == c.Node })
		e.record(Record{Time: nw.Now, Kind: sim.RecCrash, From: c.Node, To: c.Node})
	case Recover:
		nw.Now += Unit
		nw.Down[c.Node] = false
		e.record(Record{Time: nw.Now, Kind: sim.RecRecover, From: c.Node, To: c.Node})
		e.step(nw, c.Node, sim.Input{Kind: sim.InputRecover}, 0)
	}
	e.drain(nw)
	if e.m.DiscardInert {
		if e.verifyInert {
			nw.ghosts = slices.Clone(nw.ghosts)
		}
		e.discardInert(nw, w.sends)
	}
}

// timersClose reports whether a timer armed after seq has a deadline within
// 8 units of now or of another pending timer's.
func timersClose(w *World, seq uint64) bool {
	for _, t := range w.Timers {
		if t.Seq <= seq {
			continue
		}
		if t.At < w.Now+8*Unit {
			return true // so soon that it could disable the other transition
		}
		for _, u := range w.Timers {
			if u != t && u.At > t.At-8*Unit && u.At < t.At+8*Unit {
				return true
			}
		}
	}
	return false
}

// timersArmed reports whether some timer of w was armed after sequence seq.
func timersArmed(w *World, seq uint64) bool {
	for _, t := range w.Timers {
		if t.Seq > seq {
			return true
		}
	}
	return false
}

// Hash returns the world's state hash: every node's state, which nodes are
// down, the in-flight messages as a multiset, the order of the pending
// timers (with asynchronous timers, their set of (node, id) pairs), and
// the budgets used (timer expirations only when counted; none with
// Options.SubsumeBudgets).
// With Model.Symmetry it is the least such hash over the renamings of the
// world by the symmetry group (see Symmetry).
func (w *World) Hash() uint64 {
	if w.sg != nil {
		return w.skey
	}
	h := uint64(fnvOff)
	for i, x := range w.nh {
		h = mix(h, x)
		if w.Down[i] {
			h = mix(h, uint64(i)+1)
		}
	}
	var sum uint64
	for i := range w.Flight {
		f := &w.Flight[i]
		fh := mix(mix(mix(f.H, uint64(f.From)), uint64(f.To)), boolBit(f.Duped))
		sum += finalize(fh)
	}
	h = mix(mix(h, uint64(len(w.Flight))), sum)
	if w.async {
		return w.hashRest(h, w.Timers, nil)
	}
	// The timers in deadline order (arming order among equal deadlines),
	// sorted by insertion on the stack: there are few.
	var buf [16]Timer
	ts := buf[:0]
	if len(w.Timers) > len(buf) {
		ts = make([]Timer, 0, len(w.Timers))
	}
	for _, t := range w.Timers {
		ts = insertTimer(ts, t)
	}
	return w.hashRest(h, ts, nil)
}

// insertTimer inserts t into ts, which is in firing order (deadline, then
// arming order), and returns it.
func insertTimer(ts []Timer, t Timer) []Timer {
	j := len(ts)
	ts = append(ts, t)
	for ; j > 0 && (t.At < ts[j-1].At || t.At == ts[j-1].At && t.Seq < ts[j-1].Seq); j-- {
		ts[j] = ts[j-1]
	}
	ts[j] = t
	return ts
}

// hashRest ends a world hash h: it mixes in the timers ts in firing order
// (each timer's node renamed by perm, when not nil; with exact, its time
// left; with async, as a set in any order), the budgets used and the timer
// expirations, and finalises.
func (w *World) hashRest(h uint64, ts []Timer, perm []sim.NodeID) uint64 {
	if w.async {
		if !brokenAsyncHash {
			var sum uint64
			for _, t := range ts {
				node := t.Node
				if perm != nil {
					node = perm[node]
				}
				sum += finalize(mix(mix(fnvOff, uint64(node)), uint64(t.ID)))
			}
			h = mix(mix(h, uint64(len(ts))|0xa5<<56), sum)
		}
		ts = nil
	}
	for _, t := range ts {
		node := t.Node
		if perm != nil {
			node = perm[node]
		}
		h = mix(mix(h, uint64(node)), uint64(t.ID))
		if w.exact {
			h = mix(h, uint64(t.At-w.Now))
		}
	}
	if w.noBudgets && !brokenBudgetKey {
		return finalize(h)
	}
	h = mix(mix(mix(h, uint64(w.Drops)), uint64(w.Dups)), uint64(w.Crashes))
	if w.Fires > 0 {
		h = mix(h, uint64(w.Fires)<<8|0xf1)
	}
	return finalize(h)
}

// Budget keys: the budgets used on a world's path packed in 16 bits
// (timer expirations in the top 6, drops in the next 4, duplicates and
// crashes in 3 each), stored per state by the one-pass depth-first search
// with Options.SubsumeBudgets.
const (
	maxKeyFires   = 1<<6 - 1
	maxKeyDrops   = 1<<4 - 1
	maxKeyDups    = 1<<3 - 1
	maxKeyCrashes = 1<<3 - 1
)

// budgetKey returns w's budgets used as a budget key.
func (w *World) budgetKey() uint16 {
	return uint16(w.Fires<<10 | w.Drops<<6 | w.Dups<<3 | w.Crashes)
}

// budgetsCover reports whether a state reached with the budgets used old
// has every future of the same state reached with b: b uses at least as
// much of every budget (componentwise). Choices offers a drop, duplicate,
// crash or timer expiration while its budget is not spent, so a state with
// less used enables every transition, at every later step, that one with
// more used enables.
func budgetsCover(old, b uint16) bool {
	if brokenBudgetCover {
		old, b = b, old // the comparison reversed
	}
	return b>>10 >= old>>10 && b>>6&maxKeyDrops >= old>>6&maxKeyDrops &&
		b>>3&maxKeyDups >= old>>3&maxKeyDups && b&maxKeyCrashes >= old&maxKeyCrashes
}

// budgetsFit reports whether every budget of b fits a budget key.
func budgetsFit(b Bounds) bool {
	return b.Timers <= maxKeyFires && b.Drops <= maxKeyDrops && b.Duplicates <= maxKeyDups && b.Crashes <= maxKeyCrashes
}

// into returns a copy of s in dst's memory when it has room, else in new
// memory of the exact size (nil when s is empty).
func into[S ~[]E, E any](dst, s S) S {
	if len(s) == 0 {
		return nil
	}
	if cap(dst) >= len(s) {
		return append(dst[:0], s...)
	}
	return append(make(S, 0, len(s)), s...)
}

// Release gives back w, a world made by Apply that neither the caller nor
// anything it showed w to (a Check, a Leaf, a Prune) uses any more: a
// later Apply may reuse its memory. The depth-first search releases the
// worlds of its revisits (most of its transitions), which then cost no
// allocation. Never release a world from Initial, one still referenced,
// or one released before.
func (e *Engine) Release(w *World) {
	if len(e.spare) < maxSpare {
		e.spare = append(e.spare, w)
	}
}

// maxSpare bounds the released worlds an engine keeps.
const maxSpare = 16

// brokenAsyncFire makes an asynchronous Fire's Effect name no node, so
// that it is independent of the deliveries to its own node (tests show
// that the comparison of reduced and unreduced explorations catches it).
var brokenAsyncFire bool

// sentBefore reports whether fl holds a message identical to f (same
// sender, receiver and content hash).
func sentBefore(fl []Flight, f *Flight) bool {
	for i := range fl {
		if g := &fl[i]; g.H == f.H && g.From == f.From && g.To == f.To {
			return true
		}
	}
	return false
}

// brokenKeepSent makes a Model.KeepSent delivery remove its message (the
// hash then still tells the worlds apart, but re-deliveries are lost:
// tests show the node vectors differ).
var brokenKeepSent bool

// brokenSubsumeDups makes SubsumeDrops leave out the Duplicate choices
// too (tests show that the node states then differ).
var brokenSubsumeDups bool

// brokenBudgetCover reverses budgetsCover (a revisit with fewer budgets
// left is expanded, one with more is skipped), and brokenBudgetKey keeps
// the budgets in the hash of Options.SubsumeBudgets: tests show that the
// first loses states and the second saves none.
var brokenBudgetCover, brokenBudgetKey bool

// brokenAsyncHash leaves the pending timers out of the hash of a world
// with asynchronous timers (tests show that the exactness checks catch it).
var brokenAsyncHash bool

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
