package explore

// No-op transitions (Bounds.SubsumeNoops). A Deliver or Fire whose one node
// step leaves the node's state hash as it was and outputs nothing (no send,
// self-send or event; its timer operations leave the pending set as it was,
// or, for a Fire, without the fired timer) reaches the parent world minus
// one in-flight message (Deliver) or minus one pending timer, or with the
// fired timer re-armed (Fire), with one more timer expiration counted.
// Under the conditions of SubsumeDrops (asynchronous timers, drops
// subsumed, no quiet timers, no liveness check) that successor S' is
// subsumed by its parent P: for every path σ from S', σ is enabled from P
// and steps every node identically. By induction along σ: the nodes are
// equal, the flights are equal but for the message that P still holds
// (which a path may simply never deliver, as a dropped one), and P's
// pending timers are S''s plus at most the no-op Fire's timer (a node
// step's timer operations act alike on both: setting it makes it pending
// in both, cancelling or firing it removes it from both), and P has used
// one timer expiration less. So σ from P reaches the same node states,
// down nodes and records, but for the no-op transition's own record (a
// RecDeliver or RecTimer), with at most that message more in flight and
// that timer more pending; every bound is at most as used (depth one
// less). Skipping S' therefore loses no reachable node state, and no
// violation for a Check whose verdict on a path stays a violation when a
// delivery record of a message the receiver ignored, or a timer record, is
// removed (the PBFT checkers: they read no timer record, and a delivered
// PREPARE or COMMIT only adds to the votes a replica may count, so fewer
// delivered votes can only make a quorum audit fail, not pass). The
// pending-timer sets are the exception: S' itself, without the no-op's
// timer, may be reached by no other path, so node vectors are equal only
// up to a superset of pending timers (TestSubsumedNoops*).
//
// With a monotone network (Model.KeepSent) a send of a message already in
// flight adds nothing to the world (identical sends are one message), so it
// is not output here: a Fire that leaves its node as it was and only sends
// such messages (a client's retry, a replica's VIEW-CHANGE resend, all of
// whose messages were sent before) reaches its parent with the timer gone
// or re-armed, and is a no-op. Its send records are dropped from the
// subsuming path too; the checkers handle a message sent again as a no-op
// (as for SubsumeDrops, where a drop record is read as its send). (A
// Deliver leaves its message in flight there: a no-op delivery reaches its
// parent, a revisit.)

// noopOf reports whether the transition c from w to nw (made by the last
// transition of e) was a no-op: exactly one node step, of c's node, with no
// output (with KeepSent, sends of messages in flight already are none), the node's hash unchanged, the flight w's minus the delivered
// message (nothing discarded as inert) and the pending timers w's, or w's
// minus the fired one. nw's hash of the stepped node must be known.
func (e *Engine) noopOf(w, nw *World, c Choice) bool {
	var id int
	switch c.Kind {
	case Deliver:
		if len(nw.Flight) != len(w.Flight)-1 && !brokenNoopSends {
			return false
		}
		id = int(w.Flight[c.Msg].To)
	case Fire:
		if !nw.async || len(nw.Flight) != len(w.Flight) && !brokenNoopSends {
			return false
		}
		id = int(c.Node)
	default:
		return false
	}
	if e.nsteps != 1 || e.nout != 0 || !e.stepped[id] {
		return false
	}
	if nw.nh[id] != w.nh[id] && !brokenNoopState {
		return false
	}
	// The pending timers: w's, less the fired one unless it was re-armed
	// (as sets: an asynchronous world's hash holds the set).
	for _, t := range w.Timers {
		if c.Kind == Fire && t.Node == c.Node && t.ID == c.Timer {
			continue
		}
		if timerIndex(nw, t.Node, t.ID) < 0 {
			return false
		}
	}
	n := len(w.Timers)
	if c.Kind == Fire && timerIndex(nw, c.Node, c.Timer) < 0 {
		n--
	}
	return len(nw.Timers) == n
}

// Noop reports whether the transition of the last Apply, or of the last
// Peek that could tell its hash, was a no-op that Bounds.SubsumeNoops
// skips (always false without it: see SetSubsumeNoops).
func (e *Engine) Noop() bool { return e.wasNoop }

// SetSubsumeNoops makes Apply and Peek tell no-op transitions (Noop), as
// Run does with Bounds.SubsumeNoops.
func (e *Engine) SetSubsumeNoops(on bool) { e.subsumeNoops = on }

// brokenNoopSends counts no network send as output and ignores the flight
// (as if every message sent were in a monotone network's flight already):
// tests show that node states are lost then.
var brokenNoopSends bool

// brokenNoopState takes a Deliver or Fire for a no-op whatever it does to
// its node's state (it must still output nothing): tests show that the
// node states reached then differ.
var brokenNoopState bool
