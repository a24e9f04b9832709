package properties

import (
	"context"
	"fmt"
	"time"

	"github.com/pbftsim/pbftsim/internal/cputime"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Finding is the result of a Hunt.
type Finding struct {
	Variant string
	Seed    uint64 // the hunt's seed
	Cases   int    // scenarios run (shrinking excluded)
	// Found is false when the budget ran out without a violation.
	Found bool
	// Original is the first failing scenario; Scenario is it shrunk.
	Original    scenarios.Scenario
	Scenario    scenarios.Scenario
	ShrinkSteps int
	// Outcome is the checked run of Scenario; Violation its first violation.
	Outcome   *Outcome
	Property  string
	Violation Violation
	Elapsed   time.Duration
	// ToFirst is the wall-clock time from the start of the search to the
	// end of the first failing case (shrinking excluded).
	ToFirst time.Duration
	// CPU is the process CPU time (user plus system) the search used
	// until its first failing case, or in all when nothing was found (0
	// where the platform does not report it): on a shared host it is the
	// figure that does not depend on the load.
	CPU time.Duration
	// AlsoCorrect counts the failing cases passed over because the correct
	// protocol fails them too (a hunt for a broken variant counts only
	// failures that the variant causes).
	AlsoCorrect int
	// JudgedCounts count what the cases without a violation did not judge.
	JudgedCounts
}

// ReplayCommand is the command that reruns the finding from its replay file.
func (f *Finding) ReplayCommand(file string) string { return "pbftsim replay " + file }

// VariantNames lists the broken protocol variants, sorted.
func VariantNames() []string {
	var out []string
	for _, v := range pbft.Variants() {
		out = append(out, string(v.Name))
	}
	return out
}

// HuntConfig returns the generator a hunt for variant uses: biased toward
// the faults that expose it.
func HuntConfig(variant string) GenConfig {
	g := GenConfig{Variant: variant, MaxN: 7, MaxRequests: 6, ByzantineBias: 0.8, PrimaryBias: 0.7}
	switch pbft.Variant(variant) {
	case pbft.VariantCommitQuorum2f:
		g.Strategies = []string{"vc-stale", "conflicting-votes", "equivocate", "selective-silent"}
		g.TargetedDropBias = 0.7
	case pbft.VariantPrepare2fMinus1, pbft.VariantPrepareNoDigest, pbft.VariantAcceptSecondPP:
		g.Strategies = []string{"equivocate", "conflicting-votes", "mutate"}
		g.PrimaryBias = 0.9
	case pbft.VariantExecuteOnPrep:
		g.Strategies = []string{"equivocate", "conflicting-votes", "selective-silent", "silent", "vc-stale"}
		g.ViewChangeBias = 0.5
		g.TargetedDropBias = 0.7
	case pbft.VariantNVIgnorePrepared, pbft.VariantNVNotHighestView, pbft.VariantNVNoRecompute:
		g.Strategies = []string{"newview-drop", "vc-stale", "silent", "selective-silent"}
		g.ViewChangeBias = 0.6
		g.MinClients = 2
		g.TargetedDropBias = 0.6
	case pbft.VariantExecOutOfOrder:
		g.MinClients = 2
		g.DuplicateBias = 0.5
	case pbft.VariantClientOneReply:
		g.Strategies = []string{"lying-reply"}
	case pbft.VariantNoTimestampCheck:
		g.Strategies = []string{"mutate", "equivocate"}
		g.DuplicateBias = 0.6
	}
	return g
}

// Hunt searches scenarios for a run of variant ("" for the correct
// protocol) that breaks a property, for at most budget of wall-clock time.
// It first runs the variant's targeted scenarios (see Targeted) over a few
// seeds, then scenarios drawn by HuntConfig(variant). The first failure is
// shrunk (same property) and returned. When the budget runs out without a
// violation, the Finding has Found false. An unknown variant is an error.
func Hunt(ctx context.Context, variant string, budget time.Duration, seed uint64) (*Finding, error) {
	return HuntCases(ctx, variant, budget, 0, seed)
}

// HuntCases is Hunt that also stops after maxCases scenarios (0: no
// limit), for searches that must be the same on every machine.
func HuntCases(ctx context.Context, variant string, budget time.Duration, maxCases int, seed uint64) (*Finding, error) {
	return HuntWith(ctx, HuntSpec{Variant: variant, Budget: budget, MaxCases: maxCases, Seed: seed})
}

// HuntSpec says what HuntWith searches.
type HuntSpec struct {
	// Variant is the protocol the scenarios run ("" or "correct": the
	// correct protocol).
	Variant string
	// Search names the variant whose targeted scenarios and generator
	// bias are used (default Variant): running the correct protocol with
	// Search set to a broken variant's name checks that the search that
	// catches the variant does not flag the correct protocol.
	Search   string
	Budget   time.Duration // wall-clock budget (0: none, then MaxCases must be set)
	MaxCases int           // 0: no limit
	Seed     uint64
	// BudgetCPU makes Budget count the process's CPU time (user plus
	// system) instead of wall-clock time: on a shared host a search then
	// gets the same computing time whatever the load.
	BudgetCPU bool
	// Generic searches with the generator of check (SearchConfig) and no
	// targeted scenario: the measure of how much the search finds on a
	// variant nobody tuned it for.
	Generic bool
	// Guided (with Generic) makes the search coverage-guided (see
	// SearchOptions.Guided).
	Guided bool
	// Protocol is "" (PBFT), "hotstuff" or "chained-hotstuff": Variant and
	// Search then name that protocol's variants, and the generator is
	// check's, converted to it (GenConfig.Protocol).
	Protocol string
}

// HuntWith runs the hunt described by spec (see Hunt).
func HuntWith(ctx context.Context, spec HuntSpec) (*Finding, error) {
	hs := cluster.IsHotStuff(spec.Protocol)
	if spec.Protocol != "" && spec.Protocol != cluster.ProtocolPBFT && !hs {
		return nil, fmt.Errorf("hunt: unknown protocol %q (want one of %v)", spec.Protocol, cluster.Protocols)
	}
	parse := func(v string) error {
		if hs {
			if v == "correct" {
				return nil
			}
			_, err := hotstuff.ParseVariant(v, spec.Protocol == cluster.ProtocolChainedHotStuff)
			return err
		}
		_, err := pbft.ParseVariant(v)
		return err
	}
	variant := spec.Variant
	if err := parse(variant); err != nil {
		return nil, err
	}
	if variant == "correct" {
		variant = ""
	}
	search := spec.Search
	if search == "" {
		search = variant
	} else if err := parse(search); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if search == "correct" {
		search = ""
	}
	if spec.Budget <= 0 && spec.MaxCases <= 0 {
		return nil, fmt.Errorf("hunt: want a budget > 0 or a number of cases > 0")
	}
	seed := spec.Seed
	start := time.Now()
	cpu0, cpuOK := cputime.Process()
	if spec.BudgetCPU && !cpuOK {
		return nil, fmt.Errorf("hunt: a CPU-time budget, but this platform does not report CPU time")
	}
	cpuSince := func() time.Duration {
		c, ok := cputime.Process()
		if !ok {
			return 0
		}
		return c - cpu0
	}
	f := &Finding{Variant: variant, Seed: seed}
	spent := func() time.Duration {
		if spec.BudgetCPU {
			return cpuSince()
		}
		return time.Since(start)
	}
	expired := func() bool {
		return ctx.Err() != nil || (spec.Budget > 0 && spent() > spec.Budget) ||
			(spec.MaxCases > 0 && f.Cases >= spec.MaxCases)
	}
	targets := Targeted(search)
	gc := HuntConfig(search)
	if hs {
		targets = HotStuffTargeted(search, spec.Protocol)
		gc = SearchConfig()
		gc.Protocol = spec.Protocol
	}
	if spec.Generic {
		targets = nil
		gc = SearchConfig()
		gc.Protocol = spec.Protocol
	}
	gc.Variant = variant
	const targetSeeds = 4
	chk := New(Options{}) // reused case after case
	var gd *guide
	var probes *ProbeCounter
	if spec.Guided {
		if !spec.Generic {
			return nil, fmt.Errorf("hunt: a guided hunt must be generic")
		}
		gd, probes = newGuide(seed), NewProbeCounter()
	}
	for i := 0; !expired(); i++ {
		var sc scenarios.Scenario
		if i < len(targets)*targetSeeds {
			sc = clone(targets[i%len(targets)])
			// Round 0 keeps a targeted scenario's own seed (if any).
			if round := uint64(i / len(targets)); round > 0 || sc.Seed == 0 {
				sc.Seed = seed + round
			}
			sc.Protocol.Variant = variant
		} else if gd != nil {
			sc = gd.next(i, seed, gc)
		} else {
			sc = CaseScenario(seed, i, gc)
		}
		f.Cases++
		ro := RunOptions{Liveness: true, StopOnViolation: true, Reuse: chk}
		if probes != nil {
			probes.Reset()
			ro.Sinks = []sim.Sink{probes}
		}
		o, err := RunScenario(sc, ro)
		if err != nil {
			return nil, fmt.Errorf("hunt case %d: %w", i, err)
		}
		if gd != nil {
			gd.observe(sc, probes)
		}
		if !o.Failed() {
			f.Count(o)
			continue
		}
		if variant != "" && CorrectAlsoFails(sc) {
			f.AlsoCorrect++
			continue
		}
		first, firstCPU := time.Since(start), cpuSince()
		g := shrinkFinding(ctx, o, seed, variant)
		g.CPU = firstCPU
		g.Cases = f.Cases
		g.AlsoCorrect = f.AlsoCorrect
		g.Elapsed = time.Since(start)
		g.ToFirst = first
		return g, nil
	}
	f.Elapsed = time.Since(start)
	f.CPU = cpuSince()
	return f, nil
}

// SearchConfig is the generator of check and of the generic hunt: swarm
// testing (GenerateSwarm), the same for every variant.
func SearchConfig() GenConfig { return GenConfig{Swarm: true} }

// HuntRow is one line of the hunt table (HuntAll): how the search did on
// one variant.
type HuntRow struct {
	Variant string `json:"variant"`
	Found   bool   `json:"found"`
	// Cases run until the first violation (or in the whole budget when
	// not found); Seconds of wall-clock time to the first violation (or
	// the whole search).
	Cases   int     `json:"cases"`
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the process CPU time of the same span (user plus
	// system; 0 where not reported).
	CPUSeconds float64 `json:"cpu_seconds"`
	// Property is the first violated property of the shrunk run.
	Property string `json:"property,omitempty"`
	// Shrunk size: replicas, faulty replicas (Byzantine or crashed),
	// client requests and trace records of the shrunk run.
	N            int    `json:"n,omitempty"`
	Faulty       int    `json:"faulty"`
	Requests     int    `json:"requests,omitempty"`
	TraceRecords uint64 `json:"trace_records,omitempty"`
	ShrinkSteps  int    `json:"shrink_steps,omitempty"`
	// AlsoCorrect counts failing cases passed over because the correct
	// protocol fails them too.
	AlsoCorrect int `json:"also_correct"`
	// Seed is the search seed.
	Seed uint64 `json:"seed"`
	// Guided* are the same search coverage-guided (hunt --all --guided).
	GuidedFound   bool    `json:"guided_found,omitempty"`
	GuidedCases   int     `json:"guided_cases,omitempty"`
	GuidedSeconds float64 `json:"guided_seconds,omitempty"`
	// Finding is the hunt's result (not in the JSON).
	Finding *Finding `json:"-"`
}

// Row summarises a finding as a hunt-table row.
func (f *Finding) Row() HuntRow {
	r := HuntRow{Variant: f.Variant, Found: f.Found, Cases: f.Cases, Seed: f.Seed, Finding: f, AlsoCorrect: f.AlsoCorrect,
		CPUSeconds: f.CPU.Seconds()}
	if r.Variant == "" {
		r.Variant = "correct"
	}
	if !f.Found {
		r.Seconds = f.Elapsed.Seconds()
		return r
	}
	r.Seconds = f.ToFirst.Seconds()
	r.Property = f.Property
	sc := f.Scenario
	r.N = sc.N
	if r.N == 0 {
		r.N = 4
	}
	faulty := map[int]bool{}
	for _, b := range sc.Byzantine {
		faulty[b.Replica] = true
	}
	for _, c := range sc.Crashes {
		if c.Node < r.N {
			faulty[c.Node] = true
		}
	}
	r.Faulty = len(faulty)
	r.Requests = sc.Workload.Requests
	r.TraceRecords = traceRecords(sc)
	r.ShrinkSteps = f.ShrinkSteps
	return r
}

// HuntAllSpec says what HuntAll searches.
type HuntAllSpec struct {
	Budget   time.Duration // per variant
	MaxCases int           // per variant (0: no limit)
	Seed     uint64
	// BudgetCPU: Budget is process CPU time (see HuntSpec.BudgetCPU).
	BudgetCPU bool
	Generic   bool
	// Guided also runs each variant's search coverage-guided and reports
	// its cases and seconds beside the plain search's (Generic only).
	Guided bool
	// Variants to hunt (default every broken variant of Protocol).
	Variants []string
	// Protocol is "" (PBFT), "hotstuff" or "chained-hotstuff" (see
	// HuntSpec.Protocol).
	Protocol string
	// Progress, if set, is called with each row as it is done.
	Progress func(HuntRow)
}

// HuntAllVariants are the broken variants HuntAll hunts by default for a
// protocol.
func HuntAllVariants(protocol string) []string {
	if cluster.IsHotStuff(protocol) {
		return HotStuffVariantNames(protocol)
	}
	return VariantNames()
}

// HuntAll hunts every variant in turn (one at a time, so that the seconds
// of a row are those of one search on an otherwise idle core) and returns
// one row each, in VariantNames order.
func HuntAll(ctx context.Context, spec HuntAllSpec) ([]HuntRow, error) {
	vs := spec.Variants
	if len(vs) == 0 {
		vs = HuntAllVariants(spec.Protocol)
	}
	var rows []HuntRow
	for _, v := range vs {
		if ctx.Err() != nil {
			return rows, ctx.Err()
		}
		f, err := HuntWith(ctx, HuntSpec{Variant: v, Budget: spec.Budget, BudgetCPU: spec.BudgetCPU, MaxCases: spec.MaxCases, Seed: spec.Seed, Generic: spec.Generic, Protocol: spec.Protocol})
		if err != nil {
			return rows, fmt.Errorf("variant %s: %w", v, err)
		}
		row := f.Row()
		if spec.Guided {
			g, err := HuntWith(ctx, HuntSpec{Variant: v, Budget: spec.Budget, BudgetCPU: spec.BudgetCPU, MaxCases: spec.MaxCases, Seed: spec.Seed, Generic: true, Guided: true, Protocol: spec.Protocol})
			if err != nil {
				return rows, fmt.Errorf("variant %s (guided): %w", v, err)
			}
			gr := g.Row()
			row.GuidedFound, row.GuidedCases, row.GuidedSeconds = gr.Found, gr.Cases, gr.Seconds
		}
		if spec.Progress != nil {
			spec.Progress(row)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// recordCounter is a sink that counts trace records.
type recordCounter struct{ n uint64 }

func (c *recordCounter) Record(*sim.Record) { c.n++ }

// traceRecords reruns sc the way the hunt ran it and counts its trace
// records (0 if it does not run).
func traceRecords(sc scenarios.Scenario) uint64 {
	c := &recordCounter{}
	if _, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true, Sinks: []sim.Sink{c}}); err != nil {
		return 0
	}
	return c.n
}
