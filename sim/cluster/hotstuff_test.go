package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

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
				res, err := cluster.Run(cluster.Config{
					Protocol: cluster.ProtocolHotStuff, Seed: 7, N: n, Clients: clients, Requests: reqs,
					Network: constDelay(time.Millisecond),
				})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Completed || res.Requests.Committed != reqs {
					t.Fatalf("committed %d of %d (completed=%v)", res.Requests.Committed, reqs, res.Completed)
				}
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
