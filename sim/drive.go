package sim

import "fmt"

// This file is the kernel's driving API: what a test, a step-by-step
// debugger or an interactive explorer uses to act on a run between steps,
// besides the schedule fixed in Config. Every action goes through the same
// rules as the run's own events (the network model, filters, crash
// semantics) and is traced like them, so a driven run stays a kernel run.

// Start starts every node (Node.Start, in node order, at time 0) unless the
// kernel has started already; Step does it by itself before the first
// event. A driver calls it to act on a run before its first event.
func (k *Kernel) Start() {
	if !k.started {
		k.start()
	}
}

// Inject puts m in flight from node from to node to at the current time, as
// if from had just sent it: it goes through the network model and the
// filters and is traced as a send (a message from a node to itself is a
// local delivery, as for a node's own send). It starts the kernel first if
// it has not started. An unknown node or a nil message is an error.
func (k *Kernel) Inject(from, to NodeID, m Message) error {
	if err := k.checkNode("from", from); err != nil {
		return err
	}
	if err := k.checkNode("to", to); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("sim: Inject %d->%d: nil message", from, to)
	}
	k.Start()
	k.post(from, to, m)
	return nil
}

// Crash makes node id crash at the current time: the crash is queued behind
// the events already due now, so it takes effect at one of the next Steps
// (a crash of a node that is down does nothing).
func (k *Kernel) Crash(id NodeID) error { return k.CrashAs(id, CrashKeep) }

// CrashAs is Crash with a crash kind (traced in the crash record).
func (k *Kernel) CrashAs(id NodeID, kind CrashKind) error {
	if err := k.checkNode("node", id); err != nil {
		return err
	}
	k.schedule(event{at: k.now, to: id, from: id, arg: uint64(kind)}, evCrash)
	return nil
}

// Recover makes node id recover at the current time, queued like Crash
// (recovering a node that is up does nothing).
func (k *Kernel) Recover(id NodeID) error { return k.RecoverAs(id, CrashKeep) }

// RecoverAs is Recover from a crash of kind kind (the node is stepped with
// Input.Crash = kind).
func (k *Kernel) RecoverAs(id NodeID, kind CrashKind) error {
	if err := k.checkNode("node", id); err != nil {
		return err
	}
	k.schedule(event{at: k.now, to: id, from: id, arg: uint64(kind)}, evRecover)
	return nil
}

// AdvanceTo processes every event due at or before t and then moves the
// current time to t (when t is later), so that what a driver does next
// happens at t. It stops early, like Step, on MaxEvents, Stop or an error,
// and reports whether time reached t. The run's MaxTime is kept.
func (k *Kernel) AdvanceTo(t Time) bool {
	limit := k.maxTime
	if limit > 0 && t > limit {
		t = limit
	}
	k.maxTime = max(t, 1) // 0 would mean no limit
	for k.Step() {
	}
	k.maxTime = limit
	if k.stopped || (k.maxEvents > 0 && k.stats.Events >= k.maxEvents) {
		return false
	}
	if t > k.now {
		k.now = t
	}
	return true
}

func (k *Kernel) checkNode(field string, id NodeID) error {
	if id < 0 || int(id) >= k.n {
		return fmt.Errorf("sim: %s %d: no such node (want 0..%d)", field, id, k.n-1)
	}
	return nil
}
