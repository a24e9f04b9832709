package properties

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// ProbeCounter is a sim.Sink that counts the coverage probes replicas
// report (pbft.Probe), by probe and by (probe, view) combination.
type ProbeCounter struct {
	// Hits counts each probe's reports.
	Hits map[string]uint64
	// Keys counts each (probe, view) combination (views above 3 count as
	// "v3+"), the coverage the guided search steers by.
	Keys map[string]uint64
}

// NewProbeCounter returns an empty counter.
func NewProbeCounter() *ProbeCounter {
	return &ProbeCounter{Hits: map[string]uint64{}, Keys: map[string]uint64{}}
}

// Wants implements sim.KindSink: only node events.
func (c *ProbeCounter) Wants(k sim.RecordKind) bool { return k == sim.RecEvent }

// Record implements sim.Sink.
func (c *ProbeCounter) Record(r *sim.Record) {
	p, ok := r.Event.(*pbft.Probe)
	if !ok {
		return
	}
	c.Hits[p.Path]++
	c.Keys[probeKey(p)]++
}

// Reset empties the counter for another run.
func (c *ProbeCounter) Reset() {
	clear(c.Hits)
	clear(c.Keys)
}

func probeKey(p *pbft.Probe) string {
	v := fmt.Sprintf("v%d", p.View)
	if p.View > 3 {
		v = "v3+"
	}
	return p.Path + "/" + v
}

// ProbeStat is one probe's total over a search.
type ProbeStat struct {
	Probe string `json:"probe"`
	Hits  uint64 `json:"hits"`  // reports in all cases
	Cases int    `json:"cases"` // cases that reported it at least once
}

// ProbeTally sums probe counts over the cases of a search.
type ProbeTally struct {
	hits  map[string]uint64
	cases map[string]int
}

// Add adds one case's counts.
func (t *ProbeTally) Add(c *ProbeCounter) {
	if t.hits == nil {
		t.hits, t.cases = map[string]uint64{}, map[string]int{}
	}
	for name, n := range c.Hits { // sums: the order does not matter
		t.hits[name] += n
		t.cases[name]++
	}
}

// Stats lists every probe of pbft.ProbeNames, hit or not, in that order.
func (t *ProbeTally) Stats() []ProbeStat {
	var out []ProbeStat
	for _, name := range pbft.ProbeNames() {
		out = append(out, ProbeStat{Probe: name, Hits: t.hits[name], Cases: t.cases[name]})
	}
	return out
}

// ReachableProbes are the probes that the swarm search must reach within
// the CI budget (TestReachableProbesHit); a probe left out is one the
// generator does not reach yet.
var ReachableProbes = slices.Clone(pbft.ProbeNames())
