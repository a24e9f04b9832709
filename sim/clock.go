package sim

import (
	"fmt"
	"math"
	"time"
)

// MaxDriftPPM bounds a clock's drift: a rate within ±50% of real time.
const MaxDriftPPM = 500000

// MaxClockStep bounds a clock's offset and each of its jumps (either sign).
const MaxClockStep = 24 * time.Hour

// Clock is a node's local clock. At virtual time t it reads
//
//	Offset + t·(1 + DriftPPM/1e6) + the sum of Jumps[i].By with Jumps[i].At <= t
//
// Timers fire by local time: a timer set at virtual time now for d has the
// local deadline local(now)+d and fires at the first virtual time at which
// the local clock has reached it. Without jumps that is d/(1 + DriftPPM/1e6)
// of virtual time after now, so a fast clock (DriftPPM > 0) fires its
// timeouts early and a slow one late; a forward jump fires at once the
// pending timers whose deadline it skips, a backward jump delays them all by
// its size. Step's now stays virtual time (the checkers' real-time order
// needs it) and no node of this project reads an absolute clock, so an
// Offset alone changes no behaviour: it shows in the trace, whose timer
// records carry the node's local time whenever any clock is configured.
type Clock struct {
	Node     NodeID
	DriftPPM float64
	// Offset is the local clock's reading at virtual time 0.
	Offset time.Duration
	// Jumps step the clock at given virtual times, in increasing At order.
	Jumps []ClockJump
}

// ClockJump steps a local clock by By (negative: backwards) at virtual time
// At (NTP stepping the clock, a VM resumed, an operator's mistake).
type ClockJump struct {
	At Time
	By time.Duration
}

// clocks holds each node's local clock; on is false (and the slices nil)
// when every clock is perfect, so a default run pays nothing.
type clocks struct {
	on     bool
	scale  []float64 // virtual time per unit of local time: 1/(1+ppm/1e6)
	offset []time.Duration
	jumps  [][]ClockJump
}

func (c *clocks) init(n int, cs []Clock) {
	for _, cl := range cs {
		if cl.DriftPPM == 0 && cl.Offset == 0 && len(cl.Jumps) == 0 {
			continue
		}
		if !c.on {
			c.on = true
			c.scale = make([]float64, n)
			c.offset = make([]time.Duration, n)
			c.jumps = make([][]ClockJump, n)
			for i := range c.scale {
				c.scale[i] = 1
			}
		}
		c.scale[cl.Node] = 1e6 / (1e6 + cl.DriftPPM)
		c.offset[cl.Node] = cl.Offset
		c.jumps[cl.Node] = cl.Jumps
	}
}

// virtual converts a local duration of node id to virtual time, ignoring
// jumps.
func (c *clocks) virtual(id NodeID, d time.Duration) time.Duration {
	if !c.on || c.scale[id] == 1 {
		return d
	}
	return clampDur(math.Round(float64(d) * c.scale[id]))
}

// fireAt returns the virtual time at which a timer node id sets at now for
// d (>= 0) of local time fires: when its local clock reaches local(now)+d.
// Jumps at or before now are already in local(now); a later forward jump
// uses up the remaining time (the timer fires at the jump if it skips the
// deadline), a backward one adds to it.
func (c *clocks) fireAt(id NodeID, now Time, d time.Duration) Time {
	if !c.on {
		return addSat(now, int64(d))
	}
	cur, rem := now, d
	for _, j := range c.jumps[id] {
		if j.At <= cur {
			continue
		}
		v := c.virtual(id, rem)
		if addSat(cur, int64(v)) <= j.At {
			return addSat(cur, int64(v))
		}
		// local time that passes from cur until the jump, then the jump
		rem -= clampDur(math.Round(float64(j.At-cur) / c.scale[id]))
		rem -= j.By
		cur = j.At
		if rem <= 0 {
			return cur
		}
	}
	return addSat(cur, int64(c.virtual(id, rem)))
}

// local returns node id's local clock reading at virtual time t (t itself
// when clocks are off).
func (c *clocks) local(id NodeID, t Time) Time {
	if !c.on {
		return t
	}
	l := c.offset[id] + time.Duration(math.Round(float64(t)/c.scale[id]))
	for _, j := range c.jumps[id] {
		if j.At > t {
			break
		}
		l += j.By
	}
	return Time(l)
}

// validateClocks checks clocks for a run of nodes nodes.
func validateClocks(cs []Clock, nodes int) error {
	seen := make(map[NodeID]int, len(cs))
	for i, cl := range cs {
		f := fmt.Sprintf("clocks[%d]", i)
		if err := checkNode(f+".node", cl.Node, nodes); err != nil {
			return err
		}
		if j, ok := seen[cl.Node]; ok {
			return cfgErr(f+".node", int(cl.Node), fmt.Sprintf("a node without a clock yet (clocks[%d] has it)", j))
		}
		seen[cl.Node] = i
		if !(math.Abs(cl.DriftPPM) <= MaxDriftPPM) {
			return cfgErr(f+".drift_ppm", cl.DriftPPM, fmt.Sprintf("a drift in [-%d, %d] ppm", MaxDriftPPM, MaxDriftPPM))
		}
		if cl.Offset < -MaxClockStep || cl.Offset > MaxClockStep {
			return cfgErr(f+".offset", cl.Offset, fmt.Sprintf("an offset in [-%v, %v]", MaxClockStep, MaxClockStep))
		}
		for k, j := range cl.Jumps {
			jf := fmt.Sprintf("%s.jumps[%d]", f, k)
			if j.At < 0 || (k > 0 && j.At <= cl.Jumps[k-1].At) {
				return cfgErr(jf+".at", j.At, "a time >= 0, later than the previous jump's")
			}
			if j.By == 0 || j.By < -MaxClockStep || j.By > MaxClockStep {
				return cfgErr(jf+".by", j.By, fmt.Sprintf("a non-zero step in [-%v, %v]", MaxClockStep, MaxClockStep))
			}
		}
	}
	return nil
}
