package explore

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// judgeFunc is the signature of Options.Check.
type judgeFunc = func(*engine.World, []engine.Record) (string, string)

// pathVerdicts is what judging every explored path to a state found.
type pathVerdicts struct {
	states, revisits int
	// violating counts the states whose first path violates a property
	// (by property); the search goes on past them.
	violating map[string]int
	// differ counts the revisiting paths whose verdict (property or none)
	// is not that of the first path to the same state hash, by "first ->
	// revisit" verdict pair; example is one such pair's details.
	differ  map[string]int
	example string
	// verdict is the first path's verdict of every state, by hash.
	verdict map[uint64]string
}

func (p *pathVerdicts) String() string {
	n := 0
	for _, k := range p.differ {
		n += k
	}
	return fmt.Sprintf("%d states, %d revisiting paths judged, %d differing verdicts %v, violating states %v",
		p.states, p.revisits, n, sortedCounts(p.differ), sortedCounts(p.violating))
}

func sortedCounts(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s:%d", k, v))
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

// judgeEveryPathN explores c on one worker (breadth-first, or the one-pass
// depth-first search with dfs), without sleep sets and not expanding states
// with more than maxFlight messages in flight (a function of the state). It
// judges every new state with judge on its first path's records, and every
// state reached again with judge on the records of the path that reached it
// again (Options.Revisit). judge's violations do not stop the search.
func judgeEveryPathN(c Config, maxFlight, maxStates int, dfs bool, judge func(cfg cluster.Config) judgeFunc) (*pathVerdicts, error) {
	c.TimerLimit = true
	m, cfg, err := c.model()
	if err != nil {
		return nil, err
	}
	prune := m.Prune
	if maxFlight > 0 {
		m.Prune = func(w *engine.World) bool { return len(w.Flight) > maxFlight || prune(w) }
	}
	chk := judge(cfg)
	pv := &pathVerdicts{violating: map[string]int{}, differ: map[string]int{}, verdict: map[uint64]string{}}
	res, err := engine.Run(m, engine.Options{
		Bounds:    engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, TimerLimit: true, Timers: c.Timers},
		DFS:       dfs,
		MaxStates: maxStates,
		Records:   true,
		Check: func(w *engine.World, recs []engine.Record) (string, string) {
			p, _ := chk(w, recs)
			pv.verdict[w.Hash()] = p
			if p != "" {
				pv.violating[p]++
			}
			return "", ""
		},
		Revisit: func(w *engine.World, recs []engine.Record) {
			pv.revisits++
			p, d := chk(w, recs)
			first, ok := pv.verdict[w.Hash()]
			if !ok {
				panic("revisit of a state never judged")
			}
			if p != first {
				k := fmt.Sprintf("%q->%q", first, p)
				if pv.differ[k] == 0 && pv.example == "" {
					pv.example = fmt.Sprintf("%s: revisit detail %q (path of %d records)", k, d, len(recs))
				}
				pv.differ[k]++
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if !res.Complete && maxStates == 0 {
		return nil, fmt.Errorf("exploration not complete: %+v", res.Stats)
	}
	pv.states = res.States
	return pv, nil
}

// pathOrderCheck is a deliberately path-dependent judge: check's verdict,
// or "path-order" when a hash of the order of its path's records (their
// kinds, senders and receivers) is odd.
func pathOrderCheck(cfg cluster.Config) judgeFunc {
	chk := check(cfg)
	return func(w *engine.World, recs []engine.Record) (string, string) {
		if p, d := chk(w, recs); p != "" {
			return p, d
		}
		h := uint64(14695981039346656037)
		for i := range recs {
			h = (h ^ uint64(recs[i].Kind)<<16 ^ uint64(recs[i].From)<<8 ^ uint64(recs[i].To)) * 1099511628211
		}
		if h>>32&1 == 1 {
			return "path-order", fmt.Sprintf("%d records", len(recs))
		}
		return "", ""
	}
}

// verdictCase is one exploration whose paths TestVerdictsPathIndependent
// judges: complete (maxStates 0) with states holding more than maxFlight
// messages in flight not expanded, or the first maxStates states of the
// unpruned depth-first search (maxFlight 0).
type verdictCase struct {
	name                 string
	c                    Config
	maxFlight, maxStates int
	violates             bool // the variant violates a property in some states, not in all
}

func verdictCases(short bool) []verdictCase {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	cases := []verdictCase{
		{name: "correct/drops=1/timers=2/inert", c: Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Timers: 2, Inert: true}, maxFlight: 5},
		{name: "correct/equivocate/views=1/timers=3/inert", c: Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 3, Inert: true}, maxFlight: 4},
		// The target's bounds (--drops 2 --byzantine 0:equivocate --views 1
		// --timers 3 --inert), unpruned, its first states.
		{name: "correct/target/first-states", c: Config{Nodes: 4, Requests: 1, Drops: 2, Byzantine: equiv, Views: 1, Timers: 3, Inert: true}, maxStates: 20_000},
		{name: "prepare-2f-minus-1/equivocate/timers=1/inert", c: Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 0, Timers: 1, Inert: true, Variant: "prepare-2f-minus-1"}, maxFlight: 4, violates: true},
		{name: "prepare-ignores-digest/equivocate/views=1/timers=2/inert", c: Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 2, Inert: true, Variant: "prepare-ignores-digest"}, maxFlight: 4, violates: true},
		{name: "no-timestamp-check/drops=1/views=1/timers=3", c: Config{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Timers: 3, Variant: "no-timestamp-check"}, maxStates: 20_000, violates: true},
	}
	if !short {
		cases = append(cases,
			verdictCase{name: "correct/equivocate/drops=1/views=1/timers=2", c: Config{Nodes: 4, Requests: 1, Drops: 1, Byzantine: equiv, Views: 1, Timers: 2}, maxFlight: 4},
			verdictCase{name: "commit-counts-duplicates/duplicates=1/equivocate/views=1/timers=2", c: Config{Nodes: 4, Requests: 1, Duplicates: 1, Byzantine: equiv, Views: 1, Timers: 2, Variant: "commit-counts-duplicates"}, maxFlight: 4, violates: true},
		)
		cases[2].maxStates = 300_000
	}
	return cases
}

