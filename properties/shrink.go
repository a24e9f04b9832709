package properties

import (
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/workload"
)

// Shrinks returns smaller variants of sc, most aggressive first: fewer
// replicas, fewer faulty replicas, fewer requests and clients, fewer
// network faults, shorter runs. Each candidate validates. Shrinking keeps
// the seed, so a candidate is a different but reproducible run.
func Shrinks(sc scenarios.Scenario) []scenarios.Scenario {
	var out []scenarios.Scenario
	add := func(c scenarios.Scenario) {
		if c.Validate() == nil {
			out = append(out, c)
		}
	}
	n := sc.N
	if n == 0 {
		n = 4
	}
	// Smaller n: keep replicas 0..m-1 and the faults that stay in range.
	for _, m := range []int{4, 3*((n-1)/3-1) + 1, n - 1} {
		if m >= 4 && m < n {
			add(withN(sc, m))
		}
	}
	// Fewer faulty replicas.
	for i := range sc.Byzantine {
		c := clone(sc)
		c.Byzantine = slices.Delete(c.Byzantine, i, i+1)
		add(c)
	}
	for i := range sc.Byzantine {
		if len(sc.Byzantine[i].Params) > 0 {
			c := clone(sc)
			c.Byzantine[i].Params = nil
			add(c)
		}
	}
	for i := range sc.Crashes {
		c := clone(sc)
		c.Crashes = slices.Delete(c.Crashes, i, i+1)
		add(c)
	}
	for i := range sc.Crashes {
		if sc.Crashes[i].Kind != "" { // the simplest crash kind: keep
			c := clone(sc)
			c.Crashes[i].Kind = ""
			add(c)
		}
	}
	// Fewer requests and clients.
	for _, c := range fewerRequests(sc) {
		add(c)
	}
	for _, c := range fewerPerClient(sc) {
		add(c)
	}
	if sc.Workload.Clients > 1 {
		c := clone(sc)
		c.Workload.Clients, c.Workload.Issued = 1, nil
		keepNodes(&c, max(c.N, 4)+1, nil)
		add(c)
	}
	if sc.Workload.Interval > 0 {
		c := clone(sc)
		c.Workload.Interval = 0
		add(c)
	}
	// Faults sooner: a shorter workload ends sooner, and a crash or
	// partition timed for the long one would come after it.
	for _, div := range []time.Duration{4, 2} {
		if c, ok := sooner(sc, div); ok {
			add(c)
		}
	}
	// Fewer network faults: all adversarial rules, then each.
	if len(sc.Adversary) > 0 {
		c := clone(sc)
		c.Adversary = nil
		add(c)
	}
	if len(sc.Adversary) > 1 {
		for i := range sc.Adversary {
			c := clone(sc)
			c.Adversary = slices.Delete(c.Adversary, i, i+1)
			add(c)
		}
	}
	if len(sc.Network.Partitions) > 0 {
		c := clone(sc)
		c.Network.Partitions = nil
		add(c)
	}
	if len(sc.Network.Links) > 0 {
		c := clone(sc)
		c.Network.Links = nil
		add(c)
	}
	if sc.Network.Drop > 0 {
		c := clone(sc)
		c.Network.Drop = 0
		add(c)
	}
	if sc.Network.Duplicate > 0 {
		c := clone(sc)
		c.Network.Duplicate = 0
		add(c)
	}
	if sc.Network.Delay != "" && sc.Network.Delay != "const:1ms" {
		c := clone(sc)
		c.Network.Delay = "const:1ms"
		add(c)
	}
	if sc.Network.GST > 0 && sc.Network.Drop == 0 && len(sc.Network.Partitions) == 0 && len(sc.Adversary) == 0 {
		c := clone(sc)
		c.Network.GST, c.Network.Delta = 0, 0
		add(c)
	}
	// Exact clocks (drift, offsets and jumps off).
	if len(sc.Clocks) > 0 {
		c := clone(sc)
		c.Clocks = nil
		add(c)
	}
	// Smaller protocol parameters: checkpoints every request or two (a
	// checkpoint bug then needs fewer requests), one request per batch.
	for _, k := range []int{1, 2} {
		if ck := sc.Protocol.CheckpointInterval; ck > k || ck == 0 {
			c := clone(sc)
			w := 2
			if ck > 0 && sc.Protocol.Window > 0 {
				w = max(1, sc.Protocol.Window/ck)
			}
			c.Protocol.CheckpointInterval, c.Protocol.Window = k, w*k
			add(c)
		}
	}
	if sc.Protocol.Batch > 1 {
		c := clone(sc)
		c.Protocol.Batch = 1
		add(c)
	}
	// Shorter runs.
	if mt := sc.Run.MaxTime; mt > 2*time.Second+sc.Network.GST {
		c := clone(sc)
		c.Run.MaxTime = max(mt/2, 2*time.Second+sc.Network.GST)
		add(c)
	}
	return out
}

