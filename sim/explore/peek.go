package explore

import (
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// Peeking at a successor's hash. Most transitions of a depth-first search
// reach a state seen before (about 90% on the PBFT target), and most of
// their node steps are in the step memo. Apply still builds such a
// successor (a world from the spare list or the heap, copies of the flight
// and timers, a copy of every node whose memoised step reported events
// while records are kept, the records themselves) only for the search to
// find its hash in the visited set and release it. Peek computes the hash
// alone: the same transition code as Apply (derive, transition, the
// symmetry key) on a scratch world of the engine's, with every node step
// taken from the memo; when a step is not there (or the transition is a
// recovery, which the memo never holds) it gives up and the caller
// applies. The searches apply a transition only when its successor is new
// (or Peek cannot tell), so the states, counters, verdicts and
// counterexamples are Apply's (TestPeekSameAsApply compares the hashes on
// random paths, TestPeekSameExploration the explorations).

// peekState is the engine's state for Peek.
type peekState struct {
	pw       *World // the scratch world Peek derives (never handed out)
	peeking  bool   // a Peek is running: steps come from the memo or not at all
	peekMiss bool   // a step of the running Peek was not in the memo
	// What the last Peek that could tell did to the engine's counters
	// (undone: Revisited counts it).
	peekInert, peekHits int
	// peekKeep: the engine keeps records (e.keep, off while peeking).
	peekKeep bool
}

// Peek returns the state hash of the world that Apply(w, c) would return,
// and true, when every node step of c (and of the self-sends and due timers
// it causes) is in the step memo; otherwise false, and the caller must
// Apply c to know. It copies no node, keeps no record and allocates nothing
// once its scratch world and buffers have grown; w and the engine's
// counters are unchanged. It always answers false with the memo off, a
// send hook (Schedule) or Options.VerifyInert. A caller that does not go
// on to Apply c (its successor was seen before) calls Revisited to count
// what the transition did.
func (e *Engine) Peek(w *World, c Choice) (uint64, bool) {
	if peekOff || e.sendHook != nil || e.verifyInert || e.memoTable() == nil {
		return 0, false
	}
	pw := e.pw
	if pw == nil || len(pw.Nodes) != len(w.Nodes) {
		pw = newWorld(len(w.Nodes))
		e.pw = pw
	}
	*pw = World{Nodes: pw.Nodes, nh: pw.nh, Down: pw.Down, snh: pw.snh[:0]}
	e.fbuf = append(e.fbuf[:0], w.Flight...)
	e.tbuf = append(e.tbuf[:0], w.Timers...)
	// The records of the last Apply stay the caller's to take (begin
	// empties the slice, and a Peek records nothing).
	keep, recs, discarded, hits := e.keep, e.recs, e.discarded, e.memoHits
	e.keep, e.peeking, e.peekMiss, e.peekKeep = false, true, false, keep
	e.derive(pw, w)
	e.transition(w, pw, c)
	if brokenPeek == peekKeepsFlight && (c.Kind == Deliver || c.Kind == Drop) {
		pw.Flight = append(pw.Flight, w.Flight[c.Msg])
	}
	e.keep, e.recs, e.peeking = keep, recs, false
	e.peekInert, e.discarded = e.discarded-discarded, discarded
	e.peekHits, e.memoHits = e.memoHits-hits, hits
	e.fbuf, e.tbuf = pw.Flight[:0], pw.Timers[:0]
	defer func() { pw.Flight, pw.Timers = nil, nil }() // the engine's buffers
	if e.peekMiss {
		return 0, false
	}
	for i, st := range e.stepped {
		if st && !e.hashed[i] {
			return 0, false // not reached: every step is a memo hit or a miss
		}
	}
	if w.sg != nil && brokenPeek != peekPlainHash {
		e.symApply(w, pw)
	}
	e.wasNoop = e.subsumeNoops && e.noopOf(w, pw, c)
	return pw.Hash(), true
}

// Revisited counts the transition of the last Peek that returned true as
// carried out without applying it: the in-flight messages it discarded as
// inert (Stats.Inert counts every executed transition's) and its steps
// taken from the memo.
func (e *Engine) Revisited() {
	e.discarded += e.peekInert
	e.memoHits += e.peekHits
	e.peekInert, e.peekHits = 0, 0
}

// peekOff turns Peek off (it always answers false), so that tests can
// compare the searches with and without it.
var peekOff bool

// brokenPeek selects a deliberately wrong Peek, which the differential
// tests must catch.
var brokenPeek int

// Broken variants of Peek.
const (
	peekKeepsFlight = iota + 1 // forgets to remove a delivered or dropped message
	peekPlainHash              // forgets the symmetry renaming (the plain hash)
)

// SelfLoop reports whether Apply(w, c) would reach w itself (its hash),
// which the caller has visited: a revisit told without building anything.
// With a monotone network (Model.KeepSent) a delivery leaves its message
// in flight, and a re-delivery often finds its receiver in the state it
// left it in: 46% of the transitions of the issue-21 target with
// --keep-sent --timers 1. Peek would still copy the flight and timers,
// take the step from the memo, ask the receiver about the inertness of its
// messages and compute the symmetric key. SelfLoop answers true only for a
// Deliver of a KeepSent model with asynchronous timers whose step the memo
// holds with the receiver's state hash unchanged, whose sends all go to
// other nodes and are in flight already (a set: they add nothing) or
// declared inert by their receivers, which the step leaves as they are
// (DiscardInert removes them at once; they are counted as discarded), and
// whose timer operations re-arm pending timers with a positive delay or
// cancel timers not pending (asynchronous timers hash as the set of
// pending ones). Apply's world then has w's node hashes (the receiver's
// node another value with w's hash, as with any memo hit), flight, pending
// timer set, down nodes and budgets, so w's hash; no timer is due (drain
// left none). The receiver's own in-flight messages are not asked again:
// each was declared not inert by a node of the receiver's present hash
// (when the receiver last stepped, or when the message was sent after
// that), and the memo, which hands out any node value of a hash for
// another, assumes what this does, that a node's behaviour, its Inert
// included, depends only on its hashed state. It counts what Peek and
// Revisited would (the memo hit, the sends discarded); it answers false
// wherever Peek does (the memo off, a send hook, Options.VerifyInert), so
// the searches' states and counters are Peek's
// (TestSelfLoopSameExploration).
func (e *Engine) SelfLoop(w *World, c Choice) bool {
	if !e.m.KeepSent || !w.async || c.Kind != Deliver || selfLoopOff || peekOff || brokenKeepSent || e.sendHook != nil || e.verifyInert {
		return false
	}
	memo := e.memoTable()
	if memo == nil {
		return false
	}
	f := &w.Flight[c.Msg]
	if w.Down[f.To] {
		return false
	}
	k := stepKey{nh: w.nh[f.To], x: f.H, node: f.To, from: f.From, kind: sim.InputMessage}
	if e.m.brokenMemo {
		k.x, k.from = 0, 0
	}
	ent := &memo[k.slot(len(memo))]
	if ent.node == nil || ent.key != k || ent.h != k.nh && brokenSelfLoop != selfLoopAnyState {
		return false
	}
	discarded := 0
	for i := range ent.sends {
		// A send must be of a message in flight already (a set: it adds
		// nothing) or one its receiver, which the step leaves as it
		// is, declares inert (DiscardInert removes it at once), and never
		// to the node itself (a self-send is a step).
		s := &ent.sends[i]
		if s.Msg == nil || s.To == f.To || s.To < 0 || int(s.To) >= len(w.Nodes) {
			return false
		}
		g := Flight{From: f.To, To: s.To, Msg: s.Msg, H: e.cp.MessageHash(s.Msg)}
		if sentBefore(w.Flight, &g) != nil {
			continue
		}
		if !e.m.DiscardInert || !e.inertAt(w.Nodes[s.To], &g) {
			return false
		}
		if !slices.ContainsFunc(ent.sends[:i], func(t sim.Send) bool { return t.To == s.To && e.cp.MessageHash(t.Msg) == g.H }) {
			discarded++ // one message, however often the step sends it
		}
	}
	for i := range ent.timers {
		// Asynchronous timers hash as the set of pending (node, id):
		// re-arming a pending timer with a positive delay, or
		// cancelling one that is not pending, leaves it as it was.
		op := &ent.timers[i]
		if pending := timerIndex(w, f.To, op.ID) >= 0; op.Cancel == pending || !op.Cancel && op.After <= 0 {
			return false
		}
	}
	if brokenSelfLoop != selfLoopUncounted {
		e.discarded += discarded
	}
	if !(ent.timed && e.keep) {
		e.memoHits++ // as Peek counts it
	}
	if onSelfLoop != nil {
		onSelfLoop()
	}
	return true
}

// selfLoopOff turns SelfLoop off (it always answers false), so that tests
// can compare the searches with and without it.
var selfLoopOff bool

// onSelfLoop, when set (tests), is called at every revisit SelfLoop tells,
// from the searching goroutine.
var onSelfLoop func()

// brokenSelfLoop selects a deliberately wrong SelfLoop, which the
// comparison of the searches must catch.
var brokenSelfLoop int

// Broken variants of SelfLoop.
const (
	selfLoopAnyState  = iota + 1 // a step changing its node's state taken for a self-loop (states are lost)
	selfLoopUncounted            // the sends discarded as inert not counted (Stats.Inert differs)
)
