package cluster

import (
	"math/rand/v2"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/workload"
)

// replicaState is what the run summary reads from a replica of any
// protocol.
type replicaState interface {
	View() uint64
	LastExecuted() uint64
	StableCheckpoint() uint64
	StateDigest() crypto.Digest
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
	keys := crypto.NewKeyring(c.Seed, c.N+c.Clients)
	snapshots := c.ledgerCache()
	cl.hs, err = buildNodes(cl, streams, protocolNodes[*hotstuff.Replica]{
		replica: func(id sim.NodeID) (*hotstuff.Replica, *ledger.Ledger, error) {
			l := ledger.NewShared(snapshots)
			r, err := hotstuff.NewReplica(hotstuff.Config{ID: id, N: c.N, F: c.F, Batch: c.Batch,
				ViewTimeout: c.ViewChangeTimeout, Keyring: keys, SM: l, Rules: rules, Chained: chained})
			return r, l, err
		},
		byzantine: func(b ByzantineSpec, r *hotstuff.Replica, rnd *rand.Rand, newHonest func() (*hotstuff.Replica, error)) (sim.Node, error) {
			return hotstuff.NewByzantine(b.Strategy, b.Params, r, hotstuff.ByzantineEnv{
				ID: b.Replica, N: c.N, F: c.F, Keyring: keys, Rand: rnd, NewTwin: newHonest})
		},
		client: func(j int, id sim.NodeID) (sim.Node, error) {
			return hotstuff.NewClient(hotstuff.ClientConfig{ID: id, N: c.N, F: c.F, Source: plan.Client(j),
				Interval: c.Interval, Timeout: c.ClientTimeout, Keyring: keys})
		},
	})
	if err != nil {
		return nil, err
	}
	return cl, nil
}
