package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
)

// runCompleted runs protocol proto with n replicas and clients closed-loop
// clients issuing reqs requests on 1 ms links, seed 7, with the given
// crashes, and fails the test unless every request is committed.
func runCompleted(t *testing.T, proto string, n, clients, reqs int, crashes ...sim.Crash) *cluster.Result {
	t.Helper()
	res, err := cluster.Run(cluster.Config{
		Protocol: proto, Seed: 7, N: n, Clients: clients, Requests: reqs,
		Network: constDelay(time.Millisecond), Crashes: crashes,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completed || res.Requests.Committed != reqs {
		t.Fatalf("committed %d of %d (completed=%v)", res.Requests.Committed, reqs, res.Completed)
	}
	return res
}

// TestHotStuffExactMessageCounts checks Basic HotStuff's per-decision
// counts (README, "HotStuff message counts") through the whole stack:
// fault-free, one request per block, per decision REQUEST n, NEW-VIEW n−1,
// PREPARE, PRE-COMMIT, COMMIT, DECIDE n−1 each, three votes n−1 each,
// REPLY n: 10n − 8 in total.
func TestHotStuffExactMessageCounts(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13, 31} {
		for _, clients := range []int{1, 3} {
			t.Run(fmt.Sprintf("n=%d/clients=%d", n, clients), func(t *testing.T) {
				const reqs = 6
				res := runCompleted(t, cluster.ProtocolHotStuff, n, clients, reqs)
				r, m := uint64(reqs), uint64(n-1)
				want := map[string]uint64{
					"REQUEST": r * uint64(n), "NEW-VIEW": r * m,
					"PREPARE": r * m, "PREPARE-VOTE": r * m,
					"PRE-COMMIT": r * m, "PRE-COMMIT-VOTE": r * m,
					"COMMIT": r * m, "COMMIT-VOTE": r * m,
					"DECIDE": r * m, "REPLY": r * uint64(n),
				}
				for typ, w := range want {
					if got := res.Messages.ByType[typ]; got != w {
						t.Errorf("%s: got %d, want %d", typ, got, w)
					}
				}
				if got, w := res.Messages.Total, r*uint64(10*n-8); got != w {
					t.Errorf("total: got %d, want %d = reqs*(10n-8); by type %v", got, w, res.Messages.ByType)
				}
				if res.Views.Changes != 0 {
					t.Errorf("%d view changes in a fault-free run", res.Views.Changes)
				}
			})
		}
	}
}

// TestHotStuffLinearViewChange checks the pacemaker's cost exactly: with
// the first leader crashed from the start, every correct replica times out
// of view 1 once and sends one TIMEOUT (its NEW-VIEW for view 2, with its
// prepareQC) to the leader of view 2 alone, whose own is local: n−2
// messages of constant size, a linear view change (an all-to-all pacemaker
// sends (n−1)² here). No other replica is asked for anything, and the
// leader's proposal carries the view certificate that lets a replica left
// behind follow.
func TestHotStuffLinearViewChange(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13, 31, 64} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			res := runCompleted(t, cluster.ProtocolHotStuff, n, 1, 2, sim.Crash{Node: 0, At: 0})
			if res.Views.Changes != 1 {
				t.Fatalf("%d view changes, want 1", res.Views.Changes)
			}
			m := uint64(n - 2)
			if got := res.Messages.ByType["TIMEOUT"]; got != m {
				t.Errorf("TIMEOUT: got %d, want n−2 = %d", got, m)
			}
			size := (&hotstuff.NewView{}).Size()
			if got, w := res.Messages.BytesByType["TIMEOUT"], m*uint64(size); got != w {
				t.Errorf("TIMEOUT bytes: got %d, want (n−2)·%d = %d", got, size, w)
			}
			// the two decisions (views 2 and 3): each one's NEW-VIEWs go to
			// the next leader from the n−2 other correct replicas
			if got := res.Messages.ByType["NEW-VIEW"]; got != 2*m {
				t.Errorf("NEW-VIEW: got %d, want 2(n−2) = %d", got, 2*m)
			}
		})
	}
}

// TestChainedHotStuffExactMessageCounts checks chained HotStuff's counts:
// every view is one PREPARE from its leader and one vote from each replica
// to the next leader, n−1 each on the network. With one closed-loop client
// a request's block commits when the proposal three views later arrives, so
// each request costs four views: 8(n−1) + REQUEST n + REPLY n = 10n − 8,
// Basic HotStuff's figure, with four message types fewer. With three
// clients the views carry new requests while earlier ones are in flight
// (pipelining): still (n−1) PREPAREs and votes per view, in fewer than four
// views per request.
func TestChainedHotStuffExactMessageCounts(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13, 31} {
		for _, clients := range []int{1, 3} {
			t.Run(fmt.Sprintf("n=%d/clients=%d", n, clients), func(t *testing.T) {
				const reqs = 6
				res := runCompleted(t, cluster.ProtocolChainedHotStuff, n, clients, reqs)
				if res.Views.Changes != 0 {
					t.Errorf("%d view changes in a fault-free run", res.Views.Changes)
				}
				r, m := uint64(reqs), uint64(n-1)
				views := res.Views.Final - 1 // each view before the last proposed one block
				if clients == 1 && views != 4*r {
					t.Errorf("%d views for %d requests of one client, want 4 per request", views, reqs)
				}
				if clients > 1 && views >= 4*r {
					t.Errorf("%d views for %d requests of %d clients: no pipelining (want < %d)", views, reqs, clients, 4*r)
				}
				want := map[string]uint64{
					"REQUEST": r * uint64(n), "PREPARE": views * m, "PREPARE-VOTE": views * m, "REPLY": r * uint64(n),
				}
				for typ, w := range want {
					if got := res.Messages.ByType[typ]; got != w {
						t.Errorf("%s: got %d, want %d", typ, got, w)
					}
				}
				if got, w := res.Messages.Total, 2*views*m+2*r*uint64(n); got != w {
					t.Errorf("total: got %d, want 2·views·(n−1) + 2nR = %d; by type %v", got, w, res.Messages.ByType)
				}
				if clients == 1 && res.Messages.Total != r*uint64(10*n-8) {
					t.Errorf("total: got %d, want R(10n−8) = %d", res.Messages.Total, r*uint64(10*n-8))
				}
			})
		}
	}
}

// TestChainedHotStuffLinearViewChange: with the first leader (views 1–4,
// ChainedSpan) crashed, every correct replica times out once and moves to
// the next leader's first view, sending it one TIMEOUT: n−2 messages.
func TestChainedHotStuffLinearViewChange(t *testing.T) {
	for _, n := range []int{4, 7, 13, 31} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			res := runCompleted(t, cluster.ProtocolChainedHotStuff, n, 1, 2, sim.Crash{Node: 0, At: 0})
			if res.Views.Changes != 1 {
				t.Fatalf("%d view changes, want 1", res.Views.Changes)
			}
			if got, w := res.Messages.ByType["TIMEOUT"], uint64(n-2); got != w {
				t.Errorf("TIMEOUT: got %d, want n−2 = %d", got, w)
			}
			if got := res.Messages.ByType["NEW-VIEW"]; got != 0 {
				t.Errorf("NEW-VIEW: got %d, want 0 (chained votes go to the next leader)", got)
			}
		})
	}
}