// TestVerdictsPathIndependent: the checkers' verdict (the violated
// property, or none) of an explored state is a function of its state hash,
// not of the path that reached it, on PBFT (the correct protocol and broken
// variants, with and without inert messages discarded). The parallel
// one-pass depth-first search (pdfs.go) relies on it: which path reaches a
// state first there depends on the workers' timing, and only that path is
// judged. In a one-worker depth-first search (which goes on past
// violations), every path that reaches a known state again is judged too
// (Options.Revisit) and must get the first path's verdict. A deliberately
// path-dependent judge fails this (TestPathDependentVerdictCaught).
//
// What it does not cover: a history that reaches a state by a revisiting
// path is judged there, not continued (its subtree is explored from the
// first path only), so a history difference that changes no verdict at
// that state but would change one further on is not seen.
func TestVerdictsPathIndependent(t *testing.T) {
	for _, tc := range verdictCases(testing.Short()) {
		t.Run(tc.name, func(t *testing.T) {
			dfs, err := judgeEveryPathN(tc.c, tc.maxFlight, tc.maxStates, true, check)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("depth-first: %v", dfs)
			if dfs.revisits < dfs.states/2 {
				t.Errorf("only %d revisiting paths for %d states: too few to judge", dfs.revisits, dfs.states)
			}
			if len(dfs.differ) > 0 {
				t.Errorf("revisiting paths with another verdict than the first path to the same state: %v; e.g. %s", sortedCounts(dfs.differ), dfs.example)
			}
			nv := 0
			for _, k := range dfs.violating {
				nv += k
			}
			if tc.violates != (nv > 0 && nv < dfs.states) {
				t.Errorf("%d of %d states violate a property; want violations in some states, not all: %v", nv, dfs.states, tc.violates)
			}
		})
	}
}

// TestPathDependentVerdictCaught: the revisit measurement of
// TestVerdictsPathIndependent fails on a judge that depends on the path (a
// state is flagged by a hash of its path's order of records).
func TestPathDependentVerdictCaught(t *testing.T) {
	tc := verdictCases(true)[1]
	dfs, err := judgeEveryPathN(tc.c, tc.maxFlight, 0, true, pathOrderCheck)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("depth-first: %v", dfs)
	if len(dfs.differ) == 0 {
		t.Errorf("a path-dependent judge gives the same verdict on every revisiting path")
	}
}