// sooner returns sc with every fault at 1/div of its time: crashes and
// recoveries, partitions, adversarial rules' windows, clock jumps and GST
// (the run's end stays). ok is false when sc has no timed fault.
func sooner(sc scenarios.Scenario, div time.Duration) (scenarios.Scenario, bool) {
	c := clone(sc)
	ok := false
	half := func(d *time.Duration) {
		if *d > time.Millisecond {
			*d, ok = *d/div, true
		}
	}
	for i := range c.Crashes {
		half(&c.Crashes[i].At)
		half(&c.Crashes[i].Recover)
	}
	for i := range c.Network.Partitions {
		half(&c.Network.Partitions[i].From)
		half(&c.Network.Partitions[i].To)
	}
	for i := range c.Adversary {
		half(&c.Adversary[i].Start)
		half(&c.Adversary[i].End)
	}
	for i := range c.Clocks {
		for j := range c.Clocks[i].Jumps {
			half(&c.Clocks[i].Jumps[j].At)
		}
	}
	if ok {
		half(&c.Network.GST)
	}
	return c, ok
}

// fewerRequests returns the workload shrinks of sc, smallest first: 1..5
// requests (the target size of a counterexample), then a quarter, a half,
// three quarters and all but one of them (delta debugging's halving). Each
// keeps a prefix of every client's operations (see prefix).
func fewerRequests(sc scenarios.Scenario) []scenarios.Scenario {
	r := sc.Workload.Requests
	var out []scenarios.Scenario
	seen := map[int]bool{}
	for _, m := range []int{1, 2, 3, 4, 5, r / 4, r / 2, 3 * r / 4, r - 1} {
		if m < 1 || m >= r || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, prefix(sc, m))
	}
	return out
}

// prefix returns sc issuing m of its requests: the workload stays the one
// sc draws (workload.drawn_for pins it) and each client issues the first
// of its operations, so a failure that needs the first few operations of a
// long workload keeps them. The clients stay too (fewer clients would
// reassign the payments, another workload).
func prefix(sc scenarios.Scenario, m int) scenarios.Scenario {
	c := clone(sc)
	if c.Workload.DrawnFor == 0 {
		c.Workload.DrawnFor = sc.Workload.Requests
	}
	c.Workload.Requests, c.Workload.Issued = m, nil
	return c
}

// fewerPerClient returns, for each client that issues operations while
// others do too, sc with that client issuing none of them, then half of
// them: the other clients keep theirs, and every client keeps a prefix of
// its own operations in the same drawn workload (delta debugging over the
// clients).
func fewerPerClient(sc scenarios.Scenario) []scenarios.Scenario {
	cfg, err := sc.Config()
	if err != nil || cfg.Clients < 2 {
		return nil
	}
	drawn := max(cfg.DrawnFor, cfg.Requests)
	counts := workload.Config{Clients: cfg.Clients, Requests: cfg.Requests, Payments: cfg.Payments,
		DrawnFor: drawn, Issued: cfg.Issued}.IssuedCounts()
	busy := 0
	for _, m := range counts {
		if m > 0 {
			busy++
		}
	}
	if busy < 2 {
		return nil
	}
	var out []scenarios.Scenario
	for _, half := range []bool{false, true} {
		for j, m := range counts {
			keep := 0
			if half {
				keep = m / 2
			}
			if m == 0 || (half && keep == 0) {
				continue
			}
			c := clone(sc)
			c.Workload.Issued = slices.Clone(counts)
			c.Workload.Issued[j] = keep
			c.Workload.Requests = cfg.Requests - m + keep
			c.Workload.DrawnFor = drawn
			out = append(out, c)
		}
	}
	return out
}

