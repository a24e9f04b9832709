package cluster

import (
	"fmt"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
	"github.com/pbftsim/pbftsim/sim/workload"
)

// replicaState is what the run summary reads from a replica of any
// protocol.
type replicaState interface {
	View() uint64
	LastExecuted() uint64
	StableCheckpoint() uint64
	StateDigest() pbft.Digest
}

// newHotStuff builds a HotStuff cluster: Basic or chained HotStuff
// replicas (Batch requests per block, ViewChangeTimeout as the pacemaker's
// base timeout) over the same ledger, workload, keys, network and faults as
// PBFT.
func newHotStuff(c Config, streams sim.Streams, plan *workload.Plan) (*Cluster, error) {
	chained := c.Protocol == ProtocolChainedHotStuff
	rules, err := hotstuff.ParseVariant(c.Variant, chained)
	if err != nil {
		return nil, &ConfigError{"protocol.variant", c.Variant, err.Error()}
	}
	cl := newCluster(c, plan)
	keys := pbft.NewKeyring(c.Seed, c.N+c.Clients)
	snapshots := ledger.NewSnapshotCache()
	nodes := make([]sim.Node, 0, c.N+c.Clients)
	names := make([]string, 0, c.N+c.Clients)
	for i := 0; i < c.N; i++ {
		id := sim.NodeID(i)
		newHonest := func() (*hotstuff.Replica, *ledger.Ledger, error) {
			l := ledger.NewShared(snapshots)
			r, err := hotstuff.NewReplica(hotstuff.Config{ID: id, N: c.N, F: c.F, Batch: c.Batch,
				ViewTimeout: c.ViewChangeTimeout, Keyring: keys, SM: l, Rules: rules, Chained: chained})
			return r, l, err
		}
		r, l, err := newHonest()
		if err != nil {
			return nil, fmt.Errorf("replica %d: %w", i, err)
		}
		cl.hs = append(cl.hs, r)
		cl.states = append(cl.states, r)
		cl.ledgers = append(cl.ledgers, l)
		var node sim.Node = r
		for _, b := range c.Byzantine {
			if b.Replica == id {
				node, err = hotstuff.NewByzantine(b.Strategy, b.Params, r, hotstuff.ByzantineEnv{
					ID: id, N: c.N, F: c.F, Keyring: keys, Rand: streams.Stream(fmt.Sprintf("adversary/%d", i)),
					NewTwin: func() (*hotstuff.Replica, error) { r, _, err := newHonest(); return r, err }})
				if err != nil {
					return nil, fmt.Errorf("byzantine replica %d (%s): %w", i, b.Strategy, err)
				}
			}
		}
		nodes = append(nodes, node)
		names = append(names, fmt.Sprintf("r%d", i))
	}
	for j := 0; j < c.Clients; j++ {
		id := sim.NodeID(c.N + j)
		cli, err := hotstuff.NewClient(hotstuff.ClientConfig{ID: id, N: c.N, F: c.F, Source: plan.Client(j),
			Interval: c.Interval, Timeout: c.ClientTimeout, Keyring: keys})
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", id, err)
		}
		nodes = append(nodes, cli)
		names = append(names, fmt.Sprintf("c%d", id))
	}
	if err := cl.build(nodes, names, streams); err != nil {
		return nil, err
	}
	return cl, nil
}
