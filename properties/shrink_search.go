package properties

import (
	"math/rand/v2"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// The target size of a counterexample: when the reducing passes of Shrink
// leave a failing scenario larger than this, its search pass looks for one
// this small.
const (
	targetN        = 7
	targetRequests = 5
)

// searchRuns bounds the runs of Shrink's search pass (on top of the runs
// of its reducing passes).
const searchRuns = 300

// small reports whether sc is within the target size of a counterexample.
func small(sc scenarios.Scenario) bool {
	return max(sc.N, 4) <= targetN && sc.Workload.Requests <= targetRequests
}

// searchCandidate returns candidate k of the search pass (shrinking by
// search, as integrated shrinkers such as Hypothesis's do when deleting
// parts of a test case no longer fails): a scenario of at most targetN
// replicas and targetRequests requests drawn near the failure. Reducing
// passes keep one dimension while cutting another, so a failure that needs
// many view changes (each needs a pending request and an expiring timer)
// keeps its long workload once they have dropped the faults that made the
// view changes frequent. The candidates are, in turn:
//
//   - the original failing scenario, with all its faults, under another seed;
//   - the original with one or two of its stresses strengthened (see stress):
//     more view changes or losses per request instead of more requests;
//   - the original crossed with a fresh case of the swarm generator (each of
//     its protocol settings, network, adversarial rules, faulty replicas and
//     clocks taken from one or the other);
//   - the current, reduced scenario with one or two stresses strengthened.
//
// Each is then cut to the target size (fewer replicas, a workload of 1 to
// targetRequests requests drawn afresh). r makes the choices (the search
// pass gives each candidate its own stream, candidateRand); the same r
// state gives the same candidate.
func searchCandidate(r *rand.Rand, orig, cur scenarios.Scenario, k int) scenarios.Scenario {
	seed := orig.Seed + uint64(k) + 1
	var c scenarios.Scenario
	switch k % 4 {
	case 0:
		c = clone(orig)
	case 1:
		c = stress(r, orig, seed)
	case 2:
		if cluster.IsHotStuff(orig.Protocol.Name) {
			c = stress(r, orig, seed)
		} else {
			c = cross(r, orig, seed)
		}
	default:
		c = stress(r, cur, seed)
	}
	if c.N > targetN {
		c = withN(c, []int{4, 3*((targetN-1)/3) + 1}[r.IntN(2)])
	}
	m := 1 + r.IntN(targetRequests)
	if c.Workload.Requests > m || c.Workload.DrawnFor > 0 {
		c = redraw(c, m)
	}
	c.Seed = seed
	c.Description = orig.Description
	return c
}

// candidateRand is the random stream of search candidate k of a failure
// with seed seed: one stream per candidate, split off the seed, so that a
// move that draws once more (or once less) changes its own candidate only,
// not every later one (with one stream shared by all candidates, a new
// move shifted the whole search: see thinkOffSooner).
func candidateRand(seed uint64, k int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x5348524b<<32|uint64(k))) // "SHRK", k
}

// stress returns sc with one or two of its stresses strengthened, so that
// fewer requests meet as many faults: the view-change timeout halved (more
// view changes per request), the client's retransmission timeout halved or
// doubled, message loss raised a level (with a GST when there was none),
// GST moved later (a longer asynchronous period), the client's think time
// off and the faults 2-8 times sooner (see sooner), or one of Mutate's changes (a drop or delay rule for one message
// type, a crash and recovery, a redrawn Byzantine strategy).
func stress(r *rand.Rand, sc scenarios.Scenario, seed uint64) scenarios.Scenario {
	c := clone(sc)
	for i := 1 + r.IntN(2); i > 0; i-- {
		k := r.IntN(7)
		if i == 1 && r.IntN(2) == 0 {
			k = 0 // a view change needs a request and a timer: the timer is cheaper
		}
		switch k {
		case 0:
			if t := c.Protocol.ViewChangeTimeout; t >= 2*scenarios.MinTimeout {
				c.Protocol.ViewChangeTimeout = (t / 2).Round(time.Millisecond)
			}
		case 1:
			if t := c.Protocol.ClientTimeout; t > 0 {
				c.Protocol.ClientTimeout = max(scenarios.MinTimeout, scale(r, t).Round(time.Millisecond))
			}
		case 2:
			for _, d := range []float64{0.02, 0.05, 0.1, 0.3} {
				if d > c.Network.Drop {
					c.Network.Drop = d
					break
				}
			}
			later(&c, 0)
		case 3:
			later(&c, c.Network.GST)
		case 4:
			c = thinkOffSooner(r, c)
		default:
			c = Mutate(r, c, seed)
		}
	}
	return c
}

