package cluster

import (
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// stores returns the modelled stable store of each replica (see
// pbft.Store): one for every replica that has a crash of a kind other than
// keep, nil for the others (which then persist nothing, at no cost).
func (c Config) stores() []*pbft.Store {
	out := make([]*pbft.Store, c.N)
	for _, cr := range c.Crashes {
		if cr.Kind != sim.CrashKeep && int(cr.Node) >= 0 && int(cr.Node) < c.N && out[cr.Node] == nil {
			out[cr.Node] = pbft.NewStore()
		}
	}
	return out
}

// storeStats returns replica i's store counters, nil without a store.
func (cl *Cluster) storeStats(i int) *pbft.StoreStats {
	if i >= len(cl.stores) || cl.stores[i] == nil {
		return nil
	}
	s := cl.stores[i].Stats()
	return &s
}

// FaultInterval is a time during which a replica counts against f.
type FaultInterval struct {
	Replica sim.NodeID `json:"replica"`
	From    sim.Time   `json:"from_ns"`
	// To is the end of the interval; 0: to the end of the run.
	To sim.Time `json:"to_ns"`
	// Why names the fault: "byzantine", or the crash kind.
	Why string `json:"why"`
	// UntilCaughtUp: a wiped replica, faulty until it has caught up by
	// state transfer; To is its recovery, a lower bound (a checker
	// that follows the run moves it to the catch-up time).
	UntilCaughtUp bool `json:"until_caught_up,omitempty"`
}

// FaultIntervals returns when each replica counts against f, as far as the
// configuration tells: a Byzantine replica for the whole run; a crashed
// replica from its crash to its recovery (for ever when it does not
// recover) under keep, amnesia and lose-unsynced, since it then recovers
// with everything it persisted and never contradicts itself; a wiped
// replica from its crash until it has caught up by state transfer, which
// only the run tells (UntilCaughtUp). Sorted by replica, then time.
func (c Config) FaultIntervals() []FaultInterval {
	n := c.N
	if n == 0 {
		n = DefaultN
	}
	var out []FaultInterval
	for _, id := range c.Faulty() {
		out = append(out, FaultInterval{Replica: id, Why: "byzantine"})
	}
	for _, cr := range c.Crashes {
		if int(cr.Node) < 0 || int(cr.Node) >= n {
			continue
		}
		out = append(out, FaultInterval{Replica: cr.Node, From: cr.At, To: cr.Recover, Why: cr.Kind.String(), UntilCaughtUp: cr.Kind == sim.CrashWipe && cr.Recover > 0})
	}
	sortIntervals(out)
	return out
}

func sortIntervals(iv []FaultInterval) {
	for i := 1; i < len(iv); i++ { // insertion sort: a handful of intervals
		for j := i; j > 0 && (iv[j].Replica < iv[j-1].Replica || iv[j].Replica == iv[j-1].Replica && iv[j].From < iv[j-1].From); j-- {
			iv[j], iv[j-1] = iv[j-1], iv[j]
		}
	}
}

// MaxFaulty returns the largest number of distinct replicas that count
// against f at one time under intervals iv, and one time at which it is
// reached (the start of an interval). An interval covers [From, To), or
// [From, end of run) when To is 0.
func MaxFaulty(iv []FaultInterval) (int, sim.Time, []sim.NodeID) {
	best, at := 0, sim.Time(0)
	var who []sim.NodeID
	for _, probe := range iv {
		t := probe.From
		var ids []sim.NodeID
		for _, x := range iv {
			if x.From <= t && (x.To == 0 || t < x.To) && !containsID(ids, x.Replica) {
				ids = append(ids, x.Replica)
			}
		}
		if len(ids) > best {
			best, at, who = len(ids), t, ids
		}
	}
	return best, at, who
}

func containsID(ids []sim.NodeID, id sim.NodeID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
