package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

func constDelay(d time.Duration) sim.NetworkConfig {
	return sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: d}}}
}

// TestExactMessageCounts checks the paper's per-request counts through the
// whole stack (kernel, network, replicas, clients): fault-free, no batching.
func TestExactMessageCounts(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			const reqs = 5
			res, err := cluster.Run(cluster.Config{
				Seed: 7, N: n, Clients: 1, Requests: reqs,
				CheckpointInterval: 100, Network: constDelay(time.Millisecond),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Completed || res.Requests.Committed != reqs {
				t.Fatalf("committed %d of %d (completed=%v)", res.Requests.Committed, reqs, res.Completed)
			}
			want := map[string]uint64{
				"REQUEST":     reqs,
				"PRE-PREPARE": reqs * uint64(n-1),
				"PREPARE":     reqs * uint64((n-1)*(n-1)),
				"COMMIT":      reqs * uint64(n*(n-1)),
				"REPLY":       reqs * uint64(n),
			}
			for typ, w := range want {
				if got := res.Messages.ByType[typ]; got != w {
					t.Errorf("%s: got %d, want %d", typ, got, w)
				}
			}
			if got, w := res.Messages.Total, uint64(reqs*(2*n*n-n+1)); got != w {
				t.Errorf("total: got %d, want %d = reqs*(2n²-n+1); by type %v", got, w, res.Messages.ByType)
			}
		})
	}
}

// TestCheckpointRoundCount checks that one checkpoint round costs n(n-1).
func TestCheckpointRoundCount(t *testing.T) {
	for _, n := range []int{4, 7} {
		const k = 4
		res, err := cluster.Run(cluster.Config{
			Seed: 3, N: n, Clients: 1, Requests: k, CheckpointInterval: k,
			Network: constDelay(time.Millisecond),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Messages.ByType["CHECKPOINT"], uint64(n*(n-1)); got != want {
			t.Errorf("n=%d: CHECKPOINT got %d, want %d", n, got, want)
		}
		for _, r := range res.Replicas {
			if r.Stable != k {
				t.Errorf("n=%d: replica %d stable checkpoint %d, want %d", n, r.ID, r.Stable, k)
			}
		}
	}
}

func TestSameSeedSameHash(t *testing.T) {
	cfg := cluster.Config{Seed: 42, N: 4, Requests: 20, Clients: 3}
	cfg.Network.Default = sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayExponential, Min: time.Millisecond, Mean: 3 * time.Millisecond}, Drop: 0.05, Duplicate: 0.05}
	a, err := cluster.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cluster.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.TraceHash != b.TraceHash || a.Events != b.Events {
		t.Fatalf("same seed, different runs: %s/%d vs %s/%d", a.TraceHash, a.Events, b.TraceHash, b.Events)
	}
	cfg.Seed = 43
	c, err := cluster.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.TraceHash == a.TraceHash {
		t.Fatalf("different seeds gave the same hash %s", a.TraceHash)
	}
}

func TestHonestReplicasAgree(t *testing.T) {
	cfg := cluster.Config{Seed: 5, N: 7, Requests: 40, Clients: 4, CheckpointInterval: 8}
	cfg.Network.Default = sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 9 * time.Millisecond}}
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := cl.Run()
	if !res.Completed {
		t.Fatalf("not completed: %+v", res.Requests)
	}
	if d := cl.Diverged(); d != nil {
		t.Fatalf("replicas %v diverged", d)
	}
	for _, r := range res.Replicas {
		if r.StateDigest != res.Replicas[0].StateDigest || r.Executed != res.Replicas[0].Executed {
			t.Fatalf("replica %d: executed %d digest %s; replica 0: %d %s", r.ID, r.Executed, r.StateDigest, res.Replicas[0].Executed, res.Replicas[0].StateDigest)
		}
	}
	for id, st := range res.Payments.All() {
		if st == "diverged" || st == "unknown" {
			t.Errorf("payment %s: %s", id, st)
		}
	}
}