// redraw returns sc with m requests drawn afresh (a different workload
// under the same seed, as if the scenario had been written with m).
func redraw(sc scenarios.Scenario, m int) scenarios.Scenario {
	c := clone(sc)
	c.Workload.Requests, c.Workload.DrawnFor, c.Workload.Issued = m, 0, nil
	c.Workload.Clients = min(max(c.Workload.Clients, 1), m)
	keepNodes(&c, max(c.N, 4)+c.Workload.Clients, nil)
	return c
}

// keepNodes keeps the per-node settings (clocks, per-node bandwidths) of
// the nodes below total, numbered by remap when it is set (nil: the
// same ids); the settings of the other nodes are dropped.
func keepNodes(c *scenarios.Scenario, total int, remap func(int) (int, bool)) {
	id := func(x int) (int, bool) {
		if remap != nil {
			if y, ok := remap(x); ok {
				x = y
			} else {
				return 0, false
			}
		}
		return x, x < total
	}
	var clocks []scenarios.Clock
	for _, cl := range c.Clocks {
		if x, ok := id(cl.Node); ok {
			cl.Node = x
			clocks = append(clocks, cl)
		}
	}
	c.Clocks = clocks
	rates := func(bs []scenarios.NodeBandwidth) []scenarios.NodeBandwidth {
		var out []scenarios.NodeBandwidth
		for _, b := range bs {
			if x, ok := id(b.Node); ok {
				b.Node = x
				out = append(out, b)
			}
		}
		return out
	}
	c.Network.NodeBandwidth = rates(c.Network.NodeBandwidth)
	c.Network.NodeIngress = rates(c.Network.NodeIngress)
}

// withN keeps replicas 0..m-1: faults on removed replicas are dropped and
// node ids of clients in partitions and rules are renumbered.
func withN(sc scenarios.Scenario, m int) scenarios.Scenario {
	c := clone(sc)
	old := sc.N
	if old == 0 {
		old = 4
	}
	c.N, c.F = m, 0
	remap := func(id int) (int, bool) {
		switch {
		case id < m:
			return id, true
		case id < old:
			return 0, false
		default:
			return id - (old - m), true // a client
		}
	}
	// Byzantine replicas keep their ids below m; the others move to the
	// highest free ids below m (the faulty replica is usually what the
	// failure needs). Parameters stay when they are still valid.
	used := map[int]bool{}
	for _, b := range sc.Byzantine {
		if b.Replica < m {
			used[b.Replica] = true
		}
	}
	c.Byzantine = c.Byzantine[:0]
	for _, b := range sc.Byzantine {
		id := b.Replica
		if id >= m {
			id = -1
			for j := m - 1; j > 0; j-- {
				if !used[j] {
					id = j
					break
				}
			}
			if id < 0 {
				continue
			}
			used[id] = true
		}
		b.Replica = id
		if b.Params != nil && byzantine.Check(b.Strategy, b.Params, sim.NodeID(id), m) != nil {
			b.Params = nil // they name removed nodes
		}
		c.Byzantine = append(c.Byzantine, b)
	}
	slices.SortFunc(c.Byzantine, func(a, b scenarios.Byzantine) int { return a.Replica - b.Replica })
	if len(c.Byzantine) > (m-1)/3 {
		c.Byzantine = c.Byzantine[:(m-1)/3]
	}
	c.Crashes = c.Crashes[:0]
	for _, cr := range sc.Crashes {
		if id, ok := remap(cr.Node); ok {
			cr.Node = id
			c.Crashes = append(c.Crashes, cr)
		}
	}
	for len(c.Crashes) > 0 && len(c.Byzantine)+replicaCrashes(c.Crashes, m) > (m-1)/3 {
		c.Crashes = c.Crashes[:len(c.Crashes)-1]
	}
	c.Network.Links = nil
	c.Network.Partitions = nil
	clients := sc.Workload.Clients
	if clients == 0 {
		clients = 2 // the default
	}
	keepNodes(&c, m+clients, remap)
	// Adversarial rules stay with the removed replicas left out of their
	// node lists (a rule whose list empties is dropped).
	ids := func(xs []int) ([]int, bool) {
		if len(xs) == 0 {
			return nil, true
		}
		var out []int
		for _, x := range xs {
			if id, ok := remap(x); ok {
				out = append(out, id)
			}
		}
		return out, len(out) > 0
	}
	c.Adversary = c.Adversary[:0]
	for _, r := range sc.Adversary {
		from, ok1 := ids(r.From)
		to, ok2 := ids(r.To)
		if ok1 && ok2 {
			r.From, r.To = from, to
			c.Adversary = append(c.Adversary, r)
		}
	}
	return c
}

