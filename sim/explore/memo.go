package explore

import (
	"reflect"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// The step memo. Most explored transitions reach a state seen before (the
// same deliveries in another order): the node they step is then, more often
// than not, in a state it has already been stepped from with the same
// input. Nodes are deterministic state machines and the explorer already
// identifies a node with its state hash (worlds with equal hashes merge),
// so the result of such a step is known: the memo keeps, per (node, state
// hash, input), the node value the step produced (immutable from then on,
// shared copy-on-write like every node of a world), its hash and the
// step's sends and timer operations. A hit costs no copy, no step and no
// hash of the node.
//
// A step's events are remembered with it (events are immutable once
// reported, like messages) and replayed with the step, recorded at the
// time of the replaying transition. An event may carry a time (a client's
// submission time and latency), which the state hash leaves out: a step
// reporting an event whose type holds a sim.Time, a time.Duration or an
// interface (Copier.carriesTime) is replayed from the memo only when the
// engine keeps no records, and is stepped again otherwise. (Before events
// were replayed, every step reporting one was stepped again while records
// were kept: with asynchronous timers on the issue-21 target that was 55%
// of the steps, each a copy, a step and a hash of a replica.)
// The memo is a fixed-size direct-mapped table: a slot holds the last step
// that hashed to it, so the memory is bounded and the result does not
// depend on what it holds (a miss steps the node, as without the memo).

// DefaultStepMemo is the number of step memo slots of a model that does not
// set Model.StepMemo (about 2 MB). The distinct steps are few: the first
// 100,000 states of the n=4 target (one request, a view change) take
// 447,905 steps of which 48 distinct; 4,096 and 262,144 slots gave the
// same hits.
const DefaultStepMemo = 1 << 14

// stepKey identifies a step: the node, its state hash and the input (the
// message's content hash, or the timer).
type stepKey struct {
	nh   uint64
	x    uint64 // message hash (InputMessage) or timer id (InputTimer)
	node sim.NodeID
	from sim.NodeID
	kind sim.InputKind
}

type memoEntry struct {
	key    stepKey
	node   sim.Node // the stepped node: never stepped again in place
	h      uint64   // its state hash
	events []sim.Event
	// timed: an event may carry a time (not replayed with records kept).
	timed  bool
	sends  []sim.Send
	timers []sim.TimerOp
}

// memoTable returns the engine's memo (nil when off), making it on first use.
func (e *Engine) memoTable() []memoEntry {
	if e.memo == nil && !e.noMemo {
		n := DefaultStepMemo
		if e.m.StepMemo != 0 {
			n = e.m.StepMemo
		}
		if n < 0 {
			e.noMemo = true
			return nil
		}
		size := 1
		for size < n {
			size <<= 1
		}
		e.memo = make([]memoEntry, size)
	}
	return e.memo
}

func (k *stepKey) slot(n int) int {
	h := mix(mix(mix(k.nh, k.x), uint64(k.node)<<32|uint64(uint32(k.from))), uint64(k.kind))
	return int(finalize(h) & uint64(n-1))
}

// step delivers in to node id of w (x: the message's hash, or the timer's
// id), from the memo when it knows the step, and carries out its output.
func (e *Engine) step(w *World, id sim.NodeID, in sim.Input, x uint64) {
	// The node's hash is known unless it was stepped in place in this
	// transition (a step reporting events, or without the memo).
	known := !e.stepped[id] || e.hashed[id]
	e.stepped[id] = true
	e.nsteps++
	var ent *memoEntry
	var k stepKey
	if memo := e.memoTable(); memo != nil && known && in.Kind != sim.InputRecover {
		k = stepKey{nh: w.nh[id], x: x, node: id, from: in.From, kind: in.Kind}
		if e.m.brokenMemo {
			k.x, k.from = 0, 0
		}
		ent = &memo[k.slot(len(memo))]
		if ent.node != nil && ent.key == k && !(ent.timed && e.keep) {
			if !(e.peeking && ent.timed && e.peekKeep) {
				// (Apply with records would step a timed entry
				// again: a Peek counts only the hits it would take.)
				e.memoHits++
			}
			w.Nodes[id], w.nh[id] = ent.node, ent.h
			e.owned[id], e.hashed[id] = false, true
			e.out.Sends = append(e.out.Sends, ent.sends...)
			e.out.Timers = append(e.out.Timers, ent.timers...)
			if e.keep && !brokenMemoEvents {
				e.out.Events = append(e.out.Events, ent.events...)
			} else {
				e.nout += len(ent.events) // not replayed, still output
			}
			e.apply(w, id)
			return
		}
	}
	if e.peeking {
		e.peekMiss = true // Peek steps no node: it cannot tell
		return
	}
	nd := e.touch(w, id)
	nd.Step(w.Now, in, &e.out)
	e.hashed[id] = false
	if ent != nil && (ent.node == nil || ent.key != k) {
		h := e.cp.Hash(nd)
		*ent = memoEntry{key: k, node: nd, h: h, events: slices.Clone(e.out.Events), timed: e.timedEvents(e.out.Events),
			sends: slices.Clone(e.out.Sends), timers: slices.Clone(e.out.Timers)}
		w.nh[id] = h
		// The value is the memo's now: a later step copies it.
		e.owned[id], e.hashed[id] = false, true
	}
	e.apply(w, id)
}

// timedEvents reports whether one of evs may carry a time (see
// Copier.carriesTime).
func (e *Engine) timedEvents(evs []sim.Event) bool {
	for _, ev := range evs {
		if ev != nil && e.cp.carriesTime(reflect.TypeOf(ev)) {
			return true
		}
	}
	return false
}

// brokenMemoEvents makes a step replayed from the memo report no events
// (tests show that the comparison with the memo off catches it).
var brokenMemoEvents bool
