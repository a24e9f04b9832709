package explore

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
