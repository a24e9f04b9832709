package properties

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestStopOnViolationStopsRun: with RunOptions.StopOnViolation the run of
// a variant that breaks a property ends at the checker's first violation
// (cluster.EndStopped, attach's StopWhen); without it the run goes on to
// its end, and attach leaves StopWhen unset (no call after every event).
func TestStopOnViolationStopsRun(t *testing.T) {
	sc := Targeted("client-single-reply")[0]
	sc.Seed = 3
	sc.Protocol.Variant = "client-single-reply"
	for _, tc := range []struct {
		stop        bool
		wantStopped bool
	}{
		{stop: true, wantStopped: true},
		{stop: false, wantStopped: false},
	} {
		o, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: tc.stop})
		if err != nil {
			t.Fatal(err)
		}
		if !o.Failed() {
			t.Fatalf("stop %v: client-single-reply with a fast liar should fail: %s", tc.stop, o.Summary())
		}
		if got := o.Result.Ended == cluster.EndStopped; got != tc.wantStopped {
			t.Errorf("stop %v: run ended %q, stopped by the checker %v, want %v", tc.stop, o.Result.Ended, got, tc.wantStopped)
		}
		cfg, err := sc.Config()
		if err != nil {
			t.Fatal(err)
		}
		Attach(&cfg, RunOptions{StopOnViolation: tc.stop})
		if (cfg.StopWhen != nil) != tc.stop {
			t.Errorf("stop %v: Attach set StopWhen %v", tc.stop, cfg.StopWhen != nil)
		}
	}
}
