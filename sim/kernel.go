package sim

import (
	"fmt"
	"math"
)

// Kernel runs one simulation: a virtual clock, an event queue, timers, the
// network fault model and the trace. It is single-threaded and deterministic:
// the same Config (same seed, same nodes in the same initial state) gives the
// same sequence of trace records and the same Stats.TraceHash.
//
// Semantics in brief:
//   - Events at the same virtual time run in the order they were scheduled.
//     Crashes and recoveries from Config.Crashes are scheduled first (by New),
//     so a crash at t runs before other events at t; a crash at time 0 takes
//     effect after Start (the sends made in Start are already in flight).
//   - A network send (to another node) is traced RecSend and counted in
//     Sent, then goes through Filters, partitions and random loss (a drop is
//     traced RecDrop and counted in Dropped), then is delivered after a
//     sampled delay; a duplicate is traced RecDuplicate and delivered once
//     more with its own delay. So Sent counts every message a node put on
//     the network, and Delivered = Sent - Dropped + Duplicated once the run
//     is drained.
//   - At delivery a message is dropped (DropCrashed) if the receiver is down,
//     or (DropPartition) if a partition active at delivery time separates
//     the two nodes and the GST rule does not protect them then.
//   - A self-send is delivered as the next event at the same time, traced
//     RecLocal and counted in Local; it is never dropped, except when the
//     node crashed in between (traced RecDrop, not counted in Dropped).
//   - Timers of a crashed node do not fire; recovery cancels them all and
//     steps the node with InputRecover. Its state is untouched.
type Kernel struct {
	nodes   []Node
	n       int
	now     Time
	seq     uint64
	q       eventQueue
	out     Output
	started bool
	stopped bool
	err     error

	maxTime   Time
	maxEvents uint64

	down   []bool
	timers []nodeTimers // per node: live timer -> its slot in th
	th     timerHeap

	net network
	clk clocks

	pf    prefetcher
	seals msgSeals

	stats Stats
	tr    tracer

	// The last message sent over the network, with its size and type
	// index (see send).
	sent struct {
		msg     Message
		size, t int
	}
}

// New validates cfg and returns a kernel ready to run it. The kernel keeps
// cfg.Nodes, cfg.Sinks and the network filters; it copies the rest.
func New(cfg Config) (*Kernel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := len(cfg.Nodes)
	k := &Kernel{
		nodes:     append([]Node(nil), cfg.Nodes...),
		n:         n,
		maxTime:   cfg.MaxTime,
		maxEvents: cfg.MaxEvents,
		down:      make([]bool, n),
		timers:    make([]nodeTimers, n),
	}
	k.net.init(cfg.Seed, n, &cfg.Network)
	k.clk.init(n, cfg.Clocks)
	t := MsgTypes()
	k.stats.SentByType = make([]Counter, t)
	k.stats.DeliveredByType = make([]Counter, t)
	k.stats.DroppedByType = make([]Counter, t)
	k.stats.LocalByType = make([]Counter, t)
	k.stats.SentByLink = make([]Counter, n*n)
	k.stats.DroppedByLink = make([]Counter, n*n)
	k.tr.init(&k.stats.TraceHash, cfg.Sinks)
	k.seals.enabled = invariantsTag
	// With every node multicasting, about n² messages are in flight: room
	// for them up front (up to the size at which the queue moves to its
	// radix form, see eventQueue).
	k.q.init(min(n*n, 1<<16))
	for _, c := range cfg.Crashes {
		k.schedule(event{at: c.At, to: c.Node, from: c.Node, arg: uint64(c.Kind)}, evCrash)
		if c.Recover > c.At {
			k.schedule(event{at: c.Recover, to: c.Node, from: c.Node, arg: uint64(c.Kind)}, evRecover)
		}
	}
	for _, f := range cfg.Fires {
		k.schedule(event{at: f.At, to: f.Node, from: f.Node, arg: uint64(f.Timer)}, evFire)
	}
	return k, nil
}

// schedule queues e as an event of kind kind with the next insertion
// sequence number, and returns its key.
func (k *Kernel) schedule(e event, kind evKind) uint64 {
	k.seq++
	e.key = k.seq<<8 | uint64(kind)
	k.q.push(e)
	return e.key
}

// SetMaxTime changes the time limit of the run (0: no limit): Step returns
// false when the next event lies beyond it. A runner uses it for end-of-run
// conditions that move, such as a stall deadline.
func (k *Kernel) SetMaxTime(t Time) { k.maxTime = t }

// Now returns the current virtual time (the time of the last processed event).
func (k *Kernel) Now() Time { return k.now }