func replicaCrashes(cs []scenarios.Crash, n int) int {
	k := 0
	for _, c := range cs {
		if c.Node < n {
			k++
		}
	}
	return k
}

// clone deep-copies the parts of a scenario that Shrinks edits.
func clone(sc scenarios.Scenario) scenarios.Scenario {
	c := sc
	c.Byzantine = slices.Clone(sc.Byzantine)
	for i := range c.Byzantine {
		if sc.Byzantine[i].Params != nil {
			p := make(map[string]string, len(sc.Byzantine[i].Params))
			for k, v := range sc.Byzantine[i].Params {
				p[k] = v
			}
			c.Byzantine[i].Params = p
		}
	}
	c.Crashes = slices.Clone(sc.Crashes)
	c.Workload.Issued = slices.Clone(sc.Workload.Issued)
	c.TimerFires = slices.Clone(sc.TimerFires)
	c.Clocks = slices.Clone(sc.Clocks)
	for i := range c.Clocks {
		c.Clocks[i].Jumps = slices.Clone(sc.Clocks[i].Jumps)
	}
	c.Network.NodeBandwidth = slices.Clone(sc.Network.NodeBandwidth)
	c.Network.NodeIngress = slices.Clone(sc.Network.NodeIngress)
	c.Adversary = slices.Clone(sc.Adversary)
	c.Network.Links = slices.Clone(sc.Network.Links)
	c.Network.Partitions = slices.Clone(sc.Network.Partitions)
	return c
}

// reseeds is how many other seeds Shrink tries for a scenario with at most
// 5 requests or 4 replicas when the failure's own seed needs more.
const reseeds = 8

// Shrink shrinks a failing scenario, up to maxSteps accepted steps and
// maxRuns calls of fails by its reducing passes (plus up to searchRuns by
// its search pass, below). It alternates two passes until neither
// makes progress: a greedy pass that repeatedly takes the first candidate
// of Shrinks for which fails still returns true, and a workload pass that
// searches the fewest requests that still fail (delta debugging over the
// workload: the greedy pass stops at the first halving that no longer
// fails, and a failure needing, say, its first 3 of 60 requests keeps 30).
// Each pass has its own share of maxRuns, so a long greedy pass does not
// starve the workload pass. When 1..5 requests (or 4 replicas) do not fail
// under the scenario's seed, they are tried under the next reseeds seeds:
// a shrunk scenario is a different but reproducible run anyway, and a
// failure that needs a race may need many requests under one seed only.
// When these reducing passes stop above the target size (targetN replicas,
// targetRequests requests), a search pass looks for a failing scenario
// of the target size near the original failure (see searchCandidate), and
// the reducing passes go on from the one it finds.
func Shrink(sc scenarios.Scenario, fails func(scenarios.Scenario) bool, maxSteps, maxRuns int) (scenarios.Scenario, int) {
	return shrink(sc, fails, maxSteps, maxRuns, true)
}

