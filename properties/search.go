package properties

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// CaseScenario is scenario number i of the search with seed: the same
// (seed, i, g) always gives the same scenario.
func CaseScenario(seed uint64, i int, g GenConfig) scenarios.Scenario {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	sc := Generate(r, seed*1000003+uint64(i)+1, g)
	if cluster.IsHotStuff(g.Protocol) {
		sc = hotstuffCase(sc, r, g.Protocol)
	}
	return sc
}

// SearchOptions configures Search.
type SearchOptions struct {
	// Runs stops after this many cases; Budget after this much wall-clock
	// time. At least one of them must be positive.
	Runs   int
	Budget time.Duration
	Seed   uint64
	Gen    GenConfig
	// Workers run cases in parallel (default GOMAXPROCS).
	Workers int
	// Guided keeps a corpus of the cases that reached a new (probe, view)
	// combination and draws half the cases as mutations of corpus cases
	// (coverage-guided search); it runs one worker.
	Guided bool
	// Progress, if set, is called after each case from one goroutine at a time.
	Progress func(done int, elapsed time.Duration)
}

// SearchReport is the result of Search.
type SearchReport struct {
	Cases   int
	Elapsed time.Duration
	// Failure is the lowest-numbered failing case, shrunk (nil if none).
	Failure *Finding
	// JudgedCounts count what the cases without a violation did not judge.
	JudgedCounts
	// Probes are the coverage probes the cases reached (every probe of
	// pbft.ProbeNames, with zero counts for the ones never hit).
	Probes []ProbeStat
	// Corpus and Coverage are, for a guided search, the cases kept and
	// the (probe, view) combinations reached.
	Corpus, Coverage int
}

// JudgedCounts count, over runs without a violation, what they did not
// judge: per property (liveness outside the fault model or in a run too
// short for its bound, ...), the runs in which no correct replica executed
// a request, and the runs stopped by their budget.
type JudgedCounts struct {
	NotJudged map[string]int
	Vacuous   int
	Budget    int
}

// Count adds the judgements of o, a run without a violation.
func (jc *JudgedCounts) Count(o *Outcome) {
	for _, j := range o.NotJudged() {
		if jc.NotJudged == nil {
			jc.NotJudged = map[string]int{}
		}
		jc.NotJudged[j.Property]++
	}
	if o.Vacuous() {
		jc.Vacuous++
	}
	if o.BudgetExceeded() != "" {
		jc.Budget++
	}
}

// JudgedSummary says in one line what the cases without a violation
// judged, e.g. "no violation in 500 cases; liveness not judged in 69
// (outside the fault model, or the run ended before its bound)".
func (r *SearchReport) JudgedSummary() string { return r.JudgedCounts.Summary(r.Cases) }

// Summary is JudgedSummary for n runs.
func (jc *JudgedCounts) Summary(n int) string {
	s := fmt.Sprintf("no violation in %d cases", n)
	if notes := jc.Notes(); notes != "" {
		return s + "; " + notes
	}
	return s + ": every property judged in every case"
}

// Notes lists what was not judged, or "" when everything was.
func (jc *JudgedCounts) Notes() string {
	var notes []string
	for _, p := range SafetyProperties {
		if k := jc.NotJudged[p]; k > 0 {
			notes = append(notes, fmt.Sprintf("%s not judged in %d", p, k))
		}
	}
	if k := jc.NotJudged[Liveness]; k > 0 {
		notes = append(notes, fmt.Sprintf("liveness not judged in %d (outside the fault model, or the run ended before its bound)", k))
	}
	if jc.Vacuous > 0 {
		notes = append(notes, fmt.Sprintf("%d executed nothing", jc.Vacuous))
	}
	if jc.Budget > 0 {
		notes = append(notes, fmt.Sprintf("%d stopped by their budget", jc.Budget))
	}
	return strings.Join(notes, "; ")
}

// Rate is cases per second.
func (r *SearchReport) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Cases) / r.Elapsed.Seconds()
}