// Stop makes the next Step return false. It may be called from a Sink or
// between steps.
func (k *Kernel) Stop() { k.stopped = true }

// Stats returns the kernel's live counters. The pointer stays valid; its
// values change as the run proceeds.
func (k *Kernel) Stats() *Stats { return &k.stats }

// Err returns the first protocol error the kernel met (a node sending to a
// node that does not exist); it stops the run. Nil if none.
func (k *Kernel) Err() error { return k.err }

// Down reports whether node id is currently crashed.
func (k *Kernel) Down(id NodeID) bool {
	if id < 0 || int(id) >= k.n {
		return false
	}
	return k.down[id]
}

// Node returns node id, or nil if there is no such node.
func (k *Kernel) Node(id NodeID) Node {
	if id < 0 || int(id) >= k.n {
		return nil
	}
	return k.nodes[id]
}

// Pending returns the number of queued events (live timers included;
// cancelled or replaced timers are not queued).
func (k *Kernel) Pending() int { return k.q.Len() + k.th.Len() }

// Run steps until nothing is left to do and returns the counters.
func (k *Kernel) Run() *Stats {
	for k.Step() {
	}
	return &k.stats
}

// start calls Start on every node, in node order, at time 0.
func (k *Kernel) start() {
	k.started = true
	for i, nd := range k.nodes {
		nd.Start(0, &k.out)
		k.apply(NodeID(i))
	}
}

// Step processes one event and reports whether it did. Before the first
// event it starts all nodes. It returns false when the queue is empty, when
// the next event lies beyond MaxTime, when MaxEvents events have been
// processed, or after Stop (or a protocol error, see Err).
func (k *Kernel) Step() bool {
	if !k.started {
		k.start()
	}
	for {
		if k.stopped || (k.q.Len() == 0 && k.th.Len() == 0) {
			return false
		}
		if k.maxEvents > 0 && k.stats.Events >= k.maxEvents {
			return false
		}
		// The next event is the earlier of the queue's and the timers' tops
		// (keys come from one sequence, so this is the order of one queue).
		timer := k.th.Len() > 0
		if timer && k.q.Len() > 0 {
			top := k.q.peek()
			timer = k.th.a[0].at < top.at || (k.th.a[0].at == top.at && k.th.a[0].key < top.key)
		}
		next := k.th.peekAt(timer, &k.q)
		if k.maxTime > 0 && next > k.maxTime {
			return false
		}
		var e event
		if timer {
			top, ts := k.th.pop()
			k.timers[ts.node].del(ts.id)
			if k.down[ts.node] {
				continue // cancelled by the crash
			}
			e = event{at: top.at, key: top.key, arg: uint64(ts.id), from: ts.node, to: ts.node}
		} else {
			k.q.popTo(&e)
		}
		if !k.q.sorted && k.q.Len() > 0 { // a sorted (small) queue's messages are recent: in cache
			k.pf.touch(k.q.peekMsg())
		}
		k.now = e.at
		k.stats.Events++
		k.stats.SimTime = e.at
		k.dispatch(&e)
		return true
	}
}

// dispatch runs one live event.
func (k *Kernel) dispatch(e *event) {
	switch e.kind() {
	case evDeliver:
		k.deliver(e)
	case evArrive:
		k.arrive(e)
	case evLocal:
		if k.down[e.to] {
			k.tr.record(k.now, RecDrop, e.from, e.to, e.msg, 0, 0, nil, DropCrashed)
			return
		}
		k.checkSeal(e)
		k.tr.record(k.now, RecLocal, e.from, e.to, e.msg, 0, 0, nil, DropNone)
		t := k.typeIndex(e.msg.Type())
		k.stats.Local.Add(e.msg.Size())
		k.stats.LocalByType[t].Add(e.msg.Size())
		k.nodes[e.to].Step(k.now, Input{Kind: InputMessage, From: e.from, Msg: e.msg}, &k.out)
		k.apply(e.to)
	case evTimer:
		if k.clk.on {
			k.tr.local, k.tr.hasLocal = k.clk.local(e.to, k.now), true
		}
		k.tr.record(k.now, RecTimer, e.to, e.to, nil, 0, TimerID(e.arg), nil, DropNone)
		k.nodes[e.to].Step(k.now, Input{Kind: InputTimer, Timer: TimerID(e.arg)}, &k.out)
		k.apply(e.to)
	case evLose:
		ref, t, size := k.netArg(e.arg, e.msg)
		k.drop(e.from, e.to, e.msg, ref, t, size, DropFilter)
	case evFire:
		slot, ok := k.timers[e.to].get(TimerID(e.arg))
		if !ok || k.down[e.to] {
			return
		}
		k.th.remove(slot)
		k.timers[e.to].del(TimerID(e.arg))
		k.tr.record(k.now, RecTimer, e.to, e.to, nil, 0, TimerID(e.arg), nil, DropNone)
		k.nodes[e.to].Step(k.now, Input{Kind: InputTimer, Timer: TimerID(e.arg)}, &k.out)
		k.apply(e.to)
	case evCrash:
		if k.down[e.to] {
			return
		}
		k.down[e.to] = true
		k.tr.record(k.now, RecCrash, e.to, e.to, nil, 0, TimerID(e.arg), nil, DropNone)
	case evRecover:
		if !k.down[e.to] {
			return
		}
		k.down[e.to] = false
		k.timers[e.to].all(func(_ TimerID, slot uint32) {
			k.th.remove(slot) // the order of removals does not matter
		})
		k.timers[e.to].reset()
		k.tr.record(k.now, RecRecover, e.to, e.to, nil, 0, TimerID(e.arg), nil, DropNone)
		k.nodes[e.to].Step(k.now, Input{Kind: InputRecover, Crash: CrashKind(e.arg)}, &k.out)
		k.apply(e.to)
	}
}