// shrink is Shrink, with its search pass switched off when search is false
// (tests show what the pass adds).
func shrink(sc scenarios.Scenario, fails func(scenarios.Scenario) bool, maxSteps, maxRuns int, search bool) (scenarios.Scenario, int) {
	orig := clone(sc)
	steps, runs := 0, 0
	try := func(c scenarios.Scenario) bool {
		if runs >= maxRuns || steps >= maxSteps {
			return false
		}
		runs++
		if fails(c) {
			steps++
			return true
		}
		return false
	}
	greedy := func(budget int) bool {
		stop := min(maxRuns, runs+budget)
		any := false
		for steps < maxSteps && runs < stop {
			progressed := false
			for _, c := range Shrinks(sc) {
				if runs >= stop {
					break
				}
				if try(c) {
					sc, progressed, any = c, true, true
					break
				}
			}
			if !progressed {
				break
			}
		}
		return any
	}
	workload := func() bool {
		// The smallest failing request count below the current one,
		// first as a prefix of the same workload under the same seed
		// (1..5, then a binary search between the largest count known
		// to pass and the current, failing one), then redrawn: 1..5
		// requests under this seed and a few others, and a binary
		// search over redrawn workloads.
		r := sc.Workload.Requests
		// search tries counts from few+1 (1..5 first), then bisects.
		search := func(with func(int) scenarios.Scenario, few int) bool {
			lo := min(few, r-1) // largest count known not to fail
			for m := few + 1; m <= 5 && m < r; m++ {
				if c := with(m); c.Validate() == nil && try(c) {
					sc = c
					return true
				}
				lo = m
			}
			hi, any := r, false
			for hi-lo > 1 && runs < maxRuns && steps < maxSteps {
				m := lo + (hi-lo)/2
				if c := with(m); c.Validate() == nil && try(c) {
					sc, hi, any = c, m, true
				} else {
					lo = m
				}
			}
			return any
		}
		if search(func(m int) scenarios.Scenario { return prefix(sc, m) }, 0) {
			return true
		}
		for m := 1; m <= 5 && m < r; m++ {
			if c := redraw(sc, m); c.Validate() == nil && try(c) {
				sc = c
				return true
			}
		}
		// A failure that needs a race (a reply arriving first, a timer
		// firing between two messages) may need many requests under this
		// seed only: the same shape under a few other seeds.
		for k := uint64(1); k <= reseeds && r > 5; k++ {
			for m := 1; m <= 5; m++ {
				c := redraw(sc, m)
				c.Seed = sc.Seed + k
				if c.Validate() == nil && try(c) {
					sc = c
					return true
				}
			}
		}
		return search(func(m int) scenarios.Scenario { return redraw(sc, m) }, 5)
	}
	replicas := func() bool {
		// Fewer replicas under a few other seeds, for the same reason:
		// 4, then each smaller 3f+1 (one fewer faulty replica tolerated
		// at a time), fewest first.
		for m := 4; m < sc.N; m += 3 {
			for k := uint64(1); k <= reseeds; k++ {
				c := withN(sc, m)
				c.Seed = sc.Seed + k
				if c.Validate() == nil && try(c) {
					sc = c
					return true
				}
			}
		}
		return false
	}
	both := func() bool {
		// Four replicas and at most 5 requests at once, under more seeds:
		// the two passes above each keep the other dimension, and a
		// failure may need a race that the small shape reaches only
		// under some seeds.
		if sc.N <= 4 && sc.Workload.Requests <= 5 {
			return false
		}
		for k := uint64(1); k <= 2*reseeds; k++ {
			for _, m := range []int{5, 3} {
				c := sc
				if sc.N > 4 {
					c = withN(sc, 4)
				} else {
					c = clone(sc)
				}
				if m < c.Workload.Requests {
					c = redraw(c, m)
				}
				c.Seed = sc.Seed + k
				if c.Validate() == nil && try(c) {
					sc = c
					return true
				}
			}
		}
		return false
	}
	// The search pass (see searchCandidate) runs once, when the reducing
	// passes stop (or their rounds run out) above the target size, with up
	// to searchRuns runs of its own; the reducing passes then go on from
	// what it found (they had dropped faults that the smaller workload
	// needs: a candidate keeps them, and the passes drop again what it
	// does not need).
	searched := !search
	searchPass := func() bool {
		searched = true
		if small(sc) || steps >= maxSteps {
			return false
		}
		before, reduceRuns := runs, maxRuns
		maxRuns = runs + searchRuns
		defer func() { maxRuns = reduceRuns + runs - before }()
		for k := 0; runs < maxRuns && k < 4*searchRuns; k++ {
			if c := searchCandidate(candidateRand(orig.Seed, k), orig, sc, k); searchable(c) && try(c) {
				sc = c
				for again := true; again; {
					again = false
					for _, x := range relax(sc, orig) {
						if searchable(x) && try(x) {
							sc, again = x, true
							break
						}
					}
				}
				return true
			}
		}
		return false
	}
	for round := 0; ; round++ {
		// The greedy pass may use up to 3/4 of what is left, the
		// workload pass what it needs (a binary search: a few runs).
		g := greedy(max(1, (maxRuns-runs)*3/4))
		w := workload()
		n := replicas()
		if progress := g || w || n || both(); progress && round != 3 && round < 7 {
			continue
		}
		if searched || !searchPass() {
			break
		}
	}
	return sc, steps
}