// thinkOffSooner returns sc with the client's think time off and its
// timed faults 2-8 times sooner (see sooner). It draws from r only when sc
// has a timed fault to move: a move that changes nothing draws nothing, so
// that it does not shift the draws of every later search candidate (the
// search pass's candidates share one stream, and a shifted stream is a
// different search: adding this move to stress made a failure without
// timed faults shrink to 62 requests instead of 4, with the same
// candidates, only drawn in another order).
func thinkOffSooner(r *rand.Rand, sc scenarios.Scenario) scenarios.Scenario {
	c := clone(sc)
	c.Workload.Interval = 0
	if _, ok := sooner(c, 2); !ok {
		return c
	}
	c, _ = sooner(c, time.Duration(2+r.IntN(7)))
	return c
}

// later moves sc's GST by d later (to 1 s, with a 10 ms delay bound, when
// it has none) and lengthens the run by as much.
func later(sc *scenarios.Scenario, d time.Duration) {
	if sc.Network.GST == 0 {
		sc.Network.GST, d = time.Second, time.Second
		if sc.Network.Delta == 0 {
			sc.Network.Delta = 10 * time.Millisecond
		}
	}
	sc.Network.GST += d
	if sc.Run.MaxTime > 0 {
		sc.Run.MaxTime += d
	}
}

// cross returns a fresh case of the swarm generator (at most targetN
// replicas and targetRequests requests, sc's variant) that takes each part
// of sc with probability 1/2: the protocol settings, the network with the
// run length (GST and the run's end go together), the adversarial rules,
// the faulty replicas (crashes and Byzantine strategies) and the clocks.
// The two are first cut to the same number of replicas.
func cross(r *rand.Rand, sc scenarios.Scenario, seed uint64) scenarios.Scenario {
	g := SearchConfig()
	g.Variant, g.MaxN, g.MaxRequests = sc.Protocol.Variant, targetN, targetRequests
	fresh, _ := GenerateSwarm(r, seed, g)
	base := sc
	switch m := min(max(base.N, 4), fresh.N); {
	case base.N > m:
		base = withN(base, m)
	case fresh.N > m:
		fresh = withN(fresh, m)
	}
	c := clone(fresh)
	take := func() bool { return r.IntN(2) == 0 }
	if take() {
		c.Protocol = base.Protocol
	}
	if take() {
		b := clone(base)
		c.Network, c.Run = b.Network, b.Run
	}
	if take() {
		c.Adversary = clone(base).Adversary
	}
	if take() {
		b := clone(base)
		c.Crashes, c.Byzantine = b.Crashes, b.Byzantine
	}
	if take() {
		c.Clocks = clone(base).Clocks
	}
	c.Run.MaxTime = max(c.Run.MaxTime, fresh.Run.MaxTime, c.Network.GST+time.Second)
	keepNodes(&c, c.N+c.Workload.Clients, nil)
	return c
}

// relax returns the candidates that take back, one at a time, a stress a
// search candidate c has beyond the original failure orig: a shorter
// view-change or client timeout, more loss, a later GST or a longer run
// (each back to orig's). Shrink tries them after a search hit, so that the
// counterexample keeps only the stress its failure needs (a shorter
// timeout also means more timer events in its trace).
func relax(c, orig scenarios.Scenario) []scenarios.Scenario {
	var out []scenarios.Scenario
	add := func(edit func(*scenarios.Scenario)) {
		x := clone(c)
		edit(&x)
		out = append(out, x)
	}
	if o := orig.Protocol.ViewChangeTimeout; c.Protocol.ViewChangeTimeout < o {
		add(func(x *scenarios.Scenario) { x.Protocol.ViewChangeTimeout = o })
	}
	if o := orig.Protocol.ClientTimeout; c.Protocol.ClientTimeout < o {
		add(func(x *scenarios.Scenario) { x.Protocol.ClientTimeout = o })
	}
	if o := orig.Network.Drop; c.Network.Drop > o {
		add(func(x *scenarios.Scenario) { x.Network.Drop = o })
	}
	if o := orig.Network.GST; o > 0 && c.Network.GST > o {
		add(func(x *scenarios.Scenario) {
			x.Run.MaxTime -= min(x.Run.MaxTime/2, x.Network.GST-o)
			x.Network.GST = o
		})
	}
	if o := orig.Run.MaxTime; o > 0 && c.Run.MaxTime > o {
		add(func(x *scenarios.Scenario) { x.Run.MaxTime = o })
	}
	return out
}

// searchable reports whether a search candidate may be run: it validates
// and stays within the fault model (a candidate outside it could fail for
// reasons the variant's bug has nothing to do with).
func searchable(c scenarios.Scenario) bool {
	if c.Validate() != nil {
		return false
	}
	cfg, err := c.Config()
	if err != nil {
		return false
	}
	ok, _ := WithinFaultModel(cfg)
	return ok
}