// typeIndex returns t as an index into the by-type counters, growing them if
// a type was registered after New.
func (k *Kernel) typeIndex(t MsgType) int {
	i := int(t)
	if i >= len(k.stats.SentByType) {
		m := max(MsgTypes(), i+1)
		grow := func(c []Counter) []Counter { return append(c, make([]Counter, m-len(c))...) }
		k.stats.SentByType = grow(k.stats.SentByType)
		k.stats.DeliveredByType = grow(k.stats.DeliveredByType)
		k.stats.DroppedByType = grow(k.stats.DroppedByType)
		k.stats.LocalByType = grow(k.stats.LocalByType)
	}
	return i
}

// apply carries out the Output that node id just produced, then resets it.
func (k *Kernel) apply(id NodeID) {
	out := &k.out
	for i := range out.Sends {
		s := &out.Sends[i]
		if s.Msg == nil {
			k.fail(fmt.Errorf("sim: node %d at %v sent a nil message to %d", id, k.now, s.To))
			continue
		}
		if s.To < 0 || int(s.To) >= k.n {
			k.fail(fmt.Errorf("sim: node %d at %v sent %v to unknown node %d (want 0..%d)", id, k.now, s.Msg.Type(), s.To, k.n-1))
			continue
		}
		if k.seals.enabled {
			if err := k.seals.seal(s.Msg); err != nil {
				k.fail(fmt.Errorf("%w (node %d at %v)", err, id, k.now))
			}
		}
		if id == s.To { // post, inlined
			k.schedule(event{at: k.now, from: id, to: id, msg: s.Msg}, evLocal)
		} else {
			k.send(id, s.To, s.Msg)
		}
	}
	for i := range out.Timers {
		op := &out.Timers[i]
		tm := &k.timers[id]
		if op.Cancel {
			if slot, ok := tm.get(op.ID); ok {
				k.th.remove(slot)
				tm.del(op.ID)
			}
			continue
		}
		at := k.clk.fireAt(id, k.now, max(op.After, 0))
		k.seq++ // one sequence number per arming, as for any scheduled event
		key := k.seq<<8 | uint64(evTimer)
		if slot, ok := tm.get(op.ID); ok {
			k.th.update(slot, at, key)
		} else {
			tm.set(op.ID, k.th.add(id, op.ID, at, key))
		}
	}
	for _, ev := range out.Events {
		if ev != nil {
			k.tr.record(k.now, RecEvent, id, id, nil, 0, 0, ev, DropNone)
		}
	}
	// Truncate without clearing (Output.Reset would): the stale message and
	// event references are overwritten by the next steps and keep at most
	// one step's worth of garbage alive, while clearing costs a pointer
	// write per send.
	out.Sends, out.Timers, out.Events = out.Sends[:0], out.Timers[:0], out.Events[:0]
}

// post puts m on its way from node from to node to now: a local delivery
// when a node sends to itself, else through the network (send).
func (k *Kernel) post(from, to NodeID, m Message) {
	if from == to {
		k.schedule(event{at: k.now, from: from, to: to, msg: m}, evLocal)
		return
	}
	k.send(from, to, m)
}

// fail records the first protocol error and stops the run.
func (k *Kernel) fail(err error) {
	if k.err == nil {
		k.err = err
	}
	k.stopped = true
}

// addSat returns t+d, saturating instead of overflowing.
func addSat(t Time, d int64) Time {
	if d > 0 && int64(t) > math.MaxInt64-d {
		return Time(math.MaxInt64)
	}
	return t + Time(d)
}
