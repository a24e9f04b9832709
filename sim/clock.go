package sim

import (
	"fmt"
	"math"
	"time"
)

// MaxDriftPPM bounds a clock's drift: a rate within ±50% of real time.
const MaxDriftPPM = 500000

// Clock is a node's local clock: it runs at (1 + DriftPPM/1e6) times the
// rate of virtual (real) time. Timers fire by local time: a timer set for
// d fires after d/(1 + DriftPPM/1e6) of virtual time, so a fast clock
// (DriftPPM > 0) fires its timeouts early and a slow one late. Step's now
// stays virtual time: the checkers' real-time order needs it, and no node
// of this project reads an absolute clock, so an offset alone would change
// nothing and is not modelled.
type Clock struct {
	Node     NodeID
	DriftPPM float64
}

// clocks holds each node's timer scale; nil when every clock is perfect.
type clocks struct {
	scale []float64 // virtual time per unit of local time: 1/(1+ppm/1e6)
}

func (c *clocks) init(n int, cs []Clock) {
	for _, cl := range cs {
		if cl.DriftPPM == 0 {
			continue
		}
		if c.scale == nil {
			c.scale = make([]float64, n)
			for i := range c.scale {
				c.scale[i] = 1
			}
		}
		c.scale[cl.Node] = 1e6 / (1e6 + cl.DriftPPM)
	}
}

// virtual converts a local duration of node id to virtual time.
func (c *clocks) virtual(id NodeID, d time.Duration) time.Duration {
	if c.scale == nil || c.scale[id] == 1 {
		return d
	}
	return clampDur(math.Round(float64(d) * c.scale[id]))
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
	}
	return nil
}
