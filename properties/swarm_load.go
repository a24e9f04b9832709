package properties

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
)

// steadyThinks are the think times a steady workload draws: in round trips
// of the typical delay (like the timeouts, timeoutFactors), so that the load
// is high or low relative to the network whatever the delay; "spread": the
// requests spread evenly over the run, so that the load lasts until the end
// of the run at the lowest rate; or "vc/4": a request every quarter
// view-change timeout from one client or another until the end of the run,
// so that no timer expires for want of executions, even with a client
// left out (a load relative to the timers).
var steadyThinks = []struct {
	name string
	x    float64 // round trips, thinkSpread or thinkTimer
}{{"0rtt", 0}, {"1rtt", 1}, {"5rtt", 5}, {"spread", thinkSpread}, {"vc/4", thinkTimer}}

// The think times of steadyThinks that are not in round trips.
const (
	thinkSpread = -1
	thinkTimer  = -2
)

// steadyTotals are the request totals a steady workload draws, for n=4
// (scaled by 16/n², see drawSteady).
var steadyTotals = []int{50, 200, 800}

// steadyLoad is the steady workload family of a swarm case: two to four
// clients keep issuing requests, one after the other with a think time, for
// up to the whole run, so that the replicas are still executing requests
// when liveness is judged (a request starved while others execute for
// longer than the liveness bound shows only under a load that lasts that
// long; the short and long workloads end within a few seconds of simulated
// time).
type steadyLoad struct {
	clients int
	think   float64 // round trips, or thinkSpread
	name    string  // the think knob's value
	total   int     // requests in all (at most; see apply)
}

// steadyTimerTotal is the most requests a "vc/4" steady workload issues,
// for n=4 (scaled like steadyTotals).
const steadyTimerTotal = 1600

// steadyShare is the probability that a swarm case has a steady workload.
const steadyShare = 0.25

// drawSteady draws the steady workload family of a swarm case from its own
// stream of seed (so that switching it on or off changes no other knob):
// nil when off, else the clients, the think time and the requests in all:
// one of steadyTotals for n=4, scaled by 16/n² (a request costs about 3n²
// messages, so a steady case costs about as much at every n), divided by 4
// when the view-change timeout is below two round trips rtt (a request
// may then cost a view change), and at least 5 per client.
func drawSteady(seed uint64, n int, vc, rtt time.Duration) *steadyLoad {
	r := rand.New(rand.NewPCG(seed, 0x4c4f4144)) // "LOAD"
	if r.Float64() >= steadyShare {
		return nil
	}
	l := &steadyLoad{clients: 2 + r.IntN(3)}
	t := steadyThinks[r.IntN(len(steadyThinks))]
	l.think, l.name = t.x, t.name
	l.total = steadyTotals[r.IntN(len(steadyTotals))] * 16 / (n * n)
	if l.think == thinkTimer {
		l.total = steadyTimerTotal * 16 / (n * n) // as many as the run needs, see apply
	}
	if vc < 2*rtt {
		l.total /= 4
	}
	l.total = max(l.total, 5*l.clients)
	return l
}

// knob is the workload knob's value: "steady:" and the clients and the most
// requests in all.
func (l *steadyLoad) knob() string { return fmt.Sprintf("steady:%dx%d", l.clients, l.total) }

// apply sets sc's workload once the run length (sc.Run.MaxTime) and the
// timeouts are known: the think time (spread: the run length over each
// client's share of the requests; vc/4: a quarter of the view-change
// timeout times the clients, or spread when the requests do not last the run at that
// rate; less two round trips rtt, the estimate of a request's latency), no
// more requests than the run has room for at that rate, and the event
// budget steadyMaxEvents. The request count it sets is at most the one
// GenerateSwarm drew the other knobs with, so the bounds drawn for that
// count still hold.
func (l *steadyLoad) apply(sc *scenarios.Scenario, rtt time.Duration) {
	rtt = max(rtt, time.Millisecond)
	switch l.think {
	case thinkSpread:
		sc.Workload.Interval = max(0, sc.Run.MaxTime*time.Duration(l.clients)/time.Duration(l.total)-2*rtt).Round(time.Millisecond)
	case thinkTimer:
		sc.Workload.Interval = max(0, sc.Protocol.ViewChangeTimeout*time.Duration(l.clients)/4-2*rtt).Round(time.Millisecond)
		if per := int(sc.Run.MaxTime/(sc.Workload.Interval+2*rtt)) + 1; l.clients*per > l.total {
			// Too few requests to keep that rate to the end: spread them.
			sc.Workload.Interval = max(0, sc.Run.MaxTime*time.Duration(l.clients)/time.Duration(l.total)-2*rtt).Round(time.Millisecond)
		}
	default:
		sc.Workload.Interval = time.Duration(l.think * float64(rtt)).Round(time.Millisecond)
	}
	per := int(sc.Run.MaxTime/(sc.Workload.Interval+2*rtt)) + 1
	sc.Workload.Requests = min(l.total, l.clients*per)
	sc.Run.MaxEvents = steadyMaxEvents
}

// steadyMaxEvents is the event budget of a steady case: a long run whose
// requests cost more than expected (view changes, state transfers of a
// long ledger) stops there, judged up to that time (verdict
// budget-exceeded), instead of costing a thousand other cases.
const steadyMaxEvents = 120_000

// rolesShare is the probability that a swarm case places the strategies
// that act in a role (byzantine.Info.Role: the primary of view 0 or of view
// 1) at the replica that has it.
const rolesShare = 0.85

// drawRoles draws whether a swarm case places role strategies at their
// role's replica (the knob roles), from its own stream of seed: off, a
// strategy lands on a random faulty replica, where a primary's attack acts
// only if a view change makes it primary.
func drawRoles(seed uint64) bool {
	r := rand.New(rand.NewPCG(seed, 0x524f4c45)) // "ROLE"
	return r.Float64() < rolesShare
}

// calmShare is the probability that a swarm case has a calm network.
const calmShare = 0.25

// drawCalm draws whether a swarm case's network is calm (the knob calm: no
// loss, duplication, partition, one-way cut, clogged link or targeted
// rule), from its own stream of seed.
func drawCalm(seed uint64) bool {
	r := rand.New(rand.NewPCG(seed, 0x43414c4d)) // "CALM"
	return r.Float64() < calmShare
}