func TestCrashedPrimaryViewChange(t *testing.T) {
	cfg := cluster.Config{Seed: 9, N: 4, Requests: 10, Clients: 2,
		Network: constDelay(2 * time.Millisecond),
		Crashes: []sim.Crash{{Node: 0, At: sim.Time(5 * time.Millisecond)}}}
	res, err := cluster.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completed {
		t.Fatalf("committed %d of %d after the primary crashed", res.Requests.Committed, cfg.Requests)
	}
	if res.Views.Final < 1 || res.Views.Changes < 1 {
		t.Fatalf("views %+v: want a view change", res.Views)
	}
	if res.Messages.ByType["VIEW-CHANGE"] == 0 || res.Messages.ByType["NEW-VIEW"] == 0 {
		t.Fatalf("no VIEW-CHANGE/NEW-VIEW messages: %v", res.Messages.ByType)
	}
}

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   cluster.Config
		field string
	}{
		{"n too small", cluster.Config{N: 3}, "n"},
		{"f too large", cluster.Config{N: 4, F: 2}, "f"},
		{"negative batch", cluster.Config{Batch: -1}, "protocol.batch"},
		{"window not multiple", cluster.Config{CheckpointInterval: 4, Window: 6}, "protocol.window"},
		{"unknown strategy", cluster.Config{Byzantine: []cluster.ByzantineSpec{{Replica: 1, Strategy: "nope"}}}, "byzantine[0].strategy"},
		{"byzantine replica out of range", cluster.Config{Byzantine: []cluster.ByzantineSpec{{Replica: 9, Strategy: "silent"}}}, "byzantine[0].replica"},
		{"crash unknown node", cluster.Config{Crashes: []sim.Crash{{Node: 99}}}, "crashes[0].node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			ce, ok := err.(*cluster.ConfigError)
			if !ok {
				t.Fatalf("got %v (%T), want a *ConfigError", err, err)
			}
			if ce.Field != tc.field {
				t.Fatalf("field %q, want %q (%v)", ce.Field, tc.field, err)
			}
		})
	}
}

// TestRunEnds: a run with a stall window and no MaxTime ends when its
// workload completes (however long that takes) or when nothing is accepted
// for the window after GST; MaxTime cuts a run and says so.
func TestRunEnds(t *testing.T) {
	const window = sim.Time(3 * time.Second)
	base := cluster.Config{Seed: 5, N: 4, Clients: 2, Network: constDelay(time.Millisecond)}
	tests := []struct {
		name   string
		edit   func(c *cluster.Config)
		ended  string
		accept int
	}{
		{"three requests", func(c *cluster.Config) { c.Requests, c.StallWindow = 3, window }, cluster.EndCompleted, 3},
		{"beyond the default 60s", func(c *cluster.Config) {
			c.Requests, c.StallWindow, c.Interval = 80, window, 2*time.Second
		}, cluster.EndCompleted, 80},
		{"stall: two of four replicas crashed", func(c *cluster.Config) {
			c.Requests, c.StallWindow = 10, window
			c.Crashes = []sim.Crash{{Node: 1, At: sim.Time(20 * time.Millisecond)}, {Node: 2, At: sim.Time(20 * time.Millisecond)}}
		}, cluster.EndStall, -1},
		{"cut by MaxTime", func(c *cluster.Config) {
			c.Requests, c.MaxTime, c.StallWindow = 1000, sim.Time(100*time.Millisecond), window
		}, cluster.EndMaxTime, -1},
		{"cut by MaxTime, no stall window", func(c *cluster.Config) { c.Requests, c.MaxTime = 1000, sim.Time(100*time.Millisecond) }, cluster.EndMaxTime, -1},
		{"max events", func(c *cluster.Config) { c.Requests, c.MaxEvents = 1000, 500 }, cluster.EndMaxEvents, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			res, err := cluster.Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ended != tc.ended || (tc.accept >= 0 && res.Requests.Committed != tc.accept) || res.Completed != (tc.ended == cluster.EndCompleted) {
				t.Fatalf("ended %q, committed %d, completed %v at %v; want %q, %d", res.Ended, res.Requests.Committed, res.Completed, time.Duration(res.SimTimeNs), tc.ended, tc.accept)
			}
			switch tc.ended {
			case cluster.EndStall:
				// the last acceptance happened before the crashes (20ms)
				if res.StalledAtNs < int64(window) || res.StalledAtNs > int64(window+sim.Time(20*time.Millisecond)) || res.SimTimeNs > res.StalledAtNs {
					t.Errorf("stalled at %v, last event %v; want the window after the last acceptance", time.Duration(res.StalledAtNs), time.Duration(res.SimTimeNs))
				}
			case cluster.EndMaxTime:
				if res.SimTimeNs > int64(cfg.MaxTime) {
					t.Errorf("ran to %v past MaxTime", time.Duration(res.SimTimeNs))
				}
			}
			if tc.name == "beyond the default 60s" && res.SimTimeNs < int64(cluster.DefaultMaxTime) {
				t.Errorf("ran %v, want a run longer than the default MaxTime", time.Duration(res.SimTimeNs))
			}
		})
	}
}
