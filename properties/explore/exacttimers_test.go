package explore

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestExactTimersSameForAnyWorkers: with --exact-timers a state's hash
// includes its timers' time left, so two paths that reach one hash allow
// the same schedules below it, and the parallel one-pass depth-first
// search reaches exactly the one-worker states (without it the counts vary
// with the workers' timing: TestPDFSVerdictsSameAsOneWorker). The bounds
// let timers fire while other timers are pending (a view change), where
// the merged hash loses states. States with more than 4 messages in flight
// are not expanded; under -short timers expire at most twice (3 times
// otherwise) and 2 workers run once (2, 3 and 2 otherwise).
func TestExactTimersSameForAnyWorkers(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	c := Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 2, Inert: true}
	maxFlight := 4
	if !testing.Short() {
		c.Timers = 3
	}
	merged, err := prunedOnePass(c, maxFlight, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.ExactTimers = true
	one, err := prunedOnePass(c, maxFlight, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one worker: %d states (%d transitions) with timers merged by order, %d (%d) exact",
		merged.States, merged.Transitions, one.States, one.Transitions)
	if one.States <= merged.States {
		t.Errorf("exact timers reached %d states, merged %d: want more (the merged hash loses states here)", one.States, merged.States)
	}
	workers := []int{2}
	if !testing.Short() {
		workers = []int{2, 3, 2}
	}
	for _, workers := range workers {
		r, err := prunedOnePass(c, maxFlight, workers)
		if err != nil {
			t.Fatal(err)
		}
		if r.States != one.States || r.Transitions != one.Transitions {
			t.Errorf("%d workers: %d states, %d transitions; one worker: %d, %d", workers, r.States, r.Transitions, one.States, one.Transitions)
		}
	}
}
