package properties

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// The fault model over time. A replica counts against f while it is
// faulty (cluster.Config.FaultIntervals): a Byzantine replica for the
// whole run; a crashed one while it is down under the crash kinds keep,
// amnesia and lose-unsynced (it comes back with all it persisted, and is
// judged for safety throughout, down or not); a wiped one from its crash
// until it has caught up by state transfer, which the checker follows:
// until then it is not judged, and it has caught up once it installed a
// state by state transfer and its executed (or installed) sequence number
// reached every sequence number it signed a PRE-PREPARE, PREPARE or
// COMMIT for, or executed, before the wipe (from then on it cannot sign
// anything that contradicts what it signed before). A run is within the
// fault model when at most f replicas are faulty at any time.

// wipeTracker follows the wiped replicas of a run.
type wipeTracker struct {
	signedHigh []uint64 // per replica: highest seq signed (PP/PREPARE/COMMIT) or executed
	down       []bool   // wiped and not caught up
	target     []uint64 // the seq it must reach
	installed  []bool   // installed a state since the wipe
	catchUps   []catchUp
	excused    []sim.NodeID // accused while wiped and not caught up
}

// catchUp is when a wiped replica caught up.
type catchUp struct {
	replica sim.NodeID
	at      sim.Time
	seq     uint64
}

// initWipes sets up the tracker when the run wipes a replica.
func (c *Checker) initWipes() {
	c.wipe = nil
	for _, iv := range c.opts.FaultIntervals {
		if iv.Why == sim.CrashWipe.String() {
			n := c.n
			c.wipe = &wipeTracker{signedHigh: make([]uint64, n), down: make([]bool, n), target: make([]uint64, n),
				installed: make([]bool, n)}
			return
		}
	}
}

// wipeDown reports whether replica id is wiped and has not caught up.
func (c *Checker) wipeDown(id sim.NodeID) bool {
	return c.wipe != nil && int(id) >= 0 && int(id) < len(c.wipe.down) && c.wipe.down[id]
}

// wipeSigned notes that replica from signed or executed seq.
func (c *Checker) wipeSigned(from sim.NodeID, seq uint64) {
	if w := c.wipe; w != nil && int(from) >= 0 && int(from) < len(w.signedHigh) && seq > w.signedHigh[from] {
		w.signedHigh[from] = seq
	}
}

// wipeSignedMsg notes the (v, n) votes of a replica's message.
func (c *Checker) wipeSignedMsg(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *pbft.PrePrepare:
		c.wipeSigned(from, m.Seq)
	case *pbft.Prepare:
		c.wipeSigned(from, m.Seq)
	case *pbft.Commit:
		c.wipeSigned(from, m.Seq)
	}
}

// wipeCrash starts the faulty time of a replica whose crash is a wipe: a
// new incarnation, whose views and executions start again.
func (c *Checker) wipeCrash(id sim.NodeID) {
	w := c.wipe
	if w == nil || int(id) < 0 || int(id) >= len(w.down) {
		return
	}
	rs := c.rep(id)
	w.down[id], w.installed[id] = true, false
	w.target[id] = max(w.signedHigh[id], rs.lastSeq)
	rs.view, rs.vcView = 0, 0
	rs.lastSeq, rs.lastIndex, rs.started = 0, 0, false
	rs.committed.reset()
	c.confirms.clearReplica(int(id))
	for i := int(id); i < len(c.execAt); i += c.n {
		c.execAt[i] = execMark{} // it executes the requests again
	}
}

