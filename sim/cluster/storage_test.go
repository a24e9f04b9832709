package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestCrashKindsComplete runs the correct protocol through crashes of every
// kind, of the primary and of a backup, repeated, over a jittery network:
// every request commits, no honest replica diverges, the replicas with a
// crash of a kind other than keep (and only they) have a store that was
// written and synced, and a lose-unsynced crash of the correct protocol
// loses nothing (it syncs every step). With -tags invariants the replicas'
// invariant assertions run through every restore too.
func TestCrashKindsComplete(t *testing.T) {
	for _, kind := range []sim.CrashKind{sim.CrashKeep, sim.CrashAmnesia, sim.CrashLoseUnsynced, sim.CrashWipe} {
		for _, node := range []sim.NodeID{0, 2} {
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%v/r%d/seed%d", kind, node, seed), func(t *testing.T) {
					ms := sim.Time(time.Millisecond)
					cfg := cluster.Config{Seed: seed, N: 4, Clients: 2, Requests: 40, CheckpointInterval: 4,
						Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 8 * time.Millisecond}}},
						Crashes: []sim.Crash{
							{Node: node, At: 15 * ms, Recover: 60 * ms, Kind: kind},
							{Node: node, At: 200 * ms, Recover: 230 * ms, Kind: kind},
						},
						MaxTime: 30 * sim.Time(time.Second)}
					cl, err := cluster.New(cfg)
					if err != nil {
						t.Fatal(err)
					}
					res := cl.Run()
					if !res.Completed {
						t.Fatalf("committed %d of %d", res.Requests.Committed, cfg.Requests)
					}
					if d := cl.Diverged(); len(d) > 0 {
						t.Errorf("diverged replicas %v", d)
					}
					for _, rs := range res.Replicas {
						has := rs.Store != nil
						if want := rs.ID == node && kind != sim.CrashKeep; has != want {
							t.Fatalf("replica %d has a store: %v, want %v", rs.ID, has, want)
						}
						if has && (rs.Store.Writes == 0 || rs.Store.Syncs == 0 || rs.Store.LostWrites != 0) {
							t.Errorf("replica %d store %+v: want writes and syncs, no write lost", rs.ID, *rs.Store)
						}
					}
				})
			}
		}
	}
}
