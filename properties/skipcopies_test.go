package properties

import (
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// countingSink hands every record it gets to the checker and counts them.
// It is no sim.CopySink: the kernel passes it the copies of a multicast.
type countingSink struct {
	chk *Checker
	n   int
}

func (s *countingSink) Record(r *sim.Record)        { s.n++; s.chk.Record(r) }
func (s *countingSink) Wants(k sim.RecordKind) bool { return s.chk.Wants(k) }

// copySkipper is countingSink as a sim.CopySink that skips copies, as the
// checker itself is.
type copySkipper struct{ countingSink }

func (s *copySkipper) SkipsCopies() bool { return s.chk.SkipsCopies() }

// runCopies runs sc with a checker attached as Attach attaches it, fed the
// later copies of multicasts too (every) or not (as Attach's checker is),
// and returns the outcome and the records the checker got.
func runCopies(t *testing.T, sc scenarios.Scenario, ro RunOptions, every bool) (*Outcome, int) {
	t.Helper()
	cfg, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.WithDefaults()
	chk := attach(&cfg, ro)
	if cfg.Sinks[0] != sim.Sink(chk) {
		t.Fatal("attach did not put the checker first")
	}
	var cs *countingSink
	if every {
		cs = &countingSink{chk: chk}
		cfg.Sinks[0] = cs
	} else {
		sk := &copySkipper{countingSink{chk: chk}}
		cs = &sk.countingSink
		cfg.Sinks[0] = sk
	}
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl.Run()
	return Judge(sc, cl, chk, ro, chk.Stopped()), cs.n
}

// TestSkipCopiesSameVerdicts checks that the kernel's skipping of the
// later copies of multicasts for the checker (Checker.SkipsCopies) changes
// no verdict and no run: every variant's targeted scenarios, the built-in
// scenarios (PBFT and HotStuff) and generated ones (Byzantine replicas
// among them) give the same trace hash, violations (in detection order,
// with their times and details), accusations and judgements whether the
// checker gets the copies or not, run to the end or stopped at the first
// violation. It fails when the kernel withholds a record the checker needs
// (copies told by sender and time alone, say: a Byzantine replica's two
// different PREPAREs of one step then look like one).
func TestSkipCopiesSameVerdicts(t *testing.T) {
	cases := differentialCases(t, 11, 60, 15)
	failed, violated, skipped, all := 0, 0, 0, 0
	for _, c := range cases {
		for _, stop := range []bool{false, true} {
			ro := RunOptions{Liveness: true, StopOnViolation: stop}
			o, n := runCopies(t, c.sc, ro, false)
			if len(o.Violations) > 0 && !stop {
				violated++
			}
			oe, ne := runCopies(t, c.sc, ro, true)
			skipped, all = skipped+ne-n, all+ne
			if got, want := verdict(o), verdict(oe); got != want {
				t.Errorf("%s (stop %v): verdict without the copies of multicasts differs from the one with them:\nwithout: %s\nwith:    %s", c.name, stop, got, want)
				if failed++; failed > 3 {
					t.FailNow()
				}
			}
		}
	}
	if violated == 0 || skipped == 0 {
		t.Fatalf("%d scenarios, %d with violations, %d records skipped: the comparison judges nothing", len(cases), violated, skipped)
	}
	t.Logf("%d scenarios (%d with violations), same verdicts; the checker skipped %d of %d records", len(cases), violated, skipped, all)
}