// wipeEvent follows an event of a wiped replica that has not caught up:
// the bookkeeping of its executions, commits and views goes on as for a
// judged replica (so that it is judged from a consistent state once it
// caught up), without judging anything.
func (c *Checker) wipeEvent(now sim.Time, id sim.NodeID, ev sim.Event) {
	w, rs := c.wipe, c.rep(id)
	switch e := ev.(type) {
	case events.StateInstalled:
		w.installed[id] = true
		if seq := e.StateInstall().Seq; seq > rs.lastSeq {
			rs.lastSeq, rs.lastIndex, rs.started = seq, 0, false
		}
	case events.Executed:
		x := e.Execution()
		if !x.Null {
			i := c.req(mkClientStamp(x.Client, x.Timestamp))
			c.execAt[int(i)*c.n+int(id)] = execMark{seq: x.Seq, ok: true}
			if cid, ok := confirmID(x.Op, x.Result); ok {
				c.confirms.setReplica(int(id), cid, x.Seq)
			}
		}
		if x.Seq >= rs.lastSeq {
			for s := rs.lastSeq + 1; s <= x.Seq && rs.committed.len() > 0; s++ {
				rs.committed.del(s)
			}
			rs.lastSeq, rs.lastIndex, rs.started = x.Seq, x.Index, true
		}
	case events.Decided:
		if d := e.Decision(); d.Seq > rs.lastSeq {
			rs.committed.put(d.Seq, true)
		}
		return
	case events.ViewEntered:
		rs.view = max(rs.view, e.ViewEntry().View)
		return
	case *pbft.ViewChangeStarted:
		rs.vcView = max(rs.vcView, e.To)
		return
	default:
		return
	}
	if !w.installed[id] || rs.lastSeq < w.target[id] {
		return
	}
	w.down[id] = false
	w.catchUps = append(w.catchUps, catchUp{replica: id, at: now, seq: rs.lastSeq})
}

// wipeAccused notes an accusation of a replica: one made while it was
// wiped and not caught up is of a faulty replica (see excused).
func (c *Checker) wipeAccused(id sim.NodeID) {
	if c.wipeDown(id) {
		c.wipe.excused = append(c.wipe.excused, id)
	}
}

// excused reports whether replica id was accused while it counted as
// faulty (wiped, not caught up): not a violation of accountability.
func (c *Checker) excused(id sim.NodeID) bool {
	return c.wipe != nil && slices.Contains(c.wipe.excused, id)
}

// FaultIntervals returns the run's fault intervals (Options.FaultIntervals)
// with the end of each wipe's set to when the replica caught up (0: it
// did not), once the run has been followed.
func (c *Checker) FaultIntervals() []cluster.FaultInterval {
	out := slices.Clone(c.opts.FaultIntervals)
	for i := range out {
		iv := &out[i]
		if !iv.UntilCaughtUp {
			continue
		}
		iv.To = 0
		if c.wipe == nil {
			continue
		}
		for _, cu := range c.wipe.catchUps {
			if cu.replica == iv.Replica && cu.at >= iv.From {
				iv.To = cu.at
				break
			}
		}
	}
	return out
}

// FaultModel judges the fault model of a run followed by the checker: at
// most f replicas faulty at any time (see FaultIntervals). It returns the
// reason when not, and the time from which liveness is expected when more
// than f distinct replicas fail over the run, though never more than f at
// once: the end of the last fault that ends (0 otherwise: liveness then
// counts from GST, as when at most f replicas ever fail).
func (c *Checker) FaultModel() (ok bool, reason string, from sim.Time) {
	return JudgeFaultIntervals(c.FaultIntervals(), c.opts.F)
}

// JudgeFaultIntervals is FaultModel over intervals iv and f.
func JudgeFaultIntervals(iv []cluster.FaultInterval, f int) (ok bool, reason string, from sim.Time) {
	most, at, who := cluster.MaxFaulty(iv)
	if most > f {
		slices.Sort(who)
		return false, fmt.Sprintf("%d replicas faulty at once at %v %v > f = %d (%s)", most, at, who, f, describeIntervals(iv)), 0
	}
	var ids []sim.NodeID
	for _, x := range iv {
		ids = append(ids, x.Replica)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) > f {
		for _, x := range iv {
			from = max(from, x.To)
		}
	}
	return true, "", from
}

// describeIntervals says when each replica counts as faulty.
func describeIntervals(iv []cluster.FaultInterval) string {
	var parts []string
	for _, x := range iv {
		end := "the end"
		switch {
		case x.To > 0 && x.UntilCaughtUp:
			end = fmt.Sprintf("%v (caught up)", x.To)
		case x.To > 0:
			end = x.To.String()
		case x.UntilCaughtUp:
			end = "the end (never caught up)"
		}
		parts = append(parts, fmt.Sprintf("r%d %s %v-%s", x.Replica, x.Why, x.From, end))
	}
	return strings.Join(parts, ", ")
}

// staticIntervals are a configuration's fault intervals as known before
// the run: a wipe's counted until its recovery only (the earliest it can
// catch up); Judge replaces them by the ones the run shows.
func staticIntervals(c cluster.Config) []cluster.FaultInterval {
	return c.FaultIntervals()
}