// Search runs generated scenarios (CaseScenario) with safety and liveness
// checkers until Runs cases, Budget or the first failure. A failure is
// shrunk like a Hunt finding. Errors building a scenario are returned.
func Search(ctx context.Context, o SearchOptions) (*SearchReport, error) {
	if o.Runs <= 0 && o.Budget <= 0 {
		return nil, fmt.Errorf("search: want runs > 0 or a budget > 0")
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	var (
		mu       sync.Mutex
		next     int
		done     int
		failIdx  = -1
		failOut  *Outcome
		firstErr error
		counts   JudgedCounts // what the cases without a violation did not judge
		tally    ProbeTally
		guide    *guide
	)
	if o.Guided {
		workers = 1 // the corpus grows case after case: one order
		guide = newGuide(o.Seed)
	}
	stop := func() bool {
		if ctx.Err() != nil || (o.Budget > 0 && time.Since(start) > o.Budget) {
			return true
		}
		return firstErr != nil || (o.Runs > 0 && next >= o.Runs) || (failIdx >= 0 && next > failIdx)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chk := New(Options{}) // reused case after case
			probes := NewProbeCounter()
			for {
				mu.Lock()
				if stop() {
					mu.Unlock()
					return
				}
				i := next
				next++
				var sc scenarios.Scenario
				if guide != nil {
					sc = guide.next(i, o.Seed, o.Gen)
				} else {
					sc = CaseScenario(o.Seed, i, o.Gen)
				}
				mu.Unlock()
				probes.Reset()
				out, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true, Reuse: chk, Sinks: []sim.Sink{probes}})
				mu.Lock()
				done++
				tally.Add(probes)
				if guide != nil && err == nil {
					guide.observe(sc, probes)
				}
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = fmt.Errorf("case %d: %w", i, err)
					}
				case out.Failed() && (failIdx < 0 || i < failIdx):
					failIdx, failOut = i, out
				case !out.Failed():
					counts.Count(out)
				}
				if o.Progress != nil {
					o.Progress(done, time.Since(start))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep := &SearchReport{Cases: done, Elapsed: time.Since(start), JudgedCounts: counts, Probes: tally.Stats()}
	if guide != nil {
		rep.Corpus, rep.Coverage = len(guide.corpus), len(guide.seen)
	}
	if firstErr != nil {
		return rep, firstErr
	}
	if failOut != nil {
		rep.Failure = shrinkFinding(ctx, failOut, o.Seed, o.Gen.Variant)
		rep.Failure.Cases = done
	}
	return rep, nil
}

// shrinkFinding shrinks a failing outcome (the same failure, see
// sameFailure) into a Finding. For a broken variant, a candidate must also
// pass on the correct protocol (see CorrectAlsoFails), so that the shrunk
// run shows the variant's bug.
func shrinkFinding(ctx context.Context, o *Outcome, seed uint64, variant string) *Finding {
	start := time.Now()
	prop := o.Property()
	best := o
	shrunk, steps := Shrink(o.Scenario, func(c scenarios.Scenario) bool {
		if ctx.Err() != nil {
			return false
		}
		oc, err := RunScenario(c, RunOptions{Liveness: true, StopOnViolation: true})
		if err != nil || !oc.Failed() || !sameFailure(oc.Property(), prop) {
			return false
		}
		if variant != "" && CorrectAlsoFails(c) {
			return false
		}
		best = oc
		return true
	}, 40, 300)
	if shrunk.Description != o.Scenario.Description && steps > 0 {
		shrunk.Description = "shrunk in " + fmt.Sprint(steps) + " steps from " + o.Scenario.Description
	} else if steps > 0 && strings.Contains(shrunk.Description, KnobsPrefix) {
		shrunk.Description = "shrunk in " + fmt.Sprint(steps) + " steps from " + shrunk.Description
	}
	best.Scenario.Description = shrunk.Description
	return &Finding{Variant: variant, Seed: seed, Found: true, Original: o.Scenario, Scenario: shrunk,
		ShrinkSteps: steps, Outcome: best, Property: best.Property(), Violation: best.Violations[0], Elapsed: time.Since(start)}
}

// sameFailure reports whether a shrink candidate that violates property
// got shows the failure of property want: the same property, or another
// judgement of the same fact. That a replica configured as correct signed
// what a correct replica never signs is judged by preprepare-once and
// prepare-once (two conflicting PRE-PREPAREs or PREPAREs for one (v, n))
// and by accountability (its signed messages contradict each other: the
// same two, or a VIEW-CHANGE that omits what its own COMMIT proves it had
// prepared); which one fails first depends on the schedule (a recovered
// replica that forgot its log shows one or the other). That a request
// waited too long is judged by liveness (the whole-run bound after GST)
// and timeliness (one backup's request timer in one view): a workload that
// must outlast the liveness bound may show as a timer overrun with a few
// requests. Other properties stay themselves.
func sameFailure(got, want string) bool {
	family := func(p string) int {
		switch p {
		case PrePrepareOnce, PrepareOnce, Accountability:
			return 1
		case Liveness, Timeliness:
			return 2
		}
		return 0
	}
	return got == want || family(got) != 0 && family(got) == family(want)
}

// CorrectAlsoFails reports whether sc, run on the correct protocol instead
// of its variant, violates a property too: then a failure of the variant
// on sc is not evidence of the variant's bug (it may be a bug of the
// correct protocol, or a scenario outside what the checkers can judge).
func CorrectAlsoFails(sc scenarios.Scenario) bool {
	c := clone(sc)
	c.Protocol.Variant = ""
	o, err := RunScenario(c, RunOptions{Liveness: true, StopOnViolation: true})
	return err != nil || o.Failed()
}