// pathOrder is a hash of the records of a path: their kinds, senders,
// receivers and times.
func pathOrder(recs []engine.Record) uint64 {
	h := uint64(14695981039346656037)
	for i := range recs {
		h = (h ^ uint64(recs[i].Kind)<<16 ^ uint64(recs[i].From)<<8 ^ uint64(recs[i].To) ^ uint64(recs[i].Time)<<24) * 1099511628211
	}
	return h
}

// firstPaths explores c (complete, states with more than maxFlight messages
// in flight not expanded) with the one-pass depth-first search on workers
// goroutines and returns, by state hash, the checkers' verdict and
// pathOrder of the path that first reached the state.
func firstPaths(c Config, maxFlight, workers int) (verdict map[uint64]string, order map[uint64]uint64, err error) {
	c.TimerLimit = true
	m, cfg, err := c.model()
	if err != nil {
		return nil, nil, err
	}
	prune := m.Prune
	m.Prune = func(w *engine.World) bool { return len(w.Flight) > maxFlight || prune(w) }
	verdict, order = map[uint64]string{}, map[uint64]uint64{}
	var mu sync.Mutex
	newCheck := func() judgeFunc {
		chk := check(cfg)
		return func(w *engine.World, recs []engine.Record) (string, string) {
			p, _ := chk(w, recs)
			h, o := w.Hash(), pathOrder(recs)
			mu.Lock()
			verdict[h], order[h] = p, o
			mu.Unlock()
			return "", ""
		}
	}
	res, err := engine.Run(m, engine.Options{
		Bounds:   engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, TimerLimit: true, Timers: c.Timers},
		DFS:      true,
		Workers:  workers,
		Records:  true,
		Check:    newCheck(),
		NewCheck: newCheck,
	})
	if err == nil && !res.Complete {
		err = fmt.Errorf("exploration not complete: %+v", res.Stats)
	}
	return verdict, order, err
}

// TestPDFSVerdictsSameAsOneWorker: the parallel one-pass depth-first search
// (2 and 3 workers) reaches states first by other paths than one worker
// does (which path depends on the workers' timing), and every state both
// reach gets the one-worker verdict. The count of states reached first by
// another path (records' kinds, nodes or times) must be > 0, or the verdict
// comparison would be vacuous.
//
// Known and only logged (not asserted; see the pathverdict report): the
// state SETS may differ. The state hash leaves out how far the earliest
// timer deadline is from Now (canStep), revisiting paths of one worker
// reach a known state with another slack (4,331 of 21,865 revisits on the
// equivocate/views=1/timers=3 case), and the subtree explored from a state
// depends on the slack of the path that first reached it; with 2 or 3
// workers that path differs, and that case reached 25,040 to 26,614 states
// (varying from run to run) where one worker reaches 25,040.
func TestPDFSVerdictsSameAsOneWorker(t *testing.T) {
	for _, tc := range verdictCases(true) {
		if tc.maxStates > 0 {
			continue // a partial search covers states that depend on the order
		}
		t.Run(tc.name, func(t *testing.T) {
			v1, o1, err := firstPaths(tc.c, tc.maxFlight, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{2, 3} {
				vn, on, err := firstPaths(tc.c, tc.maxFlight, workers)
				if err != nil {
					t.Fatal(err)
				}
				both, otherPath, only1, onlyN := 0, 0, 0, 0
				differ := map[string]int{}
				for h, v := range v1 {
					w, ok := vn[h]
					if !ok {
						only1++
						continue
					}
					both++
					if w != v {
						differ[fmt.Sprintf("%q->%q", v, w)]++
					}
					if o1[h] != on[h] {
						otherPath++
					}
				}
				onlyNViolating := 0
				for h, v := range vn {
					if _, ok := v1[h]; !ok {
						onlyN++
						if v != "" {
							onlyNViolating++
						}
					}
				}
				t.Logf("%d workers: %d states reached by both, %d of them first by another path; %d states only by one worker, %d only by %d (%d violating; not asserted)",
					workers, both, otherPath, only1, onlyN, workers, onlyNViolating)
				if len(differ) > 0 {
					t.Errorf("%d workers: states judged otherwise than by one worker: %s", workers, sortedCounts(differ))
				}
				if otherPath == 0 {
					t.Errorf("%d workers reach every state first by the one-worker path: the verdict comparison is vacuous", workers)
				}
			}
		})
	}
}
