package experiment

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
)

// Triage is the triage of a sweep file's failing seeds, ready to run
// (pbftsim triage).
type Triage struct {
	file    string
	out     string
	swarm   bool
	base    *scenarios.Scenario
	failing []properties.FailingSeed
}

// NewTriage reads the failing seeds of the sweep file (a sweep, a swarm
// sweep, a merge or an interrupted sweep's partial file), loads its
// scenario and creates out, the folder of the replay files.
func NewTriage(file, out string) (*Triage, error) {
	if out == "" {
		return nil, badField("out", "--out: want the directory for the replay files, e.g. --out findings")
	}
	h, failing, err := sweep.ReadFailing(file)
	if err != nil {
		return nil, bad(err)
	}
	t := &Triage{file: file, out: out, swarm: h.Swarm}
	if !h.Swarm {
		if t.base, err = scenarios.Load(h.Scenario); err != nil {
			return nil, bad(fmt.Errorf("the sweep's scenario %q: %w", h.Scenario, err))
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, badField("out", "--out %s: %w", out, err)
	}
	t.failing = make([]properties.FailingSeed, len(failing))
	for i, r := range failing {
		t.failing[i] = properties.FailingSeed{Seed: r.Seed, Verdict: r.Verdict, Detail: r.Detail, Knobs: r.Knobs}
		if t.base != nil { // one scenario: its strategy set
			var names []string
			for _, b := range t.base.Byzantine {
				names = append(names, b.Strategy)
			}
			t.failing[i].Knobs = map[string]string{"strategies": strings.Join(names, ",")}
		}
	}
	return t, nil
}

// Failing is the number of failing seeds in the sweep file.
func (t *Triage) Failing() int { return len(t.failing) }

// Run groups the failing seeds by signature, reruns and shrinks the first
// seed of each group and writes its replay file into the out folder
// (properties.Triage).
func (t *Triage) Run(ctx context.Context) ([]properties.TriageGroup, error) {
	scenarioOf := func(seed uint64) (scenarios.Scenario, error) {
		if t.swarm {
			return properties.SwarmCase(seed), nil
		}
		sc := *t.base
		sc.Seed = seed
		return sc, nil
	}
	return properties.Triage(ctx, t.failing, scenarioOf, t.out)
}
