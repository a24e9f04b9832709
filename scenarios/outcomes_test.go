package scenarios

import (
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestBuiltinOutcomes runs every built-in scenario and checks that it shows
// what its description says.
func TestBuiltinOutcomes(t *testing.T) {
	hotstuffRun := func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
		if r.Protocol != "hotstuff" {
			t.Errorf("protocol %q, want hotstuff", r.Protocol)
		}
	}
	type check func(t *testing.T, r *cluster.Result, diverged []sim.NodeID)
	views := func(min uint64) check {
		return func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.Views.Final < min {
				t.Errorf("final view %d, want at least %d", r.Views.Final, min)
			}
		}
	}
	checks := map[string]check{
		"fault-free": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.Views.Final != 0 || r.Views.Changes != 0 || r.Messages.Dropped != 0 {
				t.Errorf("views %+v, %d dropped: want view 0 and no loss", r.Views, r.Messages.Dropped)
			}
		},
		"lossy-wan": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.Messages.Dropped == 0 || r.Messages.Duplicated == 0 {
				t.Errorf("%d dropped, %d duplicated: want both > 0", r.Messages.Dropped, r.Messages.Duplicated)
			}
		},
		"partition-heal": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.LatencyNs.Max < int64(time.Second) {
				t.Errorf("max latency %v: a request submitted at 0 cannot commit before the heal at 1s", time.Duration(r.LatencyNs.Max))
			}
		},
		"crashed-primary":      views(1),
		"view-change-attack":   views(2), // the Byzantine primary of view 1 is voted out too
		"equivocating-primary": nil,
		"conflicting-votes":    nil,
		"twins":                nil,
		"beyond-f":             nil,
		"hotstuff-fault-free": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			// one view per decision, none timed out: 10n-8 messages per request
			if r.Protocol != "hotstuff" || r.Views.Changes != 0 || r.Messages.Dropped != 0 || r.Messages.PerCommitted != 32 {
				t.Errorf("protocol %q, views %+v, %d dropped, %.1f messages per request: want hotstuff, no view change, no loss, 32", r.Protocol, r.Views, r.Messages.Dropped, r.Messages.PerCommitted)
			}
		},
		"hotstuff-crashed-leader":      hotstuffRun,
		"hotstuff-equivocating-leader": hotstuffRun,
		"hotstuff-lossy-wan": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.Messages.Dropped == 0 || r.Messages.Duplicated == 0 {
				t.Errorf("%d dropped, %d duplicated: want both > 0", r.Messages.Dropped, r.Messages.Duplicated)
			}
		},
		"hotstuff-partition": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.LatencyNs.Max < int64(time.Second) || r.Views.Changes == 0 {
				t.Errorf("max latency %v, views %+v: a request submitted at 0 cannot commit before the heal at 1s, and views time out meanwhile", time.Duration(r.LatencyNs.Max), r.Views)
			}
		},
		"drifting-clocks": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			perfect := driftlessViewChanges(t)
			if r.Views.Changes <= perfect {
				t.Errorf("%d view changes with drifting clocks, %d with perfect ones: want more (the fast clocks time out early)", r.Views.Changes, perfect)
			}
		},
		"bandwidth-view-change": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			free, _, _ := runBuiltin(t, "bandwidth-view-change", func(s *Scenario) { s.Network.Bandwidth = "" })
			vc := r.Messages.BytesByType["VIEW-CHANGE"] + r.Messages.BytesByType["NEW-VIEW"]
			if r.Messages.Egress == nil || r.Messages.Egress.QueueWaitMaxNs <= 0 || free.Messages.Egress != nil {
				t.Errorf("egress summary %+v (unlimited: %+v): want queueing reported only under the limit", r.Messages.Egress, free.Messages.Egress)
			}
			if r.Views.Final < 1 || r.Views.NoProgress < free.Views.NoProgress*3/2 || 2*vc < r.Messages.Bytes {
				t.Errorf("views %+v, unlimited %+v, view-change bytes %d of %d: want the stall at least 1.5x the unlimited one, and the view change to carry most bytes", r.Views, free.Views, vc, r.Messages.Bytes)
			}
		},
		"clock-jumps": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			// one backup's clock stepping back 10s cannot stall the view
			// change; the same step on two backups (only one left to time
			// out, fewer than f+1) stalls it until their clocks catch up
			two, _, _ := runBuiltin(t, "clock-jumps", func(s *Scenario) {
				s.Clocks[2].Jumps = []ClockJump{{At: 400 * time.Millisecond, By: -10 * time.Second}}
				s.Run.MaxTime = 30 * time.Second
			})
			if r.Views.Final != 1 || r.Views.NoProgress > int64(2*time.Second) || two.Views.NoProgress < int64(10*time.Second) || two.Requests.Committed != r.Requests.Committed {
				t.Errorf("longest stall %v (views %+v) with one backup's clock stepped back 10s, %v with two (committed %d): want under 2s and over 10s",
					time.Duration(r.Views.NoProgress), r.Views, time.Duration(two.Views.NoProgress), two.Requests.Committed)
			}
		},
		"wan-bandwidth-view-change": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			free, _, _ := runBuiltin(t, "wan-bandwidth-view-change", func(s *Scenario) { s.Network.Bandwidth = "" })
			vc := r.Messages.BytesByType["VIEW-CHANGE"] + r.Messages.BytesByType["NEW-VIEW"]
			link := time.Duration(float64(vc) * 8 / 13 / 10e6 * 1e9) // the view change's bytes over 13 senders at 10 Mbit/s
			if r.Views.Changes != 1 || free.Views.Changes != 1 || time.Duration(r.Views.NoProgress-free.Views.NoProgress) < link {
				t.Errorf("views %+v vs unlimited %+v: want one view change each, the stall longer by at least the link time %v of its %d bytes", r.Views, free.Views, link, vc)
			}
			big, _, want := runBuiltin(t, "wan-bandwidth-view-change", func(s *Scenario) { s.N = 31 })
			if big.Completed || big.Requests.Committed >= want || big.Views.Changes < 2 {
				t.Errorf("n=31: completed %v, committed %d of %d, views %+v: want the view changes to cascade and the run not to finish", big.Completed, big.Requests.Committed, want, big.Views)
			}
		},
		"wan-5-regions": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			bound := wanLatencyBound(t)
			if r.Views.Changes != 0 || r.Messages.Dropped != 0 || r.LatencyNs.P50 < int64(bound) {
				t.Errorf("views %+v, %d dropped, p50 latency %v: want view 0, no loss and every request at least %v (the matrix's round trips)", r.Views, r.Messages.Dropped, time.Duration(r.LatencyNs.P50), bound)
			}
		},
		"amnesia-primary": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			// back from its store in view 0: no view change was needed
			st := r.Replicas[0].Store
			if r.Views.Changes != 0 || st == nil || st.Writes == 0 || st.Syncs == 0 {
				t.Errorf("views %+v, replica 0's store %+v: want no view change and a store written and synced", r.Views, st)
			}
		},
		"wiped-replica-catches-up": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			// replica 2 came back empty and caught up by state transfer
			most := uint64(0)
			for _, rs := range r.Replicas {
				most = max(most, rs.Executed)
			}
			r2 := r.Replicas[2]
			if r.Messages.ByType["STATE"] == 0 || r2.Store == nil || r2.Executed != most || r2.StateDigest != r.Replicas[0].StateDigest {
				t.Errorf("%d STATE messages, replica 2 executed %d (most %d), digest %s vs %s, store %+v: want it caught up by state transfer",
					r.Messages.ByType["STATE"], r2.Executed, most, r2.StateDigest, r.Replicas[0].StateDigest, r2.Store)
			}
		},
		"adversarial": func(t *testing.T, r *cluster.Result, _ []sim.NodeID) {
			if r.Messages.Dropped == 0 {
				t.Errorf("no message dropped: want 2%% loss before GST")
			}
		},
	}
	for _, info := range List() {
		t.Run(info.Name, func(t *testing.T) {
			check, ok := checks[info.Name]
			if !ok {
				t.Fatalf("no expected outcome for built-in %q: add one", info.Name)
			}
			s, err := Builtin(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := s.Config()
			if err != nil {
				t.Fatal(err)
			}
			cl, err := cluster.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := cl.Run()
			diverged := cl.Diverged()
			divergedPayments := r.Payments.Count(cluster.StateDiverged)
			if info.Name == "beyond-f" {
				if r.WithinFaultModel || !slices.Equal(r.Faulty, []sim.NodeID{0, 1}) {
					t.Errorf("faulty %v, within fault model %v: want [0 1] outside it", r.Faulty, r.WithinFaultModel)
				}
				if !slices.Equal(diverged, []sim.NodeID{3}) || divergedPayments == 0 {
					t.Errorf("diverged replicas %v, %d diverged payments: want honest replica 3 to diverge from 2", diverged, divergedPayments)
				}
			} else {
				if !r.WithinFaultModel {
					t.Errorf("outside the fault model: faulty %v with f=%d", r.Faulty, r.F)
				}
				if len(diverged) > 0 || divergedPayments > 0 {
					t.Errorf("honest replicas %v diverged (%d payments): safety broken within the fault model", diverged, divergedPayments)
				}
				if !r.Completed || r.Requests.Committed != cfg.Requests {
					t.Errorf("committed %d of %d requests (completed %v): want all", r.Requests.Committed, cfg.Requests, r.Completed)
				}
			}
			if check != nil {
				check(t, r, diverged)
			}
			// The same scenario and seed give the same trace.
			again, err := cluster.Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if again.TraceHash != r.TraceHash || again.Events != r.Events {
				t.Errorf("rerun: trace hash %s (%d events), first run %s (%d events)", again.TraceHash, again.Events, r.TraceHash, r.Events)
			}
		})
	}
}
