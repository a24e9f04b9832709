package properties

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/byzantine"
)

// guide is the state of a coverage-guided search: the corpus of cases that
// reached a new (probe, view) combination, and the combinations seen.
type guide struct {
	r      *rand.Rand
	corpus []scenarios.Scenario
	seen   map[string]bool
}

// maxCorpus bounds the corpus (the oldest entries stay: they found the
// first combinations).
const maxCorpus = 256

func newGuide(seed uint64) *guide {
	return &guide{r: rand.New(rand.NewPCG(seed, 0x4755494445)), seen: map[string]bool{}}
}

// next returns case i: a fresh swarm case, or half the time (once the
// corpus is not empty) a mutation of a corpus case.
func (g *guide) next(i int, seed uint64, gc GenConfig) scenarios.Scenario {
	if len(g.corpus) == 0 || g.r.IntN(2) == 0 {
		return CaseScenario(seed, i, gc)
	}
	base := g.corpus[g.r.IntN(len(g.corpus))]
	for try := 0; try < 4; try++ {
		c := Mutate(g.r, base, seed*1000003+uint64(i)+1)
		if cfg, err := c.Config(); err == nil {
			if ok, _ := WithinFaultModel(cfg); ok {
				return c
			}
		}
	}
	return CaseScenario(seed, i, gc)
}

// observe adds sc to the corpus if its run reached a combination not seen
// before. Keys are visited in sorted order so that the corpus does not
// depend on map order.
func (g *guide) observe(sc scenarios.Scenario, c *ProbeCounter) {
	var fresh bool
	keys := make([]string, 0, len(c.Keys))
	for k := range c.Keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !g.seen[k] {
			g.seen[k], fresh = true, true
		}
	}
	if fresh && len(g.corpus) < maxCorpus {
		g.corpus = append(g.corpus, clone(sc))
	}
}

// Mutate returns a small random change of sc with the given seed: another
// seed only, a timeout halved or doubled, a network rule added (a drop or
// delay of one message type before GST), a crash and recovery added, a
// Byzantine replica's strategy redrawn, or more or fewer requests. The
// result may fall outside the fault model; callers check.
func Mutate(r *rand.Rand, sc scenarios.Scenario, seed uint64) scenarios.Scenario {
	c := clone(sc)
	c.Seed = seed
	if !strings.HasPrefix(c.Description, "mutated: ") {
		c.Description = "mutated: " + c.Description
	}
	n := max(c.N, 4)
	switch r.IntN(7) {
	case 0: // another seed only
	case 1:
		if c.Protocol.ViewChangeTimeout > 0 {
			c.Protocol.ViewChangeTimeout = max(time.Millisecond, scale(r, c.Protocol.ViewChangeTimeout))
		}
	case 2:
		if c.Protocol.ClientTimeout > 0 {
			c.Protocol.ClientTimeout = max(time.Millisecond, scale(r, c.Protocol.ClientTimeout))
		}
	case 3:
		if c.Network.GST == 0 {
			c.Network.GST, c.Network.Delta = time.Second, 10*time.Millisecond
		}
		types := []string{"PRE-PREPARE", "PREPARE", "COMMIT", "CHECKPOINT", "VIEW-CHANGE", "NEW-VIEW", "REPLY", "STATE"}
		rule := scenarios.NetRule{Types: []string{types[r.IntN(len(types))]}, To: []int{r.IntN(n)}}
		if r.IntN(2) == 0 {
			rule.Drop = 1
		} else {
			rule.Delay = time.Duration(1+r.IntN(300)) * time.Millisecond
		}
		c.Adversary = append(c.Adversary, rule)
	case 4:
		id := r.IntN(n)
		at := time.Duration(r.IntN(1000)) * time.Millisecond
		c.Crashes = append(c.Crashes, scenarios.Crash{Node: id, At: at, Recover: at + time.Duration(1+r.IntN(1000))*time.Millisecond})
		slices.SortStableFunc(c.Crashes, func(a, b scenarios.Crash) int { return a.Node - b.Node })
	case 5:
		if len(c.Byzantine) > 0 {
			k := r.IntN(len(c.Byzantine))
			names := byzantine.Names()
			name := names[r.IntN(len(names))]
			c.Byzantine[k].Strategy = name
			c.Byzantine[k].Params = drawParams(r, name, c.Byzantine[k].Replica, n, max(c.Workload.Clients, 1))
		}
	case 6:
		if r.IntN(2) == 0 && c.Workload.Requests > max(c.Workload.Clients, 1) {
			c.Workload.Requests--
		} else {
			c.Workload.Requests += 1 + r.IntN(5)
		}
	}
	return c
}

// scale halves or doubles d.
func scale(r *rand.Rand, d time.Duration) time.Duration {
	if r.IntN(2) == 0 {
		return d / 2
	}
	return d * 2
}
